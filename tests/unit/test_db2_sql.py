"""The ibm_db transport with a fake driver that records every call and its bound parameters.

The live path runs in tests/integration/test_standin_drda.py (IBM's driver against the stand-in's
DRDA server). The fake checks what users rely on: values travel only as bound parameters, the
connection string carries SSL, and a failed step rolls the whole unit of work back.
"""
import datetime

import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._ats import tasks as ats
from ansible_collections.db2ops.docker.plugins.module_utils._db2 import sql as db2_sql
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Error


class FakeIbmDb:
    SQL_AUTOCOMMIT_OFF = 0

    def __init__(self, results=None, fail_on=None):
        self.calls = []
        self.results = results or {}   # SQL -> rows (dicts)
        self.fail_on = fail_on

    def connect(self, dsn, user, password):
        self.calls.append(("connect", dsn, user, password))
        return "conn"

    def autocommit(self, conn, value):
        self.calls.append(("autocommit", value))

    def prepare(self, conn, sql):
        self.calls.append(("prepare", sql))
        return {"sql": sql, "rows": None}

    def execute(self, stmt, params):
        self.calls.append(("execute", params))
        if self.fail_on and params and params[0] == self.fail_on:
            raise Exception("[IBM][CLI Driver][DB2/LINUXX8664] SQL0601N  ... SQLSTATE=42710 SQLCODE=-601")
        key = (stmt["sql"], params)
        stmt["rows"] = list(self.results.get(key, self.results.get(stmt["sql"], [])))
        return True

    def fetch_assoc(self, stmt):
        return stmt["rows"].pop(0) if stmt["rows"] else False

    def exec_immediate(self, conn, sql):
        self.calls.append(("exec_immediate", sql))

    def commit(self, conn):
        self.calls.append(("commit",))

    def rollback(self, conn):
        self.calls.append(("rollback",))

    def close(self, conn):
        self.calls.append(("close",))


def session(driver, **kwargs):
    args = dict(host="db2host1", port=50001, database="testdb", user="db2inst1", password="s3cret", ssl=True,
                ssl_ca="/etc/db2ops/server.arm")
    args.update(kwargs)
    return db2_sql.IbmDbSession(driver=driver, **args)


def test_connection_string_ssl_and_autocommit_off():
    driver = FakeIbmDb()
    session(driver)
    assert driver.calls[:2] == [
        ("connect", "DATABASE=TESTDB;HOSTNAME=db2host1;PORT=50001;PROTOCOL=TCPIP;UID=db2inst1;PWD=s3cret;"
                    "SECURITY=SSL;SSLServerCertificate=/etc/db2ops/server.arm;", "", ""),
        ("autocommit", 0)]
    plain = FakeIbmDb()
    session(plain, ssl=False, ssl_ca=None)
    assert "SECURITY" not in plain.calls[0][1]
    with pytest.raises(ValueError):
        session(FakeIbmDb(), password="a;UID=admin")


def test_connect_failure_masks_the_password():
    class Refusing(FakeIbmDb):
        def connect(self, dsn, user, password):
            raise Exception("SQL30082N Security processing failed for PWD=s3cret")
    with pytest.raises(Db2Error) as err:
        session(Refusing())
    assert "s3cret" not in str(err.value) and "********" in str(err.value)


