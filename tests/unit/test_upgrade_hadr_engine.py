"""db2_container_upgrade in an HADR pair (_upgrade/hadr.py through the engine) on the fake daemon:
the refusals change nothing; the standby's rolling update skips its backup, probe and post-upgrade
and starts it as standby again, after the level is verified and in a rollback; resumed runs."""
import pathlib

import pytest
from fake_docker import FakeDocker

from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Clp
from ansible_collections.db2ops.docker.plugins.module_utils._db2.post_upgrade import PostUpgradeError, choose_databases
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade import engine
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.engine import (
    LABEL_ACTIVE,
    LABEL_FROM_CONTAINER,
    ContainerUpgrade,
    UpgradeError,
)
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.hadr import LABEL_STANDBY

OLD, NEW, NEWER = "db2:11.5.8.0", "db2:11.5.9.0", "db2:12.1.0.0"
SAMPLES = pathlib.Path(__file__).parent / "samples"
START = "START HADR ON DATABASE TESTDB AS STANDBY"


@pytest.fixture(autouse=True)
def quick_rollback_wait(monkeypatch):
    monkeypatch.setattr(engine, "ROLLBACK_READY_MIN", 1)


@pytest.fixture
def daemon():
    """SALES is a standard database, TESTDB the standby of a pair (active as a standby)."""
    fake = FakeDocker()
    fake.add_image(OLD, level="11.5.8.0")
    fake.add_image(NEW, level="11.5.9.0")
    fake.add_image(NEWER, level="12.1.0.0")
    fake.add_db2("db2", OLD, databases=("SALES", "TESTDB"), active=("SALES", "TESTDB"))
    fake.container("db2")["_db2"].hadr["TESTDB"] = "STANDBY"
    yield fake
    assert fake.unexpected == []


def params(**extra):
    p = dict(container="db2", image=NEW, target_level=None, pull="never", docker_host=None,
             backup=dict(mode="offline", path="/database/backup", compress=False, space_factor=1.2),
             post_upgrade=True, old_container="keep", stop_timeout=30, ready_timeout=5, exec_timeout=60,
             hadr_rolling_update=True, force_no_backup=False)
    p.update(extra)
    return p


def run(daemon, check_mode=False, **extra):
    return ContainerUpgrade(daemon, params(**extra), check_mode=check_mode).run()


def refused(daemon, **extra):
    """The run fails before anything changed: same container, running, no Docker change, no CLP change."""
    old = daemon.container("db2")
    before, log = daemon.snapshot(), list(old["_db2"].log)
    upgrade = ContainerUpgrade(daemon, params(**extra))
    with pytest.raises(UpgradeError) as err:
        upgrade.run()
    assert err.value.changed is False and daemon.calls == [] and daemon.snapshot() == before
    assert set(old["_db2"].log[len(log):]) == {"LIST ACTIVE DATABASES", "LIST DB DIRECTORY", "hadr status"}, \
        "the facts and the roles were read, nothing else ran"
    assert old["_db2"].active == ["SALES", "TESTDB"]
    assert daemon.container("db2")["Id"] == old["Id"] and daemon.container("db2")["State"]["Running"]
    assert err.value.step == "check_hadr" and "\n" not in str(err.value)
    return str(err.value), upgrade.finish()


def test_a_pair_database_without_the_flag_is_refused(daemon):
    message, result = refused(daemon, hadr_rolling_update=False)
    assert "TESTDB (STANDBY) in an HADR pair" in message and "playbooks/hadr_fixpack.yml" in message
    assert result["hadr"] == {"TESTDB": "STANDBY"}


def test_a_primary_is_refused_even_in_a_rolling_update(daemon):
    daemon.container("db2")["_db2"].hadr["TESTDB"] = "PRIMARY"
    message, _result = refused(daemon)
    assert "TESTDB is the HADR primary: take over on the standby first" in message


@pytest.mark.parametrize("flag", [False, True])
def test_a_version_upgrade_of_a_pair_is_refused_always(daemon, flag):
    message, _result = refused(daemon, image=NEWER, hadr_rolling_update=flag)
    assert "a version upgrade (Db2 11.5.8.0 -> 12.1.0.0) of a pair is not supported" in message


