#!/usr/bin/env python
"""Benchmark (not a test): the longest gap a writing client sees during recipe 1 (one container
upgraded in place) against a rolling update of an HADR pair, same images, same run (issue 16).

    .venv/bin/python tests/bench/bench_hadr.py            # STANDIN_SETUP_SECONDS=90; writes docs/benchmarks.md
    .venv/bin/python tests/bench/bench_hadr.py --quick    # STANDIN_SETUP_SECONDS=2, prints only (make bench-smoke)
    .venv/bin/python tests/bench/bench_hadr.py --by-hand  # the rolling update step by step, not the playbook

The client is a separate process that inserts one row every 100 ms over ibm_db (DRDA on the
published client ports), autocommit, each row with a new id. On any error it drops its connection
and connects to the other side, and keeps alternating while connects fail, as a client with the
alternate server does (UPDATE ALTERNATE SERVER). It logs each row whose COMMIT returned.
Measured: the longest time between two such commits; at the end every acknowledged id must be on
the primary and, read WITH UR through reads on standby (DB2_HADR_ROS), on the standby.

(a) recipe 1: db2_container_upgrade of one container 11.5.8.0 -> 11.5.9.0 (no backup; the rolling
    update has none either). (b) the pair 11.5.8.0 -> 11.5.9.0: playbooks/hadr_fixpack.yml when it
    exists (standby first, takeover, old primary, takeover back, post-upgrade), else the same steps
    one by one: db2_container_upgrade with hadr_rolling_update (before it existed: docker stop/rm/run
    on the same storage and START HADR AS STANDBY), wait for PEER, TAKEOVER HADR; db2_post_upgrade.
"""
from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "tests" / "integration")]

import docker  # noqa: E402
import ibm_db  # noqa: E402
from benchmarks_doc import write_section  # noqa: E402
from conftest import BASE_DB2_ENV, STANDIN_REPO, images_locked  # noqa: E402
from daemons import free_port  # noqa: E402
from playbook import run_module, run_playbook  # noqa: E402

SECTION = "## HADR: a writing client through recipe 1 and through a rolling update"
OLD, NEW = "%s:11.5.8.0" % STANDIN_REPO, "%s:11.5.9.0" % STANDIN_REPO
READY = "(*) Setup has completed."
IBM_START_SECONDS = 90  # the cookbook: "Db2 Developer-C Image takes too long to start (~90 seconds)"
HADR_PORT = "4000"
HADR_TIMEOUT = 10  # seconds: a lost partner is noticed quickly; the contract's default is 120
INTERVAL = 0.1  # one row every 100 ms
PLAYBOOK = REPO / "playbooks" / "hadr_fixpack.yml"


# --- the client -------------------------------------------------------------------------------

def dsn(port):
    return ("DATABASE=TESTDB;HOSTNAME=127.0.0.1;PORT=%d;PROTOCOL=TCPIP;UID=db2inst1;PWD=%s;CONNECTTIMEOUT=5;"
            % (port, BASE_DB2_ENV["DB2INST1_PASSWORD"]))


def writer(ports, journal, stop):
    """Insert a row every INTERVAL until `stop` is set; one JSON line per acknowledged commit
    ({"id", "t", "port"}) or per failed attempt ({"error", "t"}) in `journal`."""
    side, conn, next_id = 0, None, 1
    with open(journal, "a", encoding="utf-8") as out:
        tick = time.monotonic()
        while not stop.is_set():
            tick = max(tick + INTERVAL, time.monotonic())
            try:
                if conn is None:
                    conn = ibm_db.connect(dsn(ports[side]), "", "")
                row, next_id = next_id, next_id + 1  # an id is never reused, even if its commit is in doubt
                ibm_db.exec_immediate(conn, "INSERT INTO W VALUES (%d, %d)" % (row, ports[side]))
                out.write(json.dumps({"id": row, "t": time.monotonic(), "port": ports[side]}) + "\n")
            except Exception as exc:  # pylint: disable=broad-except  # any error: reconnect, other side first
                codes = re.findall(r"SQL\d+[NWC]", str(exc)) or [type(exc).__name__]
                out.write(json.dumps({"error": codes[0], "t": time.monotonic(),
                                      "port": ports[side]}) + "\n")
                if conn is not None:
                    try:
                        ibm_db.close(conn)
                    except Exception:  # pylint: disable=broad-except
                        pass
                conn, side = None, (side + 1) % len(ports)
            out.flush()
            time.sleep(max(0.0, tick - time.monotonic()))


