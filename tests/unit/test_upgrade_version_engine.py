"""The version-upgrade path of db2_container_upgrade (_upgrade/version.py) through the engine, against
the fake daemon: the pre-checks and what they refuse, the kept instance directory, UPGRADE DATABASE,
and the rollback that puts the instance directory back and restores what the old code cannot open."""
import pytest
from fake_docker import FakeDocker, catalog_number

from ansible_collections.db2ops.docker.plugins.module_utils._upgrade import engine
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.engine import ContainerUpgrade, UpgradeError

OLD, NEW = "db2:11.1.4.4", "db2:11.5.8.0"
HOME = "/database/config/db2inst1"
KEPT = HOME + ".db2ops-before-upgrade"


@pytest.fixture(autouse=True)
def quick_rollback_wait(monkeypatch):
    monkeypatch.setattr(engine, "ROLLBACK_READY_MIN", 1)


@pytest.fixture
def daemon():
    fake = FakeDocker()
    fake.add_image(OLD, level="11.1.4.4")
    fake.add_image(NEW, level="11.5.8.0")
    fake.add_db2("db2", OLD, databases=("SALES", "TESTDB"), active=("TESTDB",))

    def shell(container, command, stdin, user):  # the copies of the instance directory, as root
        fake.calls.append(("sh:%s" % user, command[len("/bin/sh -c "):]))
        return 0, ""
    fake.on_exec(r"^/bin/sh -c rm -rf -- ", shell)
    yield fake
    assert fake.unexpected == []


def params(**extra):
    p = dict(container="db2", image=NEW, target_level=None, pull="missing", docker_host=None,
             backup=dict(mode="offline", path="/database/backup", compress=False, space_factor=1.2),
             force_no_backup=False, post_upgrade=False, old_container="keep", stop_timeout=30, ready_timeout=5,
             exec_timeout=60)
    p.update(extra)
    return p


def run(daemon, check_mode=False, **extra):
    return ContainerUpgrade(daemon, params(**extra), check_mode=check_mode, diff=True).run()


def fails(daemon, **extra):
    upgrade = ContainerUpgrade(daemon, params(**extra))
    with pytest.raises(UpgradeError) as err:
        upgrade.run()
    return err.value, upgrade.finish()


def state(daemon, name="db2"):
    return daemon.container(name)["_db2"]


def test_version_upgrade_checks_keeps_the_instance_then_upgrades_every_database(daemon):
    old_id = daemon.container("db2")["Id"]
    result = run(daemon, old_container="remove")
    assert result["version_upgrade"] is True and not result["rolled_back"]
    assert [(s["name"], s["status"]) for s in result["steps"]] == [(name, "done") for name in (
        "precheck", "backup", "keep_instance", "rename", "stop", "create", "wait_ready", "upgrade_databases",
        "wait_databases", "verify_level", "activate", "old_container")]
    assert result["steps"][0]["detail"] == "SALES, TESTDB ready"
    assert result["upgraded_databases"] == ["SALES upgraded", "TESTDB upgraded"]
    assert result["to"]["level_verified"] == "11.5.8.0"
    new = daemon.container("db2")
    assert new["Id"] != old_id and new["Config"]["Labels"]["db2ops.upgrade.kept_instance"] == HOME
    assert set(state(daemon).catalog.values()) == {catalog_number("11.5.8.0")} and state(daemon).active == ["TESTDB"]
    # The copy is taken, as root, after the backups and before the stop; it goes with the old container.
    calls = [c for c in daemon.calls if c[0] in ("sh:root", "stop", "remove_container")]
    assert calls == [("sh:root", "rm -rf -- %s && cp -a -- %s %s" % (KEPT, HOME, KEPT)), ("stop", old_id),
                     ("sh:root", "rm -rf -- %s" % KEPT), ("remove_container", old_id)]
    log = state(daemon).log
    assert log.index("UPGRADE DATABASE SALES") > max(i for i, s in enumerate(log) if s.startswith("BACKUP DATABASE"))


def test_check_mode_runs_the_read_only_precheck_and_changes_nothing(daemon):
    before = daemon.snapshot()
    plan = run(daemon, check_mode=True)
    assert daemon.snapshot() == before and [c for c in daemon.calls if c[0] != "sh:root"] == [] and \
        not [c for c in daemon.calls if c[0] == "sh:root"], "no copy of the instance directory in check mode"
    assert [s["name"] for s in plan["steps"]][:3] == ["precheck", "backup", "keep_instance"]
    assert "rm -rf -- %s && cp -a -- %s %s" % (KEPT, HOME, KEPT) in plan["commands"]
    assert not any(c.startswith("UPGRADE DATABASE") for c in state(daemon).log)


