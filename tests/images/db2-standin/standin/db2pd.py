"""`db2pd -db <db> -hadr` (also `-hadr -db <db>`, `-alldbs -hadr`): the HADR state of active
databases, in the layout of the real 11.5.8.0 sample in hadr-facts.md 3 (names right-aligned so
that ` = ` starts at column 38, one block per standby, timestamps `DD-MM-YYYY hh:mm:ss.ffffff
(epoch)` as that sample prints them). Other db2pd options are not imitated.
"""
import datetime
import sys
import time

from . import dbcfg, hadr, translog
from .database import Database
from .instance import Instance, NoInstance
from .session import connections


def _stamp(epoch):
    if not epoch:
        return "NULL"
    moment = datetime.datetime.fromtimestamp(float(epoch))
    return "%s (%d)" % (moment.strftime("%d-%m-%Y %H:%M:%S.%f"), int(float(epoch)))


def _header(alias, kind, since):
    up = max(0, int(time.time() - since))
    days, rest = divmod(up, 86400)
    return "\nDatabase Member 0 -- Database %s -- %s -- Up %d days %02d:%02d:%02d -- Date %s\n" % (
        alias, kind, days, rest // 3600, rest % 3600 // 60, rest % 60,
        datetime.datetime.now().strftime("%Y-%m-%d-%H.%M.%S.%f"))


