"""The stand-in's Administrative Task Scheduler against IBM's documented behaviour (facts 4).

Each reading of the stand-in (strict: IBM's documentation, the default; kind: DB2_STANDIN_ATS=kind)
gets one container for the module; each test uses task names of its own.
"""
import subprocess
import time

import pytest

from conftest import shared_standin

CREATE_SYSTOOLSPACE = "CREATE TABLESPACE SYSTOOLSPACE IN IBMCATGROUP MANAGED BY AUTOMATIC STORAGE EXTENTSIZE 4"
# The cookbook's "crontab -l" query, verbatim.
CRONTAB_L = """SELECT
  SCHEDULE ||
  '    call ' || rtrim(PROCEDURE_SCHEMA) || '.' || PROCEDURE_NAME ||
  ' (' || PROCEDURE_INPUT || '); ' ||
  '-- "' || NAME || '"'
FROM
  systools.admin_task_list;
"""


def clp(container, script, options="-t +p"):
    """A CLP script on stdin as the instance owner; (rc, output)."""
    command = '. "$HOME/sqllib/db2profile" && db2 %s -f /dev/stdin' % options
    result = subprocess.run(["docker", "exec", "-i", "-u", "db2inst1", container.id, "bash", "-c", command],
                            input="CONNECT TO TESTDB;\n" + script, capture_output=True, text=True,
                            timeout=120, check=False)
    return result.returncode, result.stdout + result.stderr


def shell(container, command):
    result = container.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && ' + command], user="db2inst1")
    return result.exit_code, result.output.decode()


def add(name, schedule="5 13 * * *", proc_input="'VALUES(''RUNSTATS ON TABLE DB2INST1.T1'')'",
        procedure="'SYSPROC', 'ADMIN_CMD'"):
    return ("CALL SYSPROC.ADMIN_TASK_ADD('%s', NULL, NULL, NULL, '%s', %s, %s, NULL, NULL);\n"
            % (name, schedule, procedure, proc_input))


@pytest.fixture(scope="module", params=["strict", "kind"])
def reading(request):
    return request.param


@pytest.fixture(scope="module")
def db2(standin_images, docker_client, reading):
    with shared_standin(docker_client, standin_images["11.1.4.4"], "db2ops-t-ats",
                        DB2_STANDIN_ATS=reading) as container:
        yield container


@pytest.fixture(scope="module")
def systools(db2):
    """SYSTOOLSPACE, a table for RUNSTATS, and the scheduler on (IBM's setup steps)."""
    rc, out = clp(db2, CREATE_SYSTOOLSPACE + ";\nCREATE TABLE T1 (I INTEGER);\n")
    assert rc == 0, out
    assert shell(db2, "db2set DB2_ATS_ENABLE=YES")[0] == 0
    return db2


def test_scheduler_is_off_in_a_new_instance_unless_kind(db2, reading):
    rc, out = shell(db2, "db2set DB2_ATS_ENABLE")
    assert out == ("DBI1303W  Variable not set.\n" if reading == "strict" else "YES\n")


def test_new_database_has_no_systoolspace_and_add_needs_it(db2):
    rc, out = clp(db2, "SELECT TBSPACE FROM SYSCAT.TABLESPACES WHERE TBSPACE = 'SYSTOOLSPACE';\n")
    assert "0 record(s) selected." in out
    rc, out = clp(db2, "SELECT COUNT(*) FROM SYSCAT.TABLESPACES;\n" + add("EARLY"))
    assert 'SQL0204N  "SYSTOOLSPACE" is an undefined name.  SQLSTATE=42704' in out
    assert rc & 4


def test_systoolspace_must_be_in_ibmcatgroup(db2):
    rc, out = clp(db2, "CREATE TABLESPACE SYSTOOLSPACE MANAGED BY AUTOMATIC STORAGE;\n")
    assert "SQL1258N" in out and rc & 4