@pytest.mark.parametrize("extra, words", [
    (dict(backup=dict(mode="none", path="/database/backup", compress=False, space_factor=1.2)),
     "a version upgrade (Db2 11.1.4.4 -> 11.5.8.0) cannot be undone without a backup: set backup.mode offline or "
     "online, or force_no_backup=true"),
    (dict(image="db2:12.1.0.0"), "Db2 11.1 cannot be upgraded to 12.1 directly"),
])
def test_refused_before_anything_stops(daemon, extra, words):
    daemon.add_image("db2:10.5.0.11", level="10.5.0.11")
    daemon.add_image("db2:12.1.0.0", level="12.1.0.0")
    daemon.calls = []
    if extra.get("image") == "db2:12.1.0.0":  # 10.5 -> 12.1 skips a release IBM requires
        daemon.remove_container(daemon.container("db2")["Id"], force=True)
        daemon.add_db2("db2", "db2:10.5.0.11", databases=("SALES",), active=())
        words = "Db2 10.5 cannot be upgraded to 12.1 directly (IBM supports 11.1 or 11.5); upgrade in steps"
    before = daemon.snapshot()
    err, result = fails(daemon, **extra)
    assert err.step == "precheck" and words in str(err) and "\n" not in str(err)
    assert daemon.snapshot() == before and daemon.calls == [] and result["backups"] == []


def test_a_database_that_does_not_answer_stops_the_upgrade_and_is_named(daemon):
    daemon.container("db2")["_db2"].failures[r"^CONNECT TO SALES"] = (
        "SQL1117N  A connection to or activation of database \"SALES\" cannot be made because of ROLL-FORWARD PENDING.")
    before = daemon.snapshot()
    err, result = fails(daemon)
    assert err.step == "precheck"
    assert str(err).startswith("databases not ready for a version upgrade: SALES: SQL1117N ")
    assert "TESTDB" not in str(err), "only the database that failed"
    assert daemon.snapshot() == before and daemon.calls == [] and result["backups"] == []


def test_force_no_backup_upgrades_without_a_backup(daemon):
    result = run(daemon, backup=dict(mode="none", path="/database/backup", compress=False, space_factor=1.2),
                 force_no_backup=True)
    assert "backup" not in [s["name"] for s in result["steps"]] and result["backups"] == []
    assert result["upgraded_databases"] == ["SALES upgraded", "TESTDB upgraded"]
    assert result["old_container"] == "db2_11.1.4.4"


def test_a_database_the_image_upgraded_already_is_reported_so(daemon):
    daemon.container("db2")["_db2"].failures[r"^UPGRADE DATABASE SALES"] = (
        "SQL1103W  The UPGRADE DATABASE command was successful.")
    result = run(daemon)
    assert result["upgraded_databases"] == ["SALES already upgraded", "TESTDB upgraded"]


def test_a_failed_copy_of_the_instance_directory_stops_before_the_stop_and_activates_again(daemon):
    old_id = daemon.container("db2")["Id"]
    daemon.on_exec(r"^/bin/sh -c rm -rf -- ", (1, "", "cp: cannot create directory: No space left on device"))
    err, result = fails(daemon)
    assert err.step == "keep_instance"
    assert str(err) == ("cannot keep a copy of the instance directory %s: cp: cannot create directory: No space left "
                        "on device" % HOME)
    old = daemon.container("db2")
    assert old["Id"] == old_id and old["State"]["Running"] and daemon.names() == ["db2"]
    assert old["_db2"].active == ["TESTDB"], "active again after the offline backup, as before the task"
    assert [s["name"] for s in result["steps"]] == ["precheck", "backup", "keep_instance", "activate"]
    assert not any(c[0] in ("stop", "rename", "create_container") for c in daemon.calls)
    assert [b["database"] for b in result["backups"]] == ["SALES", "TESTDB"], "the backups are reported"