class Client:
    """The writer in its own process (ibm_db holds the GIL in its calls), its journal read back."""

    def __init__(self, ports, work):
        self.journal = Path(work) / ("journal-%s.jsonl" % uuid.uuid4().hex[:6])
        self.stop = multiprocessing.Event()
        self.proc = multiprocessing.Process(target=writer, args=(ports, str(self.journal), self.stop), daemon=True)

    def __enter__(self):
        self.proc.start()
        deadline = time.monotonic() + 60
        while not self.committed():  # the first row is in before the clock matters
            if time.monotonic() > deadline:
                raise RuntimeError("the client wrote nothing in 60 s:\n" + self.journal.read_text()[-2000:])
            time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.proc.join(30)
        if self.proc.is_alive():
            self.proc.kill()

    def entries(self):
        if not self.journal.exists():
            return []
        return [json.loads(line) for line in self.journal.read_text().splitlines() if line.endswith("}")]

    def committed(self):
        return [e for e in self.entries() if "id" in e]

    def figures(self):
        rows = self.committed()
        gaps = [(b["t"] - a["t"], a, b) for a, b in zip(rows, rows[1:])]
        longest = max(gaps, key=lambda g: g[0])
        errors = [e for e in self.entries() if "error" in e and longest[1]["t"] <= e["t"] <= longest[2]["t"]]
        return {"rows": len(rows), "ids": {r["id"] for r in rows}, "gap": longest[0],
                "attempts": len([e for e in self.entries() if "id" in e or "error" in e]),
                "errors": sorted({e["error"] for e in errors})}


# --- Db2 over docker exec -----------------------------------------------------------------------

def owner(container, command, check=True):
    script = '. "$HOME/sqllib/db2profile" && ' + command
    proc = subprocess.run(["docker", "exec", "-u", "db2inst1", container.name, "bash", "-c", script],
                          capture_output=True, text=True, timeout=300, check=False)
    if check and proc.returncode not in (0, 2):
        raise RuntimeError("%s: %s\n%s" % (container.name, command, proc.stdout + proc.stderr))
    return proc.returncode, proc.stdout + proc.stderr


def hadr_fields(container):
    _rc, out = owner(container, "db2pd -db testdb -hadr", check=False)
    return dict(re.findall(r"^ *(\S+) = (.*)$", out, re.M))


def wait_state(container, state, timeout=120):
    deadline = time.monotonic() + timeout
    while hadr_fields(container).get("HADR_STATE") != state:
        if time.monotonic() > deadline:
            raise RuntimeError("%s: HADR_STATE %r, not %r" % (container.name, hadr_fields(container), state))
        time.sleep(0.5)


def ids_on(container, ur=False):
    """The ids in W; `ur`: on a standby, through reads on standby (DB2_HADR_ROS) WITH UR."""
    prefix = "db2set DB2_HADR_ROS=ON && " if ur else ""
    try:
        _rc, out = owner(container, prefix + 'db2 connect to testdb >/dev/null && db2 -x "select id from w%s"'
                         % (" with ur" if ur else ""))
    finally:
        if ur:
            owner(container, "db2set DB2_HADR_ROS=", check=False)
    return {int(v) for v in out.split()}


def wait_log(container, needle, since, timeout):
    deadline = time.monotonic() + timeout
    while needle not in container.logs(since=since).decode("utf-8", "replace"):
        if time.monotonic() > deadline:
            raise RuntimeError("%s: no %r" % (container.name, needle))
        time.sleep(0.2)


# --- the containers -----------------------------------------------------------------------------

