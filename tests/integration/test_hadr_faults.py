"""Faults of an HADR pair (issue 16, "Measured"), on real stand-in containers on one user-defined
network: a standby killed during catch-up, a takeover refused outside PEER, and an old primary that
does not come back during a rolling update. Each test ends with one primary serving and every
committed row on it.

The collection's part goes through its modules (db2_hadr's takeover, db2_container_upgrade's
hadr_rolling_update) and, for a failure half way through a rolling update, through
playbooks/hadr_fixpack.yml.
"""
from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path

import ibm_db
import pytest

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log
from playbook import run_module, run_playbook
from test_standin_hadr import HADR_PORT, SETUP_WAIT, TIMEOUT, configure, dsn, ok, owner, pd, start_pair, wait_state
from test_standin_image import SETUP_DONE, wait_for_log_count

# db2_hadr's HADR_TIMEOUT option (its `timeout` is the Docker connection's).
TIMEOUT_OPTION = "hadr_timeout"
PLAYBOOK = Path(__file__).resolve().parents[2] / "playbooks" / "hadr_fixpack.yml"


@pytest.fixture
def tag(docker_client):
    """A name prefix for the test's containers and network; at teardown every container with it
    (the upgrade module creates and renames containers the `containers` tracker does not know)."""
    prefix = "db2ops-t-hf-" + uuid.uuid4().hex[:6]
    net = docker_client.networks.create(prefix)
    yield prefix
    for container in docker_client.containers.list(all=True, filters={"name": prefix}):
        container.remove(force=True, v=True)
    net.remove()


def start(containers, tag, tmp_path, image, side):
    """A stand-in on the test's network with its own storage (so an upgrade keeps its data) and
    the /hadr directory both sides share (backup images)."""
    storage, share = tmp_path / side, tmp_path / "hadr"
    for path in (storage, share):
        path.mkdir(exist_ok=True)
        path.chmod(0o777)
    name = "%s-%s" % (tag, side)
    return containers.run(image, name, hostname=name, network=tag,
                          environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB"},
                          volumes={str(storage): {"bind": "/database", "mode": "rw"},
                                   str(share): {"bind": "/hadr", "mode": "rw"}},
                          ports={"50000/tcp": ("127.0.0.1", None)})


def make_pair(containers, tag, tmp_path, primary_image, standby_image):
    """IBM's order by stand-in commands: table KEPT with row 1, online backup of the primary
    restored on the standby, HADR db cfg on both (HADR_TIMEOUT 5), standby then primary, PEER."""
    primary = start(containers, tag, tmp_path, primary_image, "p")
    standby = start(containers, tag, tmp_path, standby_image, "s")
    for container in (primary, standby):
        wait_for_log(container, SETUP_DONE, SETUP_WAIT)
    ok(primary, "db2 connect to testdb >/dev/null && db2 'create table kept (id int, v varchar(30))' "
                "&& db2 \"insert into kept values (1, 'in the backup')\" && db2 terminate")
    stamp = ok(primary, "db2 backup db testdb online to /hadr").split(" : ")[1].strip()
    code, out = owner(standby, "db2 deactivate db testdb && "
                               "db2 restore db testdb from /hadr taken at %s without prompting" % stamp)
    assert code == 2 and "SQL2539W" in out, out
    configure(primary, primary.name, standby.name)
    configure(standby, standby.name, primary.name)
    start_pair(primary, standby)
    return primary, standby


def current(container):
    """The container now running under this name (an upgrade re-creates it: new id, new host port)."""
    return container.client.containers.get(container.name)


def write(container, first, last):
    """Rows first..last on the primary over IBM's driver, one committed unit of work each."""
    conn = ibm_db.connect(dsn(container), "", "")
    try:
        for row in range(first, last + 1):
            ibm_db.exec_immediate(conn, "INSERT INTO KEPT VALUES (%d, 'committed')" % row)
    finally:
        ibm_db.close(conn)


