"""The Administrative Task Scheduler (ATS), SYSCAT table spaces/routines and stored procedures.

Facts file section 4 and IBM's pages it cites:
- `SYSPROC.ADMIN_TASK_ADD` (10 parameters), `ADMIN_TASK_UPDATE` (7; the procedure cannot be
  changed), `ADMIN_TASK_REMOVE(name, end_timestamp)`;
- `SYSTOOLS.ADMIN_TASK_LIST` / `ADMIN_TASK_STATUS` appear on the first ADMIN_TASK_ADD, with
  IBM's column names and order; ADMIN_TASK_ADD needs the SYSTOOLSPACE table space
  (`SQL0204N "SYSTOOLSPACE"`), created with
  `CREATE TABLESPACE SYSTOOLSPACE IN IBMCATGROUP MANAGED BY AUTOMATIC STORAGE EXTENTSIZE 4`;
- the scheduler (real Db2: the db2acd process, scheduler.py) runs tasks of *active* databases
  only, and only while `DB2_ATS_ENABLE` is YES, TRUE, 1 or ON; what it ran shows in ADMIN_TASK_STATUS;
- the schedule is UNIX cron: 5 fields, ranges, lists, steps, month/day names; when both day
  fields are restricted a day matches if either does.

The CLP calls `statement()` for every SQL statement (one hook in clp.Clp.sql); it handles CALL
and CREATE TABLESPACE and returns None for everything else. Writes go through the CLP's own
SQLite connection, so they count after COMMIT like the real procedures' (autocommit: at once).
"""
import datetime
import os
import re
import sqlite3

from . import atspolicy, dialect, messages

messages.CATALOG.update({
    "SQL0171N": ('The statement was not processed because the data type, length or value of the '
                 'argument for the parameter in position "{position}" of routine "{routine}" is '
                 'incorrect. Parameter name: "{parameter}".  SQLSTATE=42815'),
    "SQL0440N": ('No authorized routine named "{name}" of type "PROCEDURE" having compatible '
                 'arguments was found.  SQLSTATE=42884'),
    "SQL1258N": ("The SYSTOOLSPACE and SYSTOOLSTMPSPACE table spaces must be created in the "
                 "IBMCATGROUP database partition group.  SQLSTATE=42838"),
    "SQL0811N": ("The result of a scalar fullselect, SELECT INTO statement, or VALUES INTO "
                 "statement is more than one row.  SQLSTATE=21000"),
    "SQL2306N": 'The table or index "{name}" does not exist.',
    "SQL0551N": ('The statement failed because the authorization ID does not have the required authorization '
                 'or privilege to perform the operation.  Authorization ID: "{authid}".  Operation: '
                 '"{operation}". Object: "{object}".  SQLSTATE=42501'),
})

ENABLED = ("YES", "TRUE", "1", "ON")
TS_FORMAT = "%Y-%m-%d-%H.%M.%S.%f"

# SYSTOOLS.ADMIN_TASK_LIST / ADMIN_TASK_STATUS: IBM's columns in IBM's order (facts 4).
# PROCEDURE_INPUT is CLOB(2M) in Db2; declared without length so the CLP sizes it by value.
TASK_LIST_DDL = """CREATE TABLE ADMIN_TASK_LIST (NAME VARCHAR(128) NOT NULL, TASKID INTEGER NOT NULL,
    OWNER VARCHAR(128), OWNERTYPE VARCHAR(1), BEGIN_TIME TIMESTAMP, END_TIME TIMESTAMP,
    MAX_INVOCATIONS INTEGER, SCHEDULE VARCHAR(1024), PROCEDURE_SCHEMA VARCHAR(128),
    PROCEDURE_NAME VARCHAR(128), PROCEDURE_INPUT CLOB, OPTIONS VARCHAR(512),
    UPDATE_TIME TIMESTAMP, REMARKS VARCHAR(254))"""
