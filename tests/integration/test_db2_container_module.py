"""db2ops.docker.db2_container: the cookbook's `docker run` as a state, against real stand-in containers."""
from __future__ import annotations

import json
import os

import pytest
from conftest import run_db2
from playbook import run_module

PASSWORD = "Cookbook-Pw-7719"


@pytest.fixture
def names(docker_client, unique_name, storage):
    """The container name and its storage; every container named after the test removed afterwards."""
    yield unique_name, str(storage)
    for container in docker_client.containers.list(all=True, filters={"name": unique_name}):
        container.remove(force=True)


def args(name, storage, image, /, **extra):
    base = {"name": name, "image": image, "storage": storage, "accept_license": True, "password": PASSWORD,
            "database": "TESTDB", "hostname": "db2server", "ports": ["50000"], "privileged": False,
            "env": {"STANDIN_SETUP_SECONDS": "1"}, "ready_timeout": 120}
    base.update(extra)
    return base


def test_started_creates_waits_and_is_idempotent(tmp_path, docker_client, standin_images, names):
    name, storage = names
    plan = run_module(tmp_path, "db2_container", args(name, storage, standin_images["11.1.4.4"]), check=True)[1]
    assert plan["changed"] is True and not plan.get("failed"), plan
    (command,) = plan["commands"]
    assert command.startswith("docker run -d --name %s -h db2server --restart unless-stopped -p 50000" % name)
    assert "-e DB2INST1_PASSWORD=********" in command and f"-v {storage}:/database" in command
    assert not docker_client.containers.list(all=True, filters={"name": name}), "check mode created nothing"

    proc, result = run_module(tmp_path, "db2_container", args(name, storage, standin_images["11.1.4.4"]), diff=True)
    assert result["changed"] is True and not result.get("failed"), result
    assert PASSWORD not in proc.stdout + proc.stderr + json.dumps(result), "the password is never shown"
    container = docker_client.containers.get(name)
    assert container.status == "running" and container.attrs["Config"]["Hostname"] == "db2server"
    assert result["container"]["storage"]["source"] == storage
    assert result["container"]["env"]["DB2INST1_PASSWORD"] == "********"
    rc, out = run_db2(container, 'db2 connect to TESTDB >/dev/null && db2 -x "values 42"')
    assert rc == 0 and out.split() == ["42"], "the task returned only when Db2 answered"

    again = run_module(tmp_path, "db2_container", args(name, storage, standin_images["11.1.4.4"]))[1]
    assert again["changed"] is False and again["drift"] == [] and again["commands"] == [], again


def test_drift_is_reported_never_recreated(tmp_path, docker_client, standin_images, names):
    name, storage = names
    assert not run_module(tmp_path, "db2_container", args(name, storage, standin_images["11.1.4.4"]))[1].get("failed")
    before = docker_client.containers.get(name).id
    drifted = run_module(tmp_path, "db2_container", args(
        name, storage, standin_images["11.5.8.0"], password="Other-Pw-1", env={"STANDIN_SETUP_SECONDS": "3"}))[1]
    assert drifted["changed"] is False and not drifted.get("failed"), drifted
    drift = " | ".join(drifted["drift"])
    assert "the task asks for %s (use db2ops.docker.db2_container_upgrade)" % standin_images["11.5.8.0"] in drift
    assert "environment DB2INST1_PASSWORD differs" in drift and "Other-Pw-1" not in json.dumps(drifted)
    assert "environment STANDIN_SETUP_SECONDS differs (1, the task asks for 3)" in drift
    assert docker_client.containers.get(name).id == before


def test_second_container_on_a_used_storage_is_refused(tmp_path, docker_client, standin_images, names):
    name, storage = names
    assert not run_module(tmp_path, "db2_container", args(name, storage, standin_images["11.1.4.4"]))[1].get("failed")
    docker_client.containers.get(name).stop(timeout=20)  # a stopped owner still owns its storage
    second = run_module(tmp_path, "db2_container", args(name + "-two", storage, standin_images["11.1.4.4"]))[1]
    assert second["failed"] and second["changed"] is False
    assert f"storage {storage} is already used by container(s) {name} (exited)" in second["msg"], second["msg"]
    assert not docker_client.containers.list(all=True, filters={"name": name + "-two"})


def test_stopped_started_absent_keep_the_storage(tmp_path, docker_client, standin_images, names):
    name, storage = names
    assert not run_module(tmp_path, "db2_container", args(name, storage, standin_images["11.1.4.4"]))[1].get("failed")
    stopped = run_module(tmp_path, "db2_container", {"name": name, "state": "stopped", "stop_timeout": 20})[1]
    assert stopped["changed"] is True and stopped["container"]["running"] is False, stopped
    started = run_module(tmp_path, "db2_container", {"name": name, "ready_timeout": 120})[1]
    assert started["changed"] is True and started["commands"] == [f"docker start {name}"], started
    rc, _out = run_db2(docker_client.containers.get(name), "db2 connect to TESTDB")
    assert rc == 0, "started means Db2 answers again"
    gone = run_module(tmp_path, "db2_container", {"name": name, "state": "absent"})[1]
    assert gone["changed"] is True and gone["container"] is None
    assert not docker_client.containers.list(all=True, filters={"name": name})
    assert os.path.isdir(os.path.join(storage, "config", "db2inst1")), "the instance stays on the storage"
    assert run_module(tmp_path, "db2_container", {"name": name, "state": "absent"})[1]["changed"] is False


@pytest.mark.parametrize("extra, message", [
    ({"name": "db2\nserver"}, "Option name contains a newline"),
    ({"ports": ["50000:50000;id"]}, "Option ports must be [IP:][HOST_PORT:]CONTAINER_PORT"),
    ({"env": {"LICENSE": "accept"}}, "Option env sets LICENSE, which has an option of its own"),
    ({"accept_license": False}, "Option accept_license must be true to create a Db2 container"),
    ({"storage": "$(id)"}, "Option storage must be an absolute host path or a volume name"),
    ({"database": "TESTDB\n"}, "Option database contains a newline"),
    ({"ready_timeout": 0}, "Option ready_timeout must be a number of seconds above 0"),
])
def test_bad_input_changes_nothing(tmp_path, docker_client, standin_images, names, extra, message):
    name, storage = names
    result = run_module(tmp_path, "db2_container", args(name, storage, standin_images["11.1.4.4"], **extra))[1]
    assert result["failed"] and result["changed"] is False and message in result["msg"], result
    assert "\n" not in result["msg"] and "nothing was changed" in result["msg"].lower()
    assert not docker_client.containers.list(all=True, filters={"name": name})
    assert os.listdir(storage) == []