class Site:
    """One Db2 container: its name, storage, fixed client port (so a re-created container is reached
    at the same address) and the arguments to run it again from another image."""

    def __init__(self, client, name, network, share, setup_seconds):
        self.client, self.name = client, name
        self.storage = tempfile.mkdtemp(prefix="bench-hadr-fs-")
        self.port = free_port()
        self.run_args = dict(
            name=name, hostname=name, detach=True, network=network,
            environment={**BASE_DB2_ENV, "DBNAME": "TESTDB", "STANDIN_SETUP_SECONDS": str(setup_seconds)},
            ports={"50000/tcp": ("127.0.0.1", self.port)},
            volumes={self.storage: {"bind": "/database"}, share: {"bind": "/hadr"}})
        self.container = None

    def run(self, image):
        self.container = self.client.containers.run(image, **self.run_args)
        return self.container

    def replace(self, image, timeout):
        """The cookbook by hand: stop, rm, run the new image on the same storage, wait for ready."""
        self.container.stop(timeout=30)
        self.container.remove()
        since = int(time.time()) - 1
        self.run(image)
        wait_log(self.container, READY, since, timeout)

    def remove(self):
        for leftover in self.client.containers.list(all=True, filters={"name": self.name}):
            leftover.remove(force=True)
        shutil.rmtree(self.storage, ignore_errors=True)


def make_pair(primary, standby):
    """IBM's setup order, by stand-in commands: online backup of the primary restored on the
    standby, HADR db cfg on both, START HADR AS STANDBY then AS PRIMARY, PEER; alternate servers."""
    p, s = primary.container, standby.container
    owner(p, 'db2 connect to testdb >/dev/null && db2 "create table w (id int not null, port int)"')
    stamp = owner(p, "db2 backup db testdb online to /hadr")[1].split(" : ")[1].strip()
    owner(s, "db2 deactivate db testdb && db2 restore db testdb from /hadr taken at %s without prompting" % stamp)
    for mine, other in ((primary, standby), (standby, primary)):
        owner(mine.container, "db2 update db cfg for testdb using HADR_LOCAL_HOST %s HADR_LOCAL_SVC %s "
              "HADR_REMOTE_HOST %s HADR_REMOTE_SVC %s HADR_REMOTE_INST db2inst1 HADR_TIMEOUT %d "
              "LOGINDEXBUILD ON && db2 update alternate server for database testdb using hostname 127.0.0.1 "
              "port %d" % (mine.name, HADR_PORT, other.name, HADR_PORT, HADR_TIMEOUT, other.port))
    owner(s, "db2 start hadr on db testdb as standby")
    owner(p, "db2 start hadr on db testdb as primary")
    wait_state(p, "PEER")


def has_module(name, option=""):
    path = REPO / "plugins" / "modules" / (name + ".py")
    return path.exists() and option in path.read_text()


def rolling_steps(primary, standby, work, timeout):
    """hadr_fixpack.yml's steps one by one: each side in turn upgraded (db2_container_upgrade with
    hadr_rolling_update where it exists, else docker stop/rm/run and START HADR AS STANDBY), PEER,
    TAKEOVER on it (the CLP); then the post-upgrade tasks once on the primary. Returns the takeover times."""
    steps = []
    for upgraded in (standby, primary):
        if has_module("db2_container_upgrade", "hadr_rolling_update"):
            _proc, result = run_module(Path(work), "db2_container_upgrade", {
                "container": upgraded.name, "image": NEW, "backup": {"mode": "none"}, "post_upgrade": False,
                "old_container": "remove", "stop_timeout": 30, "ready_timeout": timeout, "hadr_rolling_update": True})
            if result.get("failed"):
                raise RuntimeError(result.get("msg"))
        else:
            upgraded.replace(NEW, timeout)
            owner(upgraded.container, "db2 start hadr on db testdb as standby")  # nothing activates on a restart
        wait_state(upgraded.container, "PEER")
        started = time.monotonic()
        owner(upgraded.container, "db2 takeover hadr on db testdb")
        steps.append(time.monotonic() - started)
        # After the first takeover the old primary (older) waits in REMOTE_CATCHUP_PENDING: its turn.
    if has_module("db2_post_upgrade"):
        _proc, result = run_module(Path(work), "db2_post_upgrade", {"container": primary.name})
        if result.get("failed"):
            raise RuntimeError(result.get("msg"))
    return steps


