"""`db2hadr ALIAS`: the log shipping of one HADR database (real Db2: the db2hadrp and db2hadrs
EDUs of db2sysc), started by START HADR, ACTIVATE or the first CONNECT (hadr.py).

As in IBM's design (hadr-facts.md 2, 4): the primary listens on HADR_LOCAL_HOST:HADR_LOCAL_SVC;
the standby is the TCP client and connects to HADR_REMOTE_HOST:HADR_REMOTE_SVC, retrying while
it is in REMOTE_CATCHUP_PENDING. After a handshake (database, instance names, Db2 levels, origin
of the database, log positions; a refusal is an ADM125xxE record in db2diag.log on both sides),
the primary sends the log from the standby's end (REMOTE_CATCHUP), then each record as it is
committed (PEER). The standby writes each record into its own log, replays it and acknowledges
it; in SYNC/NEARSYNC a COMMIT on the primary returns once its record was acknowledged.
Heartbeats go both ways; a side that hears nothing for HADR_TIMEOUT seconds drops the
connection (PEER -> DISCONNECTED_PEER for HADR_PEER_WINDOW seconds, then DISCONNECTED/
REMOTE_CATCHUP_PENDING).

Messages on the wire: one JSON object per line. The process publishes its state in
/run/db2standin/<inst>/hadr.<ALIAS>.json (db2pd reads it) and takes requests (STOP,
TAKEOVER [FORCE] [WINDOW]) on the Unix socket hadr.<ALIAS>.ctl next to it.
"""
import json
import os
import select
import signal
import socket
import sys
import time

from . import dbcfg, levels, messages, translog
from .database import Database
from .hadr import force_sessions, mark_active, runtime_path, service_port
from .instance import Instance

RETRY_SECONDS = 1.0
POLL_SECONDS = 0.01

# db2diag records of a refused pairing (IBM's db2adm catalog), checked by test_ibm_texts.
ADM = {
    "ADM12500E": ("The HADR standby database cannot be made consistent with the primary database. "
                  "The log stream of the standby database is incompatible with that of the primary "
                  "database. To use this database as a standby, it must be recreated from a backup "
                  "image or split mirror of the primary database."),
    "ADM12502E": ("Unable to establish HADR primary-standby connection because the DB2 versions do "
                  "not match the primary and standby databases. Upgrade the DB2 software to the same "
                  "release and FixPak on either the HADR primary or HADR standby database to match "
                  "the other."),
    "ADM12504E": ("Unable to establish HADR primary-standby connection because the value of "
                  "HADR_REMOTE_INST at one of the instances does not match the actual instance name "
                  "of the other instance. This is a sanity check to ensure that only the intended "
                  "database pairing occurs. If any of the HADR_REMOTE_INST configuration parameters "
                  "or instance names is set incorrectly, you may correct it and try again to start "
                  "HADR."),
    "ADM12505E": ("Unable to establish HADR primary-standby connection because the database names "
                  "do not match. Correct the database name so it matches on the HADR primary and "
                  "HADR standby."),
    "ADM12506E": ("Unable to establish HADR primary-standby connection because the primary and "
                  "standby databases did not originate from the same database. Recreate the standby "
                  "from a backup image or split mirror of the primary database."),
    "ADM12507E": ("Unable to establish HADR primary-standby connection because the HADR "
                  "configuration parameters do not match. Change the configuration parameters "
                  "HADR_TIMEOUT and HADR_SYNCMODE on either the HADR primary or standby so that they "
                  "match the other system's values, and ensure that HADR_LOCAL_HOST and "
                  "HADR_REMOTE_HOST match the host name of the local and remote machines."),
}


messages.CATALOG.update(ADM)