def test_add_list_and_crontab_view(systools):
    rc, out = clp(systools, add("A DAILY") + CRONTAB_L)
    assert "Return Status = 0" in out, out
    assert "5 13 * * *    call SYSPROC.ADMIN_CMD (VALUES('RUNSTATS ON TABLE DB2INST1.T1')); -- \"A DAILY\"" in out
    rc, out = clp(systools, "SELECT * FROM SYSTOOLS.ADMIN_TASK_LIST WHERE NAME = 'A DAILY';\n")
    header = next(line for line in out.splitlines() if line.startswith("NAME "))
    assert header.split() == ["NAME", "TASKID", "OWNER", "OWNERTYPE", "BEGIN_TIME", "END_TIME", "MAX_INVOCATIONS",
                              "SCHEDULE", "PROCEDURE_SCHEMA", "PROCEDURE_NAME", "PROCEDURE_INPUT", "OPTIONS",
                              "UPDATE_TIME", "REMARKS"]


def test_duplicate_name_and_bad_arguments(systools):
    rc, out = clp(systools, add("B DUP") + add("B DUP"))
    assert 'SQL0601N' in out and '"B DUP" of type "TASK"' in " ".join(out.split())
    for schedule, in (("5 24 * * *",), ("* * * *",), ("61 * * * *",), ("0 0 * * xyz",), ("@daily",)):
        rc, out = clp(systools, add("B BAD", schedule=schedule))
        flat = " ".join(out.split())
        assert 'SQL0171N' in flat and 'position "5"' in flat and 'Parameter name: "SCHEDULE"' in flat, schedule
    rc, out = clp(systools, "CALL SYSPROC.ADMIN_TASK_ADD('B PAST', '2001-01-01-00.00.00', NULL, NULL, NULL, "
                            "'SYSPROC', 'ADMIN_CMD', NULL, NULL, NULL);\n")
    assert 'position "2"' in " ".join(out.split())
    rc, out = clp(systools, "CALL SYSPROC.ADMIN_TASK_ADD('B', NULL, NULL);\n")
    assert "SQL0440N" in out


def test_update_cannot_change_procedure_and_remove(systools):
    clp(systools, add("C TASK"))
    rc, out = clp(systools, "CALL SYSPROC.ADMIN_TASK_UPDATE('C TASK', NULL, NULL, 3, '0 1 * * sun', NULL, "
                            "'new remark');\n")
    assert "Return Status = 0" in out, out
    rc, out = clp(systools, "SELECT MAX_INVOCATIONS, SCHEDULE, REMARKS FROM SYSTOOLS.ADMIN_TASK_LIST "
                            "WHERE NAME = 'C TASK';\n")
    assert "0 1 * * sun" in out and "new remark" in out
    rc, out = clp(systools, "CALL SYSPROC.ADMIN_TASK_UPDATE('C TASK', NULL, NULL, NULL, NULL, NULL, NULL, "
                            "'SYSPROC', 'X');\n")
    assert "SQL0440N" in out  # 9 arguments: there is no such UPDATE
    rc, out = clp(systools, "CALL SYSPROC.ADMIN_TASK_REMOVE('C TASK', NULL);\n"
                            "SELECT NAME FROM SYSTOOLS.ADMIN_TASK_LIST WHERE NAME = 'C TASK';\n")
    assert "0 record(s) selected." in out
    rc, out = clp(systools, "CALL SYSPROC.ADMIN_TASK_REMOVE('C TASK', NULL);\n")
    assert "SQL0204N" in out


def test_changes_count_after_commit(systools):
    rc, out = clp(systools, add("D UOW") + "ROLLBACK;\nSELECT NAME FROM SYSTOOLS.ADMIN_TASK_LIST "
                  "WHERE NAME = 'D UOW';\n", options="-t +p +c")
    assert "0 record(s) selected." in out, out
    rc, out = clp(systools, add("D UOW") + "COMMIT;\n", options="-t +p +c")
    rc, out = clp(systools, "SELECT NAME FROM SYSTOOLS.ADMIN_TASK_LIST WHERE NAME = 'D UOW';\n")
    assert "1 record(s) selected." in out


