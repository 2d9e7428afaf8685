"""The transaction log of a recoverable database: what HADR ships and a standby replays.

Real Db2 writes log records for every change of a recoverable database (LOGARCHMETH1/2 not
OFF) into `S0000000.LOG`, `S0000001.LOG`, ... under `Path to log files` (<local dir>/
LOGSTREAM0000/). Positions are byte offsets in the log stream (LSO), as `db2pd -hadr` shows
them (`S0000001.LOG, 0, 48912046`: file, page in the file, LSO).

The stand-in's records are logical: one JSON line per committed unit of work, holding the
statements as prepared for SQLite (CURRENT TIMESTAMP and friends already fixed as literals by
the dialect, so a replay gives the same rows) and their parameters. A line's LSO is the
offset of its first byte in the stream; a file holds at most LOGFILSIZ 4 KB pages (or one record).

Commit order: a unit of work appends its record and commits under one lock on the log
(`standin.lock`), so the log holds the units of work in the order they committed.
Not logged: circular-logging databases (nothing to recover), ATS procedure writes (SYSTOOLS),
db cfg changes (Db2 does not log those either).
"""
import base64
import contextlib
import decimal
import fcntl
import json
import os
import sqlite3
import time
import zlib
from pathlib import Path

from . import dbcfg, dialect, hadr
from .database import quote_identifier

PAGE = 4096
# Statements that change nothing a standby must replay.
UNLOGGED_VERBS = {"SELECT", "VALUES", "WITH", "SET", "DECLARE", "LOCK", "CALL", "COMMIT",
                  "ROLLBACK", ""}
CONTROL = "SQLLOGCTL.LFH"  # the log control file's real name; here JSON: base LSO, first file


def log_dir(database):
    return database.local_dir / "LOGSTREAM0000"


def recoverable(database):
    return dbcfg.archiving(dbcfg.read(database))


# --- the stream -------------------------------------------------------------------------------

def _control(database):
    try:
        return json.loads((log_dir(database) / CONTROL).read_text())
    except (OSError, ValueError):
        return {"base": 0, "first": 0}


def _files(database):
    """[(path, start LSO, size)] of the log files in order."""
    control = _control(database)
    directory = log_dir(database)
    found, start, number = [], control["base"], control["first"]
    while True:
        path = directory / ("S%07d.LOG" % number)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return found
        found.append((path, start, size))
        start += size
        number += 1


def start(database):
    """The LSO where this database's log begins (the image's end for a restored database)."""
    files = _files(database)
    return files[0][1] if files else _control(database)["base"]


def end(database):
    """The LSO after the last record (the base of a restored database without records)."""
    files = _files(database)
    if not files:
        return _control(database)["base"]
    path, start, size = files[-1]
    return start + size


def position(database, lso):
    """(file name, page, LSO) as db2pd prints a log position."""
    for path, start, size in reversed(_files(database)):
        if lso >= start:
            return path.name, (lso - start) // PAGE, lso
    control = _control(database)
    return "S%07d.LOG" % control["first"], 0, lso


def reset(database, base):
    """A new, empty log stream starting at `base` (RESTORE: the image's log end)."""
    directory = log_dir(database)
    directory.mkdir(parents=True, exist_ok=True)
    with locked(database):
        for path in directory.glob("S*.LOG"):
            path.unlink()
        first = 0
        _write(directory / CONTROL, json.dumps({"base": base, "first": first}))


@contextlib.contextmanager
def locked(database):
    directory = log_dir(database)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "standin.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def append_line(database, line):
    """Append one record line (bytes ending in newline) at the end; returns (start, end).
    The caller holds `locked(database)`."""
    files = _files(database)
    limit = int(dbcfg.read(database).get("LOGFILSIZ", "1024") or 1024) * PAGE
    if files and (files[-1][2] == 0 or files[-1][2] + len(line) <= limit):
        path, start, size = files[-1]
    else:
        control = _control(database)
        number = control["first"] + len(files)
        path = log_dir(database) / ("S%07d.LOG" % number)
        start = files[-1][1] + files[-1][2] if files else control["base"]
        size = 0
    with open(path, "ab") as handle:
        handle.write(line)
    return start + size, start + size + len(line)


def records(database, lso):
    """(start LSO, line bytes) of the records starting at or after `lso`."""
    for path, start, size in _files(database):
        if start + size <= lso:
            continue
        with open(path, "rb") as handle:
            at = start
            for line in handle:
                if at >= lso:
                    yield at, line
                at += len(line)


def last_record(database):
    """(start LSO, line) of the last record, or None."""
    files = _files(database)
    if not files:
        return None
    path, start, _size = files[-1]
    last = None
    with open(path, "rb") as handle:
        at = start
        for line in handle:
            last = (at, line)
            at += len(line)
    return last


def record_ending_at(database, lso):
    """The record line that ends exactly at `lso`, None if none does."""
    for path, start, size in _files(database):
        if not start < lso <= start + size:
            continue
        with open(path, "rb") as handle:
            at = start
            for line in handle:
                at += len(line)
                if at == lso:
                    return line
    return None


def checksum(line):
    return zlib.crc32(line) if line else 0


