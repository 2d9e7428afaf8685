"""_ats/module.py (AtsRunner, the engine of db2_ats_task, db2_ats_tasks, db2_ats_task_info): the
container is found on the fake daemon; the Db2 session is a fake holding the ATS state, so what is
tested is the runner: preconditions, plan, check mode, failures, info."""
import datetime

import pytest
from fake_docker import FakeDocker

from ansible_collections.db2ops.docker.plugins.module_utils._ats import module as runner_module
from ansible_collections.db2ops.docker.plugins.module_utils._ats.module import AtsRunner
from ansible_collections.db2ops.docker.plugins.module_utils._ats.runs import status_row
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Error
from ansible_collections.db2ops.docker.plugins.module_utils._db2.sql import ApplyError, ClpSession

INPUT = "VALUES('BACKUP DATABASE TESTDB ONLINE TO /database/backup WITHOUT PROMPTING')"
NOW = datetime.datetime(2026, 12, 1, 4, 0)


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, params, check_mode=False):
        self.params, self.check_mode, self._diff, self.warnings = params, check_mode, True, []

    def fail_json(self, **kwargs):
        raise Failed(kwargs)

    def warn(self, text):
        self.warnings.append(text)


class FakeSession:
    """The ATS state of one database, as ClpSession / IbmDbSession read and change it."""

    render = staticmethod(ClpSession.render)
    state = None
    read_error = None
    apply_error = None

    def __init__(self, *args, **kwargs):
        self.opened_with = args
        self.applied = []
        self.closed = False

    def read_ats(self, database, procedures=()):
        if FakeSession.read_error is not None:
            raise FakeSession.read_error  # pylint: disable=raising-bad-type
        return dict(self.state)

    def registry(self, name):
        return FakeSession.ats_enable

    def set_registry(self, name, value):
        self.applied.append("db2set %s=%s" % (name, value))

    def apply(self, database, steps):
        if FakeSession.apply_error is not None:
            raise FakeSession.apply_error  # pylint: disable=raising-bad-type
        self.applied += [self.render(s) for s in steps]
        FakeSession.last = self

    def read_status(self, database):
        return dict(runs=FakeSession.status, now=NOW, authid="DB2INST1")

    def close(self):
        self.closed = True


def raising(exc):
    """A function that raises exc, whatever it is called with."""
    def fail(*_args, **_kwargs):
        raise exc
    return fail


def row(name="DAILY BACKUP", schedule="5 13 * * *"):
    return dict(NAME=name, TASKID="1", OWNER="DB2INST1", BEGIN_TIME=None, END_TIME=None, MAX_INVOCATIONS=None,
                SCHEDULE=schedule, PROCEDURE_SCHEMA="SYSPROC ", PROCEDURE_NAME="ADMIN_CMD", PROCEDURE_INPUT=INPUT,
                OPTIONS=None, UPDATE_TIME="x", REMARKS=None)


@pytest.fixture
def daemon(monkeypatch):
    fake = FakeDocker()
    fake.add_image("db2:11.5.8.0", level="11.5.8.0")
    fake.add_db2("db2", "db2:11.5.8.0")
    monkeypatch.setattr(runner_module, "DockerModuleClient", lambda module: type("C", (), {"api": fake})())
    monkeypatch.setattr(runner_module, "ClpSession", FakeSession)
    monkeypatch.setattr(runner_module, "IbmDbSession", FakeSession)
    monkeypatch.setattr(runner_module, "HAS_IBM_DB", True)
    FakeSession.state = dict(active=True, systoolspace=True, routines={("SYSPROC", "ADMIN_CMD")}, tasks=[row()])
    FakeSession.ats_enable, FakeSession.status, FakeSession.last = "YES", [], None
    FakeSession.apply_error = FakeSession.read_error = None
    yield fake
    assert fake.unexpected == []


def params(**extra):
    p = dict(transport="docker_exec", container="db2", database="testdb", exec_timeout=60, db_host=None,
             db_port=50001, db_user=None, db_password=None, db_ssl=True, db_ssl_ca=None,
             enable_ats=False, create_systoolspace=False, activate_database=False)
    p.update(extra)
    return p


def task(**extra):
    t = dict(name="DAILY BACKUP", schedule="5 13 * * *", procedure_schema="SYSPROC", procedure_name="ADMIN_CMD",
             procedure_input=INPUT, begin_timestamp=None, end_timestamp=None, max_invocations=None, remarks=None)
    t.update(extra)
    return t


