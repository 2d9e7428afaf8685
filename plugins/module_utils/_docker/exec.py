# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commands in a container over the Engine API: exec with stdin, a deadline and both streams,
read frame by frame from the raw socket.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import socket
import struct
import time

from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    APIError,
    DockerOperationError,
    ExecTimeout,
    NotFound,
    api_message,
)

_STREAM_STDOUT, _STREAM_STDERR = 1, 2  # the stream ids in the Engine API's multiplexed frames


class ExecResult:
    __slots__ = ("rc", "stdout", "stderr")

    def __init__(self, rc, stdout, stderr):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return "ExecResult(rc=%r, stdout=%r, stderr=%r)" % (self.rc, self.stdout[-200:], self.stderr[-200:])


def _stream_endpoints(sock):
    """(reader, raw socket) for what docker-py's exec_start(socket=True) returns.

    Read through the HTTP response's buffered reader when there is one: it may already hold the
    first bytes of the stream, read together with the 101 Upgrade headers.
    """
    raw = getattr(sock, "_sock", sock)
    response = getattr(sock, "_response", None)
    reader = getattr(getattr(getattr(response, "raw", None), "_fp", None), "fp", None)
    if reader is None or not hasattr(reader, "read1"):
        return raw.recv, raw
    return reader.read1, raw


def _read_frames(read, raw, deadline):
    """Read docker's multiplexed exec stream (8-byte header + payload) until EOF."""
    out, err = [], []
    buf = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        raw.settimeout(remaining)
        chunk = read(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 8:
            stream, size = struct.unpack(">BxxxL", buf[:8])
            if len(buf) < 8 + size:
                break
            payload, buf = buf[8:8 + size], buf[8 + size:]
            (err if stream == _STREAM_STDERR else out).append(payload)
    return b"".join(out), b"".join(err)


def exec_in_container(api, container_id, cmd, user="", stdin=None, environment=None, workdir=None, timeout=300):
    """Run cmd in a running container; return ExecResult(rc, stdout, stderr) as text.

    stdin is fed without relying on half-closing the socket (which TLS connections cannot do):
    the command reads exactly len(stdin) bytes through `head -c`, then sees end of file.
    Secrets belong in stdin, never in cmd or environment (both are visible to `docker inspect`).
    """
    if not timeout or timeout <= 0:
        raise DockerOperationError("an exec timeout must be a number of seconds above 0, not %r" % (timeout,))
    if stdin is not None:
        data = stdin.encode("utf-8") if not isinstance(stdin, bytes) else stdin
        cmd = ["/bin/sh", "-c", 'head -c %d | "$@"' % len(data), "sh"] + list(cmd)
    else:
        data = None
    try:
        exec_id = api.exec_create(container_id, cmd, stdin=data is not None, stdout=True, stderr=True,
                                  tty=False, user=user or "", environment=environment, workdir=workdir)["Id"]
        sock = api.exec_start(exec_id, socket=True)
    except NotFound:
        raise DockerOperationError("container %s does not exist" % container_id)
    except APIError as exc:
        raise DockerOperationError("cannot exec in container %s: %s" % (container_id, api_message(exc)))
    read, raw = _stream_endpoints(sock)
    deadline = time.monotonic() + timeout
    try:
        if data:
            raw.sendall(data)
        out, err = _read_frames(read, raw, deadline)
    except socket.timeout:
        raise ExecTimeout(_timeout_message(container_id, timeout))
    finally:
        try:
            sock.close()
        except Exception:
            pass
    # The stream can end a moment before the daemon records the exit code.
    while True:
        info = api.exec_inspect(exec_id)
        if not info.get("Running") and info.get("ExitCode") is not None:
            break
        if time.monotonic() > deadline:
            raise ExecTimeout(_timeout_message(container_id, timeout))
        time.sleep(0.02)
    return ExecResult(info["ExitCode"], out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def _timeout_message(container_id, timeout):
    return ("the command in container %s did not finish within %ss; it was started and may still be running in "
            "the container (a docker exec cannot be stopped from outside), so its outcome is unknown"
            % (container_id[:12], timeout))


def split_sections(text, marker):
    """Output of a script that prints `<marker> <name>` before each part (and, optionally,
    `<marker> rc=<status>` after it) -> {name: dict(output=text, rc=status or None)}."""
    sections, name = {}, None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(marker + " "):
            token = stripped[len(marker) + 1:]
            if token.startswith("rc=") and name is not None:
                sections[name]["rc"] = int(token[3:] or 0)
                name = None
            else:
                name = token
                sections[name] = dict(output=[], rc=None)
        elif name is not None:
            sections[name]["output"].append(line)
    return dict((key, dict(output="\n".join(v["output"]), rc=v["rc"])) for key, v in sections.items())
