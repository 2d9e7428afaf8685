"""The README's inventories and play run as written (only the container name and unreachable example
hosts replaced), so the documentation cannot drift from the code."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log
from playbook import REPO, ansible_env, run_playbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from doc_snippets import snippets  # noqa: E402

README = {text.split("\n", 1)[0]: (data, text) for document, data, text in snippets() if document == "README.md"}


def readme(first_line_start: str):
    (found,) = [v for k, v in README.items() if k.startswith(first_line_start)]
    return found


@pytest.fixture(scope="module")
def db2server(docker_client, standin_images):
    """A Db2 container labelled env=prod, standing in for the README's `db2server`."""
    import uuid
    name = "db2ops-t-doc-" + uuid.uuid4().hex[:8]
    container = docker_client.containers.run(standin_images["11.1.4.4"], name=name, detach=True,
                                             labels={"env": "prod"}, environment=BASE_DB2_ENV | FAST_SETUP_ENV)
    try:
        wait_for_log(container, "(*) Setup has completed.")
        yield name
    finally:
        container.remove(force=True, v=True)


def test_container_inventory_runs_report_as_written(tmp_path, db2server):
    _data, text = readme("# inventory/db2.yml")
    data = yaml.safe_load(text.replace("db2server", db2server))
    hosts = data["db2_containers"]["hosts"]
    for name in [n for n, v in hosts.items() if v["db2ops_docker_host"].startswith("tcp://")]:
        del hosts[name]  # the example's remote daemon does not exist here
    assert list(hosts) == [db2server]
    inventory = tmp_path / "db2.yml"
    inventory.write_text(yaml.safe_dump(data))
    proc = run_playbook(REPO / "playbooks" / "report.yml", str(inventory),
                        extra_vars={"db2_report_dir": str(tmp_path), "db2_report_name": "doc"})
    assert proc.returncode == 0, proc.stdout[-3000:]
    (row,) = json.loads((tmp_path / "doc.json").read_text())["rows"]
    assert row["container"] == db2server and row["level"] == "11.1.4.4" and row["drift"] == "current"


def test_docker_host_inventory_has_the_groups_the_table_names(tmp_path):
    _data, text = readme("# inventory/docker.yml")
    inventory = tmp_path / "docker.yml"
    inventory.write_text(text)
    listed = json.loads(subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory),
                                        "--list"], capture_output=True, text=True, env=ansible_env(), check=True).stdout)
    assert listed["docker_hosts"]["hosts"] == ["db2host1.example.com"]
    assert "docker_hosts" in listed["db2hosts"]["children"]


def test_inventory_plugin_example_finds_the_labelled_container(tmp_path, db2server):
    data, _text = readme("plugin: db2ops.docker.db2_containers")
    data["docker_hosts"] = [h for h in data["docker_hosts"] if not h["docker_host"].startswith("tcp://")]
    data.pop("cache", None)
    config = tmp_path / "fleet.db2_containers.yml"
    config.write_text(yaml.safe_dump(data))
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(config), "--list"],
                          capture_output=True, text=True, env=ansible_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    hosts = listed["_meta"]["hostvars"]
    (host,) = [h for h in hosts if h.startswith(db2server + "@")]
    value = hosts[host]["db2_container"]  # daemon data is marked unsafe: --list shows it so
    assert (value.get("__ansible_unsafe") if isinstance(value, dict) else value) == db2server
    assert host in listed["env_prod"]["hosts"], "keyed_groups of the example made the env group"


def test_readme_play_passes_syntax_check(tmp_path):
    _data, text = readme("- name: Report every Db2 container on a Docker host")
    play = tmp_path / "play.yml"
    play.write_text(text)
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "--syntax-check", "-i", "localhost,",
                           str(play)], capture_output=True, text=True, env=ansible_env(), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_first_step_runs_as_written(tmp_path, docker_client, standin_images):
    """The cookbook's first step from the README, with the stand-in for IBM's image (which needs no
    --privileged, which this machine cannot give) and a container name of the test's own."""
    import uuid
    _data, text = readme("- name: Run Db2 as the cookbook does")
    name = "db2ops-t-first-" + uuid.uuid4().hex[:8]
    play = yaml.safe_load(text.replace("db2server", name).replace("/home/db2fs", str(tmp_path / "db2fs"))
                          .replace("icr.io/db2_community/db2:11.5.9.0", standin_images["11.5.8.0"]))
    task = play[0]["tasks"][0]["db2ops.docker.db2_container"]
    task.update(privileged=False, ports=["50000"], env={"STANDIN_SETUP_SECONDS": "1"})
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    try:
        proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), str(tmp_path / "play.yml"),
                               "-e", "vault_db2inst1_password=Readme-Pw-1"], capture_output=True, text=True,
                              env=ansible_env(), check=False)
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert docker_client.containers.get(name).status == "running"
        again = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), str(tmp_path / "play.yml"),
                                "-e", "vault_db2inst1_password=Readme-Pw-1"], capture_output=True, text=True,
                               env=ansible_env(), check=False)
        assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]
    finally:
        for container in docker_client.containers.list(all=True, filters={"name": name}):
            container.remove(force=True)
