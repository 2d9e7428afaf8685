"""playbooks/schedule.yml with the db2_maintenance role: one job list, an ATS job in Db2 and a
host cron entry that, run by hand through its wrapper as the cron user, executes in the
container (docker exec without -it), with a lock, a log and a failure notification.
"""
import json
import re
import subprocess
import time

import pytest
from conftest import run_db2, shared_standin
from maintenance import cron_command, cron_user_name, exit_statuses, run_as, schedule, work_dir

from ansible_collections.db2ops.docker.plugins.module_utils._db2 import backup


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
             command="db2 connect to testdb && db2 'create table cronmade (i integer)' && date +%Y%m%d"),
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

    assert "date +\\%Y\\%m\\%d" in (work / "cron_db2ops").read_text()
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


def hold_connection(db2):
    """A CLP session connected to TESTDB in the background (ended by pkill at the end of the test)."""
    db2.exec_run(["su", "-", "db2inst1", "-c", "db2 connect to testdb; sleep 600"], detach=True)
    time.sleep(1)  # let it connect; the job that follows is what is checked


def backup_files(db2, path):
    rc, out = run_db2(db2, "ls -1 %s" % path)
    return sorted(line for line in out.split() if line.startswith("TESTDB.0.db2inst1.DBPART000."))


def test_offline_backup_job(db2, work, cron_user):
    path = "/database/backup/nightly"
    jobs = [dict(name="nightly backup", where="host", type="offline_backup", container=db2.name, database="testdb",
                 path=path, keep=2, schedule="0 1 * * *"),
            dict(name="no-force", where="host", type="offline_backup", container=db2.name, database="TESTDB",
                 path=path, force_applications=False, schedule="0 2 * * *"),
            dict(name="bad-path", where="host", type="offline_backup", container=db2.name, database="TESTDB",
                 path="/proc/db2ops-backups", schedule="0 3 * * *")]
    proc = schedule(work, cron_user, jobs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    again = schedule(work, cron_user, jobs)
    assert again.returncode == 0 and re.search(r"localhost\s*:.*changed=0", again.stdout), again.stdout
    command = cron_command(work, "nightly backup")
    assert " exec -it " not in command and " exec -i -u root %s bash -s" % db2.name in command
    assert "--stdin %s/nightly_backup.offline-backup.sh " % (work / "lib") in command
    assert run_db2(db2, "db2 activate database testdb")[0] in (0, 2)
    try:
        # A connection held open while the job runs: forced off, then back to work after the backup.
        hold_connection(db2)
        images = []
        for _run in range(3):
            done = run_as(cron_user, command)
            assert done.returncode == 0, (work / "log" / "nightly_backup.log").read_text()
            images.append(backup_files(db2, path)[-1])
        log = (work / "log" / "nightly_backup.log").read_text()
        assert exit_statuses(log, "nightly backup") == [0, 0, 0]
        assert "Backup successful. The timestamp for this backup image is" in log and "FORCE APPLICATION ALL" in log
        assert backup_files(db2, path) == images[1:]  # keep=2: the oldest one pruned
        assert "db2ops: pruned %s/%s" % (path, images[0]) in log
        assert "db2ops: backup image %s/%s" % (path, images[2]) in log
        rc, out = run_db2(db2, "db2 list active databases")
        assert "TESTDB" in out, "the job must activate the database again"
        owner = run_db2(db2, "stat -c '%%U %%a' %s/%s" % (path, images[2]))[1].split()
        assert owner == ["db2inst1", "600"]

        # Without forcing, a connected application makes the offline backup fail (SQL1035N).
        hold_connection(db2)
        failed = run_as(cron_user, cron_command(work, "no-force"))
        log = (work / "log" / "no-force.log").read_text()
        assert failed.returncode == exit_statuses(log, "no-force")[-1] >= 4, log
        assert "SQL1035N" in log and backup_files(db2, path) == images[1:]
        assert "TESTDB" in run_db2(db2, "db2 list active databases")[1]

        failed = run_as(cron_user, cron_command(work, "bad-path"))
        log = (work / "log" / "bad-path.log").read_text()
        assert failed.returncode == 1 and exit_statuses(log, "bad-path") == [1]
        assert "backup path /proc/db2ops-backups cannot be created" in log
        assert (work / "log" / "notified").read_text().splitlines() == [
            "NOTIFY no-force %d" % failed_status(work, "no-force"), "NOTIFY bad-path 1"]
    finally:
        db2.exec_run(["pkill", "-f", "sleep 600"])

    jobs[0] = dict(name="nightly backup", where="host", type="offline_backup", container=db2.name, state="absent")
    proc = schedule(work, cron_user, jobs)
    assert proc.returncode == 0, proc.stdout
    assert "db2ops nightly backup" not in (work / "cron_db2ops").read_text()
    assert not (work / "lib" / "nightly_backup.offline-backup.sh").exists()
    assert (work / "lib" / "no-force.offline-backup.sh").exists()


def failed_status(work, name):
    return exit_statuses((work / "log" / ("%s.log" % name)).read_text(), name)[-1]


def test_offline_backup_bad_input_changes_nothing(work, cron_user, db2):
    jobs = [dict(name="ok", where="host", container=db2.name, schedule="* * * * *", command="true"),
            dict(name="bad", where="host", type="offline_backup", container=db2.name, database="TESTDB",
                 path="/database/backup; rm -rf /", schedule="0 1 * * *")]
    proc = schedule(work, cron_user, jobs)
    assert proc.returncode != 0 and "Job bad is not valid: Option path must be an absolute path" in proc.stdout
    assert "rm -rf" not in proc.stdout
    assert not (work / "cron_db2ops").exists() and not (work / "lib").exists()


HOSTILE_JOBS = [  # (field, job): each would add a cron line that runs as root if written
    ("command", dict(command="true\n* * * * * root id >/tmp/x #")),
    ("name", dict(name="evil\n* * * * * root id >/tmp/x #")),
    ("container", dict(container="db2server\n* * * * * root id >/tmp/x #")),
    ("schedule", dict(schedule="5/10 * * * *")),  # cron would ignore the whole file for this line
]


def test_hostile_job_fields_fail_before_any_change(work, cron_user):
    good = dict(name="ok", where="host", container="db2server", schedule="* * * * *", command="true")
    proc = schedule(work, cron_user, [good])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cron_file = work / "cron_db2ops"
    before = cron_file.read_bytes()
    for field, change in HOSTILE_JOBS:
        bad = dict(good, name="evil")
        bad.update(change)
        proc = schedule(work, cron_user, [good, bad])
        fatal = [line for line in proc.stdout.splitlines() if line.startswith("fatal:")]
        assert proc.returncode != 0 and len(fatal) == 1, proc.stdout
        msg = json.loads(fatal[0].split("=> ", 1)[1])["msg"]
        label = "#2" if field == "name" else "evil"
        assert "Job %s is not valid: Option %s " % (label, field) in msg, msg
        assert "root id" not in proc.stdout + proc.stderr
        assert cron_file.read_bytes() == before, field


def test_offline_backup_script_takes_a_database_name_with_dollar_and_hash(db2):
    """`$` and `#` are legal in Db2 database names: the job's script matches them literally."""
    odd, path = "T$D#B", "/database/backup/odd"
    rc, out = run_db2(db2, "db2 'create database %s'" % odd)
    assert rc == 0, out
    script = backup.offline_backup_script(odd, path, "db2inst1", keep=1)

    def job():
        return subprocess.run(["docker", "exec", "-i", "-u", "root", db2.name, "bash", "-s"], input=script,
                              capture_output=True, text=True, timeout=300, check=False)

    first = job()
    assert first.returncode == 0, first.stdout + first.stderr
    old = "%s.0.db2inst1.DBPART000.20200101010101.001" % odd
    # What the unquoted name became ($D empty): files of another database that pruning must leave alone.
    decoy = "T#B.0.db2inst1.DBPART000.20200101010101.001"
    assert run_db2(db2, "cd %s && touch '%s' '%s'" % (path, old, decoy))[0] == 0
    time.sleep(1)  # the next backup gets a newer timestamp (seconds)
    second = job()
    assert second.returncode == 0, second.stdout + second.stderr
    left = sorted(run_db2(db2, "ls -1 %s" % path)[1].split())
    newest = [line.split("/")[-1] for line in second.stdout.splitlines() if line.startswith("db2ops: backup image ")]
    assert len(newest) == 1 and newest[0].startswith(odd + ".0.db2inst1.DBPART000.")
    assert left == sorted([decoy] + newest), left
    assert "db2ops: pruned %s/%s" % (path, old) in second.stdout
