"""db2ops.docker.db2_hadr across two Docker hosts over TLS (the `hosts` fixture of
test_standin_hadr_hosts.py: each host its own dockerd and address): the standby is initialised from a
primary on the other daemon, the backup image streamed from one daemon to the other, and the pair
reaches PEER through both hosts' port publishing."""
from __future__ import annotations

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log
from in_process import run_module
from test_standin_hadr_hosts import HADR_PORT, IMAGE, hosts, ok, wait_state  # noqa: F401 pylint: disable=unused-import
from test_standin_image import SETUP_DONE


def connection(host):
    tls = host.docker.tls
    return dict(docker_host="tcp://%s:2376" % host.address, ca_path=tls["ca"], client_cert=tls["client"],
                client_key=tls["client_key"])


def test_standby_initialised_from_a_primary_on_another_docker_host(hosts, standin_images):  # noqa: F811
    (host1, client1), (host2, client2) = hosts
    made = []
    try:
        for host, client, name in ((host1, client1, "hm-a"), (host2, client2, "hm-b")):
            made.append(client.containers.run(
                standin_images[IMAGE], name=name, hostname=name, detach=True,
                environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB"},
                ports={"%s/tcp" % HADR_PORT: (host.address, int(HADR_PORT))}))
        primary, standby = made
        for container in made:
            wait_for_log(container, SETUP_DONE, 180)
        ok(primary, "db2 connect to testdb >/dev/null && db2 'create table kept (id int)' && "
                    "db2 'insert into kept values (1)' && db2 terminate >/dev/null")
        common = dict(database="TESTDB", local_svc=HADR_PORT, remote_svc=HADR_PORT, hadr_timeout=10)
        result = run_module("db2_hadr", dict(
            common, **connection(host2), container="hm-b", role="standby", local_host="hm-b",
            remote_host=host1.address, primary=dict(connection(host1), container="hm-a")))
        assert not result.get("failed") and result["changed"] and result["role"] == "STANDBY", result
        assert result["backup"] in ok(primary, "ls /database/hadr_init")
        result = run_module("db2_hadr", dict(common, **connection(host1), container="hm-a", role="primary",
                                             local_host="hm-a", remote_host=host2.address))
        assert not result.get("failed") and result["role"] == "PRIMARY", result
        assert wait_state(primary, "PEER")["HADR_CONNECT_STATUS"] == "CONNECTED"
        ok(primary, "db2 connect to testdb >/dev/null && db2 'insert into kept values (2)'")
        out = ok(standby, "db2set DB2_HADR_ROS=ON && db2 connect to testdb >/dev/null && "
                          "db2 -x 'select id from kept order by id with ur'")
        assert out.split() == ["1", "2"], out
    finally:
        for container in made:
            container.remove(force=True, v=True)
