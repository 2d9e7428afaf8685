"""The Administrative Task Scheduler's process (real Db2: db2acd) and the stand-in's test hook.

Facts file section 4 and IBM's pages it cites: tasks run for *active* databases only, only while
DB2_ATS_ENABLE is YES, TRUE, 1 or ON, honouring BEGIN_TIME, END_TIME and MAX_INVOCATIONS; what
ran shows in ADMIN_TASK_STATUS. In the strict reading (atspolicy) the scheduler also polls the
active databases every five minutes (IBM) and runs only the tasks it picked up at its last poll.
"""
import datetime
import os
import re
import sqlite3
import subprocess
import sys
import time

from . import atspolicy, dialect, levels, messages
from .ats import ENABLED, PROCEDURES, TS_FORMAT, Call, _has_systools, invoke, cron_matches
from .database import Database
from .instance import Instance, NoInstance
from .session import connections


def ats_enabled(instance):
    return instance.registry().get("DB2_ATS_ENABLE", "").upper() in ENABLED


def active_aliases(instance):
    state = instance.snapshot()
    if not state["started"]:
        return []
    return list(dict.fromkeys(state["active"] + sorted(connections(instance, state["run"]))))


def poll(instance, now):
    """The scheduler's poll (strict reading): it now knows the tasks of the active databases.
    Nothing is polled while ATS is off, so enabling it takes effect at the next poll."""
    if ats_enabled(instance):
        atspolicy.record_poll(instance, active_aliases(instance), now)


def run_tasks(instance, now, names=None, database_alias=None, force=False):
    """Run the tasks due at `now`; with `force`, the named tasks (or all) as if due now.

    Returns [(database, task name, invocation, status, sqlcode)] of what ran. Nothing runs
    unless ATS is enabled and the database is active; begin/end times and MAX_INVOCATIONS
    hold even when forced (facts 4), and so does the poll of the strict reading.
    """
    ran = []
    if not ats_enabled(instance):
        return ran
    for alias in active_aliases(instance):
        if database_alias and alias != database_alias.upper():
            continue
        database = Database.lookup(instance, alias)
        conn = database.open(instance.name.upper())
        try:
            if not _has_systools(conn, database):
                continue
            for task in conn.execute("SELECT NAME, TASKID, BEGIN_TIME, END_TIME, MAX_INVOCATIONS, "
                                     "SCHEDULE, PROCEDURE_SCHEMA, PROCEDURE_NAME, PROCEDURE_INPUT, OWNER, "
                                     "UPDATE_TIME FROM SYSTOOLS.ADMIN_TASK_LIST ORDER BY TASKID").fetchall():
                if names and task[0] not in names:
                    continue
                if not atspolicy.picked_up(instance, alias, task[10]):
                    continue  # added or updated after the scheduler's last poll
                outcome = _run_if_due(conn, database, task[:10], now, force)
                if outcome:
                    ran.append((alias,) + outcome)
        finally:
            conn.close()
    return ran


def _run_if_due(conn, database, task, now, forced):
    name, taskid, begin, end, max_inv, schedule, schema, proc, proc_input, owner = task
    if begin and now < datetime.datetime.strptime(begin, TS_FORMAT):
        return None
    if end and now > datetime.datetime.strptime(end, TS_FORMAT):
        return None
    done = conn.execute("SELECT COUNT(*), MAX(BEGIN_TIME) FROM SYSTOOLS.ADMIN_TASK_STATUS WHERE NAME = ?",
                        (name,)).fetchone()
    if max_inv is not None and done[0] >= max_inv:
        return None
    if not forced:
        if schedule is None or not cron_matches(schedule, now):
            return None
        if done[1] and done[1][:16] == now.strftime(TS_FORMAT)[:16]:
            return None  # ran in this minute already
    invocation = done[0] + 1
    conn.execute("INSERT INTO SYSTOOLS.ADMIN_TASK_STATUS VALUES (?, ?, 'RUNNING', ?, ?, NULL, ?, NULL, "
                 "NULL, NULL, NULL)", (name, taskid, invocation,
                                       datetime.datetime.now().strftime(TS_FORMAT), os.getpid()))
    status, rc, error = "COMPLETED", None, None
    try:
        args = _procedure_args(conn, database, proc_input, owner)
        entry = PROCEDURES.get((schema, proc))
        if entry is None or entry[1] != len(args):
            raise dialect.SqlError("SQL0440N", name=proc)
    except dialect.SqlError as exc:
        status, error = "NOTRUN", exc  # the procedure could not be called
    else:
        try:
            rc = invoke(Call(conn, database, owner, datetime.datetime.now()), schema, proc, args)
        except dialect.SqlError as exc:
            error = exc
    sqlcode, sqlstate, errmc = 0, "00000", None
    if error is not None:
        text = messages.text(error.msg_id, **error.values)
        number = int(error.msg_id[3:-1])
        sqlcode = -number if error.msg_id[-1] in "NC" else number
        state = re.search(r"SQLSTATE=(\w{5})", text)
        sqlstate = state.group(1) if state else None
        errmc = "\xff".join(str(v) for v in error.values.values())[:70] or None
    conn.execute("UPDATE SYSTOOLS.ADMIN_TASK_STATUS SET STATUS = ?, END_TIME = ?, SQLCODE = ?, SQLSTATE = ?, "
                 "SQLERRMC = ?, RC = ? WHERE NAME = ? AND INVOCATION = ?",
                 (status, datetime.datetime.now().strftime(TS_FORMAT), sqlcode, sqlstate, errmc, rc,
                  name, invocation))
    return name, invocation, status, sqlcode


