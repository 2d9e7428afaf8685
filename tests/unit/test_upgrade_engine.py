"""The upgrade state machine (_upgrade/engine.py) against the fake daemon: every step, every
rollback branch, check mode, the resume from each in-flight state, the pre-flight refusals."""
import pytest
from fake_docker import TIMEOUT, FakeDocker

from ansible_collections.db2ops.docker.plugins.module_utils._upgrade import engine
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.engine import (
    LABEL_ACTIVE,
    LABEL_FROM_CONTAINER,
    ContainerUpgrade,
    UpgradeError,
)

OLD, NEW, NEWER = "db2:11.1.3.3a", "db2:11.1.4.4", "db2:11.5.8.0"


@pytest.fixture(autouse=True)
def quick_rollback_wait(monkeypatch):
    """The fake old container answers at once or never: no need to wait the real floor out."""
    monkeypatch.setattr(engine, "ROLLBACK_READY_MIN", 1)


@pytest.fixture
def daemon():
    fake = FakeDocker()
    fake.add_image(OLD, level="11.1.3.3a")
    fake.add_image(NEW, level="11.1.4.4")
    fake.add_db2("db2", OLD, databases=("SALES", "TESTDB"), active=("TESTDB",))
    yield fake
    assert fake.unexpected == []


def params(**extra):
    p = dict(container="db2", image=NEW, target_level=None, pull="missing", docker_host=None,
             backup=dict(mode="none", path="/database/backup", compress=False, space_factor=1.2),
             post_upgrade=False, old_container="keep", stop_timeout=30, ready_timeout=5, exec_timeout=60)
    p.update(extra)
    return p


def offline(**extra):
    return dict(dict(mode="offline", path="/database/backup", compress=False, space_factor=1.2), **extra)


def run(daemon, check_mode=False, **extra):
    return ContainerUpgrade(daemon, params(**extra), check_mode=check_mode, diff=True).run()


def fails(daemon, check_mode=False, **extra):
    upgrade = ContainerUpgrade(daemon, params(**extra), check_mode=check_mode)
    with pytest.raises(UpgradeError) as err:
        upgrade.run()
    return err.value, upgrade.finish()


FULL_PLAN = [
    "docker pull db2:11.1.4.4",
    "install -d -o db2inst1 /database/backup",
    "FORCE APPLICATION ALL", "DEACTIVATE DATABASE SALES", "BACKUP DATABASE SALES TO /database/backup WITHOUT PROMPTING",
    "FORCE APPLICATION ALL", "DEACTIVATE DATABASE TESTDB",
    "BACKUP DATABASE TESTDB TO /database/backup WITHOUT PROMPTING",
    "docker rename db2 db2_11.1.3.3a_upgrading",
    "docker stop --time 30 db2_11.1.3.3a_upgrading",
    "docker create --name db2 (configuration of db2_11.1.3.3a_upgrading) db2:11.1.4.4",
    "docker start db2",
    "db2updv111 -d SALES (if needed)", "db2updv111 -d TESTDB (if needed)",
    "CONNECT TO SALES",
    "BIND /database/config/db2inst1/sqllib/bnd/db2schema.bnd BLOCKING ALL GRANT PUBLIC SQLERROR CONTINUE",
    "BIND /database/config/db2inst1/sqllib/bnd/@db2ubind.lst BLOCKING ALL GRANT PUBLIC ACTION ADD",
    "BIND /database/config/db2inst1/sqllib/bnd/@db2cli.lst BLOCKING ALL GRANT PUBLIC ACTION ADD",
    "CONNECT RESET",
    "CONNECT TO TESTDB",
    "BIND /database/config/db2inst1/sqllib/bnd/db2schema.bnd BLOCKING ALL GRANT PUBLIC SQLERROR CONTINUE",
    "BIND /database/config/db2inst1/sqllib/bnd/@db2ubind.lst BLOCKING ALL GRANT PUBLIC ACTION ADD",
    "BIND /database/config/db2inst1/sqllib/bnd/@db2cli.lst BLOCKING ALL GRANT PUBLIC ACTION ADD",
    "CONNECT RESET",
    "ACTIVATE DATABASE TESTDB",
    "docker rm db2_11.1.3.3a_upgrading",
]