def fields(database, state):
    """(name, value) pairs of one HADR block."""
    values = dbcfg.read(database)
    instance = database.instance
    primary = state["role"] == "PRIMARY"
    if primary:
        primary_end = translog.end(database)
        received, replayed = state["standby_received"], state["standby_replayed"]
    else:
        primary_end = max(state["primary_end"], translog.end(database))
        received, replayed = translog.end(database), translog.replayed(database)
    local = (values["HADR_LOCAL_HOST"], instance.name)
    remote = (values["HADR_REMOTE_HOST"], values["HADR_REMOTE_INST"])
    (p_host, p_inst), (s_host, s_inst) = (local, remote) if primary else (remote, local)
    connected = state["connect_status"] == "CONNECTED"
    since = time.time() - state["connect_time"]
    heartbeat = state["heartbeat"]

    def pos(lso):
        name, page, at = translog.position(database, lso)
        return "%s, %d, %d" % (name, page, at)

    rows = [("HADR_ROLE", state["role"]), ("REPLAY_TYPE", "PHYSICAL"),
            ("HADR_SYNCMODE", state["syncmode"]), ("STANDBY_ID", "1" if primary else "0"),
            ("LOG_STREAM_ID", "0"), ("HADR_STATE", state["state"]), ("HADR_FLAGS", "TCP_PROTOCOL"),
            ("PRIMARY_MEMBER_HOST", p_host), ("PRIMARY_INSTANCE", p_inst), ("PRIMARY_MEMBER", "0"),
            ("STANDBY_MEMBER_HOST", s_host), ("STANDBY_INSTANCE", s_inst), ("STANDBY_MEMBER", "0"),
            ("HADR_CONNECT_STATUS", state["connect_status"]),
            ("HADR_CONNECT_STATUS_TIME", _stamp(state["connect_time"])),
            ("HEARTBEAT_INTERVAL(seconds)", str(heartbeat)),
            ("HEARTBEAT_MISSED", str(int(state["last_recv_age"] // heartbeat) if connected else 0)),
            ("HEARTBEAT_EXPECTED", str(int(since // heartbeat) if connected else 0)),
            ("HADR_TIMEOUT(seconds)", str(state["timeout"])),
            ("TIME_SINCE_LAST_RECV(seconds)", str(int(state["last_recv_age"]) if connected else 0)),
            ("PEER_WAIT_LIMIT(seconds)", "0"), ("LOG_HADR_WAIT_CUR(seconds)", "0.000"),
            ("LOG_HADR_WAIT_RECENT_AVG(seconds)", "0.000000"),
            ("LOG_HADR_WAIT_ACCUMULATED(seconds)", "0.000"), ("LOG_HADR_WAIT_COUNT", "0"),
            ("SOCK_SEND_BUF_REQUESTED,ACTUAL(bytes)", "0, 87040"),
            ("SOCK_RECV_BUF_REQUESTED,ACTUAL(bytes)", "0, 369280"),
            ("PRIMARY_LOG_FILE,PAGE,POS", pos(primary_end)),
            ("STANDBY_LOG_FILE,PAGE,POS", pos(received)),
            ("HADR_LOG_GAP(bytes)", str(max(0, primary_end - received))),
            ("STANDBY_REPLAY_LOG_FILE,PAGE,POS", pos(replayed)),
            ("STANDBY_RECV_REPLAY_GAP(bytes)", str(max(0, received - replayed))),
            ("PRIMARY_LOG_TIME", _stamp(state["primary_log_time"])),
            ("STANDBY_LOG_TIME", _stamp(state["standby_log_time"])),
            ("STANDBY_REPLAY_LOG_TIME", _stamp(state["replay_log_time"])),
            ("STANDBY_RECV_BUF_SIZE(pages)", "512"), ("STANDBY_RECV_BUF_PERCENT", "0"),
            ("STANDBY_SPOOL_LIMIT(pages)", "13000"), ("STANDBY_SPOOL_PERCENT", "0"),
            ("STANDBY_ERROR_TIME", "NULL"), ("PEER_WINDOW(seconds)", str(state["window"]))]
    if state["window"] and state["state"] in ("PEER", "DISCONNECTED_PEER"):
        end = state["window_end"] if state["state"] == "DISCONNECTED_PEER" \
            else time.time() + state["window"]
        rows.append(("PEER_WINDOW_END", _stamp(end)))
    rows.append(("READS_ON_STANDBY_ENABLED", "Y" if hadr.reads_on_standby(instance) else "N"))
    rows.append(("HADR_LAST_TAKEOVER_TIME", _stamp(state["takeover_time"])))
    return rows


def show(instance, alias):
    database = Database.lookup(instance, alias)
    snapshot = instance.snapshot()
    state = hadr.status(instance, alias.upper()) if database else {}
    active = database is not None and snapshot["started"] and (
        state or database.alias in snapshot["active"]
        or connections(instance, snapshot["run"]).get(database.alias))
    if not active:
        sys.stdout.write("Database %s not activated on database member 0 or this database name cannot "
                         "be found in the local database directory.\n"
                         "Option -hadr requires -db <database> or -alldbs option and active database.\n"
                         % alias.upper())
        return
    if not state:
        sys.stdout.write(_header(database.alias, "Active", time.time()) + "\nHADR is not active.\n\n")
        return
    kind = "Standby" if state["role"] == "STANDBY" else "Active"
    out = [_header(database.alias, kind, state["started"])]
    out += ["%37s = %s" % row for row in fields(database, state)]
    sys.stdout.write("\n".join(out) + "\n\n")


def main(argv):
    try:
        instance = Instance()
    except NoInstance:
        sys.stderr.write("db2pd: DB2INSTANCE is not set\n")
        return 1
    words = [w.lower() if w.startswith("-") else w for w in argv]
    names = []
    for flag in ("-db", "-d", "-database"):
        if flag in words and words.index(flag) + 1 < len(words):
            names.append(words[words.index(flag) + 1])
    if "-alldbs" in words:
        snapshot = instance.snapshot()
        names = sorted(set(snapshot["active"]) | {
            p.name.split(".")[1] for p in instance.runtime.glob("hadr.*.pid")})
    if "-hadr" not in words or not names and "-alldbs" not in words:
        sys.stdout.write("Option -hadr requires -db <database> or -alldbs option and active "
                         "database.\n")
        return 0 if "-hadr" in words else 1
    for name in names:
        show(instance, name)
    return 0