class Peer:
    """One TCP connection to the other side: JSON lines in and out."""

    def __init__(self, sock, host):
        self.sock, self.host = sock, host
        self.sock.setblocking(False)
        self.buffer = b""
        self.last_recv = self.last_sent = time.monotonic()
        self.since = time.time()

    def send(self, message):
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        self.sock.setblocking(True)
        self.sock.settimeout(10)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)
        self.last_sent = time.monotonic()

    def receive(self):
        """Messages that arrived; raises ConnectionError once the peer closed and every message
        it sent before closing was returned (a primary closes right after its last message)."""
        closed = False
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    closed = True
                    break
                self.buffer += chunk
                self.last_recv = time.monotonic()
        except (BlockingIOError, InterruptedError):
            pass
        messages = []
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            messages.append(json.loads(line))
        if closed and not messages:
            raise ConnectionError("peer closed the connection")
        return messages

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Hadr:
    def __init__(self, alias):
        self.instance = Instance()
        self.database = Database.lookup(self.instance, alias)
        self.alias = alias
        self.values = dbcfg.read(self.database)
        self.role = self.values["HADR_DB_ROLE"]
        self.state = "DISCONNECTED"
        self.peer = None
        self.stopping = False
        self.started = time.time()
        self.info = {"connect_status": "DISCONNECTED", "connect_time": time.time(),
                     "standby_received": 0, "standby_replayed": 0, "primary_end": 0,
                     "window_end": 0, "takeover_time": self.values.get("HADR_LAST_TAKEOVER", ""),
                     "primary_log_time": 0, "standby_log_time": 0, "replay_log_time": 0}
        self.timeout = int(self.values["HADR_TIMEOUT"])
        self.window = int(self.values["HADR_PEER_WINDOW"])
        self.heartbeat = max(1, min(5, self.timeout // 4))
        self.control = socket.socket(socket.AF_UNIX)
        path = runtime_path(self.instance, alias, "ctl")
        path.unlink(missing_ok=True)
        self.control.bind(str(path))
        self.control.listen(4)
        self.control.setblocking(False)
        self.listener = None
        self.reported = set()

    # --- bookkeeping ------------------------------------------------------------------------

    def diag(self, level, message):
        self.instance.diag(level, "db2sysc", "DB2 UDB, High Availability Disaster Recovery, "
                           "hdrEduAcceptEvent" if self.role == "PRIMARY" else
                           "DB2 UDB, High Availability Disaster Recovery, hdrEduStartup", message)

    def publish(self, error=None):
        values = dbcfg.read(self.database)
        data = dict(self.info, pid=os.getpid(), role=self.role, state=self.state,
                    syncmode=values["HADR_SYNCMODE"], timeout=self.timeout, window=self.window,
                    heartbeat=self.heartbeat, started=self.started,
                    peer_host=self.peer.host if self.peer else values["HADR_REMOTE_HOST"],
                    local_host=values["HADR_LOCAL_HOST"], remote_inst=values["HADR_REMOTE_INST"],
                    last_recv_age=time.monotonic() - self.peer.last_recv if self.peer else 0,
                    switching=self.info.get("switching", False), error=error)
        if self.role == "PRIMARY":
            data["primary_end"] = translog.end(self.database)
        else:
            data["standby_received"] = translog.end(self.database)
            data["standby_replayed"] = translog.replayed(self.database)
        path = runtime_path(self.instance, self.alias, "json")
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)

    def set_state(self, state):
        if state != self.state:
            self.diag("Info", "HADR state set to %s (was %s)" % (
                "HDR_%s_%s" % (self.role[0], state), "HDR_%s_%s" % (self.role[0], self.state)))
            self.state = state
        self.publish()

    def set_role(self, new_role, **extra):
        values = dbcfg.read(self.database)
        changes = {"HADR_DB_ROLE": new_role, "HADR_EPOCH": str(int(values.get("HADR_EPOCH", "0")) + 1)}
        changes.update(extra)
        dbcfg.update(self.database, changes)
        self.role = new_role

    # --- main loop --------------------------------------------------------------------------

    def run(self):
        while not self.stopping:
            if self.role == "PRIMARY":
                self.primary()
            else:
                self.standby()

    def serve_control(self, timeout):
        """Wait up to `timeout` for a control request or the peer; handle control requests."""
        readable = [self.control] + ([self.peer.sock] if self.peer else []) \
            + ([self.listener] if self.listener else [])
        ready = select.select(readable, [], [], timeout)[0]
        if self.control in ready:
            try:
                conn = self.control.accept()[0]
            except OSError:
                return ready
            conn.settimeout(5)
            try:
                request = conn.recv(4096).decode().split()
                answer = self.request(request)
                conn.sendall((answer + "\n").encode())
            except OSError:
                pass
            finally:
                conn.close()
        return ready

    def request(self, words):
        if words[:1] == ["STOP"]:
            self.stopping = True
            return "OK"
        if words[:1] == ["TAKEOVER"] and self.role == "STANDBY":
            return self.takeover("FORCE" in words, "WINDOW" in words)
        return "ERR 8"

    def check_timeout(self):
        if self.peer is None:
            return
        now = time.monotonic()
        if now - self.peer.last_sent >= self.heartbeat:
            try:
                self.peer.send({"t": "hb", "end": translog.end(self.database)})
            except OSError:
                self.drop("send failed")
                return
        if now - self.peer.last_recv > self.timeout:
            self.drop("no message from the partner for HADR_TIMEOUT (%d s)" % self.timeout)

    def drop(self, reason):
        was_peer = self.state == "PEER"
        if self.peer:
            self.peer.close()
        self.peer = None
        self.info["connect_status"] = "DISCONNECTED"
        self.info["connect_time"] = time.time()
        self.diag("Warning", "HADR connection lost: %s" % reason)
        if was_peer and self.window > 0:
            self.info["window_end"] = time.time() + self.window
            self.set_state("DISCONNECTED_PEER")
        else:
            self.set_state("DISCONNECTED" if self.role == "PRIMARY" else "REMOTE_CATCHUP_PENDING")

    def window_check(self):
        if self.state == "DISCONNECTED_PEER" and time.time() >= self.info["window_end"]:
            self.set_state("DISCONNECTED" if self.role == "PRIMARY" else "REMOTE_CATCHUP_PENDING")

    # --- primary ----------------------------------------------------------------------------

    def listen(self):
        values = dbcfg.read(self.database)
        sock = socket.socket(socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            address = socket.gethostbyname(values["HADR_LOCAL_HOST"])
        except OSError:
            sock.close()
            return "4"
        try:
            sock.bind((address, service_port(values["HADR_LOCAL_SVC"]) or 0))
        except OSError:
            sock.close()
            return "4" if address else "5"
        sock.listen(4)
        sock.setblocking(False)
        self.listener = sock
        return None

    def primary(self):
        if self.listener is None:
            failed = self.listen()
            if failed:
                self.publish(error=["SQL1768N", {"reason": failed}])
                self.stopping = True
                return
        if self.state not in ("DISCONNECTED_PEER",) and self.peer is None:
            self.state = "DISCONNECTED"
        self.publish()
        sent = None
        while not self.stopping and self.role == "PRIMARY":
            ready = self.serve_control(POLL_SECONDS if self.peer else 0.2)
            self.window_check()
            if self.listener in ready:
                self.accept()
                if self.peer:
                    sent = self.info["standby_received"]
            if self.peer is None:
                continue
            try:
                for message in self.peer.receive():
                    self.primary_message(message)
                if self.peer is None or self.role != "PRIMARY":
                    continue
                sent = self.ship(sent)
            except (OSError, ValueError) as error:
                self.drop(str(error))
                continue
            self.check_timeout()
        if self.listener is not None and self.role != "PRIMARY" or self.stopping:
            self.close_listener()

    def close_listener(self):
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def ship(self, sent):
        """Send the records after `sent`; PEER once the standby has everything."""
        end = translog.end(self.database)
        if sent < end:
            for lso, line in translog.records(self.database, sent):
                self.peer.send({"t": "rec", "lso": lso, "data": line.decode(), "end": end})
                sent = lso + len(line)
            self.info["primary_log_time"] = time.time()
        if self.state == "REMOTE_CATCHUP" and sent >= end and \
                self.info["standby_received"] >= end and dbcfg.read(self.database)["HADR_SYNCMODE"] != "SUPERASYNC":
            self.set_state("PEER")
            self.peer.send({"t": "state", "state": "PEER"})
        return sent

    def accept(self):
        try:
            sock, address = self.listener.accept()
        except OSError:
            return
        if self.peer is not None:  # one standby at a time
            sock.close()
            return
        sock.settimeout(self.timeout)
        peer = Peer(sock, address[0])
        try:
            sock.setblocking(True)
            line = b""
            while not line.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    raise OSError("closed")
                line += chunk
            hello = json.loads(line)
        except (OSError, ValueError):
            peer.close()
            return
        refusal = self.refusal(hello)
        if refusal:
            self.report(refusal)
            try:
                peer.send({"t": "refuse", "adm": refusal})
            except OSError:
                pass
            peer.close()
            return
        peer.send({"t": "welcome", "inst": self.instance.name, "host": socket.gethostname(),
                   "level": levels.installed().name, "end": translog.end(self.database)})
        self.peer = peer
        self.info.update(connect_status="CONNECTED", connect_time=time.time(),
                         standby_received=hello["end"], standby_replayed=hello.get("replayed", hello["end"]),
                         standby_host=hello.get("host", ""), standby_inst=hello.get("inst", ""))
        self.reported.clear()
        self.diag("Info", "HADR: standby %s (%s) connected at log position %d." % (
            hello.get("host", ""), address[0], hello["end"]))
        self.set_state("REMOTE_CATCHUP")

    def refusal(self, hello):
        """The ADM message id that refuses this standby, None when it may connect."""
        values = dbcfg.read(self.database)
        mine, theirs = levels.installed(), levels.parse(hello["level"])
        if mine.version_release != theirs.version_release or mine.vrmf > theirs.vrmf:
            return "ADM12502E"  # the standby may run a later fix pack, never an older one
        if hello["db"] != self.database.name:
            return "ADM12505E"
        if hello["remote_inst"] != self.instance.name or values["HADR_REMOTE_INST"] != hello["inst"]:
            return "ADM12504E"
        if hello["seed"] != translog.seed(self.database):
            return "ADM12506E"
        if (hello["timeout"], hello["window"]) != (self.timeout, self.window):
            return "ADM12507E"
        end = translog.end(self.database)
        last = translog.record_ending_at(self.database, hello["end"])
        # A log restored from a backup starts at the image's end, without the records before it: a
        # partner whose log ends right there agrees with it (a takeover before anything was logged).
        unknown = last is None and hello["end"] == translog.start(self.database)
        if hello["end"] > end or (hello["crc"] and not unknown and translog.checksum(last) != hello["crc"]):
            return "ADM12500E"
        return None

    def report(self, adm):
        if adm not in self.reported:  # once per cause, not once per retry
            self.reported.add(adm)
            self.diag("Error", messages.text(adm))

    def primary_message(self, message):
        kind = message["t"]
        if kind == "ack":
            self.info["standby_received"] = message["recv"]
            self.info["standby_replayed"] = message["replay"]
            self.info["standby_log_time"] = self.info["replay_log_time"] = time.time()
            self.publish()
        elif kind == "takeover":
            self.hand_over()
        elif kind == "forced":
            self.forced_off()

    def hand_over(self):
        """Unforced takeover, the primary's half: stop commits, ship the rest, become standby."""
        self.info["switching"] = True
        self.publish()
        with translog.locked(self.database):
            self.set_role("STANDBY", ROLLFWD_PENDING="DATABASE")
            force_sessions(self.instance, self.alias)
            end = translog.end(self.database)
            sent = self.info["standby_received"]
            for lso, line in translog.records(self.database, sent):
                self.peer.send({"t": "rec", "lso": lso, "data": line.decode(), "end": end})
            self.peer.send({"t": "switched", "end": end})
        translog.set_replayed(self.database, end)
        self.info["switching"] = False
        self.info["takeover_time"] = time.time()
        self.peer.close()
        self.peer = None
        self.close_listener()
        self.diag("Info", "HADR: role switched to STANDBY by takeover.")
        self.state = "REMOTE_CATCHUP_PENDING"
        self.info["connect_status"] = "DISCONNECTED"
        self.publish()

    def forced_off(self):
        """The standby took over by force while connected: this old primary shuts down."""
        dbcfg.update(self.database, {"HADR_OLD_PRIMARY": "YES",
                                     "HADR_EPOCH": str(int(dbcfg.read(self.database).get("HADR_EPOCH", "0")) + 1)})
        force_sessions(self.instance, self.alias)
        mark_active(self.instance, self.alias, False)
        self.diag("Error", "HADR: the standby took over by force; this old primary is shut down.")
        self.stopping = True

    # --- standby ----------------------------------------------------------------------------

    def standby(self):
        self.state = "LOCAL_CATCHUP"
        self.publish()
        self.catch_up_locally()
        self.state = "REMOTE_CATCHUP_PENDING" if self.state == "LOCAL_CATCHUP" else self.state
        self.publish()
        next_try = 0
        while not self.stopping and self.role == "STANDBY":
            self.serve_control(POLL_SECONDS if self.peer else 0.2)
            self.window_check()
            if self.role != "STANDBY" or self.stopping:
                break
            if self.peer is None:
                if time.monotonic() >= next_try:
                    next_try = time.monotonic() + RETRY_SECONDS
                    self.connect()
                continue
            try:
                self.standby_receive()
            except (OSError, ValueError) as error:
                self.drop(str(error))
                continue
            self.check_timeout()

    def catch_up_locally(self):
        """LOCAL_CATCHUP: replay what the local log holds beyond the replay position."""
        for lso, line in translog.records(self.database, translog.replayed(self.database)):
            self.apply(lso, line)

    def apply(self, lso, line):
        try:
            translog.replay(self.database, line, upto=lso + len(line))
        except Exception as error:  # a record that cannot replay must not stop the pair
            self.diag("Error", "HADR replay of the log record at %d failed: %s" % (lso, error))
        translog.set_replayed(self.database, lso + len(line))
        self.info["replay_log_time"] = time.time()

    def hello(self):
        values = dbcfg.read(self.database)
        end = translog.end(self.database)
        last = translog.record_ending_at(self.database, end)
        return {"t": "hello", "db": self.database.name, "inst": self.instance.name,
                "remote_inst": values["HADR_REMOTE_INST"], "level": levels.installed().name,
                "seed": translog.seed(self.database), "end": end, "crc": translog.checksum(last),
                "replayed": translog.replayed(self.database), "timeout": self.timeout,
                "window": self.window, "host": socket.gethostname()}

    def connect(self):
        values = dbcfg.read(self.database)
        host, port = values["HADR_REMOTE_HOST"], service_port(values["HADR_REMOTE_SVC"])
        try:
            sock = socket.create_connection((host, port), timeout=RETRY_SECONDS)
        except OSError:
            return
        peer = Peer(sock, host)
        try:
            peer.send(self.hello())
            sock.setblocking(True)
            sock.settimeout(self.timeout)
            line = b""
            while not line.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    raise OSError("closed")
                line += chunk
            first, _newline, rest = line.partition(b"\n")
            answer = json.loads(first)
        except (OSError, ValueError):
            peer.close()
            return
        if answer["t"] == "refuse":
            self.report(answer["adm"])
            peer.close()
            return
        peer.buffer = rest
        peer.sock.setblocking(False)
        self.peer = peer
        self.reported.clear()
        self.info.update(connect_status="CONNECTED", connect_time=time.time(),
                         primary_end=answer["end"], primary_host=answer["host"],
                         primary_inst=answer["inst"])
        self.diag("Info", "HADR: connected to primary %s:%s." % (host, port))
        self.set_state("REMOTE_CATCHUP")

    def standby_receive(self):
        acked = False
        for message in self.peer.receive():
            kind = message["t"]
            if kind == "rec":
                line = message["data"].encode()
                with translog.locked(self.database):
                    if message["lso"] != translog.end(self.database):
                        raise ValueError("log record at %d, expected %d" % (
                            message["lso"], translog.end(self.database)))
                    translog.append_line(self.database, line)
                self.info["primary_end"] = max(message["end"], message["lso"] + len(line))
                self.info["primary_log_time"] = self.info["standby_log_time"] = time.time()
                self.apply(message["lso"], line)
                acked = True
            elif kind == "state":
                self.set_state(message["state"])
            elif kind == "hb":
                self.info["primary_end"] = message["end"]
            elif kind == "switched":
                self.become_primary(forced=False)
                return
        if acked and self.peer:
            end = translog.end(self.database)
            self.peer.send({"t": "ack", "recv": end, "replay": translog.replayed(self.database)})
            self.publish()

    def takeover(self, force, window_only):
        """TAKEOVER HADR on this standby: "OK" or "ERR <SQL1770N reason>"."""
        if self.state == "LOCAL_CATCHUP":
            return "ERR 2" if force else "ERR 1"
        if force:
            if window_only and not (self.state == "PEER" or (
                    self.state == "DISCONNECTED_PEER" and time.time() < self.info["window_end"])):
                return "ERR 9"
            if self.peer:
                try:
                    self.peer.send({"t": "forced"})
                except OSError:
                    pass
            self.become_primary(forced=True)
            return "OK"
        syncmode = dbcfg.read(self.database)["HADR_SYNCMODE"]
        if self.peer is None or not (self.state == "PEER" or (
                self.state == "REMOTE_CATCHUP" and syncmode == "SUPERASYNC")):
            return "ERR 1"
        try:
            self.peer.send({"t": "takeover"})
            deadline = time.monotonic() + max(self.timeout, 30)
            while self.role == "STANDBY" and time.monotonic() < deadline:
                select.select([self.peer.sock], [], [], 0.1)
                self.standby_receive()
                if self.peer is None:
                    break
        except (OSError, ValueError) as error:
            self.drop(str(error))
        if self.role == "PRIMARY":
            return "OK"
        self.diag("Error", "HADR: takeover failed: the primary did not hand over its role.")
        return "ERR 7"

    def become_primary(self, forced):
        end = translog.end(self.database)
        translog.set_replayed(self.database, end)
        now = time.time()
        self.set_role("PRIMARY", ROLLFWD_PENDING="NO", HADR_LAST_TAKEOVER=str(now))
        self.info["takeover_time"] = now
        if self.peer:
            self.peer.close()
            self.peer = None
        self.info["connect_status"] = "DISCONNECTED"
        self.info["standby_received"] = self.info["standby_replayed"] = end
        self.diag("Info", "HADR: takeover%s completed; this database is now the primary." % (
            " by force" if forced else ""))
        self.state = "DISCONNECTED"
        self.publish()


def main(argv):
    alias = argv[0]
    hadr = Hadr(alias)
    runtime_path(hadr.instance, alias, "pid").write_text(str(os.getpid()))

    def terminate(_signum, _frame):
        hadr.stopping = True
    signal.signal(signal.SIGTERM, terminate)
    try:
        hadr.run()
    finally:
        for suffix in ("ctl", "pid"):
            runtime_path(hadr.instance, alias, suffix).unlink(missing_ok=True)
        hadr.close_listener()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