def test_check_mode_returns_every_command_a_real_run_runs_and_changes_nothing(daemon):
    new = daemon.images.pop(NEW)
    daemon.registry[NEW] = new  # missing here, pullable
    before = daemon.snapshot()
    plan = run(daemon, check_mode=True, backup=offline(), post_upgrade=True, old_container="remove")
    assert daemon.snapshot() == before and daemon.calls == []
    assert plan["changed"] is True and {s["status"] for s in plan["steps"]} == {"planned"}
    assert [s["name"] for s in plan["steps"]] == ["backup", "rename", "stop", "create", "wait_ready", "verify_level",
                                                  "post_upgrade", "old_container"]
    assert plan["commands"] == FULL_PLAN
    assert "post_upgrade" not in plan and plan["backups"] == []

    daemon.registry[NEW] = new
    real = run(daemon, backup=offline(), post_upgrade=True, old_container="remove")
    assert [c.replace(" (if needed)", "") for c in plan["commands"]] == real["commands"], \
        "the plan is what the real run ran (both catalogs were behind)"


def test_fixpack_upgrade_runs_every_step(daemon):
    old_id = daemon.container("db2")["Id"]
    result = run(daemon, backup=offline(), post_upgrade=True)
    assert [(s["name"], s["status"]) for s in result["steps"]] == [
        (name, "done") for name in ("backup", "rename", "stop", "create", "wait_ready", "verify_level",
                                    "post_upgrade", "old_container")]
    assert result["changed"] and not result["rolled_back"]
    assert (result["from"]["level"], result["to"]["level"], result["to"]["level_verified"]) == (
        "11.1.3.3a", "11.1.4.4", "11.1.4.4")
    assert [(b["database"], b["mode"]) for b in result["backups"]] == [("SALES", "offline"), ("TESTDB", "offline")]
    assert result["post_upgrade"] == ["db2updv111 -d SALES", "db2updv111 -d TESTDB", "binds on SALES",
                                      "binds on TESTDB", "activated TESTDB"]
    assert result["old_container"] == "db2_11.1.3.3a" and result["downtime_seconds"] >= 0
    assert result["diff"]["after"]["level"] == "11.1.4.4"
    new = daemon.container("db2")
    assert new["Id"] != old_id and new["Config"]["Image"] == NEW and new["State"]["Running"]
    assert new["Config"]["Labels"][LABEL_FROM_CONTAINER] == old_id and new["Config"]["Labels"][LABEL_ACTIVE] == "TESTDB"
    assert new["_db2"].active == ["TESTDB"] and set(new["_db2"].catalog.values()) == {11010404}
    old = daemon.container("db2_11.1.3.3a")
    assert old["Id"] == old_id and not old["State"]["Running"]
    again = run(daemon)
    assert again["changed"] is False and again["msg"] == "db2 already runs db2:11.1.4.4 (Db2 11.1.4.4)"


def test_without_post_upgrade_the_active_databases_are_activated(daemon):
    result = run(daemon)
    assert [s["name"] for s in result["steps"]] == ["rename", "stop", "create", "wait_ready", "verify_level",
                                                    "activate", "old_container"]
    assert daemon.container("db2")["_db2"].active == ["TESTDB"]
    assert "ACTIVATE DATABASE TESTDB" in result["commands"]


def test_online_backup_with_compression(daemon):
    result = run(daemon, backup=offline(mode="online", compress=True))
    assert result["commands"][1] == "BACKUP DATABASE SALES ONLINE TO /database/backup COMPRESS INCLUDE LOGS WITHOUT PROMPTING"
    assert [b["mode"] for b in result["backups"]] == ["online", "online"]


def test_missing_image_is_pulled_and_a_kept_name_is_made_unique(daemon):
    daemon.registry[NEW] = daemon.images.pop(NEW)
    daemon.add_db2("db2_11.1.3.3a", OLD, running=False, storage="/srv/other")  # an earlier upgrade's leftover
    result = run(daemon)
    assert result["commands"][0] == "docker pull db2:11.1.4.4" and ("pull", NEW) in daemon.calls
    assert result["old_container"] == "db2_11.1.3.3a_2"


