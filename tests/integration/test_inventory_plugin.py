"""Inventory plugin db2ops.docker.db2_containers against a real fleet: stand-in Db2 containers on the
main daemon and on a second dockerd with --tlsverify, read by real `ansible-inventory`, then
playbooks/upgrade.yml run against that dynamic inventory."""
from __future__ import annotations

import json
import os
import subprocess
import uuid

import docker
import pytest
import yaml

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, images_locked, wait_for_log
from playbook import BIN, REPO, ansible_env, run_playbook

OLD, NEW = "11.1.3.3a", "11.1.4.4"


def unwrap(value):
    """ansible-inventory marks strings from inventory plugins as {"__ansible_unsafe": "..."}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def start(client, image, name, storage, labels=None):
    container = client.containers.create(
        image, name=name, hostname=name, labels=labels or {},
        environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB"},
        volumes={str(storage): {"bind": "/database", "mode": "rw"}})
    container.start()
    return container


@pytest.fixture(scope="module")
def fleet(standin_images, docker_client, tls_daemon, tmp_path_factory):
    """a1 (old level) and a2 (new level) on the main daemon, a1 again (old level) on the TLS daemon."""
    prefix = "db2ops-t-inv" + uuid.uuid4().hex[:6]
    remote = docker.DockerClient(base_url=tls_daemon.unix_url, timeout=120)
    for level in (OLD, NEW):  # the TLS daemon has no registry to pull from: save and load over the API
        tag = standin_images[level]
        remote.images.load(b"".join(docker_client.images.get(tag).save(named=tag)))
    started = []
    try:
        with images_locked("standin"):
            started.append(start(docker_client, standin_images[OLD], f"{prefix}-a1",
                                 tmp_path_factory.mktemp("inv-a1"), labels={"team": "red"}))
            started.append(start(docker_client, standin_images[NEW], f"{prefix}-a2",
                                 tmp_path_factory.mktemp("inv-a2"), labels={"team": "blue"}))
        started.append(start(remote, standin_images[OLD], f"{prefix}-a1", tmp_path_factory.mktemp("inv-b1"),
                             labels={"team": "red"}))
        for container in started:
            wait_for_log(container, "(*) Setup has completed.")
        tls = tls_daemon.tls
        yield {"prefix": prefix, "remote": remote, "tls_host": f"tcp://{tls_daemon.tcp}", "tls": tls,
               "main": started[0:2], "tls_container": started[2], "images": standin_images}
    finally:
        for client in (docker_client, remote):
            for leftover in client.containers.list(all=True, filters={"name": prefix}):
                leftover.remove(force=True, v=True)
        remote.close()


def config(fleet, **options):
    tls = fleet["tls"]
    data = {
        "plugin": "db2ops.docker.db2_containers",
        "docker_hosts": [
            {"docker_host": "unix:///var/run/docker.sock"},
            {"docker_host": fleet["tls_host"], "alias": "tlsd", "ca_path": tls["ca"],
             "client_cert": tls["client"], "client_key": tls["client_key"]},
        ],
        "containers": [fleet["prefix"] + "-*"],
        "host_name": "{container}@{alias}",
    }
    data.update(options)
    return data


def inventory(tmp_path, data, *args, name="fleet.db2_containers.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    env = {"ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1"}
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(path), *(args or ("--list",))],
                          capture_output=True, text=True, env=ansible_env(env), cwd=REPO, check=False)
    listed = unwrap(json.loads(proc.stdout)) if proc.returncode == 0 and "--list" in (args or ("--list",)) else None
    return proc, listed, path


def members(listed, group):
    return sorted(listed.get(group, {}).get("hosts", []))


# ansible-core 2.19 no longer templates inventory strings by itself; 2.17 (our minimum) did, and only
# wrap_var in the plugin stops it there. Set DB2OPS_TEST_OLD_ANSIBLE_BIN to the bin directory of a venv
# with ansible-core 2.17 (and docker, pyyaml) to prove that too.
OLD_ANSIBLE_BIN = os.environ.get("DB2OPS_TEST_OLD_ANSIBLE_BIN")


@pytest.mark.parametrize("bin_dir", [str(BIN), pytest.param(OLD_ANSIBLE_BIN, marks=pytest.mark.skipif(
    not OLD_ANSIBLE_BIN, reason="DB2OPS_TEST_OLD_ANSIBLE_BIN not set"))], ids=["venv", "old-ansible"])
def test_daemon_strings_are_never_templated_on_the_controller(tmp_path, docker_client, standin_images, bin_dir):
    """A label on any scanned daemon is data: a Jinja lookup in it must print as text, never run."""
    prefix = "db2ops-t-invunsafe" + uuid.uuid4().hex[:6]
    marker = tmp_path / ("pwned-" + uuid.uuid4().hex)
    evil = "{{ lookup('pipe', 'touch %s') }}" % marker
    with images_locked("standin"):  # created, never started: the labels are all the scan needs
        container = docker_client.containers.create(standin_images[OLD], name=prefix, labels={"note": evil},
                                                    environment=BASE_DB2_ENV)
    try:
        data = {"plugin": "db2ops.docker.db2_containers", "docker_hosts": [{"docker_host": "unix:///var/run/docker.sock"}],
                "containers": [prefix], "include_stopped": True, "gather_db2": False,
                "compose": {"db2_note": "db2_labels.note"},
                "keyed_groups": [{"key": "db2_labels.note", "prefix": "note"}]}
        path = tmp_path / "unsafe.db2_containers.yml"
        path.write_text(yaml.safe_dump(data))
        play = tmp_path / "print.yml"
        play.write_text(yaml.safe_dump([{"hosts": "db2_containers", "gather_facts": False, "tasks": [
            {"ansible.builtin.debug": {"msg": "LABEL=[{{ db2_labels.note }}] COMPOSED=[{{ db2_note }}]"}}]}]))
        proc = subprocess.run([os.path.join(bin_dir, "ansible-playbook"), "-i", str(path), str(play)],
                              capture_output=True, text=True, env=ansible_env(), cwd=REPO, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "LABEL=[%s] COMPOSED=[%s]" % (evil, evil) in proc.stdout.replace('\\"', '"')
        assert not marker.exists()
    finally:
        container.remove(force=True)
    assert not marker.exists()


def test_hosts_groups_and_the_vars_the_roles_read(tmp_path, fleet):
    p = fleet["prefix"]
    data = config(fleet, keyed_groups=[{"key": "db2_labels.team", "prefix": "team"}],
                  groups={"behind": "db2_level != '11.1.4.4'"},
                  compose={"db2_first_database": "db2_databases | first"})
    proc, listed, _path = inventory(tmp_path, data)
    assert proc.returncode == 0, proc.stderr
    a1, a2, b1 = f"{p}-a1@local", f"{p}-a2@local", f"{p}-a1@tlsd"
    assert sorted(listed["db2_containers"]["hosts"]) == sorted([a1, a2, b1])
    assert set(listed["db2_containers"]["children"]) >= {
        "db2_level_11_1_3_3a", "db2_level_11_1_4_4", "db2_version_11_1", "docker_host_local", "docker_host_tlsd"}
    assert members(listed, "db2_level_11_1_3_3a") == sorted([a1, b1])
    assert members(listed, "db2_level_11_1_4_4") == [a2]
    assert members(listed, "docker_host_tlsd") == [b1]
    assert members(listed, "docker_host_local") == sorted([a1, a2])
    image_group = "db2_image_" + fleet["images"][OLD].replace("/", "_").replace(":", "_").replace(".", "_").replace(
        "-", "_").lower()
    assert members(listed, image_group) == sorted([a1, b1])
    # constructed: keyed_groups, groups and compose over the host vars
    assert members(listed, "team_red") == sorted([a1, b1]) and members(listed, "team_blue") == [a2]
    assert members(listed, "behind") == sorted([a1, b1])

    hostvars = listed["_meta"]["hostvars"]
    local, remote = hostvars[a1], hostvars[b1]
    main_a1 = fleet["main"][0]
    assert local["db2_container"] == main_a1.name
    assert local["db2ops_docker_host"] == "unix:///var/run/docker.sock"
    assert not any(k.startswith("db2ops_docker_c") for k in local), "no TLS files for a socket"
    assert local["ansible_connection"] == "local"
    assert local["ansible_python_interpreter"].startswith(str(BIN))
    assert (local["db2_level"], local["db2_version"], local["db2_state"]) == (OLD, "11.1.3.3", "running")
    assert local["db2_db2level"]["code_release"] == "SQL11013"
    assert local["db2_image"] == fleet["images"][OLD] and local["db2_image_id"] == main_a1.image.id
    assert local["db2_container_id"] == main_a1.id
    assert local["db2_storage"] == main_a1.attrs["Mounts"][0]["Source"]
    assert local["db2_databases"] == ["TESTDB"] and local["db2_active_databases"] == ["TESTDB"]
    assert local["db2_first_database"] == "TESTDB"
    assert local["db2_facts_error"] is None
    tls = fleet["tls"]
    assert remote["db2_container"] == main_a1.name  # same container name, other daemon
    assert remote["db2ops_docker_host"] == fleet["tls_host"]
    assert (remote["db2ops_docker_ca_path"], remote["db2ops_docker_client_cert"],
            remote["db2ops_docker_client_key"]) == (tls["ca"], tls["client"], tls["client_key"])
    assert remote["db2ops_docker_validate_certs"] is True
    assert remote["db2_container_id"] == fleet["tls_container"].id
    assert BASE_DB2_ENV["DB2INST1_PASSWORD"] not in proc.stdout

    graph = inventory(tmp_path, data, "--graph")[0]
    assert graph.returncode == 0, graph.stderr
    assert "@db2_containers:" in graph.stdout and "|--@db2_level_11_1_4_4:" in graph.stdout
    assert f"|  |  |--{b1}" in graph.stdout


def test_same_container_name_on_two_daemons_needs_the_alias(tmp_path, fleet):
    proc, _listed, path = inventory(tmp_path, config(fleet, host_name="{container}"))
    assert proc.returncode != 0
    assert (f"containers {fleet['prefix']}-a1 on tlsd and {fleet['prefix']}-a1 on local both become inventory host "
            f"{fleet['prefix']}-a1: set host_name to \"{{container}}@{{alias}}\"") in " ".join(proc.stderr.split())


def test_bad_source_is_one_clear_line(tmp_path, fleet):
    data = config(fleet)
    data["docker_hosts"].append({"docker_host": fleet["tls_host"], "alias": "tlsd", "ca_file": "x"})
    proc = inventory(tmp_path, data)[0]
    assert proc.returncode != 0
    assert "docker_hosts[2] (" + fleet["tls_host"] + "): unknown key ca_file" in proc.stderr


def test_unreachable_daemon_is_an_error_or_skipped_with_a_warning(tmp_path, fleet):
    data = config(fleet)
    data["docker_hosts"].append({"docker_host": "unix:///run/db2ops-no-such.sock", "alias": "gone"})
    proc = inventory(tmp_path, data)[0]
    assert proc.returncode != 0
    assert ("Docker host gone (unix:///run/db2ops-no-such.sock): Cannot reach the Docker daemon at "
            "unix:///run/db2ops-no-such.sock (connection refused or no socket)") in " ".join(proc.stderr.split())

    proc, listed, _path = inventory(tmp_path, dict(data, on_unreachable="skip"))
    assert proc.returncode == 0, proc.stderr
    assert "Docker host gone" in proc.stderr and "left out of the inventory" in proc.stderr
    assert len(listed["db2_containers"]["hosts"]) == 3


def test_second_run_reads_the_cache(tmp_path, fleet, docker_client, standin_images, tmp_path_factory):
    """A container removed after the first run is still listed from the cache until it is flushed
    (a cache written for other options is a miss: tests/unit/test_fleet.py)."""
    name = fleet["prefix"] + "-cached"
    with images_locked("standin"):
        extra = start(docker_client, standin_images[NEW], name, tmp_path_factory.mktemp("inv-c"))
    wait_for_log(extra, "(*) Setup has completed.")
    cache_dir = tmp_path / "cache"
    data = config(fleet, containers=[name], cache=True, cache_plugin="ansible.builtin.jsonfile",
                  cache_connection=str(cache_dir), cache_timeout=600)
    first = inventory(tmp_path, data)[1]
    assert first["db2_containers"]["hosts"] == [name + "@local"]
    assert len(list(cache_dir.iterdir())) == 1
    extra.remove(force=True, v=True)

    cached = inventory(tmp_path, data)[1]
    assert cached["db2_containers"]["hosts"] == [name + "@local"]
    assert cached["_meta"]["hostvars"][name + "@local"]["db2_container_id"] == extra.id

    flushed = inventory(tmp_path, data, "--list", "--flush-cache")[1]
    assert not flushed.get("db2_containers", {}).get("hosts")


def test_upgrade_playbook_runs_on_the_dynamic_inventory(tmp_path, fleet):
    """The two old containers (one per daemon) are upgraded, the current one is left alone."""
    p = fleet["prefix"]
    _proc, _listed, path = inventory(tmp_path, config(fleet))
    report = tmp_path / "upgrade.json"
    proc = run_playbook(REPO / "playbooks" / "upgrade.yml", str(path),
                        extra_vars={"db2_target_image": fleet["images"][NEW], "db2_upgrade_report": str(report)},
                        env={"ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    rows = {row["host"]: row for row in json.loads(report.read_text())}
    assert {h: (r["from"], r["to"], r["result"]) for h, r in rows.items()} == {
        f"{p}-a1@local": (OLD, NEW, "upgraded"), f"{p}-a1@tlsd": (OLD, NEW, "upgraded"),
        f"{p}-a2@local": (NEW, NEW, "unchanged")}
    assert rows[f"{p}-a1@tlsd"]["docker_host"] == fleet["tls_host"]
    listed = inventory(tmp_path, config(fleet))[1]
    assert members(listed, "db2_level_11_1_4_4") == sorted([f"{p}-a1@local", f"{p}-a1@tlsd", f"{p}-a2@local"])
    assert "db2_level_11_1_3_3a" not in listed
