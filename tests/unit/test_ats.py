"""ATS task model: cron validation and normalisation, comparison, plan, SQL quoting."""
import datetime

import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._ats import tasks as ats


@pytest.mark.parametrize("schedule, canonical", [
    ("5 13 * * *", "5 13 * * *"),
    ("  0   18 *  * * ", "0 18 * * *"),
    ("0 15 * * MON-Fri", "0 15 * * mon-fri"),
    ("*/10 0-23/2 1,15 JAN,jul 0,7", "*/10 0-23/2 1,15 jan,jul 0,7"),
    ("30 4 1,15 * 5", "30 4 1,15 * 5"),
    ("0-4,8-12 * * * sun", "0-4,8-12 * * * sun"),
])
def test_valid_cron_is_normalised(schedule, canonical):
    assert ats.normalize_cron(schedule) == canonical


@pytest.mark.parametrize("schedule, message", [
    ("5 13 * *", "has 4 fields"),
    ("@daily", "has 1 fields"),
    ("0 0 0 * * *", "has 6 fields"),
    ("60 * * * *", "field minute '60': '60' is out of range (0-59)"),
    ("* 24 * * *", "field hour '24'"),
    ("* * 0 * *", "field day of month '0'"),
    ("* * 32 * *", "field day of month '32'"),
    ("* * * 13 *", "field month '13': '13' is out of range (1-12 or jan-dec)"),
    ("* * * * 8", "field day of week '8'"),
    ("* * * * mon-", "field day of week 'mon-'"),
    ("* * L * *", "field day of month 'l'"),
    ("* * ? * *", "is not a value, range, list or step"),
    ("*/0 * * * *", "step must be at least 1"),
    ("10-5 * * * *", "runs backwards"),
])
def test_invalid_cron_names_the_field(schedule, message):
    with pytest.raises(ats.AtsError) as err:
        ats.normalize_cron(schedule)
    assert message in str(err.value)


def params(**extra):
    base = dict(name="DAILY BACKUP", schedule="5 13 * * *", procedure_schema="sysproc", procedure_name="admin_cmd",
                procedure_input="VALUES('BACKUP DATABASE TESTDB ONLINE TO /database/backup WITHOUT PROMPTING')")
    base.update(extra)
    return base


def test_task_from_params_normalises_and_checks():
    task = ats.Task.from_params(params(begin_timestamp="2099-01-31 13:05", remarks=""))
    assert (task.procedure_schema, task.procedure_name) == ("SYSPROC", "ADMIN_CMD")
    assert task.begin_timestamp == "2099-01-31-13.05.00.000000" and task.remarks is None
    assert ats.Task.from_params(params(procedure_name='"MixedCase"')).procedure_name == '"MixedCase"'
    for bad, message in ((dict(name="N" * 129), "129 bytes long; Db2 ATS allows at most 128"),
                         (dict(name="é" * 65), "130 bytes long"),
                         (dict(name=""), "task name must not be empty"),
                         (dict(remarks="r" * 255), "remarks is 255 bytes"),
                         (dict(max_invocations=-1), "max_invocations must be a whole number >= 0"),
                         (dict(begin_timestamp="tomorrow"), "begin_timestamp is not a timestamp"),
                         (dict(procedure_schema="SYS;PROC"), "procedure_schema must be an SQL identifier"),
                         (dict(procedure_name="$(id)"), "procedure_name must be an SQL identifier"),
                         (dict(begin_timestamp="2099-02-01", end_timestamp="2099-01-01"), "end_timestamp is earlier"),
                         (dict(procedure_input="VALUES('a');\nDROP TABLE X;"), "line breaks")):
        with pytest.raises(ats.AtsError) as err:
            ats.Task.from_params(params(**bad))
        assert message in str(err.value)


def row(**extra):
    base = dict(NAME="DAILY BACKUP", TASKID="1", OWNER="DB2INST1", BEGIN_TIME=None, END_TIME=None,
                MAX_INVOCATIONS=None, SCHEDULE="5  13 * * *", PROCEDURE_SCHEMA="SYSPROC ", PROCEDURE_NAME="ADMIN_CMD",
                PROCEDURE_INPUT=params()["procedure_input"], OPTIONS=None, UPDATE_TIME="x", REMARKS=None)
    base.update(extra)
    return base


def test_task_read_back_compares_equal():
    desired = ats.Task.from_params(params())
    assert ats.differences(ats.Task.from_row(row()), desired) == []
    assert ats.differences(ats.Task.from_row(row(SCHEDULE="5 13 * * 1")), desired) == ["schedule"]


def test_clp_read_back_of_names_and_remarks_is_exact():
    # The CLP's padded table loses a value's outer blanks and shows NULL as `-`: the hex twins are exact.
    def hexed(**values):
        extra = {}
        for key, value in values.items():
            extra[key] = value.strip() or None if value not in (None, "-") else None
            extra[key + "_HEX"] = None if value is None else value.encode("utf-8").hex().upper()
        return row(**extra)
    for remarks in ("-", "  leading", "trailing  ", "several   inner  blanks", "   ", " - ", "Ünï ✓"):
        desired = ats.Task.from_params(params(remarks=remarks, name=" odd name "))
        read = ats.Task.from_row(hexed(REMARKS=remarks, NAME=" odd name "))
        assert (read.name, read.remarks) == (" odd name ", remarks) and ats.differences(read, desired) == []
    assert ats.Task.from_row(hexed(REMARKS=None)).remarks is None  # Db2: HEX(NULL) is NULL
    assert ats.Task.from_row(row(REMARKS=None, REMARKS_HEX="")).remarks is None  # SQLite: hex(NULL) is ''
    assert ats.Task.from_row(row(REMARKS="  as is ")).remarks == "  as is "  # ibm_db rows: exact already
    assert "HEX(REMARKS) AS REMARKS_HEX" in ats.CLP_LIST_QUERY and "HEX(" not in ats.LIST_QUERY


