"""HADR: the database configuration, START/STOP/TAKEOVER HADR, UPDATE ALTERNATE SERVER and the
checks that keep a standby closed (shared/reference/hadr-facts.md, sections 1-7).

The log shipping itself runs in one process per HADR database (hadrd.py, started here as
`$DB2DIR/bin/db2hadr ALIAS`; real Db2 runs it as the db2hadrp/db2hadrs EDUs of db2sysc). The CLP
talks to it through a Unix socket in the run directory, and reads its state from a JSON file
there (db2pd.py shows it). The role is kept in the database configuration (HADR_DB_ROLE), so it
survives container re-creation as Db2's does.
"""
import json
import os
import socket
import subprocess
import time

from . import commands, dbcfg, dialect, drda, levels, messages, translog
from .session import connections

ROLES = ("STANDARD", "PRIMARY", "STANDBY")
SYNCMODES = ("SYNC", "NEARSYNC", "ASYNC", "SUPERASYNC")
MAX_UINT32 = 4294967295

# `get db cfg` rows, as Db2 11.5 lays them out between the logging status and the archive methods.
HADR_ROWS = (
    ("HADR database role", None, "{HADR_DB_ROLE}"),
    ("HADR local host name", "HADR_LOCAL_HOST", ""),
    ("HADR local service name", "HADR_LOCAL_SVC", ""),
    ("HADR remote host name", "HADR_REMOTE_HOST", ""),
    ("HADR remote service name", "HADR_REMOTE_SVC", ""),
    ("HADR instance name of remote server", "HADR_REMOTE_INST", ""),
    ("HADR timeout value", "HADR_TIMEOUT", "120"),
    ("HADR target list", "HADR_TARGET_LIST", ""),
    ("HADR log write synchronization mode", "HADR_SYNCMODE", "NEARSYNC"),
    ("HADR spool log data limit (4KB)", "HADR_SPOOL_LIMIT", "AUTOMATIC(0)"),
    ("HADR log replay delay (seconds)", "HADR_REPLAY_DELAY", "0"),
    ("HADR peer window duration (seconds)", "HADR_PEER_WINDOW", "0"),
    None,
)
INDEX_ROWS = (None, ("Log pages during index build", "LOGINDEXBUILD", "OFF"))


def _extend_db_cfg():
    labels = [row[0] if row else None for row in dbcfg.LAYOUT]
    at = labels.index("First log archive method")
    dbcfg.LAYOUT = dbcfg.LAYOUT[:at] + HADR_ROWS + dbcfg.LAYOUT[at:] + INDEX_ROWS
    dbcfg.PARAMETERS.update({row[1]: row for row in HADR_ROWS + INDEX_ROWS if row and row[1]})
    dbcfg.STATE_DEFAULTS["HADR_DB_ROLE"] = "STANDARD"
    dbcfg.CHECKS.update({"HADR_SYNCMODE": _check_syncmode, "HADR_TIMEOUT": _range(1, MAX_UINT32),
                         "HADR_PEER_WINDOW": _range(0, MAX_UINT32),
                         "HADR_REPLAY_DELAY": _range(0, MAX_UINT32),
                         "LOGINDEXBUILD": _check_onoff})


def _check_syncmode(param, value):
    if value.upper() not in SYNCMODES:
        raise dialect.SqlError("SQL0104N", token=value, following=param, expected="SYNC")
    return value.upper()


def _check_onoff(param, value):
    if value.upper() not in ("ON", "OFF"):
        raise dialect.SqlError("SQL0104N", token=value, following=param, expected="ON")
    return value.upper()


def _range(low, high):
    def check(param, value):
        if not value.isdigit() or not low <= int(value) <= high:
            raise dialect.SqlError("SQL5130N", param=param.lower(), low=low, high=high)
        return str(int(value))
    return check


# --- files of a running HADR database (per container run) ----------------------------------------

def runtime_path(instance, alias, suffix):
    return instance.runtime / ("hadr.%s.%s" % (alias, suffix))


def status(instance, alias):
    """The daemon's last published state, {} when none runs."""
    if not running(instance, alias):
        return {}
    try:
        return json.loads(runtime_path(instance, alias, "json").read_text())
    except (OSError, ValueError):
        return {}


def running(instance, alias):
    try:
        pid = int(runtime_path(instance, alias, "pid").read_text())
        with open("/proc/%d/cmdline" % pid, "rb") as cmdline:
            return b"db2hadr" in cmdline.read()
    except (OSError, ValueError):
        return False


def role(database):
    return dbcfg.read(database).get("HADR_DB_ROLE", "STANDARD")