def test_scheduler_runs_only_when_enabled_and_active(systools):
    clp(systools, add("E OK") + add("E MISSING", procedure="'DBA', 'RUNSTATS'",
                                    proc_input="'VALUES(''S'', ''SYSIBM'')'")
        + add("E NOTABLE", proc_input="'VALUES(''RUNSTATS ON TABLE DB2INST1.NOPE'')'"))
    try:
        assert shell(systools, "db2set DB2_ATS_ENABLE=NO")[0] == 0
        rc, out = shell(systools, "db2standin-ats-run 'E OK'")
        assert "no task ran" in out
        shell(systools, "db2set DB2_ATS_ENABLE=ON")
        shell(systools, "db2 deactivate database TESTDB")
        rc, out = shell(systools, "db2standin-ats-run 'E OK'")
        assert "no task ran" in out and "status=" not in out
    finally:
        shell(systools, "db2set DB2_ATS_ENABLE=YES; db2 activate database TESTDB")
    rc, out = shell(systools, "db2standin-ats-run --poll 'E OK' 'E MISSING' 'E NOTABLE'")
    assert "TESTDB E OK invocation=1 status=COMPLETED sqlcode=0" in out
    assert "TESTDB E MISSING invocation=1 status=NOTRUN sqlcode=-440" in out
    assert "TESTDB E NOTABLE invocation=1 status=COMPLETED sqlcode=-2306" in out
    rc, out = clp(systools, "SELECT NAME, STATUS, INVOCATION, SQLCODE, SQLSTATE, RC FROM SYSTOOLS.ADMIN_TASK_STATUS "
                            "WHERE NAME LIKE 'E %' ORDER BY NAME;\n")
    rows = [line.split() for line in out.splitlines() if line.startswith("E ")]
    assert rows == [["E", "MISSING", "NOTRUN", "1", "-440", "42884", "-"],
                    ["E", "NOTABLE", "COMPLETED", "1", "-2306", "-", "-"],
                    ["E", "OK", "COMPLETED", "1", "0", "00000", "0"]], out


def test_max_invocations_holds(systools):
    clp(systools, "CALL SYSPROC.ADMIN_TASK_ADD('F ONCE', NULL, NULL, 1, '5 13 * * *', 'SYSPROC', 'ADMIN_CMD', "
                  "'VALUES(''RUNSTATS ON TABLE DB2INST1.T1'')', NULL, NULL);\n")
    assert "invocation=1" in shell(systools, "db2standin-ats-run --poll 'F ONCE'")[1]
    assert "no task ran" in shell(systools, "db2standin-ats-run --poll 'F ONCE'")[1]


def test_scheduler_process_runs_with_the_instance(systools):
    rc, out = shell(systools, "ps -eo args")
    assert "bin/db2acd" in out


def test_new_task_waits_for_the_schedulers_poll(systools, reading):
    """IBM: the scheduler checks for new or updated tasks every five minutes; until then it cannot
    run them (strict). The kind reading sees them at once."""
    clp(systools, add("H NEW"))
    rc, out = shell(systools, "db2standin-ats-run 'H NEW'")
    if reading == "strict":
        assert "no task ran" in out and "status=" not in out
        rc, out = shell(systools, "db2standin-ats-run --poll 'H NEW'")
    assert "TESTDB H NEW invocation=1 status=COMPLETED" in out
    clp(systools, "CALL SYSPROC.ADMIN_TASK_UPDATE('H NEW', NULL, NULL, NULL, '0 2 * * *', NULL, NULL);\n")
    rc, out = shell(systools, "db2standin-ats-run 'H NEW'")
    assert ("no task ran" in out) == (reading == "strict")


def test_enabling_the_scheduler_counts_from_its_next_poll(systools, reading):
    clp(systools, add("I ENABLE"))
    shell(systools, "db2set DB2_ATS_ENABLE=NO")
    try:
        assert "no task ran" in shell(systools, "db2standin-ats-run --poll 'I ENABLE'")[1]
        shell(systools, "db2set DB2_ATS_ENABLE=YES")
        rc, out = shell(systools, "db2standin-ats-run 'I ENABLE'")
        assert ("status=COMPLETED" in out) == (reading == "kind")
        assert "status=COMPLETED" in shell(systools, "db2standin-ats-run --poll 'I ENABLE'")[1]
    finally:
        shell(systools, "db2set DB2_ATS_ENABLE=YES")


