# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Db2 Administrative Task Scheduler (ATS): the task model, cron validation, normalisation,
the plan (add / update / remove, remove+add where ADMIN_TASK_UPDATE cannot change a field),
and the SQL for the CLP with every value quoted.

IBM's rules (facts file section 4): ADMIN_TASK_ADD has 10 parameters, ADMIN_TASK_UPDATE 7
(name, begin, end, max invocations, schedule, options, remarks: the procedure and its input
cannot be updated), ADMIN_TASK_REMOVE(name, end_timestamp). Schedules are UNIX cron, 5 fields.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import datetime
import re

NAME_MAX = 128          # ADMIN_TASK_ADD name, procedure schema and name: VARCHAR(128)
REMARKS_MAX = 254       # VARCHAR(254)
SCHEDULE_MAX = 1024     # VARCHAR(1024)
DB2_TS = "%Y-%m-%d-%H.%M.%S.%f"

# Fields ADMIN_TASK_UPDATE can change; a difference anywhere else needs remove + add.
UPDATABLE = ("begin_timestamp", "end_timestamp", "max_invocations", "schedule", "remarks")
REPLACE_ONLY = ("procedure_schema", "procedure_name", "procedure_input")
FIELDS = UPDATABLE + REPLACE_ONLY

LIST_COLUMNS = ("NAME", "TASKID", "OWNER", "BEGIN_TIME", "END_TIME", "MAX_INVOCATIONS", "SCHEDULE",
                "PROCEDURE_SCHEMA", "PROCEDURE_NAME", "PROCEDURE_INPUT", "OPTIONS", "UPDATE_TIME",
                "REMARKS")
STATUS_COLUMNS = ("NAME", "TASKID", "STATUS", "INVOCATION", "BEGIN_TIME", "END_TIME", "SQLCODE",
                  "SQLSTATE", "RC")
LIST_QUERY = "SELECT %s FROM SYSTOOLS.ADMIN_TASK_LIST ORDER BY NAME" % ", ".join(LIST_COLUMNS)
# The CLP prints a padded table: a value's leading and trailing blanks vanish in the padding and a
# remark `-` reads as NULL, so a rerun saw a difference every time. Over the CLP, name and remarks
# (free text) are also read as hex (HEX is NULL for NULL in Db2, '' in the stand-in's SQLite).
CLP_LIST_QUERY = ("SELECT %s, HEX(NAME) AS NAME_HEX, HEX(REMARKS) AS REMARKS_HEX FROM SYSTOOLS.ADMIN_TASK_LIST "
                  "ORDER BY NAME" % ", ".join(LIST_COLUMNS))
STATUS_QUERY = ("SELECT %s FROM SYSTOOLS.ADMIN_TASK_STATUS ORDER BY NAME, INVOCATION"
                % ", ".join(STATUS_COLUMNS))
# The server's clock (UPDATE_TIME is server time) and who the ADMIN_TASK_* views are filtered for.
CLOCK_QUERY = "SELECT CURRENT TIMESTAMP AS NOW, CURRENT USER AS AUTHID FROM SYSIBM.SYSDUMMY1"
SYSTOOLSPACE_QUERY = "SELECT TBSPACE FROM SYSCAT.TABLESPACES WHERE TBSPACE = 'SYSTOOLSPACE'"
CREATE_SYSTOOLSPACE = ("CREATE TABLESPACE SYSTOOLSPACE IN IBMCATGROUP MANAGED BY AUTOMATIC STORAGE "
                       "EXTENTSIZE 4")
ATS_ENABLED_VALUES = ("YES", "TRUE", "1", "ON")


class AtsError(ValueError):
    """Invalid task definition, explained in one line."""


# ---------------------------------------------------------------------------------------------
# Cron (IBM "UNIX cron format": minute hour day-of-month month day-of-week)

CRON_FIELDS = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_CRON_ITEM = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")