TASK_STATUS_DDL = """CREATE TABLE ADMIN_TASK_STATUS (NAME VARCHAR(128), TASKID INTEGER,
    STATUS VARCHAR(10), INVOCATION INTEGER, BEGIN_TIME TIMESTAMP, END_TIME TIMESTAMP,
    AGENT_ID BIGINT, SQLCODE INTEGER, SQLSTATE CHAR(5), SQLERRMC VARCHAR(70), RC INTEGER)"""

# SYSCAT.TABLESPACES / SYSCAT.ROUTINES: the columns the collection and IBM's setup steps read.
CATALOG_DDL = """
CREATE TABLE TABLESPACES (TBSPACE VARCHAR(128), TBSPACEID INTEGER, TBSPACETYPE CHAR(1),
    DATATYPE CHAR(1), EXTENTSIZE INTEGER, DBPGNAME VARCHAR(128));
INSERT INTO TABLESPACES VALUES ('SYSCATSPACE', 0, 'D', 'A', 4, 'IBMCATGROUP'),
    ('TEMPSPACE1', 1, 'S', 'T', 32, 'IBMTEMPGROUP'), ('USERSPACE1', 2, 'D', 'L', 32, 'IBMDEFAULTGROUP');
CREATE TABLE ROUTINES (ROUTINESCHEMA VARCHAR(128), ROUTINENAME VARCHAR(128),
    ROUTINETYPE CHAR(1), PARM_COUNT SMALLINT);
"""


# --- procedures --------------------------------------------------------------------------

class Call:
    """One procedure invocation: the CLP's connection, database, authorization id, clock."""

    def __init__(self, conn, database, authid, now):
        self.conn, self.database, self.authid, self.now = conn, database, authid, now
        self.log = []  # lines the CLP prints before "Return Status"


def _arg_error(routine, position, parameter):
    return dialect.SqlError("SQL0171N", position=str(position), routine="SYSPROC." + routine,
                            parameter=parameter)