def _procedure_args(conn, database, proc_input, owner):
    """The one row PROCEDURE_INPUT returns, run at each execution (facts 4)."""
    if proc_input is None:
        return ()
    try:
        rows = conn.execute(dialect.prepare(proc_input, owner, database.alias).sql).fetchall()
    except sqlite3.Error as exc:
        raise dialect.map_error(exc, proc_input, owner) from None
    if len(rows) != 1:
        raise dialect.SqlError("SQL0811N")
    return tuple(rows[0])


def start_daemon(instance):
    """db2start starts the scheduler process (real Db2: db2acd) unless one runs for this instance run.

    A scheduler of an earlier run (db2stop; db2start within the same minute) is still asleep and
    ends at its next wake-up, so it does not count.
    """
    pid_file = instance.runtime / "db2acd.pid"
    run = instance.snapshot()["run"]
    try:
        pid, pid_run = (int(word) for word in pid_file.read_text().split())
        os.kill(pid, 0)
        if pid_run == run:
            return
    except (OSError, ValueError):
        pass
    process = subprocess.Popen([os.path.join(str(levels.DB2DIR), "bin", "db2acd")],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    pid_file.write_text("%d %d" % (process.pid, run))


def daemon():
    """Poll at start and every poll interval (strict), run the due tasks at each minute; end when
    the instance stops (db2stop)."""
    instance = Instance()
    run = instance.snapshot()["run"]
    interval = atspolicy.settings(instance)["poll_seconds"]
    next_poll = time.time()
    next_minute = (time.time() // 60 + 1) * 60
    while True:
        state = instance.snapshot()
        if not state["started"] or state["run"] != run:
            return
        try:
            if time.time() >= next_poll:
                poll(instance, datetime.datetime.now())
                next_poll += interval
            if time.time() >= next_minute:
                run_tasks(instance, datetime.datetime.fromtimestamp(next_minute))
                next_minute += 60
        except Exception as exc:  # keep scheduling; say why in db2diag as db2acd would
            instance.diag("Error", "db2acd", "DB2 UDB, Administrative Task Scheduler",
                          "ATS task run failed: %s" % exc)
        time.sleep(max(0.5, min(next_poll, next_minute) - time.time() + 0.5))


def main(tool, argv):
    """db2standin-ats-run [--poll] [-d DB] [TASK ...]: STAND-IN ONLY test hook, absent from real Db2.

    Runs the named tasks (all tasks with no names) of the active databases now, as if their
    time had come, under the scheduler's own rules; prints one line per run. --poll first makes
    the scheduler poll now, as if its five-minute cycle came.
    """
    if tool == "db2acd":
        return daemon()
    try:
        instance = Instance()
    except NoInstance:
        sys.stdout.write(messages.message("SQL1390C"))
        return 4
    polled = argv[:1] == ["--poll"]
    if polled:
        argv = argv[1:]
    database = None
    if argv[:1] == ["-d"]:
        database, argv = argv[1], argv[2:]
    if not ats_enabled(instance):
        sys.stderr.write("%s: no task ran: DB2_ATS_ENABLE is not YES/TRUE/1/ON\n" % tool)
        return 0
    if polled:
        poll(instance, datetime.datetime.now())
    ran = run_tasks(instance, datetime.datetime.now(), names=set(argv), database_alias=database,
                    force=True)
    if not ran:
        sys.stderr.write("%s: no task ran (database not active, task not due, or not picked up by the "
                         "scheduler's last poll)\n" % tool)
    for alias, name, invocation, status, sqlcode in ran:
        sys.stdout.write("%s %s invocation=%d status=%s sqlcode=%d\n"
                         % (alias, name, invocation, status, sqlcode))
    return 0