def test_extra_networks_are_connected(daemon):
    old = daemon.container("db2")
    old["HostConfig"]["NetworkMode"] = "front"
    old["NetworkSettings"]["Networks"] = {"front": {"Aliases": ["db"]}, "back": {"Aliases": None}}
    result = run(daemon)
    assert "docker network connect back db2" in result["commands"]
    assert set(daemon.container("db2")["NetworkSettings"]["Networks"]) == {"front", "back"}


# -- pre-flight refusals: nothing changes, the error says so through its flag ---------------------

def refused(daemon, **extra):
    before = daemon.snapshot()
    error, result = fails(daemon, **extra)
    assert daemon.snapshot() == before
    assert error.changed is False and not result["rolled_back"]
    assert "nothing was changed" not in str(error), "the module states the outcome, once"
    return error, result


def test_older_target_is_refused(daemon):
    daemon.add_image("db2:11.1.2.2", level="11.1.2.2")
    error, _result = refused(daemon, image="db2:11.1.2.2")
    assert error.step == "check_target" and "older than the 11.1.3.3a" in str(error)


def test_image_that_is_missing_and_not_allowed_or_not_pullable(daemon):
    error, _result = refused(daemon, image="db2:11.1.4.4-typo", pull="never")
    assert "is not on this Docker host (pull=never)" in str(error)
    error, result = refused(daemon, image="db2:11.1.4.4-typo")
    assert "cannot be pulled" in str(error) and "manifest for db2:11.1.4.4-typo not found" in str(error)
    assert result["commands"] == ["docker pull db2:11.1.4.4-typo"], "the attempt is reported"
    error, _result = refused(daemon, image="db2:11.1.4.4-typo", check_mode=True)
    assert "cannot be pulled" in str(error), "check mode asks the registry"


def test_unknown_level_is_refused(daemon):
    daemon.add_image("custom:latest", level=None)
    error, _result = refused(daemon, image="custom:latest")
    assert "cannot tell the Db2 level of image custom:latest" in str(error)


def test_already_at_the_target_is_no_change(daemon):
    result = run(daemon, image=OLD)
    assert result["changed"] is False and result["commands"] == [] and daemon.calls == []


@pytest.mark.parametrize("change, words", [
    (lambda c: c["HostConfig"].update(AutoRemove=True), "runs with --rm"),
    (lambda c: c.update(Mounts=[]), "has no mount on /database"),
])
def test_storage_refusals(daemon, change, words):
    change(daemon.container("db2"))
    error, _result = refused(daemon)
    assert error.step == "check_storage" and words in str(error)


def test_second_running_container_on_the_storage_is_refused(daemon):
    daemon.add_db2("intruder", OLD, storage="/srv/db2")
    error, _result = refused(daemon)
    assert "another running container uses the storage /srv/db2 of db2: intruder" in str(error)


def test_no_room_for_the_backup_is_refused(daemon):
    error, _result = refused(daemon, backup=offline(space_factor=10.0))
    assert "not enough for the backup" in str(error)


@pytest.mark.parametrize("name, words", [("db2-nope", "does not exist"), ("stopped", "is not running")])
def test_unknown_or_stopped_container(daemon, name, words):
    daemon.add_db2("stopped", OLD, running=False, storage="/srv/s")
    error, _result = refused(daemon, container=name)
    assert error.step == "inspect" and words in str(error)


# -- a failing backup: the old container runs on, the databases active again ------------------------

def test_failed_offline_backup_activates_the_databases_again(daemon):
    daemon.container("db2")["_db2"].failures["^BACKUP DATABASE TESTDB"] = "SQL2419N  The target disk has become full."
    before = daemon.snapshot()
    error, result = fails(daemon, backup=offline())
    assert error.step == "backup" and "SQL2419N" in str(error) and error.changed is False
    assert daemon.snapshot() == before, "TESTDB is active again, SALES stays inactive"
    assert result["commands"][-1] == "ACTIVATE DATABASE TESTDB"


def test_failed_backup_and_failed_activation_are_both_told(daemon):
    state = daemon.container("db2")["_db2"]
    state.failures.update({"^BACKUP DATABASE TESTDB": "SQL2419N  The target disk has become full.",
                           "^ACTIVATE": "SQL1032N  No start database manager command was issued."})
    error, _result = fails(daemon, backup=offline())
    assert "SQL2419N" in str(error) and "TESTDB not active again" in str(error) and "SQL1032N" in str(error)


