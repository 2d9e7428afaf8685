# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run Db2 CLP scripts inside a container as the instance owner, and parse what the CLP and
the Db2 tools print (messages and SQLCODEs, tabular output, db2level, database lists).

Statements always travel on the stdin of one `docker exec`, never in argv: a `CONNECT ...
USING password` is invisible to `ps` and `docker inspect`.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import uuid

from ansible_collections.db2ops.docker.plugins.module_utils.actions import MASK, ActionFailed, mask_secrets
from ansible_collections.db2ops.docker.plugins.module_utils._docker.exec import exec_in_container

# Db2 message ids: a product prefix, 4-5 digits, a severity letter (I info, W warning,
# N/E error, C critical), e.g. SQL0204N, DB20000I, SQL1611W, DBI1070I, SQL30082N.
MESSAGE_ID = re.compile(r"(?<![A-Za-z0-9])((?:SQL|DB2|DBI|DBA|CLI|LIC|SQLJ|ADM|CLP)\d{4,5})([IWNEC])(?![A-Za-z0-9])")
SQLSTATE = re.compile(r"SQLSTATE=(\w{5})")
RECORDS_SELECTED = re.compile(r"^\s*(\d+) record\(s\) selected\.\s*$", re.M)
DASHES = re.compile(r"^-+(?: -+)*\s*$")

# CLP return codes (IBM: "Command line processor return codes"); with -f they are ORed.
RC_OK, RC_NO_ROWS, RC_WARNING, RC_ERROR, RC_SYSTEM = 0, 1, 2, 4, 8

_MARK = "@@DB2OPS"


class Db2Message:
    """One Db2 message as printed by the CLP: id, severity, text and SQLSTATE if any."""

    __slots__ = ("id", "severity", "text", "sqlstate")

    def __init__(self, msg_id, severity, text, sqlstate=None):
        self.id = msg_id
        self.severity = severity
        self.text = text
        self.sqlstate = sqlstate

    @property
    def code(self):
        return self.id + self.severity

    @property
    def is_error(self):
        return self.severity in "NEC"

    @property
    def is_warning(self):
        return self.severity == "W"

    @property
    def sqlcode(self):
        """SQLCODE of an SQL message: SQL0204N -> -204, SQL1611W -> 1611; None for others."""
        if not self.id.startswith("SQL") or self.id.startswith("SQLJ"):
            return None
        number = int(self.id[3:])
        return -number if self.is_error else number

    def as_dict(self):
        return dict(id=self.code, sqlcode=self.sqlcode, sqlstate=self.sqlstate, text=self.text)


class Db2Error(ActionFailed):
    """A Db2 command failed. Carries the Db2 message so that callers can show it as is."""

    def __init__(self, message, statement=None, rc=None, output="", db2_message=None):
        super(Db2Error, self).__init__(message)
        self.statement = statement
        self.rc = rc
        self.output = output
        self.db2_message = db2_message

    @property
    def code(self):
        return self.db2_message.code if self.db2_message else None

    @property
    def sqlcode(self):
        return self.db2_message.sqlcode if self.db2_message else None


def parse_messages(text):
    """All Db2 messages in CLP output, each with its (unwrapped) text up to a blank line."""
    messages = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        # A message starts a line; db2start's `date time  0  0  SQL1063N ...` lines do not count
        # (the same message follows on a line of its own).
        match = MESSAGE_ID.match(lines[i].strip())
        if not match:
            i += 1
            continue
        body = [lines[i].strip()]
        i += 1
        while i < len(lines) and lines[i].strip() and not MESSAGE_ID.match(lines[i].strip()):
            body.append(lines[i].strip())
            i += 1
        text_one_line = " ".join(body)
        text_one_line = text_one_line[len(match.group(0)):].strip()
        state = SQLSTATE.search(text_one_line)
        messages.append(Db2Message(match.group(1), match.group(2), text_one_line,
                                   state.group(1) if state else None))
    return messages


def classify(output, messages=None):
    """The CLP return code a piece of output stands for (error > warning > no rows > ok)."""
    messages = parse_messages(output) if messages is None else messages
    if any(m.is_error for m in messages):
        return RC_ERROR
    if any(m.is_warning for m in messages):
        return RC_WARNING
    match = RECORDS_SELECTED.search(output)
    if match and match.group(1) == "0":
        return RC_NO_ROWS
    return RC_OK


