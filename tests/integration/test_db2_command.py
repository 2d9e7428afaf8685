"""db2ops.docker.db2_command through ansible-playbook against one stand-in container."""
from __future__ import annotations

import shutil
import tempfile
import uuid

import pytest
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log
from playbook import run_module

PASSWORD = BASE_DB2_ENV["DB2INST1_PASSWORD"]


@pytest.fixture(scope="module")
def db2(docker_client, standin_images):
    storage = tempfile.mkdtemp(prefix="db2ops-cmd-")
    container = docker_client.containers.run(
        standin_images["11.1.4.4"], name="db2ops-t-cmd-" + uuid.uuid4().hex[:8], detach=True,
        environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB"}, volumes={storage: {"bind": "/database"}})
    try:
        wait_for_log(container, "(*) Setup has completed.")
        yield container
    finally:
        container.remove(force=True)
        shutil.rmtree(storage, ignore_errors=True)


def command(tmp_path, **args):
    return run_module(tmp_path, "db2_command", args, check=args.pop("_check", False))[1]


def test_statements_in_one_session_with_rows(tmp_path, db2):
    result = command(tmp_path, container=db2.name, database="TESTDB", statements=[
        "CREATE TABLE CMD1 (ID INTEGER, NAME VARCHAR(20))",
        "INSERT INTO CMD1 VALUES (1, 'one')",
        "SELECT ID, NAME FROM CMD1"])
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert [r["statement"] for r in result["results"]] == [
        "CONNECT TO TESTDB", "CREATE TABLE CMD1 (ID INTEGER, NAME VARCHAR(20))", "INSERT INTO CMD1 VALUES (1, 'one')",
        "SELECT ID, NAME FROM CMD1", "CONNECT RESET"]
    assert result["results"][3]["rows"] == [{"ID": "1", "NAME": "one"}]


def test_error_fails_with_the_db2_message(tmp_path, db2):
    result = command(tmp_path, container=db2.name, database="TESTDB", statements=["SELECT * FROM NOPE"])
    assert result["failed"]
    assert "SQL0204N" in result["msg"] and result["sqlcode"] == -204


def test_password_masked_everywhere(tmp_path, db2):
    statement = f"CONNECT TO TESTDB USER db2inst1 USING {PASSWORD}"
    result = command(tmp_path, container=db2.name, statements=[statement, "CONNECT RESET"], secrets=[PASSWORD],
                     changed=False)
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert PASSWORD not in str(result)
    assert result["results"][0]["statement"] == "CONNECT TO TESTDB USER db2inst1 USING ********"


def test_check_mode_runs_nothing(tmp_path, db2):
    result = command(tmp_path, container=db2.name, database="TESTDB", statements=["CREATE TABLE CHECKED (I INTEGER)"],
                     _check=True)
    assert result["changed"] is True and result["results"] == []
    after = command(tmp_path, container=db2.name, database="TESTDB", statements=["SELECT * FROM CHECKED"])
    assert after["failed"] and "SQL0204N" in after["msg"]


def test_missing_container(tmp_path, docker_client):
    result = command(tmp_path, container="db2ops-t-no-such", statements=["LIST ACTIVE DATABASES"])
    assert result["failed"] and result["msg"] == "container db2ops-t-no-such does not exist. Nothing was run."
