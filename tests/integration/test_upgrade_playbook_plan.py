"""upgrade.yml as a DBA first meets it: check mode reads as a plan, `--tags` selects what it names,
and a target image that is not there is caught in the pre-flight with one clear line per host."""
from __future__ import annotations

import re
import sys
import uuid

import pytest
import yaml
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log
from playbook import REPO, run_playbook

UPGRADE = REPO / "playbooks" / "upgrade.yml"


@pytest.fixture(scope="module")
def fleet(docker_client, standin_images, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plan")
    prefix = "db2ops-t-plan-" + uuid.uuid4().hex[:6]
    made = []
    try:
        for index in (1, 2):
            made.append(docker_client.containers.run(
                standin_images["11.1.3.3a"], name=f"{prefix}-{index}", detach=True,
                environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB"},
                volumes={str(tmp / f"s{index}"): {"bind": "/database"}}))
        for container in made:
            wait_for_log(container, "(*) Setup has completed.")
        inventory = tmp / "hosts.yml"
        inventory.write_text(yaml.safe_dump({"db2_containers": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                     "db2ops_docker_host": "unix:///var/run/docker.sock"},
            "hosts": {c.name: {"db2_container": c.name} for c in made}}}))
        yield {"inventory": str(inventory), "containers": made, "images": standin_images}
    finally:
        for container in docker_client.containers.list(all=True, filters={"name": prefix}):
            container.remove(force=True)


def untouched(fleet, docker_client):
    for container in fleet["containers"]:
        now = docker_client.containers.get(container.name)
        assert now.id == container.id and now.status == "running"


def test_check_mode_reads_as_a_plan(fleet, docker_client):
    proc = run_playbook(UPGRADE, fleet["inventory"], {"db2_target_image": fleet["images"]["11.1.4.4"]}, args=("--check",))
    assert proc.returncode == 0, proc.stdout[-3000:]
    out = proc.stdout
    plan = out.split("TASK [db2ops.docker.db2_fixpack : Plan the upgrade", 1)[1].split("TASK [", 1)[0]
    assert "changed:" not in plan and plan.count("ok:") == 2, "the pre-flight plan changes nothing"
    assert out.count(": would upgrade 11.1.3.3a -> 11.1.4.4") == 2, out[-3000:]
    assert "upgraded" not in out.split("PLAY [Upgrade", 1)[1]
    assert "already runs" not in out
    untouched(fleet, docker_client)


def test_tags_select_the_preflight(fleet, docker_client):
    """`--tags db2_fixpack_preflight --check` runs the pre-flight tasks and nothing else."""
    proc = run_playbook(UPGRADE, fleet["inventory"], {"db2_target_image": fleet["images"]["11.1.4.4"]},
                        args=("--tags", "db2_fixpack_preflight", "--check"))
    assert proc.returncode == 0, proc.stdout[-3000:]
    tasks = re.findall(r"^TASK \[(.+?)\] \*+$", proc.stdout, re.M)
    assert tasks == ["A target image is given",  # tagged always: the one check every run needs
                     "Check daemon, Db2, storage space, target image and level",
                     "db2ops.docker.db2_fixpack : Plan the upgrade (daemon, Db2, target image and level, storage "
                     "not shared, room for the backup)"], proc.stdout[-3000:]
    plan = proc.stdout.split("TASK [db2ops.docker.db2_fixpack : Plan the upgrade", 1)[1]
    assert plan.count("ok: [") == 2 and "changed:" not in plan and "fatal:" not in plan
    assert "PLAY [Upgrade" in proc.stdout and "would upgrade" not in proc.stdout  # the upgrade play selects nothing
    untouched(fleet, docker_client)


@pytest.mark.parametrize("check", [True, False])
def test_a_missing_target_image_is_caught_in_the_preflight(fleet, docker_client, check):
    image = fleet["images"]["11.1.4.4"].rsplit(":", 1)[0] + ":11.5.8"  # a typo: no such tag
    proc = run_playbook(UPGRADE, fleet["inventory"], {"db2_target_image": image}, args=("--check",) if check else ())
    assert proc.returncode != 0
    line = f"image {image} is not on unix:///var/run/docker.sock and cannot be pulled"
    fatal = [entry for entry in proc.stdout.splitlines() if entry.startswith("fatal: [") and line in entry]
    assert len(fatal) == 2, proc.stdout[-3000:]  # once per container host
    assert "check the tag" in proc.stdout and "set target_level" not in proc.stdout
    assert "? -> ?" not in proc.stdout and "PLAY [Upgrade" not in proc.stdout
    untouched(fleet, docker_client)
