# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module of the collection shares about changing things: one recorder of the
commands a task runs (or, in check mode, would run), and one error base that says whether
something was already changed and which commands ran, so no caller guesses it from a message.

The pattern is community.docker's: each change is recorded first, then done only outside check
mode. A module returns the recorder's `commands` under that one name, in check mode as well.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

MASK = "********"


def mask_secrets(text, secrets):
    """`text` with every non-empty secret replaced by ********, longest first (a secret that
    contains another is masked whole). None stays None."""
    if text is None:
        return None
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class ActionFailed(Exception):
    """Base of the collection's one-line errors.

    `changed`: something was already changed when the error happened (the task must report
    changed=true). `commands`: the commands that ran before it, when the raiser knows them.
    Subclasses keep their own constructors; these two default to "nothing changed".
    """

    changed = False
    commands = ()

    def mark(self, changed=None, commands=None):
        """Set what was done before the failure; returns the error, for `raise exc.mark(...)`."""
        if changed is not None:
            self.changed = bool(changed)
        if commands is not None:
            self.commands = list(commands)
        return self


class ActionRecorder:
    """The commands of one task, in order. `do()` records a command, then runs it unless in check mode."""

    def __init__(self, check_mode=False, commands=None):
        self.check_mode = check_mode
        self.commands = commands if commands is not None else []
        self.done = 0  # how many recorded commands really ran

    def do(self, command, func=None, *args, **kwargs):
        """Record `command` (its text as a user would type it); run func(*args, **kwargs) unless check mode."""
        self.commands.append(command)
        if self.check_mode or func is None:
            return None
        value = func(*args, **kwargs)
        self.done += 1
        return value

    def record(self, *commands):
        """Record commands that a caller runs itself (e.g. one CLP script of several statements)."""
        self.commands.extend(commands)

    @property
    def changed(self):
        return bool(self.commands) if self.check_mode else self.done > 0

    def fail(self, exc):
        """`exc` (an ActionFailed) marked with what was done so far; for `raise recorder.fail(exc)`."""
        return exc.mark(changed=exc.changed or self.done > 0, commands=self.commands)