def test_reads_use_parameter_markers_only():
    driver = FakeIbmDb(results={
        ("SELECT TBSPACE FROM SYSCAT.TABLESPACES WHERE TBSPACE = ?", ("SYSTOOLSPACE",)): [{"TBSPACE": "SYSTOOLSPACE"}],
        ("SELECT ROUTINESCHEMA, ROUTINENAME FROM SYSCAT.ROUTINES WHERE ROUTINETYPE = 'P' AND ROUTINESCHEMA = ? "
         "AND ROUTINENAME = ?", ("SYSPROC", "ADMIN_CMD")): [{"ROUTINESCHEMA": "SYSPROC", "ROUTINENAME": "ADMIN_CMD"}],
        ("SELECT 1 FROM SYSCAT.TABLES WHERE TABSCHEMA = ? AND TABNAME = ?", ("SYSTOOLS", "ADMIN_TASK_LIST")): [{"1": 1}],
        ats.LIST_QUERY: [{"NAME": "x'; --", "SCHEDULE": "5 13 * * *"}],
        ("SELECT REG_VAR_VALUE FROM SYSIBMADM.REG_VARIABLES WHERE REG_VAR_NAME = ?", ("DB2_ATS_ENABLE",)):
            [{"REG_VAR_VALUE": "YES"}],
    })
    s = session(driver)
    del driver.calls[:]
    state = s.read_ats("TESTDB", [("SYSPROC", "ADMIN_CMD"), ("DBA", "NOPE")])
    assert state == dict(active=None, systoolspace=True, routines={("SYSPROC", "ADMIN_CMD")},
                         tasks=[{"NAME": "x'; --", "SCHEDULE": "5 13 * * *"}])
    assert s.registry("DB2_ATS_ENABLE") == "YES"
    executed = [c for c in driver.calls if c[0] == "execute"]
    assert ("execute", ("DBA", "NOPE")) in executed and ("execute", ("SYSPROC", "ADMIN_CMD")) in executed
    for call in driver.calls:
        if call[0] == "prepare":
            assert "x'" not in call[1] and "NOPE" not in call[1] and "ADMIN_CMD'" not in call[1]
    with pytest.raises(Db2Error):
        s.read_ats("OTHERDB")


def test_read_status_gives_runs_server_clock_and_session_user():
    now = datetime.datetime(2026, 12, 1, 4, 0)
    driver = FakeIbmDb(results={
        ats.CLOCK_QUERY: [{"NOW": now, "AUTHID": "DB2INST1"}],
        ("SELECT 1 FROM SYSCAT.TABLES WHERE TABSCHEMA = ? AND TABNAME = ?", ("SYSTOOLS", "ADMIN_TASK_STATUS")): [],
    })
    assert session(driver).read_status("TESTDB") == dict(runs=[], now=now, authid="DB2INST1")


def test_apply_binds_every_value_and_commits_once():
    driver = FakeIbmDb()
    s = session(driver)
    task = ats.Task.from_params(dict(name="x'); DROP TABLE T; --", schedule="5 13 * * *", procedure_name="ADMIN_CMD",
                                     procedure_input="VALUES('RUNSTATS ON TABLE A.B')"))
    del driver.calls[:]
    done = s.apply("TESTDB", [("sql", ats.CREATE_SYSTOOLSPACE), ("call",) + ats.add_call(task),
                              ("call",) + ats.remove_call("OLD")])
    assert driver.calls == [
        ("exec_immediate", ats.CREATE_SYSTOOLSPACE),
        ("prepare", "CALL SYSPROC.ADMIN_TASK_ADD(?, NULL, NULL, NULL, ?, ?, ?, ?, NULL, NULL)"),
        ("execute", ("x'); DROP TABLE T; --", "5 13 * * *", "SYSPROC", "ADMIN_CMD", "VALUES('RUNSTATS ON TABLE A.B')")),
        ("prepare", "CALL SYSPROC.ADMIN_TASK_REMOVE(?, NULL)"),
        ("execute", ("OLD",)),
        ("commit",)]
    assert len(done) == 3


def test_a_failed_step_rolls_everything_back():
    driver = FakeIbmDb(fail_on="BAD")
    s = session(driver)
    del driver.calls[:]
    with pytest.raises(db2_sql.ApplyError) as err:
        s.apply("TESTDB", [("call",) + ats.remove_call("OLD"), ("call",) + ats.remove_call("BAD")])
    assert driver.calls[-1] == ("rollback",) and ("commit",) not in driver.calls
    assert err.value.done == [] and "rolled back" in str(err.value)


def test_server_side_commands_are_refused_over_ibm_db():
    s = session(FakeIbmDb())
    with pytest.raises(Db2Error):
        s.set_registry("DB2_ATS_ENABLE", "YES")
    with pytest.raises(db2_sql.ApplyError):
        s.apply("TESTDB", [("activate", "TESTDB")])


def test_database_names_are_checked():
    assert db2_sql.check_database_name("testdb") == "TESTDB"
    for bad in ("", "TOOLONGNAME", "a;b", "1DB"):
        with pytest.raises(ValueError):
            db2_sql.check_database_name(bad)


def test_database_name_with_a_trailing_newline_is_refused():
    # `$` in _NAME also matches before a final newline: the check must be a full match.
    for bad in ("TESTDB\n", "TESTDB\r\n", None, 7):
        with pytest.raises(ValueError, match="is not a Db2 database name"):
            db2_sql.check_database_name(bad)