def normalize_cron(schedule, dialect="ats"):
    """The schedule checked and in canonical form: single blanks, names lower-case.

    dialect "cron" is what Debian's cron (Vixie cron) reads in /etc/cron.d: the same fields, but a
    step needs `*` or a range before it (`5/10` is refused there, and one bad line makes cron ignore
    the whole file). Raises AtsError naming the field and the value that is wrong.
    """
    if not isinstance(schedule, str) or not schedule.strip():
        raise AtsError("schedule must be a 5-field cron string such as '5 13 * * *'")
    if re.search(r"[\x00-\x1f\x7f]", schedule):
        # a line break would end the cron entry (or the statement) and start another one
        raise AtsError("schedule must be one line: it contains a line break or another control character")
    if len(schedule) > SCHEDULE_MAX:
        raise AtsError("schedule is longer than %d characters" % SCHEDULE_MAX)
    parts = schedule.split()
    if len(parts) != 5:
        raise AtsError("schedule has %d fields; %s wants exactly 5 (minute hour day-of-month "
                       "month day-of-week), with no @daily-style shortcuts"
                       % (len(parts), "cron" if dialect == "cron" else "Db2 ATS"))
    return " ".join(_cron_field(part.lower(), *spec, dialect=dialect) for part, spec in zip(parts, CRON_FIELDS))


def _cron_field(text, label, low, high, names, dialect="ats"):
    for item in text.split(","):
        match = _CRON_ITEM.fullmatch(item)
        if not match:
            raise AtsError("schedule field %s '%s': '%s' is not a value, range, list or step (%s)"
                           % (label, text, item, _allowed(low, high, names)))
        if match.group(2) is not None and int(match.group(2)) < 1:
            raise AtsError("schedule field %s '%s': step must be at least 1" % (label, text))
        if match.group(1) == "*":
            continue
        if dialect == "cron" and match.group(2) is not None and "-" not in match.group(1):
            raise AtsError("schedule field %s '%s': cron takes a step after * or a range only (*/n, a-b/n)"
                           % (label, text))
        bounds = [_cron_value(value, label, text, low, high, names) for value in match.group(1).split("-")]
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            raise AtsError("schedule field %s '%s': range %s runs backwards" % (label, text, match.group(1)))
    return text


def _cron_value(value, label, text, low, high, names):
    if names and value in names:
        return names.index(value) + (1 if label == "month" else 0)
    if value.isdigit() and low <= int(value) <= high:
        return int(value)
    raise AtsError("schedule field %s '%s': '%s' is out of range (%s)"
                   % (label, text, value, _allowed(low, high, names)))


def _allowed(low, high, names):
    return "%d-%d%s" % (low, high, " or %s-%s" % (names[0], names[-1]) if names else "")


# ---------------------------------------------------------------------------------------------
# Values

def _clean_text(value, label, limit, required=False):
    """A string value as Db2 will store it; control characters are refused (see sql_literal)."""
    if value is None or (isinstance(value, str) and value == "" and not required):
        if required:
            raise AtsError("%s is required" % label)
        return None
    value = str(value)
    if required and not value.strip():
        raise AtsError("%s must not be empty" % label)
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise AtsError("%s must not contain line breaks or other control characters" % label)
    if len(value.encode("utf-8")) > limit:
        raise AtsError("%s is %d bytes long; Db2 ATS allows at most %d" % (label, len(value.encode("utf-8")), limit))
    return value


