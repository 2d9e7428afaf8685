"""db2_ats_task, db2_ats_tasks and db2_ats_task_info through real ansible-playbook against the
stand-in: create, rerun unchanged, update, replace, remove, check mode, the scheduler's runs,
and bad input that fails with one line and leaves the task set as it was.

One container per reading of the stand-in (strict: IBM's documentation, scheduler off in a new
instance; kind: DB2_STANDIN_ATS=kind) serves the module; the tests run in file order
(pytest-xdist --dist loadfile).
"""
import uuid

import pytest
from conftest import BASE_DB2_ENV, shared_standin
from playbook import run_module

RUNSTATS = "VALUES('RUNSTATS ON TABLE DB2INST1.T1')"


@pytest.fixture(scope="module", params=["strict", "kind"])
def reading(request):
    return request.param


@pytest.fixture(scope="module")
def db2(standin_images, docker_client, reading):
    with shared_standin(docker_client, standin_images["11.1.4.4"], "db2ops-t-atsm",
                        DB2_STANDIN_ATS=reading) as container:
        run = container.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2 connect to testdb && '
                                  'db2 "create table t1 (i integer)"'], user="db2inst1")
        assert run.exit_code == 0, run.output
        yield container


@pytest.fixture
def run(db2, tmp_path):
    def call(module, check=False, diff=False, **args):
        args.setdefault("container", db2.name)
        args.setdefault("database", "TESTDB")
        return run_module(tmp_path, module, args, check=check, diff=diff)[1]
    return call


def registry(db2):
    out = db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2set DB2_ATS_ENABLE'],
                       user="db2inst1").output.decode().strip()
    return "" if "DBI1303W" in out else out


def task(name, schedule="5 13 * * *", **extra):
    return dict(dict(name=name, schedule=schedule, procedure_name="ADMIN_CMD", procedure_input=RUNSTATS), **extra)


@pytest.fixture
def names(db2):
    """The task names as Db2 lists them, read independently of the modules."""
    def read():
        out = db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2 connect to testdb >/dev/null && '
                            'db2 -x "select name from systools.admin_task_list order by name"'],
                           user="db2inst1").output.decode()
        return [] if "SQL0204N" in out else [line.strip() for line in out.splitlines() if line.strip()]
    return read


def test_preconditions_fail_first_and_change_nothing(run, names, reading):
    result = run("db2_ats_tasks", tasks=[task("A1")])
    assert result["failed"] and "Nothing was changed" in result["msg"]
    if reading == "strict":  # IBM: the scheduler is off until DB2_ATS_ENABLE is set
        assert "DB2_ATS_ENABLE=unset" in result["msg"] and "enable_ats=true" in result["msg"]
        result = run("db2_ats_tasks", tasks=[task("A1")], enable_ats=True)
        assert result["failed"] and "Nothing was changed" in result["msg"]
    assert "no SYSTOOLSPACE" in result["msg"] and "create_systoolspace=true" in result["msg"]
    info = run("db2_ats_task_info")
    assert (info["systoolspace"], info["tasks"], info["active"]) == (False, [], True)
    assert info["ats_enabled"] is (reading == "kind")  # the failed runs enabled nothing