def test_backup_that_times_out(daemon):
    daemon.on_exec(r"^db2 -t \+p -s", TIMEOUT)
    error, _result = fails(daemon, backup=offline(mode="online"))
    assert error.step == "backup" and "did not finish within 60s" in str(error)


# -- failures after the stop roll back ------------------------------------------------------------

def rolled_back(daemon, **extra):
    old_id = daemon.container("db2")["Id"]
    error, result = fails(daemon, **extra)
    assert error.changed is True and result["rolled_back"] is True
    assert result["rollback"]["status"] == "done", result["rollback"]
    assert daemon.names() == ["db2"], "the new container is gone, the old one has its name back"
    old = daemon.container("db2")
    assert old["Id"] == old_id and old["State"]["Running"] and old["_db2"].active == ["TESTDB"]
    assert result["steps"][-1]["name"] == "rollback"
    return error, result


@pytest.mark.parametrize("method, step", [("rename", "rename"), ("stop", "stop"),
                                          ("create_container", "create"), ("start", "create")])
def test_a_failing_docker_call_rolls_back(daemon, method, step):
    daemon.fail(method)
    error, result = rolled_back(daemon)
    assert error.step == step and "%s failed" % method in str(error)


def test_setup_failing_in_the_new_container_rolls_back(daemon):
    daemon.images[NEW]["_start"] = "exit"
    error, result = rolled_back(daemon)
    assert error.step == "wait_ready" and "Updating the instance failed" in str(error)
    assert "docker rm -f db2" in result["commands"] and "docker rename db2_11.1.3.3a_upgrading db2" in result["commands"]


def test_never_ready_times_out_and_rolls_back(daemon):
    daemon.images[NEW]["_start"] = "unready"
    error, _result = rolled_back(daemon, ready_timeout=1)
    assert error.step == "wait_ready" and "did not answer a CLP probe within 1s" in str(error)


def test_wrong_level_rolls_back(daemon):
    error, _result = rolled_back(daemon, target_level="11.1.4.5")
    assert error.step == "verify_level" and "reports Db2 11.1.4.4, not the expected 11.1.4.5" in str(error)


def test_lost_daemon_during_a_step(daemon):
    daemon.fail("stop", exc=ConnectionError("connection refused"))
    error, _result = rolled_back(daemon, docker_host="tcp://db2host:2376")
    assert "lost the connection to the Docker daemon tcp://db2host:2376" in str(error)


def test_rollback_that_fails_says_what_to_do(daemon):
    daemon.images[NEW]["_start"] = "exit"
    real_rename = daemon.rename

    def rename_once_then_fail(container, name):  # the marker rename works, the one back fails
        real_rename(container, name)
        daemon.fail("rename", exc=ConnectionError("daemon went away"))

    daemon.rename = rename_once_then_fail
    error, result = fails(daemon)
    assert result["rollback"]["status"] == "failed"
    assert "rollback failed: daemon went away" in result["rollback"]["detail"]
    assert "run the task again once the Docker daemon answers" in result["rollback"]["detail"]
    assert "db2_11.1.3.3a_upgrading" in daemon.names()


def test_the_old_container_gets_at_least_the_floor_to_come_back(daemon, monkeypatch):
    """A ready_timeout cut short for a hanging new image must not give up on the old one."""
    monkeypatch.setattr(engine, "ROLLBACK_READY_MIN", 300)
    waits = []
    real_wait = engine.wait_until_ready

    def recording_wait(api, container_id, timeout, **kwargs):
        waits.append(timeout)
        return real_wait(api, container_id, timeout=timeout, **kwargs)

    monkeypatch.setattr(engine, "wait_until_ready", recording_wait)
    daemon.images[NEW]["_start"] = "exit"
    _error, result = fails(daemon, ready_timeout=5)
    assert result["rollback"]["status"] == "done"
    assert waits == [5, 300], "the new container waited ready_timeout, the old one at least the floor"


