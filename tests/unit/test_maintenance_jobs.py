"""The db2_maintenance job list gate (filter db2_maintenance_jobs): every field one line, names by their rules,
cron schedules as Debian's cron reads them; one-line errors naming job and field, never the value."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.db2ops.docker.plugins.filter.db2_maintenance_jobs import db2_maintenance_jobs
from ansible_collections.db2ops.docker.plugins.module_utils._ats import tasks as ats
from ansible_collections.db2ops.docker.plugins.module_utils._ats.maintenance import JobError, check_jobs

INJECTED = "true\n* * * * * root id >/tmp/x #"


def host(**extra):
    job = dict(name="make-table", where="host", container="db2server", schedule="15 3 * * 0", command="db2 list")
    job.update(extra)
    return job


def ats_job(**extra):
    job = dict(name="NIGHTLY RUNSTATS", where="ats", container="db2server", database="TESTDB", schedule="0 2 * * *",
               procedure=dict(name="ADMIN_CMD", input="VALUES('RUNSTATS ON TABLE SYSIBM.SYSDUMMY1')"))
    job.update(extra)
    return job


def backup_job(**extra):
    job = dict(name="nightly backup", where="host", type="offline_backup", container="db2server", database="TESTDB",
               path="/database/backup", keep=2, schedule="0 1 * * *")
    job.update(extra)
    return job


def client(**extra):
    job = host(where="client", docker_host="tcp://db2host1.example.com:2376")
    job.update(extra)
    return job


def failure(jobs):
    with pytest.raises(JobError) as err:
        check_jobs(jobs)
    message = str(err.value)
    assert "\n" not in message and "\r" not in message
    assert message.endswith("nothing was changed.")
    return message


def test_good_jobs_pass_with_canonical_schedules():
    jobs = [host(schedule=" 15  3 * *   SUN"), ats_job(), backup_job(), client(name="remote"),
            dict(name="gone", where="host", container="db2server", state="absent"),
            ats_job(name="old", state="absent", procedure=None)]
    checked = check_jobs(jobs)
    assert [job["schedule"] for job in checked[:4]] == ["15 3 * * sun", "0 2 * * *", "0 1 * * *", "15 3 * * 0"]
    assert checked[4] == jobs[4] and jobs[0]["schedule"] == " 15  3 * *   SUN"  # the input is not changed
    assert check_jobs(None) == [] and check_jobs([]) == []


@pytest.mark.parametrize("job, label, field", [
    (host(command=INJECTED), "make-table", "command"),
    (host(name="x\n* * * * * root id >/tmp/x #"), "#1", "name"),
    (host(container="db2server\n* * * * * root id >/tmp/x #"), "make-table", "container"),
    (host(instance="db2inst1\n* * * * * root id"), "make-table", "instance"),
    (host(schedule="* * * * *\n* * * * * root id >/tmp/x #"), "make-table", "schedule"),
    (host(remarks="nightly\r\n* * * * * root id"), "make-table", "remarks"),
    (host(extra="a\x00b"), "make-table", "extra"),
    (client(docker_host="tcp://h:2376\n* * * * * root id"), "make-table", "docker_host"),
    (backup_job(path="/database/backup\n* * * * * root id"), "nightly backup", "path"),
    (backup_job(database="TESTDB\n"), "nightly backup", "database"),
    (ats_job(database="TESTDB\n"), "NIGHTLY RUNSTATS", "database"),
    (ats_job(procedure=dict(name="ADMIN_CMD", input="VALUES('a');\nDROP TABLE X;")), "NIGHTLY RUNSTATS",
     "procedure.input"),
    (ats_job(procedure=dict(name="ADMIN_CMD\n", schema="SYSPROC")), "NIGHTLY RUNSTATS", "procedure.name"),
    (ats_job(remarks="\x1b[2J"), "NIGHTLY RUNSTATS", "remarks"),
])
def test_control_characters_in_any_field_are_refused(job, label, field):
    message = failure([host(name="ok"), job])
    assert message.startswith("Job %s is not valid: Option %s " % (label.replace("#1", "#2"), field))
    assert "root id" not in message and "/tmp/x" not in message


@pytest.mark.parametrize("job, field, text", [
    (host(container="db2server; id"), "container", "Docker container name"),
    (host(container="-d"), "container", "Docker container name"),
    (host(instance="db2inst1'; touch /x; echo '"), "instance", "OS user name"),
    (host(instance="Db2Inst1"), "instance", "OS user name"),
    (client(docker_host="tcp://h:2376 -H unix:///x"), "docker_host", "tcp://HOST:PORT"),
    (host(where="client"), "docker_host", "tcp://HOST:PORT"),
    (ats_job(database="TEST;DB"), "database", "Db2 database name"),
    (ats_job(database="TOOLONGNAME"), "database", "Db2 database name"),
    (backup_job(database="T$(id)"), "database", "Db2 database name"),
    (backup_job(path="/database/backup; rm -rf /"), "path", "absolute path"),
    (backup_job(keep=0), "keep", "whole number"),
    (backup_job(keep="2; rm"), "keep", "whole number"),
    (host(command=""), "command", "missing or empty"),
    (host(command=None), "command", "missing or empty"),
    (host(where="moon"), "where", "one of ats, host, client"),
    (host(state="gone"), "state", "one of present, absent"),
    (host(name=""), "name", "missing or empty"),
    (host(name="n" * 129), "name", "longer than 128"),
    (host(command="x" * 10000), "command", "10000 characters long"),
    (ats_job(procedure=None), "procedure", "at least a name"),
    (ats_job(type="offline_backup"), "type", "host and client jobs"),
    (backup_job(command="true"), "command", "cannot go with type=offline_backup"),
])
def test_names_and_values_are_checked_by_their_rules(job, field, text):
    message = failure([job])
    assert " Option %s " % field in message and text in message, message


@pytest.mark.parametrize("schedule, text", [
    ("* * * *", "has 4 fields"),
    ("@daily", "has 1 fields"),
    ("60 * * * *", "out of range (0-59)"),
    ("* 24 * * *", "field hour"),
    ("* * 0 * *", "field day of month"),
    ("* * * 13 *", "field month"),
    ("* * * * 8", "field day of week"),
    ("5/10 * * * *", "step after * or a range only"),
    ("*/0 * * * *", "step must be at least 1"),
    ("10-5 * * * *", "runs backwards"),
    ("* * * jan-foo *", "out of range"),
    ("* * * * mon-", "not a value, range, list or step"),
])
def test_host_schedules_are_checked_as_cron_reads_them(schedule, text):
    message = failure([host(schedule=schedule)])
    assert "Option schedule is not valid" in message and text in message


@pytest.mark.parametrize("schedule, canonical", [
    ("*/15 0-23/2 1,15 JAN,jul 0,7", "*/15 0-23/2 1,15 jan,jul 0,7"),
    ("0 15 * * MON-Fri", "0 15 * * mon-fri"),
    ("0-4,8-12 * 1-31/2 * sun", "0-4,8-12 * 1-31/2 * sun"),
])
def test_cron_accepts_what_debian_cron_reads(schedule, canonical):
    assert check_jobs([host(schedule=schedule)])[0]["schedule"] == canonical


def test_ats_keeps_its_own_schedule_rules():
    # Db2 ATS takes a step after a single value; cron does not.
    assert ats.normalize_cron("5/10 * * * *") == "5/10 * * * *"
    with pytest.raises(ats.AtsError, match="step after"):
        ats.normalize_cron("5/10 * * * *", dialect="cron")


def test_a_name_used_twice_is_refused_per_scheduler():
    assert len(check_jobs([host(name="x"), ats_job(name="x")])) == 2
    assert "name is also the name of job #1" in failure([host(name="x"), client(name="x")])


def test_the_filter_fails_with_the_same_line():
    with pytest.raises(AnsibleFilterError, match="^Job make-table is not valid: Option command contains a newline"):
        db2_maintenance_jobs([host(command=INJECTED)])
    with pytest.raises(AnsibleFilterError, match="Option db2_maintenance_instance must be an OS user name"):
        db2_maintenance_jobs([host()], instance_owner="db2inst1 ; id")
    assert db2_maintenance_jobs([host()], instance_owner="db2inst9")[0]["command"] == "db2 list"


def test_a_job_that_is_no_dict_or_a_list_that_is_no_list():
    assert failure(["just a string"]).startswith("Job #1 is not valid: it must be a dict")
    assert failure({"name": "x"}).startswith("The job list must be a list")
