"""How strictly the stand-in's Administrative Task Scheduler follows IBM's documentation.

strict: what IBM documents (README, "ATS"):
  - the scheduler is off until `db2set DB2_ATS_ENABLE=YES` ("disabled by default", t0054396);
  - it picks up new or updated tasks only when it polls the active databases, every five minutes
    ("Every five minutes the administrative task scheduler connects to active databases to check
    for new or updated tasks", "Adding a task to the administrative task scheduler");
  - SYSTOOLS.ADMIN_TASK_LIST shows the tasks created by the session authorization ID (all tasks
    for SYSADM, SYSCTRL, SYSMAINT, DBADM), ADMIN_TASK_STATUS only the status records of the
    session authorization ID's tasks (r0054374, r0054375).
kind (DB2_STANDIN_ATS=kind): the stand-in's earlier reading: new instances get
  DB2_ATS_ENABLE=YES, tasks are seen at once, both views show every task.

The container's environment (DB2_STANDIN_ATS, DB2_STANDIN_ATS_POLL_SECONDS) is read by the
entrypoint and kept in the run directory: Db2 commands run through `su -`, which clears it.
"""
import datetime
import json
import os
import sys
from pathlib import Path

from .ldapplugin import os_groups

MODES = ("strict", "kind")
DEFAULT_MODE = "strict"
IBM_POLL_SECONDS = 300  # IBM: every five minutes
SETTINGS_FILE = "ats-settings.json"
POLL_FILE = "ats-poll.json"
TS_FORMAT = "%Y-%m-%d-%H.%M.%S.%f"


def mode_from(value):
    value = (value or "").strip().lower()
    return value if value in MODES else DEFAULT_MODE


def poll_from(value):
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return IBM_POLL_SECONDS
    return seconds if seconds >= 1 else IBM_POLL_SECONDS


def save_settings(runtime, environ=None):
    """Entrypoint (root): keep this container's ATS reading for the instance's processes."""
    environ = os.environ if environ is None else environ
    settings = {"mode": mode_from(environ.get("DB2_STANDIN_ATS")),
                "poll_seconds": poll_from(environ.get("DB2_STANDIN_ATS_POLL_SECONDS"))}
    path = Path(runtime) / SETTINGS_FILE
    path.write_text(json.dumps(settings))
    os.chmod(path, 0o644)
    return settings


def settings(instance):
    try:
        saved = json.loads((instance.runtime / SETTINGS_FILE).read_text())
    except (OSError, ValueError):
        saved = {}
    return {"mode": mode_from(saved.get("mode")), "poll_seconds": poll_from(saved.get("poll_seconds"))}


def strict(instance):
    return settings(instance)["mode"] == "strict"


def administers(instance, authid):
    """SYSADM, SYSCTRL or SYSMAINT (groups of the dbm cfg in effect, the user's OS groups), or
    DBADM, which CREATE DATABASE grants its creator: the instance owner in these images."""
    if authid.upper() == instance.name.upper():
        return True
    dbm = instance.dbm_in_effect()
    groups = {dbm.get(name, "").upper() for name in ("SYSADM_GROUP", "SYSCTRL_GROUP", "SYSMAINT_GROUP")}
    return bool((groups - {""}) & set(os_groups(authid)))


# --- the scheduler's polls (strict) -----------------------------------------------------------

def record_poll(instance, aliases, when):
    """The scheduler polled `aliases` at `when`: their tasks as of then are the ones it knows."""
    path = instance.runtime / POLL_FILE
    tmp = path.with_name(path.name + ".%d" % os.getpid())
    tmp.write_text(json.dumps({"at": when.strftime(TS_FORMAT), "databases": sorted(aliases)}))
    os.replace(tmp, path)


def last_poll(instance):
    """(time, databases) of the scheduler's last poll in this instance run; (None, []) if none."""
    try:
        data = json.loads((instance.runtime / POLL_FILE).read_text())
        return datetime.datetime.strptime(data["at"], TS_FORMAT), data["databases"]
    except (OSError, ValueError, KeyError):
        return None, []


def picked_up(instance, alias, update_time):
    """Whether the scheduler knows a task of `alias` last added/updated at `update_time` (text)."""
    if not strict(instance):
        return True
    at, databases = last_poll(instance)
    if at is None or alias not in databases:
        return False
    return update_time is None or datetime.datetime.strptime(update_time, TS_FORMAT) <= at


if __name__ == "__main__":
    if sys.argv[1:2] == ["save"] and len(sys.argv) == 3:
        save_settings(sys.argv[2])
    else:
        sys.exit("usage: python3 -m standin.atspolicy save RUNTIME_DIR")
