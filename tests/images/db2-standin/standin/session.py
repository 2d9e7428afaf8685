"""CLP back-end sessions: the connection a shell keeps across `db2` invocations.

Real Db2 keeps it in a db2bp back-end process tied to the front end's parent process (the
shell). Here a session is a small file named after that shell's pid and start time (so a
reused pid never inherits it). A `db2` that bash runs as the last command of `bash -c` is
exec'd in place of the shell and has the shell's pid: it finds the session under its own pid.
"""
import contextlib
import json
import os
import re

SESSION_FILE = re.compile(r"^(\d+)\.(\d+)$")


def _start_time(pid):
    """Start time of a process in clock ticks (field 22 of /proc/<pid>/stat), None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


class Session:
    def __init__(self, instance):
        self.directory = instance.runtime / "sessions"
        self.path = None
        self.data = None
        for pid in (os.getpid(), os.getppid()):
            path = self._path_for(pid)
            if path is not None and path.exists():
                self.path, self.data = path, json.loads(path.read_text())
                break

    def _path_for(self, pid):
        started = _start_time(pid) if pid > 0 else None
        return self.directory / ("%d.%s" % (pid, started)) if started else None

    def save(self, data):
        """Remember the connection for the parent shell (only in memory if it has none)."""
        self.data = data
        self.path = self.path or self._path_for(os.getppid())
        if self.path is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / ("tmp-" + self.path.name)
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self.path)

    def clear(self):
        self.data = None
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def live_sessions(instance):
    """Data of the sessions whose shells still run; those of finished shells are removed."""
    found = []
    directory = instance.runtime / "sessions"
    for path in directory.iterdir() if directory.exists() else ():
        match = SESSION_FILE.match(path.name)
        if not match:
            continue  # a session being written
        if _start_time(int(match.group(1))) != match.group(2):
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        with contextlib.suppress(OSError, ValueError):
            found.append(json.loads(path.read_text()))
    return found


# Connections of the DRDA server (drda.py), kept by db2sysc: {"run": n, "counts": {alias: n}}.
DRDA_CONNECTIONS = "drda-connections.json"


def connections(instance, run):
    """Number of connections per database alias made during instance run `run`: CLP back-ends
    and remote (DRDA) clients alike, as Db2 counts applications."""
    counts = {}
    for data in live_sessions(instance):
        if data.get("run") == run:
            counts[data["db"]] = counts.get(data["db"], 0) + 1
    try:
        remote = json.loads((instance.runtime / DRDA_CONNECTIONS).read_text())
    except (OSError, ValueError):
        remote = {}
    if remote.get("run") == run:
        for alias, count in remote.get("counts", {}).items():
            if count > 0:
                counts[alias] = counts.get(alias, 0) + count
    return counts
