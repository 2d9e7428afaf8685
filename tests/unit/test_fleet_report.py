"""The fleet report's rows, drift, backups, ATS state and summary from recorded module results."""
import calendar

import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._upgrade import report as fr

NOW = calendar.timegm((2024, 5, 3, 12, 0, 0))


def item(host, level=None, running=True, backups=(), auth=None, ats=(), failed_msg=None, state="running"):
    if failed_msg:
        return dict(host=host, container=host, docker_host="unix:///var/run/docker.sock",
                    info=dict(failed=True, msg=failed_msg), ats=[])
    container = dict(name=host, image="icr.io/db2_community/db2:%s" % level, image_id="sha256:1", state=state,
                     running=running, db2level={"level": level} if level else None, databases=["TESTDB"],
                     active_databases=["TESTDB"], backups=list(backups), auth=auth, error=None)
    return dict(host=host, container=host, docker_host="unix:///var/run/docker.sock",
                info=dict(containers=[container]), ats=list(ats))


def image(database, stamp):
    return dict(database=database, timestamp=stamp, file="/database/backup/%s.0.db2inst1.DBPART000.%s.001"
                % (database, stamp))


@pytest.mark.parametrize("level, target, expected", [
    ("11.1.3.3a", "11.1.4.4", ("behind", "11.1.3.3a to 11.1.4.4 (fix pack)")),
    ("11.1.4.4", "11.5.9.0", ("behind", "11.1.4.4 to 11.5.9.0 (version)")),
    ("11.5.9.0", "11.5.9.0", ("current", "at target")),
    ("11.5.9.0", "11.1.4.4", ("ahead", "ahead of 11.1.4.4")),
    ("11.1.3.3", "11.1.3.3a", ("behind", "11.1.3.3 to 11.1.3.3a (fix pack)")),
    (None, "11.1.4.4", ("unknown", "level unknown")),
    ("11.1.4.4", None, ("unknown", "no target level")),
])
def test_drift(level, target, expected):
    assert fr.drift(level, target) == expected


def test_rows_sorted_by_drift_most_behind_first_and_summary():
    items = [item("cur", "11.1.4.4"), item("down", failed_msg="Cannot reach the Docker daemon"),
             item("b2", "11.1.3.3a"), item("b1", "10.5.0.8"), item("ahead", "11.5.8.0")]
    report = fr.fleet_report(items, "11.1.4.4", now=NOW)
    assert [r["host"] for r in report["rows"]] == ["b1", "b2", "down", "ahead", "cur"]
    assert report["rows"][2]["drift_text"] == "Cannot reach the Docker daemon"
    assert report["summary"] == dict(containers=5, behind=2, unknown=1, ahead=1, current=1, ldap=0, ats_failed=0,
                                     without_backup=4)
    assert report["generated_at"] == "2024-05-03 12:00:00 UTC"


def test_target_defaults_to_the_newest_level_in_the_fleet():
    report = fr.fleet_report([item("a", "11.1.3.3a"), item("b", "11.5.8.0"), item("c")], "", now=NOW)
    assert (report["target_level"], report["target_source"]) == ("11.5.8.0", "newest in the fleet")


def test_bad_target_level_is_one_clear_error():
    with pytest.raises(fr.ReportError) as err:
        fr.fleet_report([], "latest")
    assert str(err.value) == "db2_report_target_level 'latest' is not a Db2 level like 11.5.9.0 or 11.1.4.4"


def test_newest_backup_per_database_and_its_age():
    backups = [image("TESTDB", "20240501120000"), image("TESTDB", "20240502000000"), image("OTHER", "20240503000000")]
    (row,) = fr.fleet_report([item("a", "11.1.4.4", backups=backups)], "11.1.4.4", now=NOW)["rows"]
    assert row["backups"] == [dict(database="TESTDB", timestamp="20240502000000", when="2024-05-02 00:00:00",
                                   age_days=1.5, file=backups[1]["file"])]
    assert row["backups_missing"] == []


def test_stopped_container_row():
    (row,) = fr.fleet_report([item("s", None, running=False, state="exited")], "11.1.4.4", now=NOW)["rows"]
    assert (row["drift"], row["drift_text"], row["ats"]["text"]) == ("unknown", "container exited", "not running")


def run(status, sqlcode=0):
    return dict(status=status, sqlcode=sqlcode, invocation=1)