def seed(database):
    """The database's identity for HADR pairing (`originated from the same database`),
    created once and kept in its configuration, so backup images carry it."""
    values = dbcfg.read(database)
    if not values.get("DB_SEED"):
        dbcfg.update(database, {"DB_SEED": os.urandom(8).hex()})
        values = dbcfg.read(database)
    return values["DB_SEED"]


# --- writing: units of work of the CLP and the DRDA server ---------------------------------------

def _pending(ctx):
    return ctx.__dict__.setdefault("translog_pending", [])


def _encode(value):
    if isinstance(value, bytes):
        return {"b": base64.b64encode(value).decode()}
    if isinstance(value, decimal.Decimal):
        return {"d": str(value)}
    return value


def _decode(value):
    if isinstance(value, dict):
        return base64.b64decode(value["b"]) if "b" in value else decimal.Decimal(value["d"])
    return value


def note(ctx, database, statement, schema, params):
    """A statement of the unit of work in progress ran: remember it for the commit's record."""
    if statement.verb in UNLOGGED_VERBS or not recoverable(database):
        return
    _pending(ctx).append({"schema": schema, "sql": statement.sql,
                          "schemas": sorted(statement.schemas), "creates": statement.creates,
                          "params": [_encode(v) for v in params]})


def commit(ctx, database):
    """COMMIT the connection's unit of work, its record appended to the log first.

    A database that is no longer an HADR primary (takeover, STOP HADR on the way) refuses:
    the unit of work is rolled back and the application gets SQL1224N, as forced ones do.
    """
    pending = _pending(ctx)
    if not pending:
        if ctx.conn.in_transaction:
            ctx.conn.execute("COMMIT")
        return
    with locked(database):
        refusal = hadr.commit_refusal(database)
        if refusal is not None:
            rollback(ctx)
            raise refusal
        line = (json.dumps({"time": time.time(), "tx": pending}, separators=(",", ":")) + "\n").encode()
        ctx.conn.execute("COMMIT")  # committed first: a failed COMMIT must not be in the log
        _start, record_end = append_line(database, line)
    pending.clear()
    hadr.wait_for_standby(database, record_end)


def rollback(ctx):
    _pending(ctx).clear()
    if ctx.conn is not None and ctx.conn.in_transaction:
        ctx.conn.execute("ROLLBACK")


def end_unit(ctx, database, verb):
    """COMMIT or ROLLBACK of the unit of work in progress (the CLP's and DRDA's path)."""
    if verb == "COMMIT" and database is not None:
        commit(ctx, database)
    else:
        rollback(ctx)


def tool_write(database, schema, sql, params=()):
    """A change made by a Db2 tool rather than an application (db2updv's catalog row): run and
    logged as a unit of work of its own, so that an HADR standby gets it too."""
    ctx = _ToolContext(database.open(schema))
    try:
        ctx.conn.execute("BEGIN")
        ctx.conn.execute(sql, params)
        statement = dialect.Statement(sql, sql.split(None, 1)[0].upper())
        note(ctx, database, statement, schema, params)
        commit(ctx, database)
    finally:
        ctx.conn.close()


class _ToolContext:
    def __init__(self, conn):
        self.conn = conn


# --- replay on a standby ----------------------------------------------------------------------

# The replay position kept in each schema file's header (SQLite's user_version, a signed 32-bit
# integer), written in the replay's own transaction: a standby killed between a replay's COMMIT and
# the write of standin.replayed replays that record again after its restart, and a file whose mark
# already covers the record skips it. Beyond 2**31 bytes of log no mark is kept (no stand-in test
# logs that much).
MARK_LIMIT = 2 ** 31 - 1


def replay(database, line, upto=None):
    """Apply one record line to the database's files (all its statements, or none). `upto`, the
    LSO after the record, makes it idempotent: a file that has replayed it already is left alone."""
    record = json.loads(line)
    statements = record["tx"]
    if not statements:
        return
    conn = database.open(statements[0]["schema"])
    try:
        for item in statements:
            for schema in [item["schema"]] + item["schemas"]:
                database.attach(conn, schema, create=True)
        conn.execute("BEGIN")
        targets = sorted(set(item["schema"] for item in statements))
        marks = {schema: conn.execute("PRAGMA %s.user_version" % quote_identifier(schema)).fetchone()[0]
                 for schema in targets} if upto is not None and upto <= MARK_LIMIT else {}
        for item in statements:
            if not marks or marks[item["schema"]] < upto:  # not replayed into this file yet
                conn.execute(item["sql"], tuple(_decode(v) for v in item["params"]))
        for schema in marks:
            conn.execute("PRAGMA %s.user_version = %d" % (quote_identifier(schema), upto))
        conn.execute("COMMIT")
    except sqlite3.Error as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise dialect.map_error(error, statements[0]["sql"], statements[0]["schema"]) from None
    finally:
        conn.close()


def replayed(database):
    """The LSO up to which the standby has replayed (its log end when it is not a standby: a
    primary's or a standard database's log holds only what its own commits did)."""
    if dbcfg.read(database).get("HADR_DB_ROLE") != "STANDBY":
        return end(database)
    try:
        return int((log_dir(database) / "standin.replayed").read_text())
    except (OSError, ValueError):
        return end(database)


def set_replayed(database, lso):
    _write(log_dir(database) / "standin.replayed", str(lso))


def _write(path, text):
    tmp = Path("%s.tmp%d" % (path, os.getpid()))
    tmp.write_text(text)
    os.replace(tmp, path)