def parse_table(text):
    """Rows of CLP tabular output (`db2 "select ..."`) as a list of dicts keyed by column name.

    Column widths come from the dashes line under the header; `-` alone is NULL.
    Returns None when the text holds no table.
    """
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if index == 0 or not DASHES.match(line) or not lines[index - 1].strip():
            continue
        spans = [m.span() for m in re.finditer(r"-+", line)]
        header = lines[index - 1]
        names = [header[start:end + 1 if n + 1 < len(spans) else None].strip()
                 for n, (start, end) in enumerate(spans)]
        rows = []
        for row_line in lines[index + 1:]:
            if not row_line.strip() or RECORDS_SELECTED.match(row_line):
                break
            values = []
            for n, (start, end) in enumerate(spans):
                stop = spans[n + 1][0] if n + 1 < len(spans) else None
                cell = row_line[start:stop].strip()
                values.append(None if cell == "-" else cell)
            rows.append(dict(zip(names, values)))
        return rows
    return None


def parse_db2level(text):
    """Facts from `db2level` output (DB21085I block); None when the text is not db2level output."""
    flat = " ".join(text.split())
    match = re.search(
        r'DB21085I\s+This instance or install \(instance name, where applicable: "(?P<instance>[^"]*)"\) '
        r'uses "(?P<bits>\d+)" bits and (?i:DB2) code release "(?P<code_release>[^"]+)" with level '
        r'identifier "(?P<level_identifier>[^"]+)"\.\s+Informational tokens are '
        r'"(?i:DB2) v(?P<version>[\d.]+)", "(?P<build>[^"]+)", "(?P<build_dyn>[^"]+)",? '
        r'and Fix Pack "(?P<fixpack>[^"]+)"\.\s+Product is installed at "(?P<install_path>[^"]+)"\.',
        flat)  # IBM writes "Db2" since 11.5 in its docs; accept either spelling in the tool's output
    if not match:
        return None
    facts = match.groupdict()
    facts["bits"] = int(facts["bits"])
    facts["level"] = level_string(facts["version"], facts["fixpack"])
    return facts


def level_string(version, fixpack):
    """`11.1.3.3` + Fix Pack `3a` -> `11.1.3.3a`: the form IBM uses in image tags."""
    suffix = re.sub(r"^\d+", "", fixpack or "")
    return version + suffix


def parse_level(level):
    """A comparable key for a Db2 level or image tag: `11.1.3.3a-x86_64` -> (11, 1, 3, 3, 'a')."""
    match = re.match(r"^v?(\d+)\.(\d+)\.(\d+)\.(\d+)([a-z]?)", (level or "").strip())
    if not match:
        return None
    return tuple(int(g) for g in match.groups()[:4]) + (match.group(5),)


def parse_database_blocks(text, key="Database name"):
    """`db2 list active databases` / `list db directory` output as a list of dicts."""
    entries = []
    current = None
    for line in text.splitlines():
        match = re.match(r"^\s*([A-Za-z][A-Za-z /().-]*?)\s+=\s?(.*)$", line)
        if not match:
            continue
        name, value = match.group(1).strip(), match.group(2).strip()
        if name == key or current is None:
            current = {}
            entries.append(current)
        current[name] = value
    return entries


def active_databases(text):
    """Names of the active databases from `db2 list active databases` output."""
    return [e["Database name"] for e in parse_database_blocks(text) if e.get("Database name")]


def mask_statement(statement, secrets=()):
    """A statement fit for results and logs: known secrets and `USING <password>` masked."""
    masked = mask_secrets(statement, secrets)
    # A delimited password ("a b") is masked whole, not up to its first blank.
    return re.sub(r"(?i)(\b(?:connect|attach)\b.*?\busing\s+)(\"[^\"]*\"?|\S+)", r"\1" + MASK, masked)


