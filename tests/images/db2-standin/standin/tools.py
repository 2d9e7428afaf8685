"""The Db2 tools besides the CLP: db2level, db2start, db2stop, db2set, db2fupdt, db2gcf, db2ts.

Formats: facts file 2.1 (db2level), 2.4 (db2start/db2stop), 3.3 (db2fupdt), 1.4 (db2gcf as
the IBM Helm chart's probe; `DB2 State : Available` as in the scripts that parse it) and the
11.1.4.4 container log of idx 14416154560 (db2ts: `CIE00001 Operation completed successfully. `).
"""
import datetime
import getopt
import os
import re
import socket
import sys
from pathlib import Path

from . import catalog, drda, hadr, ldapplugin, levels, messages, scheduler
from .instance import Instance, NoInstance
from .session import connections


def db2level(_args):
    level = levels.installed()
    sys.stdout.write(messages.message(
        "DB21085I", instance=os.environ.get("DB2INSTANCE", ""), release=level.code_release,
        identifier=level.identifier, version=level.server_version, build=level.build,
        dyn=level.build[1:], fixpack=level.fixpack, path=level.install_path) + "\n")
    return 0


def _stamped(msg_id, **values):
    """db2start/db2stop: a timestamped line for member 0, then the message itself."""
    now = datetime.datetime.now().strftime("%m/%d/%Y %H:%M:%S")
    sys.stdout.write("%s     0   0   %s\n" % (now, messages.bare(msg_id, **values)))
    sys.stdout.write(messages.message(msg_id, **values))


def db2start(_args):
    instance = Instance()
    with instance.state() as state:
        if state["started"]:
            _stamped("SQL1026N")
            return 1
        # The dbm cfg (security plug-ins included) is read now and stays in effect until db2stop.
        dbm = instance.dbm_cfg()
        failed = ldapplugin.load(instance, dbm)  # plug-ins initialise now (their ini too)
        if failed:
            _stamped("SQL1365N", plugin=failed, reason="3")
            return 1
        state.update(started=True, run=state["run"] + 1, dbm=dbm, active=[])
    instance.diag("Event", "db2star2", "base sys utilities, DB2StartMain, probe:911",
                  "ADM7513W  Database manager has started.", "START   : DB2 DBM\n")
    catalog.warn_all_outdated(instance)  # databases still needing db2updv after a fix pack
    scheduler.start_daemon(instance)  # the task scheduler (real Db2: db2acd)
    drda.start(instance, instance.snapshot()["run"])  # the TCP/IP listener on SVCENAME
    _stamped("SQL1063N")
    return 0


def db2stop(args):
    force = [a.upper() for a in args] == ["FORCE"]
    instance = Instance()
    with instance.state() as state:
        if not state["started"]:
            _stamped("SQL1032N")
            return 1
        if not force and (state["active"] or connections(instance, state["run"])):
            _stamped("SQL1025N")
            return 1
        state.update(started=False, active=[])
    drda.stop(instance)  # the listener goes, and with it every DRDA connection (rolled back)
    hadr.stop_all(instance)  # every database is deactivated, HADR log shipping with it
    instance.diag("Event", "db2stop2", "base sys utilities, DB2StopMain, probe:130",
                  "ADM7514W  Database manager has stopped.", "STOP    : DB2 DBM\n")
    _stamped("SQL1064N")
    return 0


def db2set(args):
    """db2set | db2set -all | db2set NAME | db2set NAME=value | db2set NAME= (unset)."""
    instance = Instance()
    words = [a for a in args if a not in ("-i", instance.name)]
    registry = instance.registry()
    if not words:
        sys.stdout.write("".join("%s=%s\n" % kv for kv in registry.items()))
        return 0
    if words == ["-all"]:
        lines = ["[i] %s=%s" % kv for kv in registry.items()]
        lines += ["[g] DB2SYSTEM=%s" % socket.gethostname(), "[g] DB2INSTDEF=%s" % instance.name]
        sys.stdout.write("".join(line + "\n" for line in lines))
        return 0
    for word in words:
        name, assign, value = word.partition("=")
        if assign:
            instance.set_registry(name.upper(), value or None)
        elif name.upper() in registry:
            sys.stdout.write(registry[name.upper()] + "\n")
        else:
            sys.stdout.write(messages.message("DBI1303W"))
    return 0