def rolling_playbook(primary, standby, work, ready_timeout):
    """playbooks/hadr_fixpack.yml on an inventory of the pair (as inventory/hadr-demo)."""
    inventory = {"db2_hadr_pairs": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                 "db2_hadr_timeout": HADR_TIMEOUT, "db2_hadr_ready_timeout": ready_timeout,
                 "db2_hadr_old_container": "remove", "db2_hadr_peer_delay": 1, "db2_hadr_peer_retries": 120},
        "children": {"bench_pair": {
            "vars": {"db2_hadr_database": "TESTDB", "db2_hadr_port": int(HADR_PORT)},
            "hosts": {site.name: {"db2_container": site.name, "db2_hadr_role": role,
                                  "db2_hadr_client_host": "127.0.0.1", "db2_hadr_client_port": site.port}
                      for site, role in ((primary, "primary"), (standby, "standby"))}}}}}
    path = Path(work) / "inventory.json"
    path.write_text(json.dumps(inventory))
    proc = run_playbook(PLAYBOOK, inventory=str(path), extra_vars={"db2_target_image": NEW})
    if proc.returncode:
        raise RuntimeError("hadr_fixpack.yml failed:\n" + proc.stdout[-4000:])
    return []


def primary_and_standby(sites):
    roles = {site: hadr_fields(site.container).get("HADR_ROLE") for site in sites}
    primaries = [s for s, r in roles.items() if r == "PRIMARY"]
    standbys = [s for s, r in roles.items() if r == "STANDBY"]
    if len(primaries) != 1 or len(standbys) != 1:
        raise RuntimeError("not one primary and one standby: %r" % {s.name: r for s, r in roles.items()})
    return primaries[0], standbys[0]