def _timestamp(value, routine, position, parameter):
    if value is None:
        return None
    for fmt in (TS_FORMAT, "%Y-%m-%d-%H.%M.%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(str(value), fmt)
        except ValueError:
            continue
    raise _arg_error(routine, position, parameter)


def _text(value, limit, routine, position, parameter, required=False):
    if value is None:
        if required:
            raise _arg_error(routine, position, parameter)
        return None
    value = str(value)
    if len(value.encode("utf-8")) > limit:
        raise _arg_error(routine, position, parameter)
    return value


def _check_times(routine, call, begin, end, max_invocations, schedule, options, offset):
    """The checks ADMIN_TASK_ADD and ADMIN_TASK_UPDATE share (facts 4)."""
    begin_ts = _timestamp(begin, routine, offset, "BEGIN_TIMESTAMP")
    end_ts = _timestamp(end, routine, offset + 1, "END_TIMESTAMP")
    # "cannot be in the past": CURRENT TIMESTAMP of the CALL itself is not in the past.
    if begin_ts is not None and begin_ts < call.now.replace(microsecond=0):
        raise _arg_error(routine, offset, "BEGIN_TIMESTAMP")
    if end_ts is not None and (end_ts < call.now or (begin_ts and end_ts < begin_ts)):
        raise _arg_error(routine, offset + 1, "END_TIMESTAMP")
    if max_invocations is not None and (not isinstance(max_invocations, int) or max_invocations < 0):
        raise _arg_error(routine, offset + 2, "MAX_INVOCATIONS")
    schedule = _text(schedule, 1024, routine, offset + 3, "SCHEDULE")
    if schedule is not None and cron_fields(schedule) is None:
        raise _arg_error(routine, offset + 3, "SCHEDULE")
    if options is not None:  # "must be NULL"
        raise _arg_error(routine, offset + 4 + (2 if routine == "ADMIN_TASK_ADD" else 0), "OPTIONS")
    return (begin_ts.strftime(TS_FORMAT) if begin_ts else None,
            end_ts.strftime(TS_FORMAT) if end_ts else None, schedule)


def admin_task_add(call, name, begin, end, max_invocations, schedule, proc_schema, proc_name,
                   proc_input, options, remarks):
    routine = "ADMIN_TASK_ADD"
    if "SYSTOOLSPACE" not in table_spaces(call.conn):
        raise dialect.SqlError("SQL0204N", name="SYSTOOLSPACE")
    name = _text(name, 128, routine, 1, "NAME", required=True)
    begin, end, schedule = _check_times(routine, call, begin, end, max_invocations, schedule,
                                        options, 2)
    proc_schema = _text(proc_schema, 128, routine, 6, "PROCEDURE_SCHEMA", required=True)
    proc_name = _text(proc_name, 128, routine, 7, "PROCEDURE_NAME", required=True)
    proc_input = _text(proc_input, 2 * 1024 * 1024, routine, 8, "PROCEDURE_INPUT")
    remarks = _text(remarks, 254, routine, 10, "REMARKS")
    ensure_systools(call)
    if call.conn.execute("SELECT 1 FROM SYSTOOLS.ADMIN_TASK_LIST WHERE NAME = ?", (name,)).fetchone():
        raise dialect.SqlError("SQL0601N", name=name, type="TASK")
    taskid = call.conn.execute("SELECT COALESCE(MAX(TASKID), 0) + 1 FROM SYSTOOLS.ADMIN_TASK_LIST"
                               ).fetchone()[0]
    call.conn.execute("INSERT INTO SYSTOOLS.ADMIN_TASK_LIST VALUES (?, ?, ?, 'U', ?, ?, ?, ?, ?, ?, ?, "
                      "NULL, ?, ?)", (name, taskid, call.authid, begin, end, max_invocations, schedule,
                                      proc_schema, proc_name, proc_input,
                                      datetime.datetime.now().strftime(TS_FORMAT), remarks))
    return 0


def admin_task_update(call, name, begin, end, max_invocations, schedule, options, remarks):
    routine = "ADMIN_TASK_UPDATE"
    name = _text(name, 128, routine, 1, "NAME", required=True)
    begin, end, schedule = _check_times(routine, call, begin, end, max_invocations, schedule,
                                        options, 2)
    remarks = _text(remarks, 254, routine, 7, "REMARKS")
    _require_task(call, name)
    _require_owner(call, name, routine)
    call.conn.execute("UPDATE SYSTOOLS.ADMIN_TASK_LIST SET BEGIN_TIME = ?, END_TIME = ?, "
                      "MAX_INVOCATIONS = ?, SCHEDULE = ?, UPDATE_TIME = ?, REMARKS = ? WHERE NAME = ?",
                      (begin, end, max_invocations, schedule, datetime.datetime.now().strftime(TS_FORMAT), remarks,
                       name))
    return 0


def admin_task_remove(call, name, end):
    """NULL end: the task (or all tasks) and its status rows; else status rows ending by `end`."""
    end_ts = _timestamp(end, "ADMIN_TASK_REMOVE", 2, "END_TIMESTAMP")
    if not _has_systools(call.conn, call.database):
        raise dialect.SqlError("SQL0204N", name="SYSTOOLS.ADMIN_TASK_LIST")
    where, args = ("", ()) if name is None else (" WHERE NAME = ?", (name,))
    if name is not None and end_ts is None:
        _require_task(call, name)
        _require_owner(call, name, "ADMIN_TASK_REMOVE")
    if end_ts is None:
        call.conn.execute("DELETE FROM SYSTOOLS.ADMIN_TASK_LIST" + where, args)
        call.conn.execute("DELETE FROM SYSTOOLS.ADMIN_TASK_STATUS" + where, args)
    else:
        clause = (where + " AND" if where else " WHERE") + " END_TIME <= ?"
        call.conn.execute("DELETE FROM SYSTOOLS.ADMIN_TASK_STATUS" + clause,
                          args + (end_ts.strftime(TS_FORMAT),))
    return 0


def admin_cmd(call, command):
    """SYSPROC.ADMIN_CMD: only RUNSTATS ON TABLE is imitated (checks the table, logs the run)."""
    words = (command or "").split()
    if [w.upper() for w in words[:3]] == ["RUNSTATS", "ON", "TABLE"] and len(words) > 3:
        schema, _dot, name = words[3].upper().rpartition(".")
        schema = schema or call.authid
        path = call.database.store / ("%s.sqlite" % schema)
        found = False
        if path.exists():  # a connection of its own: no ATTACH inside the caller's transaction
            with call.database.schema_connection(schema) as conn:
                found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                     "upper(name) = ?", (name,)).fetchone() is not None
        if not found:
            raise dialect.SqlError("SQL2306N", name="%s.%s" % (schema, name))
        call.database.instance.diag("Info", "db2sysc", "DB2 UDB, relation data serv, sqlrLocalRunstats",
                                    "RUNSTATS on table %s.%s completed (ADMIN_CMD)." % (schema, name))
        return 0
    raise dialect.SqlError("SQL0901N", reason="ADMIN_CMD command not imitated by the stand-in: %s"
                           % " ".join(words[:3]))