@pytest.mark.parametrize("results, state, text", [
    ([], "none", "no tasks"),
    ([dict(item="TESTDB", ats_enabled=True, tasks=[dict(name="A", last_run=run("COMPLETED")),
                                                   dict(name="B", last_run=None)])],
     "ok", "2 tasks, 1 ran, none failed"),
    ([dict(item="TESTDB", ats_enabled=True, tasks=[dict(name="A", last_run=run("NOTRUN")),
                                                   dict(name="B", last_run=run("COMPLETE", -104))])],
     "failed", "2 of 2 failed: TESTDB A (NOTRUN), TESTDB B (COMPLETE)"),
    ([dict(item="TESTDB", ats_enabled=True, tasks=[dict(name="A", last_run=None, run_state="not_picked_up"),
                                                   dict(name="B", last_run=None, run_state="status_hidden"),
                                                   dict(name="C", last_run=run("COMPLETED"), run_state="ran")])],
     "ok", "3 tasks, 1 ran, 1 new or changed (the scheduler picks them up within 5 minutes), "
           "1 of other users (their runs are not visible), none failed"),
    ([dict(item="TESTDB", ats_enabled=False, tasks=[dict(name="A", last_run=None)])],
     "disabled", "1 tasks, scheduler off (DB2_ATS_ENABLE)"),
    ([dict(item="TESTDB", failed=True, msg="SQL1013N")], "unknown", "cannot read: TESTDB: SQL1013N"),
])
def test_ats_state(results, state, text):
    ats = fr.ats_status(results, running=True)
    assert (ats["state"], ats["text"]) == (state, text)


def test_ldap_auth_from_the_dbm_cfg_facts():
    auth = dict(ldap=True, srvcon_pw_plugin="IBMLDAPauthserver", group_plugin="IBMLDAPgroups")
    report = fr.fleet_report([item("l", "11.1.4.4", auth=auth), item("n", "11.1.4.4", auth=dict(ldap=False))],
                             "11.1.4.4", now=NOW)
    assert [(r["host"], r["ldap"], r["auth_plugin"]) for r in report["rows"]] == [
        ("l", True, "IBMLDAPauthserver"), ("n", False, None)]
    assert report["summary"]["ldap"] == 1


DBM_LDAP = """
 Database manager authentication        (AUTHENTICATION) = SERVER
 Server Connection Authentication          (SRVCON_AUTH) = NOT_SPECIFIED
 Server userid-password plugin        (SRVCON_PW_PLUGIN) = IBMLDAPauthserver
 Client userid-password plugin          (CLNT_PW_PLUGIN) =
 Group Plugin                             (GROUP_PLUGIN) = IBMLDAPgroups
"""


def test_auth_facts_from_dbm_cfg():
    from ansible_collections.db2ops.docker.plugins.module_utils._db2.dbm_cfg import auth_facts

    assert auth_facts(DBM_LDAP) == dict(srvcon_pw_plugin="IBMLDAPauthserver", clnt_pw_plugin=None,
                                        group_plugin="IBMLDAPgroups", ldap=True, authentication="SERVER", error=None)
    plain = auth_facts(DBM_LDAP.replace("IBMLDAPauthserver", "").replace("IBMLDAPgroups", ""))
    assert (plain["ldap"], plain["srvcon_pw_plugin"]) == (False, None)
    broken = auth_facts("SQL1032N  No start database manager command was issued.")
    assert broken["ldap"] is None and broken["error"].startswith("cannot read the dbm cfg: SQL1032N")


def test_facts_script_asks_for_backups_and_dbm_cfg_only_when_wanted():
    from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import facts_script

    script, statements = facts_script()
    assert "ls -ln" not in script and "DBM CFG" not in statements
    assert statements.count("ECHO @@DB2OPS-FACTS ") == 2 and script.count("db2 -t") == 1  # one CLP session
    script, statements = facts_script("/database/backup", auth=True)
    assert "ls -ln /database/backup 2>/dev/null" in script and "GET DBM CFG;" in statements


def test_a_crashed_module_row_says_why():
    crashed = item("c", failed_msg="MODULE FAILURE: No start of json char found\nSee stdout/stderr for the exact error")
    crashed["info"]["module_stderr"] = "Traceback (most recent call last):\n  ...\nModuleNotFoundError: No module named 'docker'\n"
    (row,) = fr.fleet_report([crashed], "11.1.4.4", now=NOW)["rows"]
    assert row["drift"] == "unknown" and "\n" not in row["drift_text"]
    assert "ModuleNotFoundError: No module named 'docker'" in row["drift_text"]
    assert "ansible_python_interpreter" in row["drift_text"]


# The fleet summary of an upgrade run (role db2_fixpack, tasks/summary.yml): filters fleet_upgrade_rows
# and fleet_upgrade_table.

def outcome(host, result, **extra):
    return dict(dict(host=host, docker_host="unix:///var/run/docker.sock", container=host, **{"from": "11.1.3.3a"},
                     to="11.1.4.4", downtime_seconds="42.5", backup="/database/backup/TESTDB.0.x", result=result,
                     message=""), **extra)


