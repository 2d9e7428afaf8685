"""playbooks/schedule.yml with the db2_maintenance role: one job list, an ATS job in Db2 and a
host cron entry that, run by hand through its wrapper as the cron user, executes in the
container (docker exec without -it), with a lock, a log and a failure notification.
"""
import json
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from conftest import shared_standin
from playbook import REPO, run_playbook


@pytest.fixture(scope="module")
def db2(standin_images, docker_client):
    with shared_standin(docker_client, standin_images["11.1.4.4"], "db2ops-t-maint") as container:
        yield container


@pytest.fixture
def work(tmp_path_factory):
    """A directory the cron user may enter (pytest's own are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="db2ops-maint-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def cron_user():
    name = "db2c" + uuid.uuid4().hex[:6]
    yield name
    subprocess.run(["userdel", "-r", name], capture_output=True, check=False)


def schedule(work, cron_user, jobs, **extra):
    extra_vars = dict(db2_schedule_hosts="localhost", db2_jobs=jobs, db2_maintenance_cron_user=cron_user,
                      db2_maintenance_cron_file=str(work / "cron_db2ops"),
                      db2_maintenance_wrapper_path=str(work / "db2ops-job"),
                      db2_maintenance_log_dir=str(work / "log"), db2_maintenance_lock_dir=str(work / "lock"),
                      db2_maintenance_notify_command='echo "NOTIFY $DB2OPS_JOB $DB2OPS_STATUS" >> %s'
                      % (work / "log" / "notified"), **extra)
    inventory = work / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}))
    return run_playbook(REPO / "playbooks" / "schedule.yml", inventory=str(inventory), extra_vars=extra_vars)


def cron_command(work, name):
    """The command of the cron entry for job `name` (after the five fields and the user)."""
    lines = (work / "cron_db2ops").read_text().splitlines()
    index = lines.index("#Ansible: db2ops %s" % name)
    return re.split(r"\s+", lines[index + 1], maxsplit=6)[6]


def run_as(user, command):
    return subprocess.run(["su", user, "-s", "/bin/bash", "-c", command], capture_output=True, text=True,
                          timeout=120, check=False)


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