def ids(container, standby=False):
    """The ids in KEPT, sorted with duplicates; a standby is read WITH UR through reads on standby."""
    statement = "select id from kept order by id" + (" with ur" if standby else "")
    script = 'db2 connect to testdb >/dev/null && db2 -x "%s"' % statement
    if standby:
        script = "db2set DB2_HADR_ROS=ON && %s; rc=$?; db2set DB2_HADR_ROS=; exit $rc" % script
    return [int(v) for v in ok(container, script).split()]


def role(container):
    """HADR_ROLE from db2pd; "down" for a container that is not running (or has no such database)."""
    code, out = owner(container, "db2pd -db testdb -hadr")
    found = re.search(r"^ *HADR_ROLE = (\S+)$", out, re.M)
    return found.group(1) if code == 0 and found else "down"


def assert_one_primary_serving(pair, committed):
    """Exactly one side is the primary, it takes a new commit, and holds every committed row."""
    roles = {c.name: role(c) for c in pair}
    primaries = [c for c in pair if roles[c.name] == "PRIMARY"]
    assert len(primaries) == 1, roles
    write(primaries[0], 1000, 1000)
    assert ids(primaries[0]) == sorted(committed) + [1000]
    return primaries[0]


def test_standby_killed_during_catch_up_catches_up_to_peer(containers, tag, tmp_path, standin_images):
    image = standin_images["11.5.8.0"]
    primary, standby = make_pair(containers, tag, tmp_path, image, image)

    # Gone: the primary keeps committing without it (NEARSYNC waits for no absent standby).
    standby.kill()
    write(primary, 2, 400)
    wait_state(primary, "DISCONNECTED", timeout=TIMEOUT + 20)
    # Back, behind by 399 records; killed again while it catches up; more rows meanwhile.
    standby.start()
    wait_for_log_count(standby, SETUP_DONE, 2, SETUP_WAIT)
    ok(standby, "db2 activate db testdb")  # a standby database activates as a standby and reconnects
    standby.kill()
    write(primary, 401, 450)
    standby.start()
    wait_for_log_count(standby, SETUP_DONE, 3, SETUP_WAIT)
    ok(standby, "db2 activate db testdb")
    fields = wait_state(standby, "PEER", timeout=60)
    assert fields["HADR_ROLE"] == "STANDBY"
    assert wait_state(primary, "PEER")["HADR_LOG_GAP(bytes)"] == "0"
    committed = list(range(1, 451))
    on_standby = ids(standby, standby=True)
    assert_one_primary_serving((primary, standby), committed)
    assert set(on_standby) == set(committed)  # nothing committed is missing on the standby
    assert sorted(on_standby) == sorted(committed)  # every row once: a record replayed twice would be on the next primary


def test_takeover_outside_peer_is_refused_and_changes_nothing(containers, tag, tmp_path, standin_images):
    # A rolling update half done: the standby runs the new fix pack and took over; the old
    # primary (older) cannot be its standby yet, so it waits in REMOTE_CATCHUP_PENDING.
    old, new = make_pair(containers, tag, tmp_path, standin_images["11.5.8.0"], standin_images["11.5.9.0"])
    write(old, 2, 10)
    ok(new, "db2 takeover hadr on db testdb")
    fields = wait_state(old, "REMOTE_CATCHUP_PENDING")
    assert fields["HADR_ROLE"] == "STANDBY"
    write(new, 11, 20)
    cfg = ok(old, "db2 get db cfg for testdb")

    _proc, result = run_module(tmp_path, "db2_hadr", {
        "container": old.name, "database": "TESTDB", "role": "primary", "takeover": "peer",
        "local_host": old.name, "local_svc": HADR_PORT, "remote_host": new.name, "remote_svc": HADR_PORT,
        TIMEOUT_OPTION: TIMEOUT})
    assert result.get("failed") and result["changed"] is False, result
    msg = result["msg"]
    assert "\n" not in msg.strip() and "SQL1770N" in msg and re.search(r"[Rr]eason code\W*1\b", msg), msg
    assert "TESTDB" in msg, msg
    # Nothing changed: the same roles, states and configuration on both sides.
    after = pd(old)
    assert (after["HADR_ROLE"], after["HADR_STATE"]) == ("STANDBY", "REMOTE_CATCHUP_PENDING")
    assert ok(old, "db2 get db cfg for testdb") == cfg
    assert pd(new)["HADR_ROLE"] == "PRIMARY"
    assert assert_one_primary_serving((old, new), list(range(1, 21))) == new


