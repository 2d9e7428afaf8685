"""What db2_ats_task_info may say about a task's runs (IBM: scheduler off by default, new or
changed tasks picked up every five minutes, ADMIN_TASK_STATUS shows the session user's tasks only)."""
import datetime

import pytest
from ansible_collections.db2ops.docker.plugins.module_utils._ats import runs

NOW = datetime.datetime(2026, 12, 1, 4, 0, 0)
RAN = dict(status="COMPLETED", invocation=1, sqlcode=0)


def row(minutes_ago=60, owner="DB2INST1"):
    changed = NOW - datetime.timedelta(minutes=minutes_ago)
    return dict(NAME="T", OWNER=owner, UPDATE_TIME=changed.strftime("%Y-%m-%d-%H.%M.%S.%f"))


@pytest.mark.parametrize("task, last_run, ats_on, active, authid, state", [
    (row(), RAN, False, True, "DB2INST1", "scheduler_off"),
    (row(), None, True, False, "DB2INST1", "inactive"),
    (row(minutes_ago=2), None, True, True, "DB2INST1", "not_picked_up"),
    (row(minutes_ago=2), RAN, True, None, "DB2INST1", "not_picked_up"),  # ran in its earlier form
    (row(minutes_ago=5), RAN, True, True, "DB2INST1", "ran"),
    (row(minutes_ago=2), dict(RAN, begin_time="2026-12-01-03.59.00.000000"), True, True, "DB2INST1", "ran"),
    (row(owner="BOB"), None, True, True, "db2inst1", "status_hidden"),
    (row(owner="DB2INST1  "), None, True, True, "db2inst1", "not_run_yet"),
])
def test_run_state(task, last_run, ats_on, active, authid, state):
    assert runs.run_state(task, last_run, ats_on, active, NOW, authid)[0] == state


def test_not_picked_up_says_why_in_one_line():
    state, text = runs.run_state(row(minutes_ago=1), None, True, True, NOW, "DB2INST1")
    assert "every 5 minutes" in text and "cannot have run" in text and "\n" not in text


@pytest.mark.parametrize("value", ["2026-12-01-04.00.00.000000", "2026-12-01-04.00.00", "2026-12-01 04:00:00",
                                   " 2026-12-01-04.00.00.000000 ", NOW])
def test_db2_timestamp_from_clp_text_or_ibm_db(value):
    assert runs.db2_timestamp(value) == NOW


def test_db2_timestamp_unreadable_is_none_and_never_claims_not_picked_up():
    assert runs.db2_timestamp("-") is None
    task = dict(NAME="T", OWNER="DB2INST1", UPDATE_TIME="-")
    assert runs.run_state(task, None, True, True, None, "DB2INST1")[0] == "not_run_yet"


def test_last_runs_keep_the_highest_invocation():
    rows = [dict(name="A", invocation=2), dict(name="A", invocation=1), dict(name="B", invocation=None)]
    assert runs.last_runs(rows) == {"A": rows[0], "B": rows[2]}