def test_create_check_mode_rerun_update_replace_remove(run, names, reading, db2):
    tasks = [task("A1"), task("A2; DROP TABLE T1 --", schedule="0 15 * * MON-Fri", remarks="it's fine"),
             task("A3", schedule="*/10  *  * *  *")]
    fixes = dict(create_systoolspace=True, enable_ats=True)
    checked = run("db2_ats_tasks", check=True, diff=True, tasks=tasks, **fixes)
    assert checked["changed"] and checked["added"] == ["A1", "A2; DROP TABLE T1 --", "A3"]
    enable = ["db2set DB2_ATS_ENABLE=YES"] if reading == "strict" else []
    commands = checked["commands"][len(enable):]
    assert checked["commands"][:len(enable)] == enable
    assert commands[0].startswith("CREATE TABLESPACE SYSTOOLSPACE IN IBMCATGROUP")
    assert "'A2; DROP TABLE T1 --', NULL" in commands[2] and "'it''s fine'" in commands[2]
    assert set(checked["diff"]["after"]) == {"A1", "A2; DROP TABLE T1 --", "A3"} and checked["diff"]["before"] == {}
    assert names() == []  # check mode applied nothing
    assert registry(db2) == ("" if reading == "strict" else "YES")

    created = run("db2_ats_tasks", tasks=tasks, **fixes)
    assert created["changed"] and not created.get("failed"), created
    assert names() == ["A1", "A2; DROP TABLE T1 --", "A3"] and registry(db2) == "YES"
    assert created["notes"][0].startswith("The Db2 task scheduler picks up new or changed tasks")
    assert any("DB2_ATS_ENABLE was off" in note for note in created["notes"]) is (reading == "strict")
    info = run("db2_ats_task_info")
    # Just added: the scheduler checks every five minutes, so no status is claimed for them.
    assert {t["run_state"] for t in info["tasks"]} == {"not_picked_up"}, info["tasks"]
    assert all(t["last_run"] is None for t in info["tasks"])
    a2 = next(t for t in info["tasks"] if t["name"].startswith("A2"))
    assert (a2["schedule"], a2["remarks"], a2["procedure_input"]) == ("0 15 * * mon-fri", "it's fine", RUNSTATS)
    assert "5 13 * * *    call SYSPROC.ADMIN_CMD (%s); -- \"A1\"" % RUNSTATS in info["crontab"]

    again = run("db2_ats_tasks", tasks=tasks, **fixes)
    assert (again["changed"], again["commands"], again["notes"]) == (False, [], [])

    tasks[0] = task("A1", schedule="5 14 * * *", max_invocations=3)
    tasks[2] = task("A3", schedule="*/10 * * * *", procedure_input="VALUES('RUNSTATS ON TABLE DB2INST1.T1 "
                                                                   "WITH DISTRIBUTION')")
    changed = run("db2_ats_tasks", diff=True, tasks=tasks)
    assert {a["name"]: a["action"] for a in changed["actions"]} == {"A1": "update", "A3": "replace"}
    assert [c.split("(")[0] for c in changed["commands"]] == [
        "CALL SYSPROC.ADMIN_TASK_UPDATE", "CALL SYSPROC.ADMIN_TASK_REMOVE", "CALL SYSPROC.ADMIN_TASK_ADD"]
    assert changed["diff"]["before"]["A1"]["schedule"] == "5 13 * * *"
    assert changed["diff"]["after"]["A1"]["schedule"] == "5 14 * * *"
    assert run("db2_ats_tasks", tasks=tasks)["changed"] is False

    exclusive = run("db2_ats_tasks", tasks=tasks[:1], exclusive=True)
    assert sorted(exclusive["removed"]) == ["A2; DROP TABLE T1 --", "A3"]
    assert names() == ["A1"]


def test_injection_attempt_stayed_a_name(db2):
    out = db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2 connect to testdb >/dev/null && '
                        'db2 "select count(*) from t1"'], user="db2inst1")
    assert out.exit_code == 0 and b"1 record(s) selected." in out.output


def test_single_task_present_absent(run, names):
    added = run("db2_ats_task", diff=True, **task("S1", remarks="single"))
    assert added["changed"] and added["task"]["remarks"] == "single" and added["diff"]["before"] == {}
    assert run("db2_ats_task", **task("S1", remarks="single"))["changed"] is False
    removed = run("db2_ats_task", name="S1", state="absent")
    assert removed["changed"] and removed["commands"] == ["CALL SYSPROC.ADMIN_TASK_REMOVE('S1', NULL)"]
    assert run("db2_ats_task", name="S1", state="absent")["changed"] is False
    assert "S1" not in names()


def test_an_ats_task_runs_and_shows_in_status(run, db2, reading):
    assert run("db2_ats_task", **task("R1"))["changed"]
    hook = db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2standin-ats-run R1'], user="db2inst1")
    # strict: the scheduler has not polled since R1 was added, so R1 cannot run yet
    assert (b"status=COMPLETED" in hook.output) is (reading == "kind"), hook.output
    hook = db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2standin-ats-run --poll R1'],
                        user="db2inst1")
    assert b"status=COMPLETED sqlcode=0" in hook.output, hook.output
    info = run("db2_ats_task_info")
    r1 = next(t for t in info["tasks"] if t["name"] == "R1")
    assert (r1["last_run"]["status"], r1["last_run"]["sqlcode"], r1["last_run"]["invocation"]) == \
        ("COMPLETED", 0, 2 if reading == "kind" else 1)
    assert r1["run_state"] == "ran", r1
    assert any(r["name"] == "R1" and r["end_time"] for r in info["runs"])