def test_old_container_that_cannot_come_back_is_stopped(daemon):
    daemon.images[NEW]["_start"] = "exit"
    old_id = daemon.container("db2")["Id"]
    daemon.container("db2")["_start"] = "unready"
    error, result = fails(daemon, ready_timeout=1)
    assert result["rollback"]["status"] == "failed"
    assert "db2 is stopped; start a container from db2:11.1.4.4" in result["rollback"]["detail"]
    assert not daemon.container(old_id)["State"]["Running"], "not left in a restart loop"


def test_post_upgrade_failure_is_not_rolled_back(daemon):
    daemon.stores["/srv/db2"].failures["^BIND .*db2schema"] = "SQL0001N  Binding was not successful."
    error, result = fails(daemon, post_upgrade=True)
    assert error.step == "post_upgrade" and error.changed is True and not result["rolled_back"]
    assert "run the task again to retry the post-upgrade tasks" in result["not_rolled_back"]
    assert daemon.container("db2")["Config"]["Image"] == NEW and daemon.container("db2")["State"]["Running"]


def test_db2updv_failure_is_not_rolled_back(daemon):
    daemon.on_exec(r"^db2updv111 -d SALES$", (1, "DBT5005E  failed"))
    error, result = fails(daemon, post_upgrade=True)
    assert "db2updv111 -d SALES failed (rc=1)" in str(error) and result["not_rolled_back"]


# -- resume: a killed run left the old container renamed ---------------------------------------------

def kill_after(daemon, *steps):
    """The state a run killed after these steps leaves (rename, stop, create, start)."""
    old = daemon.container("db2")
    marker = "db2_11.1.3.3a_upgrading"
    daemon.rename(old["Id"], marker)
    new_id = None
    if "stop" in steps:
        daemon.stop(old["Id"])
    if "create" in steps:
        new_id = daemon.create_container(image=NEW, name="db2", host_config={"Binds": ["/srv/db2:/database"]},
                                         labels={LABEL_FROM_CONTAINER: old["Id"], LABEL_ACTIVE: "TESTDB"})["Id"]
    if "start" in steps:
        daemon.start(new_id)
    daemon.calls = []
    return old["Id"], new_id


@pytest.mark.parametrize("steps, first", [
    (("rename",), "docker stop --time 30 db2_11.1.3.3a_upgrading"),
    (("rename", "stop"), "docker create --name db2 (configuration of db2_11.1.3.3a_upgrading) db2:11.1.4.4"),
    (("rename", "stop", "create"), "docker rm -f db2"),
])
def test_resume_continues_forward(daemon, steps, first):
    old_id, _new_id = kill_after(daemon, *steps)
    plan = run(daemon, check_mode=True)
    assert daemon.calls == [] and plan["resumed"] is True and plan["commands"][0] == first
    assert plan["commands"][-1] == "docker rename db2_11.1.3.3a_upgrading db2_11.1.3.3a"
    result = run(daemon)
    assert result["resumed"] is True and result["changed"] is True and result["commands"] == plan["commands"]
    assert daemon.names() == ["db2", "db2_11.1.3.3a"] and daemon.container("db2_11.1.3.3a")["Id"] == old_id
    assert daemon.container("db2")["State"]["Running"] and daemon.container("db2")["Config"]["Image"] == NEW


def test_resume_of_a_started_new_container_waits_and_finishes(daemon):
    _old_id, new_id = kill_after(daemon, "rename", "stop", "create", "start")
    result = run(daemon, post_upgrade=True)
    assert result["resumed"] and daemon.container("db2")["Id"] == new_id
    assert [s["name"] for s in result["steps"]] == ["wait_ready", "verify_level", "post_upgrade", "old_container"]
    assert result["post_upgrade"][-1] == "activated TESTDB"


def test_resume_check_mode_without_facts_plans_the_post_upgrade(daemon):
    kill_after(daemon, "rename", "stop")
    plan = run(daemon, check_mode=True, post_upgrade=True)
    assert "db2updv111 -d <each database> (if needed)" in plan["commands"] and daemon.calls == []


def test_a_foreign_container_under_the_name_is_refused(daemon):
    old = daemon.container("db2")
    daemon.rename(old["Id"], "db2_11.1.3.3a_upgrading")
    daemon.stop(old["Id"])
    daemon.add_db2("db2", NEW, storage="/srv/elsewhere")
    error, _result = refused(daemon)
    assert "both db2 and db2_11.1.3.3a_upgrading exist" in str(error)
