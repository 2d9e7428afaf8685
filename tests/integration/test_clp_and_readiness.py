"""module_utils against real stand-in containers: CLP scripts over docker exec, and readiness."""
from __future__ import annotations

import pytest
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log

from ansible_collections.db2ops.docker.plugins.module_utils._db2 import clp as db2_clp
from ansible_collections.db2ops.docker.plugins.module_utils._db2 import target as db2_container
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import ContainerExited, DockerOperationError


def start(containers, image, name, storage, **env):
    return containers.run(image, name, environment=BASE_DB2_ENV | FAST_SETUP_ENV | env,
                          volumes={str(storage): {"bind": "/database", "mode": "rw"}})


@pytest.fixture
def db2(standin_images, containers, storage, unique_name, docker_client):
    container = start(containers, standin_images["11.1.4.4"], unique_name, storage, DBNAME="TESTDB")
    db2_container.wait_until_ready(docker_client.api, container.id, timeout=120)
    return container


@pytest.fixture
def clp(db2, docker_client):
    return db2_clp.Db2Clp(docker_client.api, db2.id, "db2inst1", timeout=60)


def test_script_runs_in_one_session_with_rows(clp):
    results = clp.run_script([
        "CONNECT TO TESTDB",
        "CREATE TABLE T1 (ID INTEGER, NAME VARCHAR(20))",
        "INSERT INTO T1 VALUES (1, 'it''s; fine'), (2, NULL)",
        "SELECT ID, NAME FROM T1 ORDER BY ID",
        "CONNECT RESET",
    ])
    assert [r.rc for r in results] == [0, 0, 0, 0, 0]
    assert results[3].rows == [{"ID": "1", "NAME": "it's; fine"}, {"ID": "2", "NAME": None}]


def test_error_stops_the_script_and_carries_the_db2_message(clp):
    with pytest.raises(db2_clp.Db2Error) as err:
        clp.run_script(["CONNECT TO TESTDB", "SELECT * FROM NOPE", "CREATE TABLE NEVER (I INTEGER)"])
    assert err.value.code == "SQL0204N" and err.value.sqlcode == -204
    assert "SELECT * FROM NOPE failed: SQL0204N" in str(err.value)
    # The statement after the failing one did not run.
    check = clp.run_script(["CONNECT TO TESTDB", "SELECT * FROM NEVER"], stop_on_error=False)
    assert check[1].error.code == "SQL0204N"


def test_no_rows_and_unknown_database(clp):
    (connect, select) = clp.run_script(["CONNECT TO TESTDB", "SELECT 1 FROM SYSIBM.SYSDUMMY1 WHERE 1 = 0"])
    assert select.rc == db2_clp.RC_NO_ROWS and select.rows == []
    with pytest.raises(db2_clp.Db2Error) as err:
        clp.run("CONNECT TO NODB")
    assert err.value.code == "SQL1013N"


def test_password_is_checked_and_never_echoed(clp):
    good = clp.run_script(["CONNECT TO TESTDB USER db2inst1 USING " + BASE_DB2_ENV["DB2INST1_PASSWORD"]])
    assert good[0].statement == "CONNECT TO TESTDB USER db2inst1 USING ********"
    with pytest.raises(db2_clp.Db2Error) as err:
        clp.run("CONNECT TO TESTDB USER db2inst1 USING wrong-password")
    assert err.value.code == "SQL30082N"
    assert "wrong-password" not in str(err.value)


def test_facts_in_one_exec(db2, docker_client):
    facts = db2_container.db2_facts(docker_client.api, docker_client.api.inspect_container(db2.id))
    assert facts["db2level"]["level"] == "11.1.4.4"
    assert (facts["instance_started"], facts["active_databases"], facts["databases"]) == (True, ["TESTDB"], ["TESTDB"])


def test_ready_waits_for_setup_and_probe(standin_images, containers, storage, unique_name, docker_client):
    container = start(containers, standin_images["11.1.3.3a"], unique_name, storage, DBNAME="TESTDB",
                      STANDIN_SETUP_SECONDS="3")
    level_text = db2_container.wait_until_ready(docker_client.api, container.id, timeout=120)
    logs = container.logs().decode()
    assert "(*) Setup has completed." in logs
    # The probe's own db2level answer: what the upgrade verifies without another exec.
    assert db2_clp.parse_db2level(level_text)["level"] == "11.1.3.3a"
    facts = db2_container.db2_facts(docker_client.api, docker_client.api.inspect_container(container.id))
    assert facts["active_databases"] == ["TESTDB"]


def test_failing_setup_is_reported_with_its_log(standin_images, containers, storage, unique_name, docker_client):
    container = start(containers, standin_images["failsetup"], unique_name, storage)
    with pytest.raises(ContainerExited) as err:
        db2_container.wait_until_ready(docker_client.api, container.id, timeout=60)
    assert "stopped (exit code 1)" in str(err.value)
    assert "DBI1069E" in str(err.value) or "(!)" in str(err.value)


def test_never_ready_times_out(standin_images, containers, storage, unique_name, docker_client):
    container = start(containers, standin_images["neverready"], unique_name, storage)
    wait_for_log(container, "(*)")
    with pytest.raises(DockerOperationError) as err:
        db2_container.wait_until_ready(docker_client.api, container.id, timeout=4)
    assert "did not log" in str(err.value) and "within 4s" in str(err.value)
