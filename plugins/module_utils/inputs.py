# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One gate for what users (or an AWX survey) type: checked before anything is touched.

Every string a module, filter or role takes goes through check_params() (or check_text() for a
single value): no NUL, no control characters unless the option is multi-line text by nature
(SQL scripts, file contents), and a length cap. Name rules use full matches (`re.fullmatch`):
a pattern that ends in `$` also accepts a trailing newline. Errors are one line, name the option
and never echo the value (it may be a password).

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re

# A name, path, host or remark; generous, but a 10,000-character "name" is a mistake or an attack.
MAX_TEXT = 4096
# Multi-line text (SQL, scripts, file contents) may be long, not unbounded.
MAX_MULTILINE = 1024 * 1024

# OS user names (instance owners, users in images): useradd's portable rule, 30 characters as Db2 allows.
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,29}$")
# Docker's container name rule (daemon/names: validContainerNamePattern), for names the collection gives;
# a container id fits it too.
CONTAINER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{1,254}")
# A container to look up: a name, an id or an id prefix (one character is a valid prefix).
CONTAINER_REF = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NAMES = {"\x00": "NUL", "\n": "newline", "\r": "carriage return", "\t": "tab", "\x1b": "escape"}


class InputError(ValueError):
    """Bad user input, explained in one line that names the option (never the value)."""

    def __init__(self, option, problem):
        self.option = option
        super(InputError, self).__init__("Option %s %s; nothing was changed." % (option, problem))


def _describe(char):
    return "%s (U+%04X)" % (_NAMES.get(char, "control character"), ord(char))


def check_text(value, option, multiline=False, max_length=None, allow_empty=True):
    """Return `value` if it is acceptable text for `option`, else raise InputError."""
    if value is None:
        return value
    if not isinstance(value, str):
        value = str(value)
    limit = max_length or (MAX_MULTILINE if multiline else MAX_TEXT)
    if "\x00" in value:
        raise InputError(option, "contains a NUL byte")
    bad = (_CONTROL_BUT_LINES if multiline else _CONTROL).search(value)
    if bad:
        what = "contains a %s" % _describe(bad.group(0))
        raise InputError(option, what if multiline else what + ": it must be one line of printable text")
    if len(value) > limit:
        raise InputError(option, "is %d characters long; at most %d are accepted" % (len(value), limit))
    if not allow_empty and not value.strip():
        raise InputError(option, "is empty")
    return value


def require_match(pattern, value, option, what):
    """Full match of `pattern` (a str or compiled regex), else InputError saying what is expected."""
    check_text(value, option)
    if value is None or re.fullmatch(pattern, value) is None:
        raise InputError(option, "must be %s" % what)
    return value


def _walk(value, option, multiline, long_options):
    if isinstance(value, str):
        check_text(value, option, multiline=_matches(option, multiline),
                   max_length=MAX_MULTILINE if _matches(option, long_options) else None)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(str(key), "%s key" % option)
            _walk(item, "%s.%s" % (option, key), multiline, long_options)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _walk(item, "%s[%d]" % (option, index), multiline, long_options)


def _matches(option, names):
    """True when `option` (like `users[3].password`) is one of `names` (like `users.password`)."""
    plain = re.sub(r"\[\d+\]", "", option)
    return plain in names


def check_params(params, multiline=(), long_options=(), skip=()):
    """Check every string in a module's params (nested lists and dicts included).

    `multiline`: option paths (`statements`, `files.content`) whose text may hold line breaks and
    tabs, and may be up to MAX_MULTILINE long. `long_options`: one-line options that may be as long.
    `skip`: top-level options checked elsewhere (binary-safe content).
    """
    multiline = set(multiline)
    long_options = set(long_options) | multiline
    for name, value in (params or {}).items():
        if name in skip or value is None:
            continue
        _walk(value, name, multiline, long_options)


def fail_on_bad_params(module, multiline=(), long_options=(), skip=()):
    """check_params() for an AnsibleModule: a one-line fail_json with changed=False."""
    try:
        check_params(module.params, multiline=multiline, long_options=long_options, skip=skip)
    except InputError as exc:
        module.fail_json(msg=str(exc), changed=False)