def normalize_timestamp(value, label):
    """'2025-01-31 13:05', '2025-01-31T13:05:00' or Db2's '2025-01-31-13.05.00.000000' ->
    Db2's form; None stays None."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    for fmt in (DB2_TS, "%Y-%m-%d-%H.%M.%S", "%Y-%m-%d-%H.%M", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt).strftime(DB2_TS)
        except ValueError:
            continue
    raise AtsError("%s is not a timestamp (use YYYY-MM-DD HH:MM[:SS] or Db2's YYYY-MM-DD-HH.MM.SS)" % label)


_ORDINARY = re.compile(r"[A-Za-z_$#@][A-Za-z0-9_$#@]*")
_DELIMITED = re.compile(r'"(?:[^"]|"")+"')


def _identifier(value, label):
    """Procedure schema and name: ordinary identifiers fold to upper case, as Db2 does; a delimited
    one ("MixedCase") is kept. Anything else cannot name a procedure and is refused."""
    value = _clean_text(value, label, NAME_MAX, required=True)
    if _ORDINARY.fullmatch(value):
        return value.upper()
    if _DELIMITED.fullmatch(value):
        return value
    raise AtsError("%s must be an SQL identifier (letters, digits, _ $ # @, not starting with a digit) or one in "
                   "double quotes" % label)


class Task:
    """One ATS task, normalised so that a task read back from Db2 compares equal."""

    __slots__ = ("name",) + FIELDS

    def __init__(self, name, **values):
        self.name = name
        for field in FIELDS:
            setattr(self, field, values.get(field))

    @classmethod
    def from_params(cls, params):
        """A task from module options; raises AtsError for anything Db2 would refuse."""
        name = _clean_text(params.get("name"), "task name", NAME_MAX, required=True)
        try:
            max_invocations = params.get("max_invocations")
            if max_invocations is not None and int(max_invocations) < 0:
                raise ValueError()
        except (TypeError, ValueError):
            raise AtsError("task %s: max_invocations must be a whole number >= 0" % name)
        try:
            begin = normalize_timestamp(params.get("begin_timestamp"), "begin_timestamp")
            end = normalize_timestamp(params.get("end_timestamp"), "end_timestamp")
            if begin and end and end < begin:
                raise AtsError("end_timestamp is earlier than begin_timestamp")
            return cls(
                name,
                # Db2 takes NULL (run once), but our modules require a schedule: an empty survey answer
                # arrives as None, and must not become a task that runs once, now.
                schedule=normalize_cron(params.get("schedule")),
                procedure_schema=_identifier(params.get("procedure_schema") or "SYSPROC", "procedure_schema"),
                procedure_name=_identifier(params.get("procedure_name"), "procedure_name"),
                procedure_input=_clean_text(params.get("procedure_input"), "procedure_input", 2 * 1024 * 1024),
                begin_timestamp=begin, end_timestamp=end,
                max_invocations=None if max_invocations is None else int(max_invocations),
                remarks=_clean_text(params.get("remarks"), "remarks", REMARKS_MAX),
            )
        except AtsError as exc:
            raise AtsError("task %s: %s" % (name, exc))

    @classmethod
    def from_row(cls, row):
        """A task as listed by SYSTOOLS.ADMIN_TASK_LIST (column names upper-case)."""
        def text(key):
            value = row.get(key)
            return None if value is None else str(value)

        schedule = text("SCHEDULE")
        try:
            schedule = normalize_cron(schedule) if schedule else None
        except AtsError:
            pass  # keep what Db2 holds; it then differs from any valid desired schedule
        max_invocations = row.get("MAX_INVOCATIONS")
        return cls(_exact_text(row, "NAME"), schedule=schedule,
                   procedure_schema=(text("PROCEDURE_SCHEMA") or "").strip(),
                   procedure_name=text("PROCEDURE_NAME"), procedure_input=text("PROCEDURE_INPUT"),
                   begin_timestamp=_lenient_ts(text("BEGIN_TIME")), end_timestamp=_lenient_ts(text("END_TIME")),
                   max_invocations=None if max_invocations in (None, "") else int(max_invocations),
                   remarks=_exact_text(row, "REMARKS"))

    def as_dict(self):
        result = dict(name=self.name)
        result.update((field, getattr(self, field)) for field in FIELDS)
        return result

    def crontab_line(self):
        """The cookbook's "crontab -l" view of this task."""
        call = "%s.%s (%s)" % (self.procedure_schema, self.procedure_name, self.procedure_input or "")
        return '%s    call %s; -- "%s"' % (self.schedule or "-", call, self.name)


def _exact_text(row, key):
    """A column as stored: from its KEY_HEX twin when the row has one (CLP reads), else as given (ibm_db)."""
    shown, encoded = row.get(key), row.get(key + "_HEX")
    if not encoded:
        return None if shown is None else ("" if encoded == "" else str(shown))
    try:
        return bytes.fromhex(encoded).decode("utf-8")
    except ValueError:  # not UTF-8 (a non-Unicode database): what the CLP showed is the best there is
        return None if shown is None else str(shown)


def _lenient_ts(value):
    try:
        return normalize_timestamp(value, "timestamp")
    except AtsError:
        return value


