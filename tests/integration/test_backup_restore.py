"""db2ops.docker.db2_backup / db2_restore through ansible-playbook against one stand-in container."""
from __future__ import annotations

import shutil
import tempfile
import uuid

import pytest
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, run_db2, wait_for_log
from playbook import run_module


@pytest.fixture(scope="module")
def db2(docker_client, standin_images):
    storage = tempfile.mkdtemp(prefix="db2ops-bkp-")
    container = docker_client.containers.run(
        standin_images["11.1.4.4"], name="db2ops-t-bkp-" + uuid.uuid4().hex[:8], detach=True,
        environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB"}, volumes={storage: {"bind": "/database"}})
    try:
        wait_for_log(container, "(*) Setup has completed.")
        rc, out = run_db2(container, 'db2 connect to TESTDB >/dev/null && db2 "create table t (id int, v varchar(20))" '
                                     '&& db2 "insert into t values (1, \'original\')"')
        assert rc == 0, out
        yield container
    finally:
        container.remove(force=True)
        shutil.rmtree(storage, ignore_errors=True)


def module(tmp_path, name, check=False, **args):
    return run_module(tmp_path, name, args, check=check)[1]


def rows(container, database="TESTDB"):
    rc, out = run_db2(container, f'db2 connect to {database} >/dev/null && db2 -x "select id, v from t order by id"')
    return " ".join(out.split()) if rc == 0 else f"rc={rc}: {out}"


def test_offline_backup_then_restore_brings_data_back(tmp_path, db2):
    backup = module(tmp_path, "db2_backup", container=db2.name, databases=["testdb"], force_applications=True)
    assert not backup.get("failed"), backup
    (image,) = backup["backups"]
    assert image["mode"] == "offline" and image["database"] == "TESTDB"
    assert image["files"] == [f"/database/backup/TESTDB.0.db2inst1.DBPART000.{image['timestamp']}.001"]
    assert any(i["timestamp"] == image["timestamp"] for i in backup["images"])
    rc, out = run_db2(db2, "db2 list active databases")
    assert "TESTDB" in out, "an active database is active again after the offline backup"

    run_db2(db2, 'db2 connect to TESTDB >/dev/null && db2 "update t set v = \'changed\'" && db2 "insert into t values (2, \'new\')"')
    assert rows(db2) == "1 changed 2 new"

    restore = module(tmp_path, "db2_restore", container=db2.name, database="TESTDB", timestamp=image["timestamp"],
                     force_applications=True)
    assert not restore.get("failed"), restore
    assert restore["restored"]["rolled_forward"] is False
    assert rows(db2) == "1 original"


def test_online_backup_restores_with_rollforward(tmp_path, db2):
    backup = module(tmp_path, "db2_backup", container=db2.name, mode="online")
    assert not backup.get("failed"), backup
    assert backup["backups"][0]["mode"] == "online"
    restore = module(tmp_path, "db2_restore", container=db2.name, database="TESTDB", timestamp="latest",
                     into="COPYDB")
    assert not restore.get("failed"), restore
    assert restore["restored"]["rolled_forward"] is True and restore["restored"]["into"] == "COPYDB"
    assert rows(db2, "COPYDB") == rows(db2)


def test_reuse_within_makes_reruns_idempotent(tmp_path, db2):
    first = module(tmp_path, "db2_backup", container=db2.name, force_applications=True, reuse_within=3600)
    second = module(tmp_path, "db2_backup", container=db2.name, force_applications=True, reuse_within=3600)
    assert second["changed"] is False and second["backups"] == []
    assert [r["database"] for r in second["reused"]] == sorted({"TESTDB"} | {b["database"] for b in first["backups"]})


def test_check_mode_backs_up_nothing(tmp_path, db2):
    before = module(tmp_path, "db2_backup", container=db2.name, reuse_within=10**9)["images"]
    planned = module(tmp_path, "db2_backup", container=db2.name, check=True, force_applications=True)
    assert planned["changed"] is True and planned["backups"] == []
    assert "BACKUP DATABASE TESTDB TO /database/backup WITHOUT PROMPTING" in planned["commands"]
    assert planned["images"] == before


@pytest.mark.parametrize("args, message", [
    ({"databases": ["NOPE"]}, "database NOPE is not cataloged in container"),
    ({"path": "/database/backup;rm -rf /"}, "Option path must be an absolute path of letters"),
    ({"databases": ["TEST DB"]}, "Option databases[0] must be a Db2 database name"),
])
def test_backup_bad_input(tmp_path, db2, args, message):
    result = module(tmp_path, "db2_backup", container=db2.name, **args)
    assert result["failed"] and message in result["msg"] and "nothing was changed." in result["msg"].lower()


def test_restore_bad_input(tmp_path, db2):
    missing = module(tmp_path, "db2_restore", container=db2.name, database="TESTDB", timestamp="20000101000000")
    assert missing["failed"] and "no backup image of TESTDB taken at 20000101000000" in missing["msg"]
    bad = module(tmp_path, "db2_restore", container=db2.name, database="TESTDB", timestamp="yesterday")
    assert bad["failed"] and "Option timestamp must be a backup timestamp YYYYMMDDhhmmss or latest" in bad["msg"]
    assert rows(db2).startswith("1 ")


def test_online_backup_refused_without_archive_logging(tmp_path, standin_images, containers, storage, unique_name):
    container = containers.run(standin_images["11.1.4.4"], unique_name,
                               environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB", "ARCHIVE_LOGS": "false"},
                               volumes={str(storage): {"bind": "/database"}})
    wait_for_log(container, "(*) Setup has completed.")
    result = module(tmp_path, "db2_backup", container=container.name, mode="online")
    assert result["failed"] and "SQL2413N" in result["msg"] and result["sqlcode"] == -2413


def test_restore_into_an_existing_database_needs_replace_existing(tmp_path, db2):
    """`into:` an existing database would run REPLACE EXISTING over its data: only when asked."""
    run_db2(db2, "db2 create database OTHERDB >/dev/null && db2 connect to OTHERDB >/dev/null && "
                 "db2 \"create table keep (v varchar(10))\" && db2 \"insert into keep values ('mine')\"")
    assert not module(tmp_path, "db2_backup", container=db2.name, databases=["TESTDB"], force_applications=True).get("failed")
    for check in (True, False):
        refused = module(tmp_path, "db2_restore", container=db2.name, database="TESTDB", timestamp="latest",
                         into="OTHERDB", check=check)
        assert refused["failed"] and "database OTHERDB exists" in refused["msg"], refused
        assert "replace_existing=true" in refused["msg"] and "Nothing was changed." in refused["msg"]
    assert " ".join(run_db2(db2, 'db2 connect to OTHERDB >/dev/null && db2 -x "select v from keep"')[1].split()) == "mine"
    replaced = module(tmp_path, "db2_restore", container=db2.name, database="TESTDB", timestamp="latest",
                      into="OTHERDB", replace_existing=True)
    assert not replaced.get("failed"), replaced
    assert rows(db2, "OTHERDB") == rows(db2)