def control(instance, alias, request, timeout):
    """Send one request line to the database's HADR process; its one-line answer."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(runtime_path(instance, alias, "ctl")))
            sock.sendall(request.encode() + b"\n")
            answer = b""
            while not answer.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except OSError:
            return ""
    return answer.decode().strip()


def start_daemon(instance, database):
    """Start the HADR process of a database and wait until it published its state."""
    path = runtime_path(instance, database.alias, "json")
    path.unlink(missing_ok=True)
    process = subprocess.Popen([str(levels.DB2DIR / "bin" / "db2hadr"), database.alias],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if path.exists() and running(instance, database.alias):
            return
        time.sleep(0.02)
    try:
        error = json.loads(path.read_text()).get("error")
    except (OSError, ValueError):
        error = None
    if error:
        raise dialect.SqlError(error[0], **error[1])
    raise dialect.SqlError("SQL1768N", reason="99")


def stop_daemon(instance, alias):
    try:
        pid = int(runtime_path(instance, alias, "pid").read_text())
    except (OSError, ValueError):
        return
    if running(instance, alias):
        control(instance, alias, "STOP", 10)
        for _attempt in range(200):
            if not running(instance, alias):
                return
            time.sleep(0.025)
        os.kill(pid, 9)


def stop_all(instance):
    """db2stop: every database is deactivated, its HADR process with it."""
    for path in instance.runtime.glob("hadr.*.pid"):
        stop_daemon(instance, path.name.split(".")[1])


def _activate(instance, database, wait):
    """Start HADR in the database's role; a primary waits HADR_TIMEOUT for its standby."""
    start_daemon(instance, database)
    if not wait:
        return
    timeout = int(dbcfg.read(database)["HADR_TIMEOUT"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = status(instance, database.alias)
        if not state:
            break
        if state.get("connect_status") == "CONNECTED":
            return
        time.sleep(0.1)
    stop_daemon(instance, database.alias)
    raise dialect.SqlError("SQL1768N", reason="7")


def mark_active(instance, alias, active):
    with instance.state() as state:
        if active and alias not in state["active"]:
            state["active"].append(alias)
        elif not active and alias in state["active"]:
            state["active"].remove(alias)


def force_sessions(instance, alias):
    """The CLP back-ends connected to `alias` get SQL1224N at their next request."""
    directory = instance.runtime / "sessions"
    for path in directory.iterdir() if directory.exists() else ():
        if path.name.startswith("tmp-"):
            continue
        try:
            data = json.loads(path.read_text())
            if data.get("db") == alias:
                data["run"] = -1
                path.write_text(json.dumps(data))
        except (OSError, ValueError):
            continue


# --- checks -------------------------------------------------------------------------------------

def _check_config(database, values):
    """SQL1768N reason codes for a configuration START HADR cannot use (catalog, SQL1768N)."""
    if not dbcfg.archiving(values):
        raise dialect.SqlError("SQL1768N", reason="1")
    for param in ("HADR_LOCAL_HOST", "HADR_LOCAL_SVC", "HADR_REMOTE_HOST", "HADR_REMOTE_SVC",
                  "HADR_REMOTE_INST"):
        if not values.get(param):
            raise dialect.SqlError("SQL1768N", reason="8")
    for param, reason in (("HADR_LOCAL_SVC", "5"), ("HADR_REMOTE_SVC", "6")):
        if service_port(values[param]) is None:
            raise dialect.SqlError("SQL1768N", reason=reason)
    for param, reason in (("HADR_LOCAL_HOST", "4"), ("HADR_REMOTE_HOST", "12")):
        try:
            socket.getaddrinfo(values[param], None, socket.AF_INET)
        except OSError:
            raise dialect.SqlError("SQL1768N", reason=reason) from None
    client = drda.port(database.instance)  # the HADR port may not be it nor the one after it
    if service_port(values["HADR_LOCAL_SVC"]) in (client, client + 1):
        raise dialect.SqlError("SQL1768N", reason="21")


def service_port(name):
    """A port number or an /etc/services name, None when neither."""
    if name.isdigit():
        return int(name) if 1024 <= int(name) <= 65535 else None
    try:
        return socket.getservbyname(name, "tcp")
    except OSError:
        return None


def reads_on_standby(instance):
    return instance.registry().get("DB2_HADR_ROS", "").upper() in ("ON", "YES", "TRUE", "1")


@commands.usable_check
def hadr_usable(database, how):
    """CONNECT and ACTIVATE of an HADR database, as Db2 handles them."""
    values = dbcfg.read(database)
    current = values.get("HADR_DB_ROLE", "STANDARD")
    instance = database.instance
    if values.get("HADR_OLD_PRIMARY") == "YES":
        raise dialect.SqlError("SQL1776N", reason="6")
    state = status(instance, database.alias)
    if state.get("switching"):
        raise dialect.SqlError("SQL1776N", reason="2")
    if current == "STANDBY":
        if how == "activate":
            if not state:
                start_daemon(instance, database)
            return
        if not (reads_on_standby(instance) and state and state.get("state") != "LOCAL_CATCHUP"):
            raise dialect.SqlError("SQL1776N", reason="1")
    elif current == "PRIMARY" and not state:
        _activate(instance, database, wait=True)  # the first activation waits for the standby
        if how == "connect":  # ACTIVATE records it itself
            mark_active(instance, database.alias, True)  # it stays up when its connections end


@commands.statement_check
def hadr_statement(ctx, database, statement, text):
    """A statement on a connection made before a role switch gets SQL1224N; on a read-enabled
    standby only UR reads run (SQL1773N reason 5 for writes, 1 for other isolation levels)."""
    values = dbcfg.read(database)
    epoch = values.get("HADR_EPOCH", "0")
    if ctx.__dict__.setdefault("hadr_epoch", epoch) != epoch:
        raise dialect.SqlError("SQL1224N")
    if values.get("HADR_DB_ROLE") != "STANDBY":
        return
    if statement.verb not in ("SELECT", "VALUES", "WITH"):
        raise dialect.SqlError("SQL1773N", reason="5")
    iso = database.instance.registry().get("DB2_STANDBY_ISO", "").upper()
    if iso != "UR" and not " ".join(text.upper().split()).endswith(" WITH UR"):
        raise dialect.SqlError("SQL1773N", reason="1")


def commit_refusal(database):
    """Checked under the log lock at COMMIT: the error, if the database may not commit now."""
    if dbcfg.read(database).get("HADR_DB_ROLE") == "STANDBY":
        return dialect.SqlError("SQL1224N")
    return None


def wait_for_standby(database, lso):
    """SYNC/NEARSYNC in peer state: COMMIT returns once the standby has received the record
    (blocking up to HADR_TIMEOUT + HADR_PEER_WINDOW when the standby goes, as Db2's does)."""
    instance = database.instance
    if not runtime_path(instance, database.alias, "pid").exists():
        return
    deadline = time.monotonic() + 5 + int(dbcfg.read(database)["HADR_TIMEOUT"]) \
        + int(dbcfg.read(database)["HADR_PEER_WINDOW"])
    while time.monotonic() < deadline:
        state = status(instance, database.alias)
        if state.get("role") != "PRIMARY" or state.get("syncmode") not in ("SYNC", "NEARSYNC") \
                or state.get("state") not in ("PEER", "DISCONNECTED_PEER") \
                or state.get("standby_received", 0) >= lso:
            return
        time.sleep(0.003)


# --- commands -----------------------------------------------------------------------------------

AUTH = r"(?:\s+USER\s+\S+(?:\s+USING\s+\S+)?)?"


@commands.command(r"START\s+HADR\s+ON\s+(?:DATABASE|DB)\s+(?P<db>\S+)" + AUTH +
                  r"\s+AS\s+(?P<as_role>PRIMARY|STANDBY)(?P<force>\s+BY\s+FORCE)?")
def start_hadr(clp, db, as_role, force):
    clp.require_started()
    database = clp.require_database(db)
    instance = clp.instance
    values = dbcfg.read(database)
    current = values.get("HADR_DB_ROLE", "STANDARD")
    as_role = as_role.upper()
    state = status(instance, database.alias)
    if state and state.get("role") == as_role:
        raise dialect.SqlError("SQL1777N")
    active = database.alias in instance.snapshot()["active"] or state or \
        connections(instance, instance.snapshot()["run"]).get(database.alias)
    if as_role == "STANDBY":
        if active:
            raise dialect.SqlError("SQL1767N", reason="3")
        if current == "STANDARD" and values["ROLLFWD_PENDING"] == "NO":
            raise dialect.SqlError("SQL1767N", reason="1")
    elif current == "STANDBY":
        raise dialect.SqlError("SQL1767N", reason="2")
    _check_config(database, values)
    changes = {"HADR_DB_ROLE": as_role, "HADR_OLD_PRIMARY": ""}
    if current != as_role:
        changes["HADR_EPOCH"] = str(int(values.get("HADR_EPOCH", "0")) + 1)
    if as_role == "STANDBY":
        translog.set_replayed(database, translog.replayed(database))
    dbcfg.update(database, changes)
    try:
        _activate(instance, database, wait=as_role == "PRIMARY" and not force)
    except dialect.SqlError:
        dbcfg.update(database, {"HADR_DB_ROLE": current})
        raise
    mark_active(instance, database.alias, True)
    instance.diag("Info", "db2sysc", "DB2 UDB, High Availability Disaster Recovery, hdrStartHadr",
                  "HADR started on database %s as %s%s." % (
                      database.alias, as_role, " by force" if force else ""))
    if values["LOGINDEXBUILD"].upper() != "ON":
        return clp.emit("SQL1766W", 2)
    return clp.emit("DB20000I", 0, command="START HADR ON DATABASE")


@commands.command(r"STOP\s+HADR\s+ON\s+(?:DATABASE|DB)\s+(?P<db>\S+)" + AUTH)
def stop_hadr(clp, db):
    clp.require_started()
    database = clp.require_database(db)
    instance = clp.instance
    current = role(database)
    if current == "STANDARD":
        raise dialect.SqlError("SQL1769N", reason="1")
    if current == "STANDBY" and running(instance, database.alias):
        raise dialect.SqlError("SQL1769N", reason="2")
    stop_daemon(instance, database.alias)
    values = dbcfg.read(database)
    dbcfg.update(database, {"HADR_DB_ROLE": "STANDARD", "HADR_OLD_PRIMARY": "",
                            "HADR_EPOCH": str(int(values.get("HADR_EPOCH", "0")) + 1)})
    instance.diag("Info", "db2sysc", "DB2 UDB, High Availability Disaster Recovery, hdrStopHadr",
                  "HADR stopped on database %s (was %s)." % (database.alias, current))
    return clp.emit("DB20000I", 0, command="STOP HADR ON DATABASE")


@commands.command(r"TAKEOVER\s+HADR\s+ON\s+(?:DATABASE|DB)\s+(?P<db>\S+)" + AUTH +
                  r"(?P<force>\s+BY\s+FORCE(?P<window>\s+PEER\s+WINDOW\s+ONLY)?)?")
def takeover_hadr(clp, db, force, window):
    clp.require_started()
    database = clp.require_database(db)
    instance = clp.instance
    if role(database) != "STANDBY":
        raise dialect.SqlError("SQL1770N", reason="4")
    if not running(instance, database.alias):
        raise dialect.SqlError("SQL1770N", reason="5")
    request = "TAKEOVER" + (" FORCE" if force else "") + (" WINDOW" if window else "")
    timeout = int(dbcfg.read(database)["HADR_TIMEOUT"]) + 30
    answer = control(instance, database.alias, request, timeout)
    if answer != "OK":
        raise dialect.SqlError("SQL1770N", reason=answer.split()[-1] if answer else "7")
    mark_active(instance, database.alias, True)
    return clp.emit("DB20000I", 0, command="TAKEOVER HADR ON DATABASE")


@commands.command(r"UPDATE\s+ALTERNATE\s+SERVER\s+FOR\s+(?:DATABASE|DB)\s+(?P<db>\S+)\s+USING\s+"
                  r"HOSTNAME\s+(?P<host>\S+)\s+PORT\s+(?P<port>\S+)")
def update_alternate_server(clp, db, host, port):
    """Recorded in the database directory; LIST DATABASE DIRECTORY shows it (clp.py)."""
    database = clp.require_database(db)
    entry = clp.instance.directory()[database.alias]
    reset = host.upper() == "NULL"
    if not reset and port.upper() != "NULL" and not port.isdigit():
        raise dialect.SqlError("SQL0104N", token=port, following="PORT", expected="<port>")
    entry["althost"] = "" if reset else host
    entry["altport"] = "" if reset or port.upper() == "NULL" else port
    clp.instance.catalog(database.alias, entry)
    return clp.emit("DB20000I", 0, command="UPDATE ALTERNATE SERVER FOR DATABASE")


@commands.deactivate_hook
def deactivate(instance, database):
    """DEACTIVATE DATABASE of an HADR database ends its HADR process (the role stays)."""
    stop_daemon(instance, database.alias)


_extend_db_cfg()
messages.CATALOG.update({
    "SQL1766W": ("The command completed successfully. However, LOGINDEXBUILD was not enabled "
                 "before HADR was started."),
    "SQL1767N": 'Start HADR cannot complete. Reason code = "{reason}".',
    "SQL1768N": 'Unable to start HADR. Reason code = "{reason}".',
    "SQL1769N": 'Stop HADR cannot complete. Reason code = "{reason}".',
    "SQL1770N": 'Takeover HADR cannot complete. Reason code = "{reason}".',
    "SQL1773N": ("The statement or command failed because it requires functionality that is not "
                 "supported on a read-enabled HADR standby database. Reason code = \"{reason}\".  "
                 "SQLSTATE=51045"),
    "SQL1776N": ('The command cannot be issued on an HADR database. Reason code = "{reason}".  '
                 'SQLSTATE=08004'),
    "SQL1777N": "HADR is already started.",
    "SQL5130N": ('The value specified for the configuration parameter "{param}" is not in the '
                 'valid range of "{low}" to "{high}".'),
})