def main():  # pylint: disable=too-many-locals,too-many-statements
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="STANDIN_SETUP_SECONDS=2, print only")
    parser.add_argument("--by-hand", action="store_true", help="the rolling update step by step, not the playbook")
    args = parser.parse_args()
    setup = 2 if args.quick else IBM_START_SECONDS
    by_hand = args.by_hand or not PLAYBOOK.exists()
    ready_timeout = 300 + 2 * setup
    client = docker.from_env(timeout=300)
    tag = uuid.uuid4().hex[:6]
    work = tempfile.mkdtemp(prefix="bench-hadr-")
    share = tempfile.mkdtemp(prefix="bench-hadr-share-")
    os.chmod(share, 0o777)
    network = client.networks.create("bench-hadr-" + tag)
    sites = [Site(client, "bhadr-%s-%s" % (role, tag), network.name, share, setup) for role in ("one", "a", "b")]
    single, primary, standby = sites
    try:
        with images_locked("standin"):  # build once; the containers keep this checkout's images
            for site in sites:
                site.run(OLD)
        for site in sites:  # the three set up at once: the first start costs the setup time too
            wait_log(site.container, READY, None, ready_timeout)
        owner(single.container, 'db2 connect to testdb >/dev/null && db2 "create table w (id int not null, port int)"')
        make_pair(primary, standby)

        # (a) recipe 1
        tmp = Path(work)
        with Client([single.port], work) as recipe1:
            started = time.monotonic()
            _proc, result = run_module(tmp, "db2_container_upgrade", {
                "container": single.name, "image": NEW, "backup": {"mode": "none"}, "old_container": "remove",
                "stop_timeout": 30, "ready_timeout": ready_timeout})
            recipe1_wall = time.monotonic() - started
            if result.get("failed"):
                raise RuntimeError(result.get("msg"))
            time.sleep(2)  # a few rows after the upgrade
        one = recipe1.figures()
        one["found"] = ids_on(single.container)

        # (b) the rolling update
        with Client([primary.port, standby.port], work) as rolling:
            started = time.monotonic()
            steps = rolling_steps(primary, standby, work, ready_timeout) if by_hand else \
                rolling_playbook(primary, standby, work, ready_timeout)
            rolling_wall = time.monotonic() - started
            time.sleep(2)
        pair = rolling.figures()
        now_primary, now_standby = primary_and_standby([primary, standby])
        wait_state(now_standby.container, "PEER")
        pair["found_primary"] = ids_on(now_primary.container)
        pair["found_standby"] = ids_on(now_standby.container, ur=True)
    finally:
        for site in sites:
            site.remove()
        network.remove()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(share, ignore_errors=True)

    lost_one = one["ids"] - one["found"]
    lost_primary = pair["ids"] - pair["found_primary"]
    lost_standby = pair["ids"] - pair["found_standby"]
    ratio = pair["gap"] / one["gap"]
    downtime = result["downtime_seconds"]
    text = "\n".join([
        SECTION, "",
        "- Date: %s; machine: %s, %d cores, Linux %s; Python %s; Docker %s; ibm_db %s."
        % (datetime.date.today(), platform.machine(), os.cpu_count(), platform.release(),
           platform.python_version(), client.version()["Version"], getattr(ibm_db, "__version__", "3.3.0")),
        "- Stand-in %s -> %s, STANDIN_SETUP_SECONDS=%d (%s), HADR_TIMEOUT %d, NEARSYNC; all containers on one "
        "host and one user-defined network." % (OLD, NEW, setup, "IBM's ~90 s start" if setup == 90 else "short",
                                                HADR_TIMEOUT),
        "- Command: `.venv/bin/python tests/bench/bench_hadr.py%s%s`; the rolling update %s."
        % (" --quick" if args.quick else "", " --by-hand" if args.by_hand else "",
           "step by step (hadr_fixpack.yml's order: each side in turn upgraded by %s, PEER, TAKEOVER HADR by the "
           "CLP, so the second takeover goes back to the first primary; then %s)" % (
               "db2_container_upgrade with hadr_rolling_update"
               if has_module("db2_container_upgrade", "hadr_rolling_update") else "hand (docker stop/rm/run, "
               "START HADR AS STANDBY)", "db2_post_upgrade on the primary" if has_module("db2_post_upgrade")
               else "no post-upgrade tasks") if by_hand else "by `playbooks/hadr_fixpack.yml`"),
        "- Client: one INSERT every 100 ms over ibm_db (autocommit) to the published client ports; on any error "
        "it connects to the other side (alternating while connects fail), as a client with the alternate server.",
        "",
        "| run | wall (s) | rows committed | longest gap between two commits (s) | rows found | committed rows "
        "missing |",
        "|---|---|---|---|---|---|",
        "| (a) recipe 1: db2_container_upgrade, one container | %.1f | %d | %.2f | %d | %d |"
        % (recipe1_wall, one["rows"], one["gap"], len(one["found"]), len(lost_one)),
        "| (b) rolling update of the pair | %.1f | %d | %.2f | primary %d, standby (WITH UR) %d | %d, %d |"
        % (rolling_wall, pair["rows"], pair["gap"], len(pair["found_primary"]), len(pair["found_standby"]),
           len(lost_primary), len(lost_standby)),
        "",
        "Rolling gap / recipe 1 downtime (as db2_container_upgrade reports it, old container stopped -> new one "
        "ready and verified: %.1f s): **%.3f** (target at most 0.1: %s). Rolling gap / the gap the client saw in "
        "(a): **%.3f** (%s). The two differ because the stand-in answers clients from its db2start on and spends "
        "its STANDIN_SETUP_SECONDS after it (stand-in README, setup flow steps 9 and 13), so in (a) the client "
        "wrote again long before the container was ready. IBM's restart log re-creates the instance before "
        "db2start (shared/reference/db2-image-facts.md 1.2, \"Restart of an existing container\"), which "
        "suggests most of a real start passes before clients can connect; how IBM's ~90 s divide is not "
        "documented. Rows found beyond those acknowledged are inserts whose COMMIT answer the client lost "
        "(found minus acknowledged: %d and %d)."
        % (downtime, pair["gap"] / downtime, "met" if pair["gap"] / downtime <= 0.1 else "missed", ratio,
           "within a tenth" if ratio <= 0.1 else "more than a tenth", len(one["found"] - one["ids"]),
           len(pair["found_primary"] - pair["ids"])),
        "Errors the client saw in the longest gap: (a) %s; (b) %s."
        % (", ".join(one["errors"]) or "none", ", ".join(pair["errors"]) or "none"),
        "" if not steps else "Takeovers (TAKEOVER HADR command time): %s." % ", ".join("%.2f s" % s for s in steps),
        "",
    ])
    print(text)
    if lost_one or lost_primary or lost_standby:
        raise SystemExit("committed rows are missing")
    if not args.quick:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