# Procedures the stand-in knows, by (schema, name): function and parameter count.
PROCEDURES = {
    ("SYSPROC", "ADMIN_TASK_ADD"): (admin_task_add, 10),
    ("SYSPROC", "ADMIN_TASK_UPDATE"): (admin_task_update, 7),
    ("SYSPROC", "ADMIN_TASK_REMOVE"): (admin_task_remove, 2),
    ("SYSPROC", "ADMIN_CMD"): (admin_cmd, 1),
}


# Their parameters' types, as SYSCAT.ROUTINEPARMS lists them (facts 4): a DRDA client binds its
# values to these. CLOB parameters are VARCHAR here (the stand-in has no LOBs).
SIGNATURES = {
    ("SYSPROC", "ADMIN_TASK_ADD"): ("VARCHAR(128)", "TIMESTAMP", "TIMESTAMP", "INTEGER", "VARCHAR(1024)",
                                    "VARCHAR(128)", "VARCHAR(128)", "VARCHAR(32672)", "VARCHAR(512)",
                                    "VARCHAR(254)"),
    ("SYSPROC", "ADMIN_TASK_UPDATE"): ("VARCHAR(128)", "TIMESTAMP", "TIMESTAMP", "INTEGER", "VARCHAR(1024)",
                                       "VARCHAR(512)", "VARCHAR(254)"),
    ("SYSPROC", "ADMIN_TASK_REMOVE"): ("VARCHAR(128)", "TIMESTAMP"),
    ("SYSPROC", "ADMIN_CMD"): ("VARCHAR(32672)",),
}


def invoke(call, schema, name, args):
    """Run procedure schema.name with args; SQL0440N when unknown or the arity differs."""
    entry = PROCEDURES.get((schema, name))
    if entry is None or entry[1] != len(args):
        raise dialect.SqlError("SQL0440N", name=name)
    return entry[0](call, *args)


# --- catalog --------------------------------------------------------------------------------

def _attached(conn):
    return {row[1].upper() for row in conn.execute("PRAGMA database_list")}


def ensure_catalog(database):
    """SYSCAT.TABLESPACES and SYSCAT.ROUTINES, made on first use (older storage has none)."""
    path = database.store / "SYSCAT.sqlite"
    if path.exists():
        return
    tmp = database.store / ("SYSCAT.sqlite.tmp%d" % os.getpid())
    conn = sqlite3.connect(tmp)
    conn.executescript(CATALOG_DDL)
    conn.executemany("INSERT INTO ROUTINES VALUES (?, ?, 'P', ?)",
                     [(s, n, count) for (s, n), (_f, count) in sorted(PROCEDURES.items())])
    conn.commit()
    conn.close()
    os.replace(tmp, path)


def table_spaces(conn):
    return {row[0] for row in conn.execute("SELECT TBSPACE FROM SYSCAT.TABLESPACES")}