def test_a_standard_container_is_not_touched_by_the_hadr_path(daemon):
    daemon.container("db2")["_db2"].hadr.clear()
    result = run(daemon, hadr_rolling_update=False)
    assert result["hadr"] == {} and [s["name"] for s in result["steps"]] == [
        "backup", "rename", "stop", "create", "wait_ready", "verify_level", "post_upgrade", "old_container"]
    assert START not in result["commands"]
    assert daemon.container("db2")["Config"]["Labels"][LABEL_STANDBY] == ""


PLAN = [
    "install -d -o db2inst1 /database/backup",
    "FORCE APPLICATION ALL", "DEACTIVATE DATABASE SALES", "BACKUP DATABASE SALES TO /database/backup WITHOUT PROMPTING",
    "docker rename db2 db2_11.5.8.0_upgrading",
    "docker stop --time 30 db2_11.5.8.0_upgrading",
    "docker create --name db2 (configuration of db2_11.5.8.0_upgrading) db2:11.5.9.0",
    "docker start db2",
    START,
    "db2updv115 -d SALES (if needed)",
    "CONNECT TO SALES",
    "BIND /database/config/db2inst1/sqllib/bnd/db2schema.bnd BLOCKING ALL GRANT PUBLIC SQLERROR CONTINUE",
    "BIND /database/config/db2inst1/sqllib/bnd/@db2ubind.lst BLOCKING ALL GRANT PUBLIC ACTION ADD",
    "BIND /database/config/db2inst1/sqllib/bnd/@db2cli.lst BLOCKING ALL GRANT PUBLIC ACTION ADD",
    "CONNECT RESET",
    "ACTIVATE DATABASE SALES",
    "docker rename db2_11.5.8.0_upgrading db2_11.5.8.0",
]


def test_rolling_update_of_the_standby_plan_and_run(daemon):
    before = daemon.snapshot()
    plan = run(daemon, check_mode=True)
    assert daemon.snapshot() == before and daemon.calls == []
    assert plan["commands"] == PLAN and plan["hadr"] == {"TESTDB": "STANDBY"}
    steps = ["check_hadr", "backup", "rename", "stop", "create", "wait_ready", "verify_level", "start_hadr",
             "post_upgrade", "old_container"]
    assert [s["name"] for s in plan["steps"]] == steps

    result = run(daemon)
    assert [c.replace(" (if needed)", "") for c in plan["commands"]] == result["commands"]
    assert [(s["name"], s["status"]) for s in result["steps"]] == [(name, "done") for name in steps]
    assert [b["database"] for b in result["backups"]] == ["SALES"], "a standby cannot be backed up (SQL1117N)"
    assert result["post_upgrade"] == ["db2updv115 -d SALES", "binds on SALES", "activated SALES"]
    new = daemon.container("db2")
    labels = new["Config"]["Labels"]
    assert labels[LABEL_STANDBY] == "TESTDB" and labels[LABEL_ACTIVE] == "SALES"
    log = new["_db2"].log
    assert START in log and not any(s in log for s in ("CONNECT TO TESTDB", "ACTIVATE DATABASE TESTDB",
                                                       "db2updv115 -d TESTDB"))
    assert log.index(START) < log.index("CONNECT TO SALES"), "the standby rejoins before the post-upgrade tasks"
    assert new["_db2"].catalog["TESTDB"] == 11050800, "its catalog comes from the primary's log, not from here"


def test_a_container_with_only_a_standby_skips_the_backup(daemon):
    daemon.add_db2("solo", OLD, databases=("TESTDB",), active=("TESTDB",), storage="/srv/solo")
    daemon.container("solo")["_db2"].hadr["TESTDB"] = "STANDBY"
    result = run(daemon, container="solo")
    assert [s["name"] for s in result["steps"]][:2] == ["check_hadr", "rename"] and result["backups"] == []
    assert result["post_upgrade"] == [] and START in result["commands"]


def test_a_rollback_starts_the_standby_again(daemon):
    old_id = daemon.container("db2")["Id"]
    upgrade = ContainerUpgrade(daemon, params(target_level="11.5.9.1"))
    with pytest.raises(UpgradeError) as err:
        upgrade.run()
    result = upgrade.finish()
    assert err.value.step == "verify_level" and result["rollback"]["status"] == "done", result["rollback"]
    assert "started TESTDB as standby" in result["rollback"]["detail"]
    old = daemon.container("db2")
    assert old["Id"] == old_id and old["State"]["Running"]
    assert old["_db2"].log[-1] == START and "activated SALES" in result["rollback"]["detail"]