def test_old_primary_that_never_comes_back(containers, tag, tmp_path, standin_images):
    old, new = make_pair(containers, tag, tmp_path, standin_images["11.1.3.3a"], standin_images["11.1.3.3a"])
    write(old, 2, 10)
    common = {"backup": {"mode": "none"}, "post_upgrade": False, "stop_timeout": 20, "hadr_rolling_update": True}

    # hadr_fixpack.yml's steps: the standby first, PEER, takeover on it.
    _proc, result = run_module(tmp_path, "db2_container_upgrade", {
        "container": new.name, "image": standin_images["11.1.4.4"], "ready_timeout": 120, **common})
    assert not result.get("failed"), result
    new = current(new)
    wait_state(old, "PEER")
    write(old, 11, 20)
    _proc, result = run_module(tmp_path, "db2_hadr", {
        "container": new.name, "database": "TESTDB", "role": "primary", "takeover": "peer",
        "local_host": new.name, "local_svc": HADR_PORT, "remote_host": old.name, "remote_svc": HADR_PORT,
        TIMEOUT_OPTION: TIMEOUT})
    assert not result.get("failed") and result["changed"] is True, result
    write(new, 21, 30)

    # The old primary's new container never becomes ready.
    _proc, result = run_module(tmp_path, "db2_container_upgrade", {
        "container": old.name, "image": standin_images["neverready"], "target_level": "11.1.4.4",
        "ready_timeout": 10, **common})
    assert result.get("failed"), result
    old = current(old)
    assert "wait_ready" in result["msg"] and "within 10s" in result["msg"], result["msg"]
    write(new, 31, 40)
    survivor = assert_one_primary_serving((old, new), list(range(1, 41)))
    assert survivor == new
    assert role(old) == "STANDBY"  # rolled back to its old image, a standby again (waiting: it is older)


def test_rolling_fixpack_playbook_stopped_by_a_standby_that_never_comes_back(containers, tag, tmp_path,
                                                                             standin_images):
    """hadr_fixpack.yml whose standby upgrade fails (its new container never becomes ready): the
    module rolls the standby back, the rescue says where the pair stands, the primary never stopped
    serving, and the pair is back in PEER with every committed row."""
    primary, standby = make_pair(containers, tag, tmp_path, standin_images["11.1.3.3a"], standin_images["11.1.3.3a"])
    write(primary, 2, 10)
    book = tmp_path / "inventory.json"
    book.write_text(json.dumps({"all": {"children": {"db2_hadr_pairs": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                 "db2ops_docker_host": "unix:///var/run/docker.sock", "db2_hadr_database": "TESTDB",
                 "db2_hadr_timeout": TIMEOUT, "db2_hadr_peer_delay": 1},
        "hosts": {primary.name: {"db2_hadr_role": "primary", "db2_hadr_host": primary.name},
                  standby.name: {"db2_hadr_role": "standby", "db2_hadr_host": standby.name}},
    }}}}))
    proc = run_playbook(PLAYBOOK, str(book), extra_vars={
        "db2_target_image": standin_images["neverready"], "db2_hadr_target_level": "11.1.4.4",
        "db2_hadr_ready_timeout": 10, "db2_hadr_stop_timeout": 20, "db2_hadr_post_upgrade": False})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert 'stopped at "1. Upgrade the standby' in out, out[-3000:]
    # Where the pair stands, as the rescue read it: the primary serving, the standby rolled back.
    assert re.search(r"%s \(%s\): PRIMARY serving, \w+, level 11\.1\.3\.3" % (primary.name, primary.name), out), out[-3000:]
    assert re.search(r"%s \(%s\): STANDBY" % (standby.name, standby.name), out), out[-3000:]
    standby = current(standby)
    assert standby.image.id == primary.image.id  # its old image again
    wait_state(standby, "PEER", timeout=60)
    write(primary, 11, 20)
    assert assert_one_primary_serving((primary, standby), list(range(1, 21))) == primary
