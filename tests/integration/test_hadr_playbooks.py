"""The HADR role and playbooks through real ansible-playbook, on a pair across two Docker hosts
(tests/integration/hadr_hosts.py): playbooks/hadr_setup.yml sets the pair up from an inventory (one
host per container, each its own db2ops_docker_host) and a rerun changes nothing; then
playbooks/hadr_fixpack.yml moves it from 11.5.8.0 to 11.5.9.0 while a client keeps writing rows to
whichever side serves: at the end both sides run 11.5.9.0 in PEER, the original primary is the
primary again, and every committed row is on both sides. A pair swapped by a takeover outside the
playbooks is then left as it is by hadr_setup.yml, and a fix pack whose pre-flight fails changes
neither side.
"""
import json
import re
import sys
import threading
import time

import pytest

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log
from hadr_hosts import hadr_fields as hadr
from hadr_hosts import ok, owner, two_docker_hosts
from playbook import REPO, run_playbook
from test_standin_image import SETUP_DONE

OLD, NEW = "11.5.8.0", "11.5.9.0"
# The role's default HADR port; the image does not EXPOSE it, so the upgrade's re-creation must keep
# its publishing (fixed in _docker/recreate.py, 38af800).
HADR_PORT = 4000
CLIENT_PORT = 50000
NAMES = ("hadr-p", "hadr-s")  # inventory host = container name; hadr-p starts as the primary


@pytest.fixture(scope="module")
def hosts(tmp_path_factory, standin_images):
    """Two Docker hosts with both stand-in levels loaded; (host, client) pairs."""
    yield from two_docker_hosts(tmp_path_factory, [standin_images[OLD], standin_images[NEW]])


def insert(container, row):
    """One committed row; True when the CLP says it committed (the side serves)."""
    code, _out = owner(container, 'db2 connect to testdb >/dev/null && db2 "insert into kept values (%d)"; '
                                  'rc=$?; db2 terminate >/dev/null; exit $rc' % row)
    return code == 0


def rows(container, ur=False):
    out = ok(container, 'db2 connect to testdb >/dev/null && db2 -x "select id from kept order by id%s"'
                        % (" with ur" if ur else ""))
    return sorted(int(v) for v in out.split())


class Writer(threading.Thread):
    """A client writing a row about every half second to whichever side takes it."""

    def __init__(self, containers):
        super().__init__(daemon=True)
        self.containers, self.committed, self.stop = containers, [], threading.Event()
        self.row = 1000  # the last row tried

    def run(self):
        while not self.stop.is_set():
            self.row += 1
            row = self.row
            for get in self.containers:
                try:
                    if insert(get(), row):
                        self.committed.append(row)
                        break
                except Exception:  # pylint: disable=broad-except  # a container being re-created
                    continue
            self.stop.wait(0.5)


def inventory(path, hosts):
    (host1, _c1), (host2, _c2) = hosts
    side = {
        NAMES[0]: {"db2_hadr_role": "primary", "db2ops_docker_host": host1.docker.unix_url,
                   "db2_hadr_host": host1.address},
        NAMES[1]: {"db2_hadr_role": "standby", "db2ops_docker_host": host2.docker.unix_url,
                   "db2_hadr_host": host2.address},
    }
    path.write_text(json.dumps({"all": {"children": {"db2_hadr_pairs": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                 "db2_hadr_timeout": 5, "db2_hadr_peer_delay": 1,
                 "db2_hadr_ready_timeout": 300},
        "children": {"pair1": {"vars": {"db2_hadr_database": "TESTDB"}, "hosts": side}},
    }}}}))
    return str(path)