def test_passed_begin_time_is_not_a_difference():
    now = datetime.datetime(2030, 1, 1)
    desired = ats.Task.from_params(params(begin_timestamp="2029-06-01 00:00"))
    for shown in (None, "2029-06-01-00.00.00.000000"):
        assert ats.differences(ats.Task.from_row(row(BEGIN_TIME=shown)), desired, now) == []
    assert ats.differences(ats.Task.from_row(row(BEGIN_TIME="2029-05-01-00.00.00.000000")), desired, now) \
        == ["begin_timestamp"]
    # ADMIN_TASK_UPDATE refuses a past begin time: it is sent as NULL.
    assert ats.update_call(desired, now)[1][1] is None


def test_plan_add_update_replace_remove():
    existing = {"KEEP": ats.Task.from_row(row(NAME="KEEP")),
                "SCHED": ats.Task.from_row(row(NAME="SCHED")),
                "INPUT": ats.Task.from_row(row(NAME="INPUT")),
                "OTHER": ats.Task.from_row(row(NAME="OTHER"))}
    desired = [ats.Task.from_params(params(name="KEEP")),
               ats.Task.from_params(params(name="SCHED", schedule="0 1 * * *", remarks="r")),
               ats.Task.from_params(params(name="INPUT", procedure_input="VALUES('RUNSTATS ON TABLE A.B')")),
               ats.Task.from_params(params(name="NEW"))]
    actions = ats.plan(desired, existing)
    assert [(a.kind, a.name, a.fields) for a in actions] == [
        ("update", "SCHED", ["schedule", "remarks"]), ("replace", "INPUT", ["procedure_input"]), ("add", "NEW", [])]
    exclusive = ats.plan(desired, existing, exclusive=True)
    assert [(a.kind, a.name) for a in exclusive][-1] == ("remove", "OTHER")
    assert [a.calls()[0][0] for a in exclusive] == ["SYSPROC.ADMIN_TASK_UPDATE", "SYSPROC.ADMIN_TASK_REMOVE",
                                                    "SYSPROC.ADMIN_TASK_ADD", "SYSPROC.ADMIN_TASK_REMOVE"]
    assert [c[0] for c in exclusive[1].calls()] == ["SYSPROC.ADMIN_TASK_REMOVE", "SYSPROC.ADMIN_TASK_ADD"]
    assert ats.plan([], existing, absent=["OTHER", "GONE"])[0].name == "OTHER"
    with pytest.raises(ats.AtsError):
        ats.check_unique(desired + desired[:1])


def test_sql_quotes_every_value_on_one_line():
    task = ats.Task.from_params(params(name="x'); DROP TABLE T; --", remarks="it's"))
    sql = ats.call_sql(*ats.add_call(task))
    assert sql == ("CALL SYSPROC.ADMIN_TASK_ADD('x''); DROP TABLE T; --', NULL, NULL, NULL, '5 13 * * *', "
                   "'SYSPROC', 'ADMIN_CMD', 'VALUES(''BACKUP DATABASE TESTDB ONLINE TO /database/backup "
                   "WITHOUT PROMPTING'')', NULL, 'it''s')")
    assert "\n" not in sql
    assert ats.call_sql(*ats.remove_call("a;b")) == "CALL SYSPROC.ADMIN_TASK_REMOVE('a;b', NULL)"
    assert ats.sql_literal(3) == "3"
    with pytest.raises(ats.AtsError):
        ats.sql_literal("a\nb;")


def test_crontab_view_is_the_cookbooks():
    task = ats.Task.from_params(params(schedule="0 18 * * *"))
    assert task.crontab_line() == ("0 18 * * *    call SYSPROC.ADMIN_CMD (VALUES('BACKUP DATABASE TESTDB ONLINE "
                                   "TO /database/backup WITHOUT PROMPTING')); -- \"DAILY BACKUP\"")


@pytest.mark.parametrize("value, enabled", [("YES", True), ("on", True), ("1", True), ("TRUE", True),
                                            ("NO", False), (None, False), ("", False)])
def test_ats_enabled_values(value, enabled):
    assert ats.ats_enabled(value) is enabled


def test_trailing_newline_is_no_cron_item_or_identifier():
    with pytest.raises(ats.AtsError):
        ats.normalize_cron("5 13 * * 1\n,2")
    # An identifier with a trailing newline is not an ordinary one: refused before case folding.
    with pytest.raises(ats.AtsError, match="control characters"):
        ats.Task.from_params(params(procedure_name="admin_cmd\n"))


def test_a_task_needs_a_schedule():
    # An empty AWX survey answer reaches the module as None: not a NULL (run once) schedule.
    for missing in (None, "", "   "):
        with pytest.raises(ats.AtsError, match="schedule must be a 5-field cron string"):
            ats.Task.from_params(params(schedule=missing))
