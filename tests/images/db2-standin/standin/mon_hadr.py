"""`TABLE(MON_GET_HADR(member))`: the db2pd -hadr fields as a table function (hadr-facts.md 3).

Columns as IBM lists them for the leading ones (HADR_ROLE VARCHAR(13) ... STANDBY_MEMBER
SMALLINT); db2pd's combined fields are split (PRIMARY_LOG_FILE, PRIMARY_LOG_PAGE,
PRIMARY_LOG_POS, ...), durations are in milliseconds. A standard database returns no row. The
types after HADR_CONNECT_STATUS are the stand-in's reading (unconfirmed, see README).
"""
import datetime
import re

from . import commands, hadr
from .database import Database
from .db2pd import fields

CALL = re.compile(r"TABLE\s*\(\s*MON_GET_HADR\s*\(\s*(?:NULL|-?\d+)?\s*\)\s*\)", re.I)
COLUMNS = (
    ("HADR_ROLE", "VARCHAR(13)"), ("REPLAY_TYPE", "VARCHAR(9)"), ("HADR_SYNCMODE", "VARCHAR(10)"),
    ("STANDBY_ID", "SMALLINT"), ("LOG_STREAM_ID", "INTEGER"), ("HADR_STATE", "VARCHAR(23)"),
    ("HADR_FLAGS", "VARCHAR(512)"), ("PRIMARY_MEMBER_HOST", "VARCHAR(255)"),
    ("PRIMARY_INSTANCE", "VARCHAR(128)"), ("PRIMARY_MEMBER", "SMALLINT"),
    ("STANDBY_MEMBER_HOST", "VARCHAR(255)"), ("STANDBY_INSTANCE", "VARCHAR(128)"),
    ("STANDBY_MEMBER", "SMALLINT"), ("HADR_CONNECT_STATUS", "VARCHAR(12)"),
    ("HADR_CONNECT_STATUS_TIME", "TIMESTAMP"), ("HEARTBEAT_INTERVAL", "BIGINT"),
    ("HEARTBEAT_MISSED", "BIGINT"), ("HEARTBEAT_EXPECTED", "BIGINT"), ("HADR_TIMEOUT", "BIGINT"),
    ("TIME_SINCE_LAST_RECV", "BIGINT"), ("PEER_WAIT_LIMIT", "BIGINT"),
    ("LOG_HADR_WAIT_CUR", "BIGINT"), ("LOG_HADR_WAIT_COUNT", "BIGINT"),
    ("SOCK_SEND_BUF_REQUESTED", "BIGINT"), ("SOCK_SEND_BUF_ACTUAL", "BIGINT"),
    ("SOCK_RECV_BUF_REQUESTED", "BIGINT"), ("SOCK_RECV_BUF_ACTUAL", "BIGINT"),
    ("PRIMARY_LOG_FILE", "VARCHAR(255)"), ("PRIMARY_LOG_PAGE", "BIGINT"), ("PRIMARY_LOG_POS", "BIGINT"),
    ("STANDBY_LOG_FILE", "VARCHAR(255)"), ("STANDBY_LOG_PAGE", "BIGINT"), ("STANDBY_LOG_POS", "BIGINT"),
    ("HADR_LOG_GAP", "BIGINT"), ("STANDBY_REPLAY_LOG_FILE", "VARCHAR(255)"),
    ("STANDBY_REPLAY_LOG_PAGE", "BIGINT"), ("STANDBY_REPLAY_LOG_POS", "BIGINT"),
    ("STANDBY_RECV_REPLAY_GAP", "BIGINT"), ("PRIMARY_LOG_TIME", "TIMESTAMP"),
    ("STANDBY_LOG_TIME", "TIMESTAMP"), ("STANDBY_REPLAY_LOG_TIME", "TIMESTAMP"),
    ("PEER_WINDOW", "BIGINT"), ("PEER_WINDOW_END", "TIMESTAMP"),
    ("READS_ON_STANDBY_ENABLED", "CHAR(1)"), ("HADR_LAST_TAKEOVER_TIME", "TIMESTAMP"),
)
MILLISECONDS = {"HEARTBEAT_INTERVAL", "HADR_TIMEOUT", "TIME_SINCE_LAST_RECV", "PEER_WAIT_LIMIT",
                "LOG_HADR_WAIT_CUR", "PEER_WINDOW"}


def _timestamp(shown):
    """db2pd's `DD-MM-YYYY hh:mm:ss.ffffff (epoch)` as a Db2 TIMESTAMP value; NULL stays None."""
    match = re.search(r"\((\d+)\)$", shown)
    if not match:
        return None
    return datetime.datetime.fromtimestamp(int(match.group(1))).strftime("%Y-%m-%d-%H.%M.%S.000000")


def row(database, state):
    shown = dict(fields(database, state))
    values = {}
    for name, kind in COLUMNS:
        for combined in ("PRIMARY_LOG", "STANDBY_LOG", "STANDBY_REPLAY_LOG"):
            if name.startswith(combined + "_") and name[len(combined) + 1:] in ("FILE", "PAGE", "POS"):
                part = ("FILE", "PAGE", "POS").index(name[len(combined) + 1:])
                values[name] = shown["%s_FILE,PAGE,POS" % combined].split(", ")[part]
        for combined in ("SOCK_SEND_BUF", "SOCK_RECV_BUF"):
            if name.startswith(combined + "_"):
                part = ("REQUESTED", "ACTUAL").index(name[len(combined) + 1:])
                values[name] = shown["%s_REQUESTED,ACTUAL(bytes)" % combined].split(", ")[part]
        if name in values:
            pass
        elif name in MILLISECONDS:
            values[name] = int(float(shown["%s(seconds)" % name]) * 1000)
        elif name in ("HADR_LOG_GAP", "STANDBY_RECV_REPLAY_GAP"):
            values[name] = shown["%s(bytes)" % name]
        else:
            values[name] = shown.get(name)
        if kind == "TIMESTAMP" and values[name] is not None:
            values[name] = _timestamp(values[name])
        elif kind in ("BIGINT", "INTEGER", "SMALLINT") and values[name] is not None:
            values[name] = int(float(values[name]))
    return tuple(values[name] for name, _kind in COLUMNS)


@commands.sql_rewrite
def mon_get_hadr(ctx, conn, text, _authid):
    if "MON_GET_HADR" not in text.upper():
        return text
    database = getattr(ctx, "database", None) or Database.lookup(ctx.instance, getattr(ctx, "conn_db", "") or "")
    state = hadr.status(ctx.instance, database.alias) if database else {}
    rows = [row(database, state)] if state else []
    conn.execute('DROP TABLE IF EXISTS temp."MON_GET_HADR"')
    conn.execute('CREATE TEMP TABLE "MON_GET_HADR" (%s)' % ", ".join("%s %s" % c for c in COLUMNS))
    if rows:
        conn.execute('INSERT INTO temp."MON_GET_HADR" VALUES (%s)' % ", ".join("?" * len(COLUMNS)), rows[0])
    return CALL.sub('temp."MON_GET_HADR"', text)