def test_views_show_the_session_authorization_ids_tasks(systools, reading):
    """IBM: ADMIN_TASK_LIST returns the tasks created by the session authorization ID (all of them
    for SYSADM/SYSCTRL/SYSMAINT/DBADM), ADMIN_TASK_STATUS only that ID's status records."""
    code, out = systools.exec_run(["bash", "-c", "id jbob || (useradd -M jbob && echo 'jbob:Bob-pw-1' | chpasswd)"])
    assert code == 0, out
    as_bob = "CONNECT TO TESTDB USER jbob USING Bob-pw-1;\n"
    clp(systools, add("J MINE"))
    rc, out = clp(systools, as_bob + add("J BOBS"))
    assert "Return Status = 0" in out, out
    assert "status=COMPLETED" in shell(systools, "db2standin-ats-run --poll 'J MINE' 'J BOBS'")[1]
    query = ("SELECT 'L', NAME FROM SYSTOOLS.ADMIN_TASK_LIST WHERE NAME LIKE 'J %';\n"
             "SELECT 'S', S.NAME, S.STATUS FROM SYSTOOLS.ADMIN_TASK_STATUS S WHERE S.NAME LIKE 'J %';\n")

    def seen(out):
        return sorted(tuple(line.split()[:3]) for line in out.splitlines() if line.startswith(("L ", "S ")))

    everything = [("L", "J", "BOBS"), ("L", "J", "MINE"), ("S", "J", "BOBS"), ("S", "J", "MINE")]
    bob, owner = seen(clp(systools, as_bob + query)[1]), seen(clp(systools, query)[1])
    if reading == "kind":
        assert bob == owner == everything
    else:
        assert bob == [("L", "J", "BOBS"), ("S", "J", "BOBS")]
        # The instance owner holds SYSADM: every task, but only its own status records.
        assert owner == [("L", "J", "BOBS"), ("L", "J", "MINE"), ("S", "J", "MINE")]
    # Changing another user's task needs SYSADM, SYSCTRL, SYSMAINT or DBADM (SQL0551N otherwise).
    update = "CALL SYSPROC.ADMIN_TASK_UPDATE('%s', NULL, NULL, NULL, '0 3 * * *', NULL, NULL);\n"
    rc, out = clp(systools, as_bob + update % "J MINE")
    assert ("SQL0551N" in out and "Return Status" not in out) is (reading == "strict"), out
    rc, out = clp(systools, update % "J BOBS")
    assert "Return Status = 0" in out, out


def test_the_scheduler_polls_by_itself_at_the_shortened_cycle(standin_images, docker_client):
    """No test hook: db2acd polls every DB2_STANDIN_ATS_POLL_SECONDS (default IBM's 300) once
    DB2_ATS_ENABLE is set, then runs the task at the next minute its cron matches."""
    with shared_standin(docker_client, standin_images["11.1.4.4"], "db2ops-t-atspoll",
                        DB2_STANDIN_ATS_POLL_SECONDS="5") as db2:
        rc, out = clp(db2, CREATE_SYSTOOLSPACE + ";\nCREATE TABLE T1 (I INTEGER);\n" + add("K EACH MINUTE", "* * * * *"))
        assert "Return Status = 0" in out, out
        assert shell(db2, "db2set DB2_ATS_ENABLE=YES")[0] == 0
        deadline = time.monotonic() + 180  # a poll (5 s) and a minute boundary, on a loaded machine
        while True:
            rc, out = clp(db2, "SELECT STATUS FROM SYSTOOLS.ADMIN_TASK_STATUS WHERE NAME = 'K EACH MINUTE';\n")
            if "COMPLETED" in out:
                break
            assert time.monotonic() < deadline, "the scheduler never ran the task: " + out
            time.sleep(5)