def _has_systools(conn, database):
    database.attach(conn, "SYSTOOLS")
    if "SYSTOOLS" not in _attached(conn):
        return False
    return conn.execute("SELECT 1 FROM SYSTOOLS.sqlite_master WHERE name = 'ADMIN_TASK_LIST'").fetchone()


def ensure_systools(call):
    """The first ADMIN_TASK_ADD creates the SYSTOOLS task tables (in SYSTOOLSPACE)."""
    if not _has_systools(call.conn, call.database):
        call.conn.execute(TASK_LIST_DDL.replace("TABLE ", "TABLE SYSTOOLS.", 1))
        call.conn.execute(TASK_STATUS_DDL.replace("TABLE ", "TABLE SYSTOOLS.", 1))


def _require_task(call, name):
    if not _has_systools(call.conn, call.database) or not call.conn.execute(
            "SELECT 1 FROM SYSTOOLS.ADMIN_TASK_LIST WHERE NAME = ?", (name,)).fetchone():
        raise dialect.SqlError("SQL0204N", name=name)


def _require_owner(call, name, routine):
    """Strict reading: another user's task needs SYSADM, SYSCTRL, SYSMAINT or DBADM (facts 4:
    SQL0551N; its operation and object tokens here are the stand-in's)."""
    owner = call.conn.execute("SELECT OWNER FROM SYSTOOLS.ADMIN_TASK_LIST WHERE NAME = ?", (name,)).fetchone()
    instance = call.database.instance
    if owner and owner[0] != call.authid and atspolicy.strict(instance) \
            and not atspolicy.administers(instance, call.authid):
        raise dialect.SqlError("SQL0551N", authid=call.authid, operation=routine, object=name)


CREATE_TABLESPACE = re.compile(r"^CREATE\s+(?:REGULAR\s+|LARGE\s+|USER\s+TEMPORARY\s+)?TABLESPACE\s+"
                               r"(?P<name>\S+)(?:\s+IN\s+(?:DATABASE\s+PARTITION\s+GROUP\s+)?"
                               r"(?P<group>\S+))?(?P<rest>.*)$", re.I | re.S)


def create_tablespace(conn, match):
    name = match.group("name").upper().strip('"')
    group = (match.group("group") or "IBMDEFAULTGROUP").upper()
    if name in table_spaces(conn):
        raise dialect.SqlError("SQL0601N", name=name, type="TABLESPACE")
    if name == "SYSTOOLSPACE" and group != "IBMCATGROUP":
        raise dialect.SqlError("SQL1258N")
    extent = re.search(r"EXTENTSIZE\s+(\d+)", match.group("rest"), re.I)
    conn.execute("INSERT INTO SYSCAT.TABLESPACES SELECT ?, MAX(TBSPACEID) + 1, 'D', 'L', ?, ? "
                 "FROM SYSCAT.TABLESPACES", (name, int(extent.group(1)) if extent else 32, group))


# --- the CLP hook ---------------------------------------------------------------------------

def statement(clp, database, text, authid):
    """CALL and CREATE TABLESPACE for the CLP; None for any other statement."""
    try:
        done = run(clp.conn, database, text, authid, clp.options.on("c"))
    except dialect.SqlError as error:
        return clp.emit_error(error)
    if done is None:
        return None
    if done[0] == "CALL":
        clp.write("\n  Return Status = %d\n" % done[1])
        return 0
    return clp.emit("DB20000I", 0, command="SQL")


def run(conn, database, text, authid, autocommit, params=()):
    """CALL (with `?` markers bound to `params`) and CREATE TABLESPACE on `conn`: ("CALL",
    return status) or ("CREATE", None); None for any other statement. Raises dialect.SqlError.
    Shared by the CLP and the DRDA server."""
    ensure_catalog(database)
    words = text.split(None, 1)
    verb = words[0].upper() if words else ""
    match = CREATE_TABLESPACE.match(text)
    if verb != "CALL" and not match:
        return None
    try:
        # SQLite cannot ATTACH inside a transaction (+c mode): attach before any BEGIN.
        if not conn.in_transaction:
            database.attach(conn, "SYSCAT")
            database.attach(conn, "SYSTOOLS", create=True)
        if not autocommit and not conn.in_transaction:
            conn.execute("BEGIN")
        if match:
            create_tablespace(conn, match)
            return "CREATE", None
        started = datetime.datetime.now()
        schema, name, args = parse_call(text, conn, authid, database.alias, params)
        return "CALL", invoke(Call(conn, database, authid, started), schema, name, args)
    except sqlite3.Error as error:
        raise dialect.map_error(error, text, authid) from None