def sync(check_mode=False, tasks=(), **extra):
    runner = AtsRunner(FakeModule(params(**extra), check_mode=check_mode))
    return runner.sync(runner.tasks_from_params(list(tasks)), **{k: v for k, v in extra.items()
                                                                 if k in ("exclusive", "absent", "only")})


def fails(*args, **kwargs):
    with pytest.raises(Failed) as err:
        sync(*args, **kwargs)
    return err.value.args[0]


def test_an_existing_task_is_not_touched(daemon):
    result = sync(tasks=[task()])
    assert result["changed"] is False and result["commands"] == [] and FakeSession.last is None
    assert result["tasks"][0]["name"] == "DAILY BACKUP"


def test_a_changed_schedule_is_planned_in_check_mode_and_applied_outside(daemon):
    plan = sync(check_mode=True, tasks=[task(schedule="0 2 * * *")])
    assert plan["changed"] and plan["updated"] == ["DAILY BACKUP"] and FakeSession.last is None
    assert plan["diff"]["before"] != plan["diff"]["after"]
    result = sync(tasks=[task(schedule="0 2 * * *")])
    assert FakeSession.last.applied == result["commands"] == plan["commands"]
    assert any("ADMIN_TASK_UPDATE" in c or "ADMIN_TASK_REMOVE" in c for c in result["commands"])


def test_exclusive_removes_the_others_and_only_limits_the_result(daemon):
    FakeSession.state["tasks"] = [row(), row(name="OLD")]
    result = sync(tasks=[task()], exclusive=True)
    assert result["removed"] == ["OLD"] and result["changed"]
    limited = sync(tasks=[], absent=["OLD"], only=["OLD"])
    assert [t["name"] for t in limited["tasks"]] == []


def test_preconditions_fixed_only_when_asked(daemon):
    FakeSession.ats_enable = None
    FakeSession.state.update(systoolspace=False, active=False, tasks=[])
    failure = fails(tasks=[task()])
    assert "DB2_ATS_ENABLE=unset" in failure["msg"] and failure["msg"].endswith("Nothing was changed.")
    assert "SYSTOOLSPACE" in fails(tasks=[task()], enable_ats=True)["msg"]
    assert "is not active" in fails(tasks=[task()], enable_ats=True, create_systoolspace=True)["msg"]
    result = sync(tasks=[task()], enable_ats=True, create_systoolspace=True, activate_database=True)
    assert result["commands"][:3] == ["db2set DB2_ATS_ENABLE=YES", "ACTIVATE DATABASE TESTDB",
                                      result["commands"][2]] and "SYSTOOLSPACE" in result["commands"][2]
    assert FakeSession.last.applied[0] == "db2set DB2_ATS_ENABLE=YES"


def test_unknown_procedure_and_ibm_db_activation_warning(daemon):
    FakeSession.state["routines"] = set()
    missing = fails(tasks=[task(schedule="1 1 * * *")])["msg"]
    assert "Procedure SYSPROC.ADMIN_CMD does not exist in database TESTDB" in missing
    FakeSession.state.update(routines={("SYSPROC", "ADMIN_CMD")}, active=None)
    module = FakeModule(params(transport="ibm_db", container=None, db_host="db2", db_user="u", db_password="p"))
    runner = AtsRunner(module)
    runner.sync(runner.tasks_from_params([task(schedule="1 1 * * *")]))
    assert "cannot be checked" in module.warnings[0]


@pytest.mark.parametrize("error, words", [
    (ApplyError("CALL failed: SQL0443N", ["ACTIVATE DATABASE TESTDB"]), "Done before the failure: ['ACTIVATE"),
    (Db2Error("the CLP stopped"), "failed: the CLP stopped"),
])
def test_apply_failures_are_one_line(daemon, error, words):
    FakeSession.apply_error = error
    failure = fails(tasks=[task(schedule="0 2 * * *")])
    assert "Changing the ATS tasks of database TESTDB failed" in failure["msg"] and words in failure["msg"]
    assert failure["commands"]


@pytest.mark.parametrize("extra, words", [
    (dict(database="1bad"), "Option database must be a Db2 database name"),
    (dict(container="db2*"), "Option container must be a Docker container name"),
    (dict(container="nope"), "container nope does not exist"),
])
def test_bad_targets(daemon, extra, words):
    failure = fails(**extra)
    assert words in failure["msg"] and failure["msg"].endswith("Nothing was changed.")


def test_bad_task_and_unreadable_state(daemon):
    assert "has 4 fields" in fails(tasks=[task(schedule="5 13 * *")])["msg"]
    FakeSession.read_error = Db2Error("SQL1032N  No start database manager command was issued.")
    assert "Cannot read the ATS tasks of database TESTDB: SQL1032N" in fails(tasks=[task()])["msg"]