def test_upgrade_rows_in_play_order_with_not_started_and_unreachable():
    from ansible_collections.db2ops.docker.plugins.filter.fleet_report import fleet_upgrade_rows
    hostvars = dict(  # what the filter reads of each host's hostvars
        db2a={"_db2_fixpack_summary": outcome("db2a", "upgraded"), "db2_container": "db2server"},
        db2b={"db2ops_docker_host": "tcp://h2:2376", "db2_container": "billing"},  # lost its connection
        db2c={"db2ops_docker_host": "tcp://h3:2376"},  # a later batch
        db2d={"_db2_fixpack_summary": outcome("db2d", "failed", backup="", message="stop failed: nothing changed")},
    )
    rows = fleet_upgrade_rows(["db2a", "db2b", "db2c", "db2d"], ["db2a", "db2c", "db2d"], hostvars)
    assert [r["host"] for r in rows] == ["db2a", "db2b", "db2c", "db2d"]
    assert rows[0] == outcome("db2a", "upgraded")  # the recorded outcome, as it was
    assert rows[1] == {"host": "db2b", "docker_host": "tcp://h2:2376", "container": "billing", "from": "-",
                       "to": "-", "downtime_seconds": None, "backup": "", "result": "unreachable",
                       "message": "unreachable during the upgrade: its state is unknown; run again when it answers"}
    assert (rows[2]["result"], rows[2]["container"], rows[2]["message"]) == ("not started", "db2c", "")
    assert rows[3]["result"] == "failed"


def test_upgrade_rows_of_a_host_without_vars_and_bad_hostvars():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.db2ops.docker.plugins.filter.fleet_report import fleet_upgrade_rows
    (row,) = fleet_upgrade_rows(["gone"], ["gone"], {})
    assert (row["container"], row["docker_host"], row["result"]) == ("gone", "", "not started")
    with pytest.raises(AnsibleFilterError, match="hostvars"):
        fleet_upgrade_rows(["a"], ["a"], "hostvars")


def test_upgrade_table_shows_the_backup_or_why_it_failed():
    from ansible_collections.db2ops.docker.plugins.filter.fleet_report import fleet_upgrade_table
    rows = [outcome("db2a", "upgraded"), outcome("db2b", "unchanged", backup="", downtime_seconds=None),
            outcome("db2c", "failed", backup="", message="stop failed"),
            fr.upgrade_rows(["db2d"], [], {})[0], fr.upgrade_rows(["db2e"], ["db2e"], {})[0]]
    header, *lines = fleet_upgrade_table(rows)
    assert header.split() == ["HOST", "CONTAINER", "FROM", "->", "TO", "DOWN(s)", "RESULT", "BACKUP", "(or", "why",
                              "it", "failed)"]
    assert lines[0] == "%-14s %-18s %-10s -> %-10s %8s  %-13s %s" % ("db2a", "db2a", "11.1.3.3a", "11.1.4.4", "42.5",
                                                                     "upgraded", "/database/backup/TESTDB.0.x")
    assert lines[1].split()[-3:] == ["-", "unchanged", "-"]  # no downtime, no backup: dashes
    assert lines[2].endswith("failed        stop failed")
    assert lines[3].endswith("unreachable   " + fr.UNREACHABLE_TEXT)
    assert lines[4].endswith("not started   -")
    assert fleet_upgrade_table(None) == [header]


def test_hadr_roles_and_a_standby_without_its_own_backup():
    pair = item("p", "11.5.8.0")
    pair["info"]["containers"][0].update(
        databases=["OTHER", "TESTDB"], active_databases=["OTHER", "TESTDB"],
        hadr={"TESTDB": {"role": "STANDBY", "state": "REMOTE_CATCHUP_PENDING", "connect_status": "DISCONNECTED"}})
    inactive = item("q", "11.5.8.0")
    inactive["info"]["containers"][0]["hadr"] = {"TESTDB": {"role": "PRIMARY", "state": None, "connect_status": None}}
    report = fr.fleet_report([pair, inactive, item("s", "11.5.8.0")], "11.5.8.0", now=NOW)
    rows = {r["host"]: r for r in report["rows"]}
    assert rows["p"]["hadr"] == {"TESTDB": {"role": "STANDBY", "state": "REMOTE_CATCHUP_PENDING",
                                            "connect_status": "DISCONNECTED", "text": "STANDBY, REMOTE_CATCHUP_PENDING"}}
    assert rows["p"]["backups_missing"] == ["OTHER"]  # a standby is backed up on its primary (SQL1117N on it)
    assert rows["q"]["hadr"]["TESTDB"]["text"] == "PRIMARY, HADR not running"
    assert rows["q"]["backups_missing"] == ["TESTDB"]
    assert rows["s"]["hadr"] == {}  # standard databases only (or an older db2_container_info without hadr)
    assert report["summary"]["without_backup"] == 3