class StatementResult:
    __slots__ = ("statement", "output", "messages", "rc", "rows")

    def __init__(self, statement, output):
        self.statement = statement
        self.output = output
        self.messages = parse_messages(output)
        self.rc = classify(output, self.messages)
        self.rows = parse_table(output)

    @property
    def error(self):
        return next((m for m in self.messages if m.is_error), None)

    def as_dict(self):
        return dict(statement=self.statement, rc=self.rc, output=self.output,
                    messages=[m.as_dict() for m in self.messages], rows=self.rows)


def instance_shell(command):
    """A bash command line run as the instance owner with the instance environment loaded."""
    return ('export HOME="$(getent passwd "$(id -un)" | cut -d: -f6)"; '
            '. "$HOME/sqllib/db2profile" >/dev/null 2>&1; ' + command)


class Db2Clp:
    """CLP access to the Db2 instance of one container, through `docker exec` as the owner."""

    def __init__(self, api, container_id, instance="db2inst1", timeout=300):
        self.api = api
        self.container_id = container_id
        self.instance = instance
        self.timeout = timeout

    def shell(self, command, stdin=None, timeout=None):
        """Run a bash command as the instance owner (db2profile loaded). Returns ExecResult."""
        return exec_in_container(self.api, self.container_id, ["/bin/bash", "-c", instance_shell(command)],
                                 user=self.instance, stdin=stdin, timeout=timeout or self.timeout)

    def run_script(self, statements, stop_on_error=True, secrets=(), timeout=None):
        """Run statements in one CLP session (one exec). Returns a list of StatementResult.

        Each statement's output is told apart by ECHO markers. With stop_on_error the CLP stops
        at the first failing statement (`-s`) and a Db2Error is raised for it; the statements
        after it did not run.
        """
        nonce = uuid.uuid4().hex[:8]
        script = []
        for index, statement in enumerate(statements):
            script.append("ECHO %s-%s %d@@;" % (_MARK, nonce, index))
            script.append(statement.strip().rstrip(";").strip() + ";")
        script.append("ECHO %s-%s END@@;" % (_MARK, nonce))
        flags = "-t +p -s" if stop_on_error else "-t +p +s"
        command = "db2 %s -f /dev/stdin; rc=$?; db2 terminate >/dev/null 2>&1; exit $rc" % flags
        result = self.shell(command, stdin="\n".join(script) + "\n", timeout=timeout)
        outputs = split_marked_output(result.stdout + result.stderr, "%s-%s" % (_MARK, nonce), len(statements))
        results = []
        for index, output in enumerate(outputs):
            if output is None:
                break  # not reached: an earlier statement stopped the script
            results.append(StatementResult(mask_statement(statements[index], secrets), output))
        if stop_on_error:
            for item in results:
                if item.rc >= RC_ERROR:
                    raise self.error_for(item, result.rc)
            if len(results) < len(statements) or result.rc >= RC_SYSTEM:
                raise Db2Error("the CLP stopped before all statements ran (rc=%s): %s"
                               % (result.rc, _tail(result.stdout + result.stderr)), rc=result.rc,
                               output=result.stdout + result.stderr)
        return results

    def run(self, statement, secrets=(), timeout=None):
        """One statement; raises Db2Error on an error message. Returns its StatementResult."""
        return self.run_script([statement], secrets=secrets, timeout=timeout)[0]

    @staticmethod
    def error_for(item, rc=None):
        message = item.error
        if message:
            text = "%s %s" % (message.code, message.text)
        else:
            text = _tail(item.output)
        return Db2Error("%s failed: %s" % (item.statement, text), statement=item.statement,
                        rc=rc, output=item.output, db2_message=message)


def split_marked_output(text, mark, count):
    """Split CLP output at `<mark> N@@` lines into one piece per statement (None = not reached)."""
    pieces = [None] * count
    current = None
    buffer = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(mark + " ") and stripped.endswith("@@"):
            if current is not None:
                pieces[current] = "\n".join(buffer).strip("\n")
            token = stripped[len(mark) + 1:-2]
            current = None if token == "END" else int(token)
            buffer = []
            continue
        if current is not None:
            buffer.append(line)
    if current is not None:
        pieces[current] = "\n".join(buffer).strip("\n")
    return pieces


def _tail(text, lines=4):
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:] if line.strip())
