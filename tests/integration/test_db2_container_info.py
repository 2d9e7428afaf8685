"""db2ops.docker.db2_container_info through real ansible-playbook, a real daemon and stand-in images."""
from __future__ import annotations

import pytest
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, STANDIN_REPO, wait_for_log
from playbook import run_module

SETUP_DONE = "(*) Setup has completed."


def start_db2(containers, image, name, storage, labels=None, ports=None, dbname="TESTDB"):
    env = BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": dbname}
    return containers.run(image, name, environment=env, hostname=name, labels=labels or {},
                          ports=ports or {}, volumes={str(storage): {"bind": "/database", "mode": "rw"}})


@pytest.fixture
def running_db2(standin_images, containers, storage, unique_name):
    container = start_db2(containers, standin_images["11.1.3.3a"], unique_name + "-db2", storage,
                          labels={"env": "test", "team": unique_name}, ports={"50000/tcp": None})
    wait_for_log(container, SETUP_DONE)
    return container


def info(tmp_path, **args):
    proc, result = run_module(tmp_path, "db2_container_info", args)
    return result


def test_reports_level_storage_env_ports_and_databases(tmp_path, running_db2, storage, unique_name):
    result = info(tmp_path, name=[running_db2.name])
    assert not result.get("failed"), result
    assert result["changed"] is False
    (c,) = result["containers"]
    assert c["name"] == running_db2.name
    assert c["image"] == STANDIN_REPO + ":11.1.3.3a"
    assert c["image_id"] == running_db2.image.id
    assert (c["state"], c["running"], c["hostname"], c["instance"]) == ("running", True, running_db2.name, "db2inst1")
    assert c["db2level"] == {
        "level": "11.1.3.3a", "version": "11.1.3.3", "fixpack": "3a", "code_release": "SQL11013",
        "level_identifier": "0204010F", "build": "s1804271300", "build_dyn": "DYN1804271300AMD64",
        "install_path": "/opt/ibm/db2/V11.1", "instance": "db2inst1", "bits": 64,
    }
    assert c["storage"]["source"] == str(storage) and c["storage"]["destination"] == "/database"
    assert c["storage"]["type"] == "bind"
    assert c["env"]["DB2INST1_PASSWORD"] == "********"
    assert BASE_DB2_ENV["DB2INST1_PASSWORD"] not in str(result), "the password must not leak anywhere"
    assert c["env"]["LICENSE"] == "accept"
    # Docker publishes on 0.0.0.0 and on :: (one binding each, not always the same host port).
    assert {p["container_port"] for p in c["ports"]} == {50000}
    assert all(p["host_port"].isdigit() for p in c["ports"]) and "0.0.0.0" in {p["host_ip"] for p in c["ports"]}
    assert c["labels"]["team"] == unique_name
    assert c["instance_started"] is True
    assert c["active_databases"] == ["TESTDB"]
    assert c["databases"] == ["TESTDB"]
    assert c["hadr"] == {}  # read (gather_hadr defaults to true), no database in a pair
    assert c["error"] is None


def test_filters_and_parallel_gathering(tmp_path, standin_images, containers, tmp_path_factory, unique_name):
    started = []
    for index, level in enumerate(("11.1.3.3a", "11.1.4.4", "11.5.8.0")):
        storage = tmp_path_factory.mktemp(f"fs{index}")
        started.append(start_db2(containers, standin_images[level], f"{unique_name}-{index}", storage,
                                 labels={"team": unique_name, "tier": "gold" if index else "silver"}))
    for container in started:
        wait_for_log(container, SETUP_DONE)

    by_glob = info(tmp_path, name=[unique_name + "-*"])
    assert [c["db2level"]["level"] for c in by_glob["containers"]] == ["11.1.3.3a", "11.1.4.4", "11.5.8.0"]

    by_label = info(tmp_path, label=[f"team={unique_name}", "tier=gold"])
    assert [c["name"] for c in by_label["containers"]] == [f"{unique_name}-1", f"{unique_name}-2"]

    by_image = info(tmp_path, label=[f"team={unique_name}"], image=["*:11.1.*"])
    assert [c["name"] for c in by_image["containers"]] == [f"{unique_name}-0", f"{unique_name}-1"]

    docker_only = info(tmp_path, name=[unique_name + "-*"], gather_db2=False)
    assert all(c["db2level"] is None and c["hadr"] is None for c in docker_only["containers"])

    without_hadr = info(tmp_path, name=[unique_name + "-*"], gather_hadr=False)
    assert [(c["databases"], c["hadr"]) for c in without_hadr["containers"]] == [(["TESTDB"], None)] * 3


