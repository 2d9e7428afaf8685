"""HADR in the Db2 stand-in across two Docker hosts (tests/integration/hadr_hosts.py: each host a
network namespace with its own dockerd and address): each side publishes its HADR port on its
host's address and names the other host's address as HADR_REMOTE_HOST, as a pair on two Docker
hosts with bridge networking must. The log is shipped through both hosts' port publishing (NAT).
"""
import time

import pytest

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log
from hadr_hosts import hadr_fields as state
from hadr_hosts import ok, two_docker_hosts
from test_standin_image import SETUP_DONE

IMAGE = "11.5.8.0"
HADR_PORT = "4000"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory, standin_images):
    """Two Docker hosts with the 11.5.8.0 stand-in image loaded; (host, client) pairs."""
    yield from two_docker_hosts(tmp_path_factory, [standin_images[IMAGE]])


def wait_state(container, wanted, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        fields = state(container)
        if fields.get("HADR_STATE") == wanted:
            return fields
        assert time.monotonic() < deadline, fields
        time.sleep(0.3)


def test_pair_across_two_docker_hosts(hosts, standin_images, tmp_path):
    tmp_path.chmod(0o777)
    (host1, client1), (host2, client2) = hosts
    containers = []
    for host, client, name in ((host1, client1, "hadr-a"), (host2, client2, "hadr-b")):
        containers.append(client.containers.run(
            standin_images[IMAGE], name=name, hostname=name, detach=True,
            environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB"},
            volumes={str(tmp_path): {"bind": "/hadr", "mode": "rw"}},
            ports={"%s/tcp" % HADR_PORT: (host.address, int(HADR_PORT))}))
    primary, standby = containers
    for container in containers:
        wait_for_log(container, SETUP_DONE, 180)
    ok(primary, "db2 connect to testdb >/dev/null && db2 'create table kept (id int)' && "
                "db2 'insert into kept values (1)' && db2 terminate >/dev/null && "
                "db2 backup db testdb online to /hadr >/dev/null")
    ok(standby, "db2 deactivate db testdb >/dev/null && db2 restore db testdb from /hadr without prompting "
                ">/dev/null; test $? -le 2")
    for container, local, remote in ((primary, "hadr-a", host2.address), (standby, "hadr-b", host1.address)):
        ok(container, "db2 update db cfg for testdb using HADR_LOCAL_HOST %s HADR_LOCAL_SVC %s "
                      "HADR_REMOTE_HOST %s HADR_REMOTE_SVC %s HADR_REMOTE_INST db2inst1 HADR_TIMEOUT 10 "
                      "LOGINDEXBUILD ON" % (local, HADR_PORT, remote, HADR_PORT))
    ok(standby, "db2 start hadr on db testdb as standby")
    ok(primary, "db2 start hadr on db testdb as primary")  # waits for the standby on the other host
    fields = wait_state(primary, "PEER")
    assert fields["HADR_CONNECT_STATUS"] == "CONNECTED"
    ok(primary, "db2 connect to testdb >/dev/null && db2 'insert into kept values (2)'")
    # Roles switch across the hosts, and the rows are there on the other host.
    ok(standby, "db2 takeover hadr on db testdb")
    assert wait_state(primary, "PEER")["HADR_ROLE"] == "STANDBY"
    out = ok(standby, "db2 connect to testdb >/dev/null && db2 -x 'select id from kept order by id'")
    assert out.split() == ["1", "2"], out
