"""A Db2 instance: its files on storage, and its state while a container runs.

On storage (the instance home, /database/config/<inst>, survives container re-creation):
  sqllib/.instuse          instance level as V=, R=, M=, F= lines (the real file's form)
  sqllib/profile.env       instance registry (db2set), `NAME='value'` lines as in real Db2
  sqllib/db2systm          dbm cfg (real Db2: binary; here `PARAM=value` lines)
  sqllib/sqldbdir/sqldbdir system database directory (here INI: one section per alias)
  sqllib/db2dump/DIAG0000/db2diag.log
Per container run (/run/db2standin/<inst>, reset by the entrypoint at every start):
  state.json               started?, run number, dbm cfg in effect, active databases
  sessions/                one file per CLP back-end (see clp.Session)
"""
import configparser
import contextlib
import datetime
import fcntl
import json
import os
import pwd
import socket
from pathlib import Path

from . import dbmcfg, levels

RUNTIME_ROOT = Path("/run/db2standin")


class NoInstance(Exception):
    """DB2INSTANCE is unset or names no user."""


class Instance:
    def __init__(self, name=None):
        self.name = name or os.environ.get("DB2INSTANCE", "")
        try:
            entry = pwd.getpwnam(self.name)
        except KeyError:
            raise NoInstance(self.name) from None
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.home = Path(entry.pw_dir)
        self.sqllib = self.home / "sqllib"
        self.runtime = RUNTIME_ROOT / self.name

    # --- files on storage -------------------------------------------------------------

    @property
    def diag_log(self):
        return self.sqllib / "db2dump" / "DIAG0000" / "db2diag.log"

    def level(self):
        """The level of the code that last created/updated this instance, None if none did."""
        return recorded_level(self.sqllib)

    def set_level(self, level):
        v, r, m, f = level.vrmf
        _write(self.sqllib / ".instuse", "V=%d\nR=%d\nM=%d\nF=%d\n" % (v, r, m, f))

    def registry(self):
        """Instance-level registry variables (db2set), in the order they were set."""
        values = {}
        with contextlib.suppress(FileNotFoundError):
            for line in (self.sqllib / "profile.env").read_text().splitlines():
                if "=" in line:
                    name, value = line.split("=", 1)
                    values[name] = value.strip("'")
        return values

    def set_registry(self, name, value):
        values = self.registry()
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
        _write(self.sqllib / "profile.env", "".join("%s='%s'\n" % kv for kv in values.items()))

    def dbm_cfg(self):
        """The configured dbm cfg (what `get dbm cfg` shows; in effect after db2start)."""
        values = dbmcfg.defaults(self.name, self.home)
        with contextlib.suppress(FileNotFoundError):
            for line in (self.sqllib / "db2systm").read_text().splitlines():
                if "=" in line:
                    param, value = line.split("=", 1)
                    values[param] = value
        return values

    def update_dbm_cfg(self, changes):
        values = self.dbm_cfg()
        values.update(changes)
        _write(self.sqllib / "db2systm", "".join("%s=%s\n" % kv for kv in values.items()))

    def directory(self):
        """The system database directory: alias -> {name, token, path}."""
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(self.sqllib / "sqldbdir" / "sqldbdir")
        return {alias: dict(parser[alias]) for alias in parser.sections()}

    def catalog(self, alias, entry):
        directory = self.directory()
        directory[alias] = entry
        self._write_directory(directory)

    def _write_directory(self, directory):
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_dict(directory)
        path = self.sqllib / "sqldbdir" / "sqldbdir"
        path.parent.mkdir(parents=True, exist_ok=True)
        with _atomic(path) as handle:
            parser.write(handle)

    def diag(self, level, proc, function, message, extra=""):
        """Append a db2diag.log record in Db2's layout (what the container log streams)."""
        now = datetime.datetime.now().astimezone()
        offset = int(now.utcoffset().total_seconds() // 60)
        stamp = now.strftime("%Y-%m-%d-%H.%M.%S.%f") + "%+04d" % offset
        body = ("PID     : %-21sTID : %d PROC : %s\n"
                "INSTANCE: %-21sNODE : 000\nHOSTNAME: %s\n"
                "FUNCTION: DB2 UDB, %s\nMESSAGE : %s\n%s"
                % (os.getpid(), os.getpid(), proc, self.name, socket.gethostname(),
                   function, message, extra))
        with contextlib.suppress(OSError), open(self.diag_log, "a") as log:
            position = log.tell()
            log.write("%s %-22sLEVEL: %s\n%s\n"
                      % (stamp, "I%dE%d" % (position, len(body)), level, body))

    # --- state of this container run -----------------------------------------------------

    @contextlib.contextmanager
    def state(self):
        """Read-modify-write the run state under a lock; yields the dict."""
        self.runtime.mkdir(parents=True, exist_ok=True)
        with open(self.runtime / "state.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            path = self.runtime / "state.json"
            try:
                state = json.loads(path.read_text())
            except FileNotFoundError:
                state = {"started": False, "run": 0, "dbm": {}, "active": []}
            before = json.dumps(state, sort_keys=True)
            yield state
            if json.dumps(state, sort_keys=True) != before:
                _write(path, json.dumps(state))

    def snapshot(self):
        with self.state() as state:
            return state

    def dbm_in_effect(self):
        """The dbm cfg as read by the last db2start (plug-ins etc. change only then)."""
        return self.snapshot()["dbm"] or self.dbm_cfg()


def recorded_level(sqllib):
    """The instance level in `sqllib/.instuse` (readable before the instance's users exist)."""
    try:
        values = dict(line.split("=", 1) for line in (Path(sqllib) / ".instuse").read_text().split())
    except FileNotFoundError:
        return None
    return levels.parse("%s.%s.%s.%s" % (values["V"], values["R"], values["M"], values["F"]))


@contextlib.contextmanager
def _atomic(path):
    tmp = Path("%s.tmp%d" % (path, os.getpid()))
    with open(tmp, "w") as handle:
        yield handle
    os.replace(tmp, path)


def _write(path, content):
    with _atomic(path) as handle:
        handle.write(content)