def test_a_failed_upgrade_database_puts_the_instance_back_and_restores_what_the_old_code_cannot_open(daemon):
    old_id = daemon.container("db2")["Id"]
    daemon.container("db2")["_db2"].failures[r"^UPGRADE DATABASE TESTDB"] = (
        "SQL1704N  Database upgrade failed. Reason code \"3\".")
    err, result = fails(daemon)
    assert err.step == "upgrade_databases"
    assert str(err).startswith("UPGRADE DATABASE TESTDB failed: SQL1704N ")
    assert result["rolled_back"] and result["rollback"]["status"] == "done"
    sales = next(b for b in result["backups"] if b["database"] == "SALES")
    detail = result["rollback"]["detail"]
    assert detail.startswith("removed the new container; %s put back from %s; " % (HOME, KEPT))
    assert "restored SALES from %s" % sales["timestamp"] in detail and "restored TESTDB" not in detail
    assert detail.endswith("activated TESTDB")
    # The helper that put the directory back ran the old image on the same storage and is gone.
    helper = [c for c in daemon.calls if c[0] == "create_container" and c[1] != "db2"]
    assert len(helper) == 1 and daemon.names() == ["db2"]
    old = daemon.container("db2")
    assert old["Id"] == old_id and old["State"]["Running"]
    assert set(old["_db2"].catalog.values()) == {catalog_number("11.1.4.4")} and old["_db2"].active == ["TESTDB"]
    assert any(s.startswith("RESTORE DATABASE SALES FROM /database/backup TAKEN AT %s" % sales["timestamp"])
               for s in old["_db2"].log)


def test_without_a_backup_the_rollback_says_which_database_is_lost_and_where_it_looked(daemon):
    daemon.container("db2")["_db2"].failures[r"^UPGRADE DATABASE TESTDB"] = "SQL1704N  Database upgrade failed."
    err, result = fails(daemon, backup=dict(mode="none", path="/database/backup", compress=False, space_factor=1.2),
                        force_no_backup=True)
    assert err.step == "upgrade_databases" and result["rollback"]["status"] == "failed"
    assert ("rollback failed: SALES does not open with the old code and there is no backup of it in /database/backup"
            in result["rollback"]["detail"])
    assert "restore the backups (none)" in result["rollback"]["detail"]


def test_a_helper_that_cannot_put_the_instance_back_fails_the_rollback_with_its_log(daemon):
    daemon.container("db2")["_db2"].failures[r"^UPGRADE DATABASE SALES"] = "SQL1704N  Database upgrade failed."
    daemon.wait_answers.append((1, b"cp: cannot create regular file: Read-only file system\n"))
    err, result = fails(daemon)
    assert err.step == "upgrade_databases" and result["rollback"]["status"] == "failed"
    assert ("rollback failed: could not put the instance directory back (exit 1): cp: cannot create regular file: "
            "Read-only file system" in result["rollback"]["detail"])
    assert daemon.names() == ["db2_11.1.4.4_upgrading"], "the helper is removed; the old container keeps its marker"
    assert "run the task again" in result["rollback"]["detail"]


def test_a_new_image_that_cannot_start_leaves_the_databases_to_the_old_code_without_a_restore(daemon):
    daemon.images[NEW]["_start"] = "exit"  # db2iupgrade fails at the start of the new image
    old_id = daemon.container("db2")["Id"]
    err, result = fails(daemon)
    assert err.step == "wait_ready" and result["rollback"]["status"] == "done"
    detail = result["rollback"]["detail"]
    assert "%s put back from %s" % (HOME, KEPT) in detail and "SALES, TESTDB open with the old code" in detail
    assert "restored" not in detail
    old = daemon.container("db2")
    assert old["Id"] == old_id and old["State"]["Running"] and old["_db2"].active == ["TESTDB"]
    assert not any(s.startswith(("RESTORE", "UPGRADE")) for s in old["_db2"].log)


def test_a_resumed_run_upgrades_the_databases_of_the_new_container(daemon):
    """A run killed after the new container started: the rerun reads the databases there and upgrades them."""
    old = daemon.container("db2")
    daemon.rename(old["Id"], "db2_11.1.4.4_upgrading")
    daemon.stop(old["Id"])
    labels = {engine.LABEL_FROM_CONTAINER: old["Id"], engine.LABEL_FROM_LEVEL: "11.1.4.4",
              engine.LABEL_ACTIVE: "TESTDB", "db2ops.upgrade.kept_instance": HOME}
    new_id = daemon.create_container(NEW, name="db2", host_config={"Binds": ["/srv/db2:/database"]}, labels=labels)["Id"]
    daemon.start(new_id)
    result = run(daemon)
    assert result["resumed"] and result["version_upgrade"]
    assert [s["name"] for s in result["steps"]] == ["wait_ready", "upgrade_databases", "wait_databases",
                                                    "verify_level", "activate", "old_container"]
    assert result["upgraded_databases"] == ["SALES upgraded", "TESTDB upgraded"]
    assert daemon.container("db2")["Id"] == new_id and state(daemon).active == ["TESTDB"]
    assert daemon.names() == ["db2", "db2_11.1.4.4"]