@pytest.mark.parametrize("bad, message", [
    (dict(tasks=[task("B1", schedule="5 25 * * *")]), "schedule field hour '25': '25' is out of range (0-23)"),
    (dict(tasks=[task("B1", schedule="5 13 * *")]), "has 4 fields"),
    (dict(tasks=[task("B1"), task("B2", schedule="0 0 * jnu *")]), "field month 'jnu'"),
    (dict(tasks=[task("N" * 129)]), "129 bytes long; Db2 ATS allows at most 128"),
    (dict(tasks=[task("B1"), dict(task("B2"), procedure_schema="DBA", procedure_name="NOPROC")]),
     "Procedure DBA.NOPROC does not exist in database TESTDB"),
    (dict(tasks=[task("B1")], database="NODB"), "SQL1013N"),
    (dict(tasks=[task("B1", procedure_input="VALUES('a\nb')")]), "Option tasks[0].procedure_input contains a newline"),
    (dict(tasks=[task("B1"), task("B1")]), "listed twice"),
])
def test_bad_input_fails_clearly_and_changes_nothing(run, names, bad, message):
    before = names()
    result = run("db2_ats_tasks", exclusive=True, **bad)
    assert result.get("failed"), result
    assert message in result["msg"] and "\n" not in result["msg"], result["msg"]
    assert names() == before


def test_ats_disabled_and_inactive_database(run, names, db2):
    def sh(command):
        return db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && ' + command], user="db2inst1")
    before = names()
    sh("db2set DB2_ATS_ENABLE=")
    try:
        result = run("db2_ats_tasks", tasks=[task("D1")])
        assert result["failed"] and "DB2_ATS_ENABLE=unset" in result["msg"] and "enable_ats=true" in result["msg"]
        assert names() == before
        fixed = run("db2_ats_tasks", tasks=[task("D1")], enable_ats=True)
        assert fixed["commands"][0] == "db2set DB2_ATS_ENABLE=YES" and not fixed.get("failed"), fixed
        assert sh("db2set DB2_ATS_ENABLE").output.strip() == b"YES"
        # The tasks stay as they are: a rerun still enables what it is asked to, reported as a change.
        sh("db2set DB2_ATS_ENABLE=")
        checked = run("db2_ats_tasks", check=True, tasks=[task("D1")], enable_ats=True)
        assert (checked["changed"], checked["commands"]) == (True, ["db2set DB2_ATS_ENABLE=YES"])
        assert sh("db2set DB2_ATS_ENABLE").output.strip() == b"DBI1303W  Variable not set."
        rerun = run("db2_ats_tasks", tasks=[task("D1")], enable_ats=True)
        assert (rerun["changed"], rerun["commands"]) == (True, ["db2set DB2_ATS_ENABLE=YES"]), rerun
        assert sh("db2set DB2_ATS_ENABLE").output.strip() == b"YES"
        assert run("db2_ats_tasks", tasks=[task("D1")], enable_ats=True)["changed"] is False
        sh("db2 deactivate database TESTDB")
        result = run("db2_ats_tasks", tasks=[task("D2")])
        assert result["failed"] and "is not active" in result["msg"]
        assert names() == sorted(before + ["D1"])
        fixed = run("db2_ats_tasks", tasks=[task("D2")], activate_database=True)
        assert fixed["commands"][0] == "ACTIVATE DATABASE TESTDB" and not fixed.get("failed"), fixed
        assert b"TESTDB" in sh("db2 list active databases").output
    finally:
        sh("db2set DB2_ATS_ENABLE=YES; db2 activate database TESTDB")


def test_container_stopped_or_missing(run, db2, standin_images, docker_client):
    stopped = docker_client.containers.create(standin_images["11.1.4.4"], name="db2ops-t-stopped-" + uuid.uuid4().hex[:6],
                                              environment=BASE_DB2_ENV)
    try:
        result = run("db2_ats_tasks", container=stopped.name, tasks=[task("C1")])
        assert result["failed"] and "is not running" in result["msg"] and "Nothing was changed" in result["msg"]
    finally:
        stopped.remove(force=True)
    result = run("db2_ats_task_info", container="db2ops-t-no-such-container")
    assert result["failed"] and "does not exist" in result["msg"]
