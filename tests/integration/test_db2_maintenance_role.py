"""playbooks/schedule.yml with the db2_maintenance role: one job list, an ATS job in Db2 and a
host cron entry that, run by hand through its wrapper as the cron user, executes in the
container (docker exec without -it), with a lock, a log and a failure notification.
"""
import re
import subprocess
import time

import pytest
from conftest import shared_standin
from maintenance import cron_command, cron_user_name, run_as, schedule, work_dir


@pytest.fixture(scope="module")
def db2(standin_images, docker_client):
    with shared_standin(docker_client, standin_images["11.1.4.4"], "db2ops-t-maint") as container:
        yield container


@pytest.fixture
def work():
    with work_dir() as path:
        yield path


@pytest.fixture
def cron_user():
    with cron_user_name() as name:
        yield name


def test_one_job_list_ats_and_host(db2, work, cron_user):
    jobs = [
        dict(name="NIGHTLY RUNSTATS", where="ats", container=db2.name, database="TESTDB", schedule="0 2 * * *",
             procedure=dict(name="ADMIN_CMD", input="VALUES('RUNSTATS ON TABLE SYSIBM.SYSDUMMY1')")),
        dict(name="make-table", where="host", container=db2.name, schedule="15 3 * * 0",
             command="db2 connect to testdb && db2 'create table cronmade (i integer)'"),
        dict(name="fails", where="host", container=db2.name, schedule="*/5 * * * *", command="db2 connect to nodb"),
    ]
    proc = schedule(work, cron_user, jobs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "changed=" in proc.stdout
    again = schedule(work, cron_user, jobs)
    assert again.returncode == 0 and re.search(r"localhost\s*:.*changed=0", again.stdout), again.stdout

    listed = db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2 connect to testdb >/dev/null && '
                           'db2 -x "select name, schedule from systools.admin_task_list"'], user="db2inst1")
    assert b"NIGHTLY RUNSTATS" in listed.output and b"0 2 * * *" in listed.output

    command = cron_command(work, "make-table")
    assert " exec -it " not in command and " exec " in command
    assert (work / "cron_db2ops").read_text().count(" %s " % cron_user) == 2
    done = run_as(cron_user, command)
    assert done.returncode == 0, done.stdout + done.stderr
    check = db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2 connect to testdb >/dev/null && '
                          'db2 "select count(*) from cronmade"'], user="db2inst1")
    assert check.exit_code == 0, check.output
    log = (work / "log" / "make-table.log").read_text()
    assert "[make-table] start:" in log and "[make-table] end: exit status 0" in log

    failed = run_as(cron_user, cron_command(work, "fails"))
    assert failed.returncode == 4
    assert "[fails] end: exit status 4" in (work / "log" / "fails.log").read_text()
    assert (work / "log" / "notified").read_text() == "NOTIFY fails 4\n"


def test_overlapping_runs_are_skipped(work, cron_user, db2):
    jobs = [dict(name="slow", where="host", container=db2.name, schedule="* * * * *", command="sleep 3")]
    assert schedule(work, cron_user, jobs).returncode == 0
    command = cron_command(work, "slow")
    first = subprocess.Popen(["su", cron_user, "-s", "/bin/bash", "-c", command])
    try:
        time.sleep(1)
        second = run_as(cron_user, command)
    finally:
        first.wait(timeout=60)
    assert second.returncode == 75
    assert "skipped: the previous run still holds the lock" in (work / "log" / "slow.log").read_text()


def test_bad_job_fails_before_anything(work, cron_user, db2):
    jobs = [dict(name="ok", where="host", container=db2.name, schedule="* * * * *", command="true"),
            dict(name="bad", where="ats", container=db2.name, database="TESTDB", schedule="* * * *",
                 procedure=dict(name="ADMIN_CMD"))]
    proc = schedule(work, cron_user, jobs)
    assert proc.returncode != 0 and "Job bad is not valid" in proc.stdout
    assert not (work / "cron_db2ops").exists()


def test_daemon_tls_refuses_plain_tcp(work, cron_user):
    proc = schedule(work, cron_user, [], db2_maintenance_daemon_tls=True,
                    db2_maintenance_daemon_listen="tcp://0.0.0.0:2375",
                    db2_maintenance_systemd_dropin_dir=str(work / "dropin"), db2_maintenance_daemon_restart=False)
    assert proc.returncode != 0 and "without TLS" in proc.stdout
    assert not (work / "dropin").exists()