def test_check_mode_reports_too(tmp_path, running_db2):
    proc, result = run_module(tmp_path, "db2_container_info", {"name": [running_db2.name]}, check=True)
    assert result["containers"][0]["db2level"]["level"] == "11.1.3.3a"


def test_unknown_container_is_a_clear_error(tmp_path, docker_client, unique_name):
    result = info(tmp_path, name=[unique_name + "-missing"])
    assert result["failed"]
    assert result["msg"] == f"container {unique_name}-missing does not exist. Nothing was changed."


def test_container_that_is_not_db2(tmp_path, docker_client, containers, unique_name):
    containers.run("db2ops/base:bookworm", unique_name + "-web", command=["sleep", "300"])
    result = info(tmp_path, name=[unique_name + "-web"])
    assert result["failed"]
    assert f"container {unique_name}-web (image db2ops/base:bookworm) is not a Db2 container" in result["msg"]


def test_stopped_container(tmp_path, running_db2):
    running_db2.stop(timeout=10)
    result = info(tmp_path, name=[running_db2.name])
    assert result["failed"]
    assert f"container {running_db2.name} is not running (state: exited)" in result["msg"]

    listed = info(tmp_path, name=[running_db2.name], all=True)
    (c,) = listed["containers"]
    assert (c["state"], c["running"], c["db2level"], c["active_databases"]) == ("exited", False, None, [])
    assert c["hadr"] is None  # not read: Db2 does not run
    assert c["storage"]["destination"] == "/database"


def test_daemon_down(tmp_path):
    result = info(tmp_path, docker_host="unix:///run/db2ops-no-such.sock")
    assert result["failed"]
    assert result["msg"] == ("Cannot reach the Docker daemon at unix:///run/db2ops-no-such.sock (connection refused "
                             "or no socket); check that dockerd runs there. Nothing was changed.")


class TestTlsDaemon:
    """A dockerd with --tlsverify on 127.0.0.1: right certificates work, anything else is refused."""

    def args(self, daemon, **overrides):
        tls = daemon.tls
        args = {"docker_host": f"tcp://{daemon.tcp}", "ca_path": tls["ca"], "client_cert": tls["client"],
                "client_key": tls["client_key"]}
        args.update(overrides)
        return {k: v for k, v in args.items() if v is not None}

    def test_verified_tls_works(self, tmp_path, tls_daemon):
        result = info(tmp_path, **self.args(tls_daemon))
        assert not result.get("failed"), result
        assert result["containers"] == []

    def test_tls_from_docker_env(self, tmp_path, tls_daemon):
        certs = tmp_path / "certs"
        certs.mkdir()
        for src, dst in (("ca", "ca.pem"), ("client", "cert.pem"), ("client_key", "key.pem")):
            (certs / dst).write_bytes(open(tls_daemon.tls[src], "rb").read())
        env = {"DOCKER_HOST": f"tcp://{tls_daemon.tcp}", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
        proc, result = run_module(tmp_path, "db2_container_info", {}, env=env)
        assert not result.get("failed"), result

    def test_wrong_ca_is_refused(self, tmp_path, tls_daemon):
        result = info(tmp_path, **self.args(tls_daemon, ca_path=tls_daemon.tls["other-ca"]))
        assert result["failed"]
        assert result["msg"].startswith(f"TLS verification of the Docker daemon at tcp://{tls_daemon.tcp} failed")

    def test_missing_client_certificate_is_refused(self, tmp_path, tls_daemon):
        result = info(tmp_path, **self.args(tls_daemon, client_cert=None, client_key=None))
        assert result["failed"]
        assert f"tcp://{tls_daemon.tcp}" in result["msg"] and "Nothing was changed." in result["msg"]

    def test_plain_tcp_to_tls_daemon_says_so(self, tmp_path, tls_daemon):
        result = info(tmp_path, docker_host=f"tcp://{tls_daemon.tcp}", tls=False)
        assert result["failed"]
        assert "speaks TLS" in result["msg"]

    def test_no_ca_means_no_connection(self, tmp_path, tls_daemon):
        result = info(tmp_path, docker_host=f"tcp://{tls_daemon.tcp}")
        assert result["failed"]
        assert "needs ca_path" in result["msg"]
