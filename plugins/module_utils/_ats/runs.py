# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ATS status can and cannot say about a task: whether it can have run yet.

IBM's rules (facts file section 4, and the IBM pages the stand-in README cites):
- the scheduler runs nothing while DB2_ATS_ENABLE is off, and only tasks of active databases;
- "Every five minutes the administrative task scheduler connects to active databases to check
  for new or updated tasks" (Adding a task to the administrative task scheduler): a task added or
  changed less than five minutes ago may not be known to the scheduler yet;
- ADMIN_TASK_STATUS returns only the status records of the session authorization ID's tasks, so
  another user's task shows no runs even when it ran.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import datetime

POLL_SECONDS = 300  # IBM: every five minutes
_FORMATS = ("%Y-%m-%d-%H.%M.%S.%f", "%Y-%m-%d-%H.%M.%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")

CHANGED_NOTE = ("The Db2 task scheduler picks up new or changed tasks when it next checks the database "
                "(every 5 minutes): until then they cannot run.")
ENABLED_NOTE = ("DB2_ATS_ENABLE was off: the scheduler runs tasks from its next check of the database "
                "(every 5 minutes) on.")


def db2_timestamp(value):
    """A datetime from ibm_db (already one) or from the CLP's text; None when it is neither."""
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None)
    for fmt in _FORMATS:
        try:
            return datetime.datetime.strptime(str(value).strip(), fmt)
        except ValueError:
            continue
    return None


def status_row(row):
    def number(key):
        value = row.get(key)
        return None if value in (None, "") else int(value)

    def text(key):  # ibm_db gives datetime objects, the CLP Db2's text form
        value = row.get(key)
        return None if value is None else str(value)

    return dict(name=text("NAME"), taskid=number("TASKID"), status=text("STATUS"),
                invocation=number("INVOCATION"), begin_time=text("BEGIN_TIME"), end_time=text("END_TIME"),
                sqlcode=number("SQLCODE"), sqlstate=text("SQLSTATE"), rc=number("RC"))


def last_runs(runs):
    """name -> the run with the highest invocation."""
    last = {}
    for run in runs:
        if run["name"] not in last or (run["invocation"] or 0) >= (last[run["name"]]["invocation"] or 0):
            last[run["name"]] = run
    return last


def run_state(row, last_run, ats_on, active, now, authid):
    """(state, text) for one ADMIN_TASK_LIST row: what its status may be taken to mean.

    States: scheduler_off, inactive, not_picked_up (added or changed within the scheduler's
    five-minute cycle), ran, status_hidden (another user's task: its runs are not visible),
    not_run_yet (known to the scheduler, no run recorded).
    """
    if not ats_on:
        return "scheduler_off", "the scheduler is off (DB2_ATS_ENABLE): the task cannot run"
    if active is False:
        return "inactive", "the database is not active: the scheduler runs tasks of active databases only"
    changed = db2_timestamp(row.get("UPDATE_TIME"))
    began = db2_timestamp((last_run or {}).get("begin_time"))
    ran_since = began is not None and changed is not None and began >= changed  # so it was picked up
    if changed is not None and now is not None and (now - changed).total_seconds() < POLL_SECONDS \
            and not ran_since:
        return "not_picked_up", ("added or changed at %s, less than 5 minutes before %s: the scheduler may not "
                                 "have picked it up yet (it checks every 5 minutes), so it cannot have run in this "
                                 "form yet" % (changed.strftime("%Y-%m-%d %H:%M:%S"), now.strftime("%H:%M:%S")))
    if last_run:
        return "ran", "last run %s" % (last_run.get("status") or "with no status")
    owner = (row.get("OWNER") or "").strip().upper()
    if authid and owner and owner != authid.strip().upper():
        return "status_hidden", ("owned by %s: ADMIN_TASK_STATUS shows %s only the runs of its own tasks, so runs "
                                 "of this task cannot be seen" % (owner, authid.strip().upper()))
    return "not_run_yet", "known to the scheduler, no run recorded yet"