def recap(proc):
    """{host: {ok, changed, failed, ...}} from the PLAY RECAP."""
    found = {}
    for host, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", proc.stdout, re.M):
        found[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    return found


def test_setup_then_rolling_fixpack_across_two_docker_hosts(hosts, standin_images, tmp_path):
    containers = []
    for (host, client), name in zip(hosts, NAMES):
        storage = host.root / ("storage-" + name)
        storage.mkdir(mode=0o755)
        containers.append(client.containers.run(
            standin_images[OLD], name=name, hostname=name, detach=True,
            environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB"},
            volumes={str(storage): {"bind": "/database", "mode": "rw"}},
            ports={"%d/tcp" % HADR_PORT: (host.address, HADR_PORT),
                   "%d/tcp" % CLIENT_PORT: (host.address, CLIENT_PORT)},
            restart_policy={"Name": "unless-stopped"}))
    for container in containers:
        wait_for_log(container, SETUP_DONE, 180)
    ok(containers[0], 'db2 connect to testdb >/dev/null && db2 "create table kept (id int)" && '
                      'db2 "insert into kept values (1)"')
    book = inventory(tmp_path / "inventory.json", hosts)
    (host1, client1), (host2, client2) = hosts

    def primary():  # looked up each time: the upgrade re-creates the containers
        return client1.containers.get(NAMES[0])

    def standby():
        return client2.containers.get(NAMES[1])

    # Setup: the standby from the primary's backup, PEER, each side's alternate server the other.
    proc = run_playbook(REPO / "playbooks/hadr_setup.yml", book)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert hadr(primary())["HADR_ROLE"] == "PRIMARY"
    fields = hadr(standby())
    assert (fields["HADR_ROLE"], fields["HADR_STATE"]) == ("STANDBY", "PEER"), fields
    for container, other in ((primary(), host2), (standby(), host1)):
        directory = ok(container, "db2 list db directory")
        assert re.search(r"Alternate server hostname += %s\s" % re.escape(other.address), directory), directory
        assert re.search(r"Alternate server port number += %d\s" % CLIENT_PORT, directory), directory

    proc = run_playbook(REPO / "playbooks/hadr_setup.yml", book)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {host: counts["changed"] for host, counts in recap(proc).items()} == {NAMES[0]: 0, NAMES[1]: 0}, \
        proc.stdout

    assert insert(primary(), 2)
    writer = Writer([primary, standby])
    writer.start()
    try:
        proc = run_playbook(REPO / "playbooks/hadr_fixpack.yml", book,
                            extra_vars={"db2_target_image": standin_images[NEW]})
    finally:
        writer.stop.set()
        writer.join(60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert insert(primary(), 3)

    # Both sides run the new level, the original primary is the primary again, in PEER.
    for container in (primary(), standby()):
        assert container.attrs["Config"]["Image"] == standin_images[NEW]
        assert "DB2 v%s" % NEW in ok(container, "db2level")
    assert hadr(primary())["HADR_ROLE"] == "PRIMARY"
    deadline = time.monotonic() + 60
    while (fields := hadr(standby()))["HADR_STATE"] != "PEER":
        assert time.monotonic() < deadline, fields
        time.sleep(0.5)
    assert fields["HADR_ROLE"] == "STANDBY"

    # Every committed row, on the primary and (reads on standby, UR) on the standby.
    # (a row whose commit the client did not hear may be there too, never one it did not write)
    on_primary = rows(primary())
    assert set([1, 2, 3] + writer.committed) <= set(on_primary) <= {1, 2, 3, *range(1001, writer.row + 1)}
    assert len(writer.committed) > 0
    ok(standby(), "db2set DB2_HADR_ROS=ON")
    assert rows(standby(), ur=True) == on_primary

    # A pair running the other way round (a takeover outside the playbooks) is left as it is.
    ok(standby(), "db2 takeover hadr on db testdb")
    proc = run_playbook(REPO / "playbooks/hadr_setup.yml", book)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {host: counts["changed"] for host, counts in recap(proc).items()} == {NAMES[0]: 0, NAMES[1]: 0}, \
        proc.stdout
    assert "left as it is" in proc.stdout
    assert (hadr(standby())["HADR_ROLE"], hadr(primary())["HADR_ROLE"]) == ("PRIMARY", "STANDBY")

    # The pre-flight refuses before touching either side: here the standby's upgrade cannot plan
    # (an image the Docker host lacks, and pulling is not allowed).
    ids = (primary().id, standby().id)
    proc = run_playbook(REPO / "playbooks/hadr_fixpack.yml", book,
                        extra_vars={"db2_target_image": "db2ops/db2-standin:11.5.99.0", "db2_hadr_pull": "never"})
    assert proc.returncode != 0, proc.stdout
    assert "Plan the standby's upgrade" in proc.stdout and "Rolling fix pack - one pair at a time" not in proc.stdout
    assert (primary().id, standby().id) == ids
    assert (hadr(standby())["HADR_ROLE"], hadr(primary())["HADR_ROLE"]) == ("PRIMARY", "STANDBY")