def parse_call(text, conn, authid, server, params=()):
    """(schema, name, argument values) of `CALL [schema.]name[(arg, ...)]`.

    Arguments are expressions (literals, NULL, CURRENT TIMESTAMP, ||): SQLite evaluates them
    after the dialect's rewrites. Unqualified names resolve through SYSPROC, as on CURRENT PATH.
    """
    tokens, offset = [], 0
    for token in dialect.tokenize(text.strip()):
        if token.kind != "ws":
            tokens.append((token, offset))
        offset += len(token.text)
    body = text.strip()
    if len(tokens) < 2 or tokens[1][0].kind not in ("word", "qid"):
        raise dialect.syntax_error(body, tokens[1][0].text if len(tokens) > 1 else "END-OF-STATEMENT")
    schema, index = "SYSPROC", 1
    if len(tokens) > 3 and tokens[2][0].text == "." and tokens[3][0].kind in ("word", "qid"):
        schema, index = dialect.identifier(tokens[1][0]), 3
    name_token, at = tokens[index]
    name = dialect.identifier(name_token)
    after = body[at + len(name_token.text):].strip()
    if not after:
        return schema, name, ()
    if not (after.startswith("(") and after.endswith(")")):
        raise dialect.syntax_error(body, after.split()[0])
    inner = after[1:-1].strip()
    if not inner:
        return schema, name, ()
    prepared = dialect.prepare("SELECT " + inner, authid, server)
    try:
        row = conn.execute(prepared.sql, tuple(params)).fetchone()
    except sqlite3.Error as error:
        raise dialect.map_error(error, body, authid) from None
    return schema, name, tuple(row)


# --- cron -----------------------------------------------------------------------------------

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
FIELDS = ((0, 59, None), (0, 23, None), (1, 31, None), (1, 12, MONTHS), (0, 7, DAYS))


def cron_fields(schedule):
    """The schedule as five (set of values, restricted?) pairs; None when it is not valid cron."""
    parts = schedule.split()
    if len(parts) != 5:
        return None
    result = []
    for part, (low, high, names) in zip(parts, FIELDS):
        values = set()
        for item in part.split(","):
            match = re.match(r"^(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/(\d+))?$", item)
            if not match:
                return None
            span, step = match.group(1), int(match.group(2) or 1)
            if span == "*":
                first, last = low, high
            else:
                bounds = [_cron_value(v, low, high, names) for v in span.split("-")]
                if None in bounds:
                    return None
                first, last = bounds[0], bounds[-1]
                if "-" not in span and match.group(2):
                    last = high  # `5/10`: from 5 to the end, every 10
            if step < 1 or first > last:
                return None
            values.update(range(first, last + 1, step))
        if names is DAYS and 7 in values:
            values.add(0)
        result.append((values, part != "*"))
    return result


def _cron_value(text, low, high, names):
    if names and text.upper() in names:
        return names.index(text.upper()) + (1 if names is MONTHS else 0)
    if not text.isdigit() or not low <= int(text) <= high:
        return None
    return int(text)


def cron_matches(schedule, when):
    fields = cron_fields(schedule)
    if fields is None:
        return False
    (minutes, _m), (hours, _h), (dom, dom_r), (months, _mo), (dow, dow_r) = fields
    weekday = (when.weekday() + 1) % 7  # cron: 0 is Sunday
    if dom_r and dow_r:
        day = when.day in dom or weekday in dow
    else:
        day = when.day in dom and weekday in dow
    return when.minute in minutes and when.hour in hours and when.month in months and day