def db2fupdt(args):
    """db2fupdt -f FILE [-s SECTION] -p KEY [-v VALUE]: read or write `key=value` in an INI file.

    Reading prints the value; a missing key prints nothing and exits 1.
    """
    options = dict(getopt.getopt(args, "f:s:p:v:")[0])
    if "-f" not in options or "-p" not in options:
        sys.stderr.write("usage: db2fupdt -f FILE [-s SECTION] -p KEY [-v VALUE]\n")
        return 1
    path, key = Path(options["-f"]), options["-p"]
    lines = path.read_text().splitlines() if path.exists() else []
    start, end = _section(lines, options.get("-s"))
    for index in range(start, end):
        match = re.match(r"^\s*%s\s*=(.*)$" % re.escape(key), lines[index])
        if match and "-v" not in options:
            sys.stdout.write(match.group(1).strip() + "\n")
            return 0
        if match:
            lines[index] = "%s=%s" % (key, options["-v"])
            break
    else:
        if "-v" not in options:
            return 1
        if start == end == len(lines) and "-s" in options and \
                "[%s]" % options["-s"] not in (line.strip() for line in lines):
            lines.append("[%s]" % options["-s"])
            end = len(lines)
        lines.insert(end, "%s=%s" % (key, options["-v"]))
    path.write_text("\n".join(lines) + "\n")
    return 0


def _section(lines, section):
    """(first, end) line indexes of a section's body; the part before any section for None.

    A missing section gives (len, len): an empty body at the end of the file.
    """
    start = 0
    if section is not None:
        header = "[%s]" % section
        start = next((i + 1 for i, line in enumerate(lines) if line.strip() == header), len(lines))
    end = next((i for i in range(start, len(lines)) if lines[i].strip().startswith("[")), len(lines))
    while end > start and not lines[end - 1].strip():
        end -= 1
    return start, end


def db2gcf(args):
    """db2gcf -s [-i INSTANCE] [-p 0] [-t SECONDS]: instance state; exit 0 only if available."""
    options = dict(getopt.getopt(args, "si:p:t:")[0])
    if "-s" not in options:
        sys.stderr.write("db2gcf: only -s (status) is imitated by the stand-in\n")
        return 1
    instance = Instance(options.get("-i"))
    started = instance.snapshot()["started"]
    sys.stdout.write("\nInstance  : %s\nDB2 State : %s\n\n"
                     % (instance.name, "Available" if started else "Operable"))
    return 0 if started else 1


def db2ts(args):
    """db2ts "start for text" / "stop for text": remembered for the container's run."""
    command = " ".join(" ".join(args).upper().split())
    if command not in ("START FOR TEXT", "STOP FOR TEXT"):
        sys.stderr.write("db2ts: only START/STOP FOR TEXT are imitated by the stand-in\n")
        return 1
    with Instance().state() as state:
        state["text_search"] = command.startswith("START")
    sys.stdout.write("CIE00001 Operation completed successfully. \n")
    return 0


TOOLS = {"db2level": db2level, "db2start": db2start, "db2stop": db2stop, "db2set": db2set,
         "db2fupdt": db2fupdt, "db2gcf": db2gcf, "db2ts": db2ts}


def main(tool, argv):
    try:
        return TOOLS[tool](argv)
    except NoInstance:
        sys.stdout.write(messages.message("SQL1390C"))
        return 4
    except getopt.GetoptError as error:
        sys.stderr.write("%s: %s\n" % (tool, error))
        return 1