def differences(existing, desired, now=None):
    """Fields (in FIELDS order) where desired differs from existing.

    A begin time that has passed equals one Db2 shows as NULL or unchanged: ADMIN_TASK_UPDATE
    would refuse a past begin time anyway, and a passed begin time no longer limits anything.
    """
    now = (now or datetime.datetime.now()).strftime(DB2_TS)
    changed = []
    for field in FIELDS:
        want, have = getattr(desired, field), getattr(existing, field)
        if field == "begin_timestamp" and want is not None and want < now and have in (None, want):
            continue
        if want != have:
            changed.append(field)
    return changed


# ---------------------------------------------------------------------------------------------
# Plan

class Action:
    """One change to the task set: add, update, replace (remove + add) or remove."""

    __slots__ = ("kind", "name", "before", "after", "fields")

    def __init__(self, kind, name, before=None, after=None, fields=()):
        self.kind, self.name, self.before, self.after, self.fields = kind, name, before, after, list(fields)

    def calls(self, now=None):
        """(procedure, parameters) pairs that carry this action out, in order."""
        if self.kind == "remove":
            return [remove_call(self.name)]
        if self.kind == "update":
            return [update_call(self.after, now)]
        if self.kind == "replace":
            return [remove_call(self.name), add_call(self.after)]
        return [add_call(self.after)]

    def as_dict(self):
        return dict(action=self.kind, name=self.name, fields=self.fields)


def plan(desired, existing, exclusive=False, absent=(), now=None):
    """Actions turning `existing` ({name: Task}) into `desired` ([Task]); `absent` names to remove."""
    actions = []
    wanted = dict((task.name, task) for task in desired)
    for task in desired:
        current = existing.get(task.name)
        if current is None:
            actions.append(Action("add", task.name, None, task))
            continue
        changed = differences(current, task, now)
        if not changed:
            continue
        kind = "replace" if any(field in REPLACE_ONLY for field in changed) else "update"
        actions.append(Action(kind, task.name, current, task, changed))
    for name in sorted(existing):
        if name not in wanted and (exclusive or name in absent):
            actions.append(Action("remove", name, existing[name], None))
    return actions


def check_unique(tasks):
    seen = set()
    for task in tasks:
        if task.name in seen:
            raise AtsError("task %s is listed twice" % task.name)
        seen.add(task.name)


# ---------------------------------------------------------------------------------------------
# Calls and their SQL

def add_call(task):
    return ("SYSPROC.ADMIN_TASK_ADD", (task.name, task.begin_timestamp, task.end_timestamp, task.max_invocations,
                                       task.schedule, task.procedure_schema, task.procedure_name,
                                       task.procedure_input, None, task.remarks))


def update_call(task, now=None):
    now = (now or datetime.datetime.now()).strftime(DB2_TS)
    begin = task.begin_timestamp if task.begin_timestamp and task.begin_timestamp >= now else None
    return ("SYSPROC.ADMIN_TASK_UPDATE", (task.name, begin, task.end_timestamp, task.max_invocations,
                                          task.schedule, None, task.remarks))


def remove_call(name):
    return ("SYSPROC.ADMIN_TASK_REMOVE", (name, None))


def sql_literal(value):
    """A Db2 SQL literal. Strings are quoted with '' doubled, so no value can end the literal
    or the statement; control characters are refused because the CLP reads scripts line by
    line and would end a statement at a line ending in `;` inside a string."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        raise AtsError("boolean is not a Db2 procedure argument")
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if re.search(r"[\x00-\x1f\x7f]", text):
        raise AtsError("value %r contains control characters" % text[:40])
    return "'%s'" % text.replace("'", "''")


def call_sql(procedure, params):
    """`CALL SYSPROC.X('a', NULL, ...)`: one line, every value a literal."""
    return "CALL %s(%s)" % (procedure, ", ".join(sql_literal(v) for v in params))


def ats_enabled(value):
    return (value or "").strip().upper() in ATS_ENABLED_VALUES


def crontab_lines(tasks):
    return [task.crontab_line() for task in sorted(tasks, key=lambda t: t.name)]


def task_diff(existing, desired_names_tasks):
    """before/after for --diff: {name: task dict} of the task set."""
    return dict((name, task.as_dict()) for name, task in sorted(existing.items())), \
        dict((name, task.as_dict()) for name, task in sorted(desired_names_tasks.items()))