def test_ibm_db_missing_or_refusing(daemon, monkeypatch):
    monkeypatch.setattr(runner_module, "HAS_IBM_DB", False)
    with pytest.raises(Failed, match="ibm_db"):
        AtsRunner(FakeModule(params(transport="ibm_db")))
    monkeypatch.setattr(runner_module, "HAS_IBM_DB", True)
    monkeypatch.setattr(runner_module, "IbmDbSession", raising(ValueError("has ';'")))
    with pytest.raises(Failed, match="has ';'. Nothing was changed."):
        AtsRunner(FakeModule(params(transport="ibm_db")))


def test_info_lists_tasks_with_their_last_run(daemon, monkeypatch):
    FakeSession.status = [dict(NAME="DAILY BACKUP", TASKID="1", STATUS="COMPLETE", INVOCATION="1", BEGIN_TIME="a",
                               END_TIME="b", SQLCODE="0", SQLSTATE=None, RC="0"),
                          dict(NAME="DAILY BACKUP", TASKID="1", STATUS="COMPLETE", INVOCATION="2", BEGIN_TIME="c",
                               END_TIME="", SQLCODE=None, SQLSTATE=None, RC=None)]
    info = AtsRunner(FakeModule(params())).info()
    assert info["ats_enabled"] is True and info["changed"] is False
    assert info["tasks"][0]["last_run"]["invocation"] == 2 and info["crontab"][0].startswith("5 13 * * *")
    monkeypatch.setattr(FakeSession, "read_status", raising(Db2Error("SQL0204N")))
    with pytest.raises(Failed, match="Cannot read the ATS status of database TESTDB"):
        AtsRunner(FakeModule(params())).info()


def test_status_row():
    assert status_row(dict(NAME="x", INVOCATION="", RC=None))["invocation"] is None


def test_a_rerun_with_the_tasks_in_place_enables_what_it_is_asked_to(daemon):
    FakeSession.ats_enable = None
    assert sync(tasks=[task()])["changed"] is False  # not asked: nothing to fail for, nothing done
    checked = sync(check_mode=True, tasks=[task()], enable_ats=True)
    assert (checked["changed"], checked["commands"]) == (True, ["db2set DB2_ATS_ENABLE=YES"])
    assert FakeSession.last is None  # check mode ran nothing
    done = sync(tasks=[task()], enable_ats=True)
    assert (done["changed"], done["commands"]) == (True, ["db2set DB2_ATS_ENABLE=YES"])
    assert any("DB2_ATS_ENABLE was off" in note for note in done["notes"])
    FakeSession.ats_enable = "YES"
    again = sync(tasks=[task()], enable_ats=True)
    assert (again["changed"], again["commands"], again["notes"]) == (False, [], [])


def test_enable_ats_over_ibm_db_fails_before_any_change(daemon):
    FakeSession.ats_enable = "NO"
    ibm_db = dict(transport="ibm_db", container=None, db_host="db2", db_user="u", db_password="p", enable_ats=True)
    failure = fails(tasks=[task(schedule="1 1 * * *")], **ibm_db)
    assert "cannot run db2set over ibm_db" in failure["msg"] and failure["msg"].endswith("Nothing was changed.")
    assert FakeSession.last is None


def test_added_tasks_come_with_the_next_cycle_note(daemon):
    result = sync(tasks=[task(schedule="1 1 * * *")])
    assert result["changed"] and result["notes"][0].startswith("The Db2 task scheduler picks up new or changed tasks")


def test_info_says_what_the_status_may_mean(daemon):
    changed = (NOW - datetime.timedelta(minutes=1)).strftime("%Y-%m-%d-%H.%M.%S.%f")
    FakeSession.state["tasks"] = [dict(row(), UPDATE_TIME=changed), dict(row(name="OLD"), UPDATE_TIME="2020-01-01-00.00.00"),
                                  dict(row(name="BOBS"), OWNER="BOB", UPDATE_TIME="2020-01-01-00.00.00")]
    info = AtsRunner(FakeModule(params())).info()
    states = {t["name"]: t["run_state"] for t in info["tasks"]}
    assert states == {"DAILY BACKUP": "not_picked_up", "OLD": "not_run_yet", "BOBS": "status_hidden"}
    FakeSession.ats_enable = None
    info = AtsRunner(FakeModule(params())).info()
    assert {t["run_state"] for t in info["tasks"]} == {"scheduler_off"}
