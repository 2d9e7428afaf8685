"""db2ops.docker.db2_container_upgrade on a version upgrade (11.5 -> 12.1), through ansible-playbook,
against both readings of the stand-in (DB2_STANDIN_UPGRADE: strict = IBM's two steps, kind = the
entrypoint upgrades the databases): pre-checks, the mandatory backup, UPGRADE DATABASE, readiness,
and the way back after a fault in UPGRADE DATABASE (docs/upgrade.md, "Version upgrades").
"""
from __future__ import annotations

import pytest
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, run_db2, wait_for_log
from playbook import run_module
from test_container_upgrade import tree_digest

SETUP_DONE = "(*) Setup has completed."
OLD, NEW = "11.5.8.0", "12.1.0.0"
KEPT = "/database/config/db2inst1.db2ops-before-upgrade"


@pytest.fixture
def cleanup(docker_client, unique_name):
    """Remove every container named after the test (the module creates and renames them)."""
    yield
    for container in docker_client.containers.list(all=True, filters={"name": unique_name}):
        container.remove(force=True)


def start_old(containers, standin_images, storage, name, **env):
    container = containers.run(
        standin_images[OLD], name,
        environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB", "ARCHIVE_LOGS": "false"} | env,
        volumes={str(storage): {"bind": "/database", "mode": "rw"}}, restart_policy={"Name": "unless-stopped"})
    wait_for_log(container, SETUP_DONE)
    rc, out = run_db2(container, 'db2 connect to TESTDB >/dev/null && db2 "create table t (id int, v varchar(20))" '
                                 '&& db2 "insert into t values (1, \'before upgrade\')"')
    assert rc == 0, out
    return container


def upgrade(tmp_path, container, image, **extra):
    args = {"container": container, "image": image, "ready_timeout": 90, "stop_timeout": 20,
            "backup": {"mode": "offline"}, "post_upgrade": True} | extra
    return run_module(tmp_path, "db2_container_upgrade", args)[1]


def read_rows(container):
    rc, out = run_db2(container, 'db2 connect to TESTDB >/dev/null && db2 -x "select id, v from t order by id"')
    return rc, " ".join(out.split())


def release_level(container):
    out = run_db2(container, "db2 list db directory")[1]
    return [line.split("=")[1].strip() for line in out.splitlines() if "Database release level" in line]


@pytest.mark.parametrize("reading", ["strict", "kind"])
def test_version_upgrade_under_both_readings(tmp_path, docker_client, containers, standin_images, storage,
                                             unique_name, cleanup, reading):
    old = start_old(containers, standin_images, storage, unique_name, DB2_STANDIN_UPGRADE=reading)
    result = upgrade(tmp_path, old.name, standin_images[NEW])
    assert not result.get("failed"), result
    assert result["version_upgrade"] is True and result["to"]["level_verified"] == NEW
    steps = [s["name"] for s in result["steps"]]
    assert steps == ["precheck", "backup", "keep_instance", "rename", "stop", "create", "wait_ready",
                     "upgrade_databases", "wait_databases", "verify_level", "post_upgrade", "old_container"]
    assert result["upgraded_databases"] == ["TESTDB upgraded" if reading == "strict" else "TESTDB already upgraded"]
    # UPGRADE DATABASE brought the catalog to 12.1: no db2updv; TESTDB was active, so it is again.
    assert result["post_upgrade"] == ["binds on TESTDB", "activated TESTDB"]
    new = docker_client.containers.get(old.name)
    assert new.id != old.id
    assert read_rows(new) == (0, "1 before upgrade")
    assert release_level(new) == ["16.00"]
    # old_container=keep: the old container and the copy of the instance directory stay as a way back.
    assert docker_client.containers.get("%s_%s" % (old.name, OLD)).status == "exited"
    assert run_db2(new, "test -f %s/sqllib/.instuse && grep -c R=5 %s/sqllib/.instuse" % (KEPT, KEPT))[1].strip() == "1"


def test_version_upgrade_refuses_without_a_backup_or_with_a_pending_database(
        tmp_path, docker_client, containers, standin_images, storage, unique_name, cleanup):
    old = start_old(containers, standin_images, storage, unique_name, DB2_STANDIN_UPGRADE="strict")
    before = tree_digest(storage)
    result = upgrade(tmp_path, old.name, standin_images[NEW], backup={"mode": "none"})
    assert result["failed"] and result["changed"] is False
    assert result["msg"].endswith("a version upgrade (Db2 11.5.8.0 -> 12.1.0.0) cannot be undone without a backup: "
                                  "set backup.mode offline or online, or force_no_backup=true; nothing was changed")
    assert tree_digest(storage) == before
    # force_no_backup lets it through: the plan (check mode) has no backup step and changes nothing.
    plan = run_module(tmp_path, "db2_container_upgrade", {"container": old.name, "image": standin_images[NEW],
                                                          "backup": {"mode": "none"}, "force_no_backup": True},
                      check=True)[1]
    assert not plan.get("failed"), plan
    assert [s["name"] for s in plan["steps"] if s["status"] == "planned"] == [
        "precheck", "keep_instance", "rename", "stop", "create", "wait_ready", "upgrade_databases", "wait_databases",
        "verify_level", "post_upgrade", "old_container"]
    assert tree_digest(storage) == before
    # A database the upgrade could not take (backup pending, as db2ckupgrade would refuse).
    rc, out = run_db2(old, "db2 update db cfg for TESTDB using LOGARCHMETH1 LOGRETAIN")
    assert rc == 0, out
    before = tree_digest(storage)
    result = upgrade(tmp_path, old.name, standin_images[NEW])
    assert result["failed"] and result["changed"] is False
    assert "failed at step precheck: databases not ready for a version upgrade: TESTDB: SQL1116N" in result["msg"]
    assert result["msg"].endswith("nothing was changed")
    old.reload()
    assert old.status == "running" and old.name == unique_name
    assert tree_digest(storage) == before


def test_failed_upgrade_database_brings_the_old_container_back_with_its_data(
        tmp_path, docker_client, containers, standin_images, storage, unique_name, cleanup):
    """The fault hook fails UPGRADE DATABASE of TESTDB half way (SQL1704N reason 7): the new image has
    upgraded the instance and TESTDB's catalog, so the old image could open neither. The module puts the
    kept instance directory back, starts the old container and restores TESTDB from its backup."""
    old = start_old(containers, standin_images, storage, unique_name, DB2_STANDIN_UPGRADE="strict",
                    STANDIN_FAULT_UPGRADE_DATABASE="TESTDB")
    assert "TESTDB" in run_db2(old, "db2 list active databases")[1]
    result = upgrade(tmp_path, old.name, standin_images[NEW])
    assert result["failed"] and result["rolled_back"] is True
    assert "failed at step upgrade_databases: UPGRADE DATABASE TESTDB failed: SQL1704N" in result["msg"]
    assert result["rollback"]["status"] == "done", result["rollback"]
    detail = result["rollback"]["detail"]
    assert "/database/config/db2inst1 put back from %s" % KEPT in detail
    assert "restored TESTDB from %s" % result["backups"][0]["timestamp"] in detail
    back = docker_client.containers.get(unique_name)
    assert back.id == old.id and back.status == "running"
    assert 'Informational tokens are "DB2 v11.5.8.0"' in run_db2(back, "db2level")[1]
    assert read_rows(back) == (0, "1 before upgrade")
    assert release_level(back) == ["15.00"]
    assert "TESTDB" in run_db2(back, "db2 list active databases")[1], "active again, as before"
    assert [c.name for c in docker_client.containers.list(all=True, filters={"name": unique_name})] == [unique_name]