def kill_after_create_and_start(daemon, labels):
    old = daemon.container("db2")
    daemon.rename(old["Id"], "db2_11.5.8.0_upgrading")
    daemon.stop(old["Id"])
    new_id = daemon.create_container(image=NEW, name="db2", host_config={"Binds": ["/srv/db2:/database"]},
                                     labels=dict({LABEL_FROM_CONTAINER: old["Id"], LABEL_ACTIVE: "SALES"},
                                                 **labels))["Id"]
    daemon.start(new_id)
    daemon.calls = []
    return new_id


@pytest.mark.parametrize("labels", [{LABEL_STANDBY: "TESTDB"}, {}], ids=["recorded", "read-from-new"])
def test_a_resumed_run_knows_the_standby(daemon, labels):
    new_id = kill_after_create_and_start(daemon, labels)
    result = run(daemon)
    assert result["resumed"] and daemon.container("db2")["Id"] == new_id
    assert [s["name"] for s in result["steps"]] == ["wait_ready", "verify_level", "start_hadr", "post_upgrade",
                                                    "old_container"]
    assert result["post_upgrade"] == ["db2updv115 -d SALES", "binds on SALES", "activated SALES"]
    log = daemon.container("db2")["_db2"].log
    assert START in log and "CONNECT TO TESTDB" not in log
    if not labels:
        assert result["hadr"] == {"TESTDB": "STANDBY"}


def test_a_resumed_run_of_a_standard_container_reads_the_roles_once_up(daemon):
    daemon.container("db2")["_db2"].hadr.clear()
    kill_after_create_and_start(daemon, {})
    result = run(daemon)
    assert result["hadr"] == {} and START not in result["commands"]
    assert result["post_upgrade"][-2:] == ["binds on TESTDB", "activated SALES"]


# -- db2_post_upgrade's choice of databases (_db2/post_upgrade.choose_databases) ---------------------

def clp_of(daemon):
    return Db2Clp(daemon, daemon.container("db2")["Id"], "db2inst1", timeout=10)


def test_post_upgrade_leaves_a_standby_out_by_default(daemon):
    assert choose_databases(clp_of(daemon), ["SALES", "TESTDB"], [], "db2") == (["SALES"], ["TESTDB"])
    daemon.container("db2")["_db2"].hadr["TESTDB"] = "PRIMARY"
    assert choose_databases(clp_of(daemon), ["SALES", "TESTDB"], [], "db2") == (["SALES", "TESTDB"], [])


@pytest.mark.parametrize("wanted, words", [
    (["TESTDB"], "databases: TESTDB is an HADR standby in container db2; run the post-upgrade tasks on the primary"),
    (["SALES", "NOPE"], "databases: NOPE not cataloged in container db2 (it has: SALES, TESTDB)"),
])
def test_post_upgrade_refuses_a_named_standby_or_unknown_database(daemon, wanted, words):
    with pytest.raises(PostUpgradeError) as err:
        choose_databases(clp_of(daemon), ["SALES", "TESTDB"], wanted, "db2")
    assert words in str(err.value) and err.value.changed is False


def test_a_rerun_at_the_target_starts_a_standby_that_is_not_running(daemon, monkeypatch):
    run(daemon)
    new = daemon.container("db2")
    assert START in new["_db2"].log
    # The fake's standby never shows HADR running (no db2pd block): a rerun starts it again.
    result = run(daemon)
    assert result["changed"] is True and result["msg"].endswith("; started TESTDB as standby")
    assert [s["name"] for s in result["steps"]] == ["start_hadr"] and result["commands"] == [START]
    assert new["_db2"].log.count(START) == 2
    plain = run(daemon, hadr_rolling_update=False)
    assert plain["changed"] is False and "hadr" not in plain and plain["commands"] == []


def test_a_rerun_at_the_target_leaves_a_running_standby_alone(daemon):
    run(daemon)
    running = (SAMPLES / "db2pd_hadr_standby.txt").read_text()
    status = ("@@DB2OPS_HADR cfg_SALES\n HADR database role = STANDARD\n"
              "@@DB2OPS_HADR cfg_TESTDB\n HADR database role = STANDBY\n"
              "@@DB2OPS_HADR active\n@@DB2OPS_HADR rc=0\n@@DB2OPS_HADR pd\n%s@@DB2OPS_HADR rc=0\n" % running)
    daemon.on_exec(r"^\{ for db in '", (0, status))
    result = run(daemon)
    assert result["changed"] is False and result["hadr"] == {"TESTDB": "STANDBY"} and result["commands"] == []
