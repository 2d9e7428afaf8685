# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Containers by name or id, their start time, and waiting for a line in their log.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import threading
import time

from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    ContainerExited,
    DockerOperationError,
    NotFound,
)


def get_container(api, name_or_id):
    """docker inspect data of a container, or None when it does not exist."""
    try:
        return api.inspect_container(name_or_id)
    except NotFound:
        return None


def started_at_epoch(inspect):
    """Container State.StartedAt as a Unix time (float); 0 when never started."""
    value = (inspect.get("State") or {}).get("StartedAt") or ""
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?", value)
    if not match or value.startswith("0001-"):
        return 0.0
    seconds = time.mktime(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return seconds + float(match.group(2) or 0)


def wait_for_log(api, container_id, pattern, since=None, timeout=600):
    """Wait until a log line matching pattern (regex) appears since `since` (Unix time).

    Follows the log stream (no polling: a fleet of waiting modules costs the daemon nothing) and
    checks the container state once a second. Returns the matching line. Raises ContainerExited
    when the container stops first and DockerOperationError on timeout; both carry the last lines.
    """
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    since_arg = int(since) if since else None
    found = {}
    matched = threading.Event()

    def follow():
        # The stream ends when the container stops; a quiet log can also hit the client's read
        # timeout, after which following again (from `since`) is harmless.
        while not matched.is_set() and time.monotonic() < deadline:
            pending = b""
            try:
                for chunk in api.logs(container_id, stdout=True, stderr=True, stream=True, follow=True,
                                      since=since_arg):
                    pending += chunk
                    lines = pending.split(b"\n")
                    pending = lines.pop()
                    for line in lines:
                        text = line.decode("utf-8", "replace")
                        if regex.search(text):
                            found["line"] = text
                            matched.set()
                            return
            except Exception:  # read timeout or daemon hiccup: the state check below decides
                time.sleep(0.5)
            else:
                return

    worker = threading.Thread(target=follow, daemon=True)
    worker.start()
    restarts = None
    while not matched.wait(timeout=1.0):
        inspect = api.inspect_container(container_id)
        state = inspect["State"]
        restarts = inspect.get("RestartCount", 0) if restarts is None else restarts
        # A restart policy brings an exited container back: that exit counts as a stop too,
        # or a failed setup would keep restarting until the timeout.
        if state.get("Restarting") or not state.get("Running"):
            how = "stopped (exit code %s%s)" % (state.get("ExitCode"),
                                                ", restarted by its restart policy" if state.get("Restarting") else "")
        elif inspect.get("RestartCount", 0) > restarts:
            how = "stopped and was restarted by its restart policy"  # running again: its exit code is gone
        else:
            how = None
        if how and not matched.wait(timeout=0.5):
            logs = api.logs(container_id, stdout=True, stderr=True, since=since_arg).decode("utf-8", "replace")
            raise ContainerExited("container %s %s before logging %r; last lines: %s"
                                  % (container_id[:12], how, pattern, tail(logs)))
        if time.monotonic() > deadline:
            logs = api.logs(container_id, stdout=True, stderr=True, since=since_arg).decode("utf-8", "replace")
            raise DockerOperationError("container %s did not log %r within %ss; last lines: %s"
                                       % (container_id[:12], pattern, timeout, tail(logs)))
    return found["line"]


def tail(text, lines=5):
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:] if line.strip())


def ensure_network(api, name, do, labels=None):
    """The user-defined bridge network `name`, created through `do` (an ActionRecorder's) when missing."""
    try:
        api.inspect_network(name)
    except NotFound:
        do("create network %s (bridge)" % name, lambda: api.create_network(name, driver="bridge", labels=labels or {}))
