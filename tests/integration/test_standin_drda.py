"""The stand-in serves DRDA on port 50000 as IBM's image does: IBM's own driver (ibm_db's bundled
clidriver) and a second client nobody here wrote (pydrda) talk to it over the published port.

One container serves the module; each test uses tables of its own. The db2stop/db2start test
runs last (it restarts the listener).
"""
from __future__ import annotations

import datetime
import decimal
import socket
import struct
import subprocess
import time

import drda
import ibm_db
import pytest
from conftest import BASE_DB2_ENV, run_db2, shared_standin
from playbook import run_module
# The fixtures slapd + a stand-in on one network, used as test arguments:
from test_standin_ldap import ldap_on, pair  # noqa: F401 pylint: disable=unused-import

PASSWORD = BASE_DB2_ENV["DB2INST1_PASSWORD"]


@pytest.fixture(scope="module")
def db2(docker_client, standin_images):
    with shared_standin(docker_client, standin_images["11.5.8.0"], "db2ops-t-drda",
                        ports={"50000/tcp": ("127.0.0.1", None)}, ARCHIVE_LOGS="false") as container:
        yield container


@pytest.fixture(scope="module")
def port(db2):
    return int(db2.ports["50000/tcp"][0]["HostPort"])


def dsn(port, database="TESTDB", user="db2inst1", password=PASSWORD):
    return (f"DATABASE={database};HOSTNAME=127.0.0.1;PORT={port};PROTOCOL=TCPIP;"
            f"UID={user};PWD={password};")


@pytest.fixture
def conn(port):
    connection = ibm_db.connect(dsn(port), "", "")
    yield connection
    ibm_db.close(connection)


def clp(container, script):
    """A CLP script on stdin as the instance owner, connected to TESTDB; (rc, output after the
    connection information), rows without headings (-x)."""
    command = '. "$HOME/sqllib/db2profile" && db2 -t +p -x -f /dev/stdin'
    result = subprocess.run(["docker", "exec", "-i", "-u", "db2inst1", container.id, "bash", "-c", command],
                            input="CONNECT TO TESTDB;\n" + script, capture_output=True, text=True,
                            timeout=120, check=False)
    return result.returncode, (result.stdout + result.stderr).split("Local database alias   = TESTDB\n", 1)[-1]


def rows(conn, sql, params=None):
    stmt = ibm_db.prepare(conn, sql)
    ibm_db.execute(stmt, params or ())
    found = []
    row = ibm_db.fetch_tuple(stmt)
    while row:
        found.append(row)
        row = ibm_db.fetch_tuple(stmt)
    return found


def test_a_row_written_over_the_clp_is_read_over_ibm_db_and_back(db2, conn):
    rc, out = clp(db2, "CREATE TABLE RT (ID INTEGER, NAME VARCHAR(20));\nINSERT INTO RT VALUES (1, 'from clp');\n")
    assert rc == 0, out
    assert rows(conn, "SELECT ID, NAME FROM RT") == [(1, "from clp")]
    ibm_db.exec_immediate(conn, "INSERT INTO RT VALUES (2, 'from ibm_db')")  # autocommit is on
    rc, out = clp(db2, "SELECT NAME FROM RT WHERE ID = 2;\n")
    assert out.strip() == "from ibm_db", out
    info = ibm_db.server_info(conn)
    assert (info.DBMS_NAME, info.DBMS_VER) == ("DB2/LINUXX8664", "11.05.0800")


def test_types_and_nulls_round_trip_with_markers(conn):
    ibm_db.exec_immediate(conn, "CREATE TABLE TYPES (S SMALLINT, I INTEGER, B BIGINT, D DECIMAL(7,2), "
                                "F DOUBLE, C CHAR(5), V VARCHAR(30), DT DATE, TM TIME, TS TIMESTAMP)")
    insert = ibm_db.prepare(conn, "INSERT INTO TYPES VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    assert ibm_db.execute(insert, (-7, 2147483647, 3000000000, "12345.67", 1.5, "ab", "héllo wörld",
                                   "2024-02-29", "13.14.15", "2024-02-29-13.14.15.123456"))
    assert ibm_db.execute(insert, (None,) * 10)
    found = rows(conn, "SELECT * FROM TYPES ORDER BY S NULLS LAST")
    assert found == [
        (-7, 2147483647, 3000000000, "12345.67", 1.5, "ab   ", "héllo wörld", datetime.date(2024, 2, 29),
         datetime.time(13, 14, 15), datetime.datetime(2024, 2, 29, 13, 14, 15, 123456)),
        (None,) * 10]
    assert rows(conn, "SELECT V FROM TYPES WHERE B = ? AND C = ?", (3000000000, "ab")) == [("héllo wörld",)]
    stmt = ibm_db.exec_immediate(conn, "SELECT D, TS FROM TYPES")
    assert [ibm_db.field_type(stmt, i) for i in range(2)] == ["decimal", "timestamp"]
    assert (ibm_db.field_precision(stmt, 0), ibm_db.field_scale(stmt, 0)) == (7, 2)


def test_an_undefined_name_is_sql0204n_with_its_sqlstate_and_sqlcode(conn):
    with pytest.raises(Exception) as caught:
        ibm_db.exec_immediate(conn, "SELECT * FROM BOGUS")
    message = str(caught.value)
    assert 'SQL0204N  "DB2INST1.BOGUS" is an undefined name.  SQLSTATE=42704 SQLCODE=-204' in message
    assert ibm_db.stmt_errormsg().endswith("SQLSTATE=42704 SQLCODE=-204")


def test_a_wrong_password_is_sql30082n_reason_24_and_the_password_is_not_shown(port):
    with pytest.raises(Exception) as caught:
        ibm_db.connect(dsn(port, password="Wr0ng-Secret"), "", "")
    message = str(caught.value)
    assert 'SQL30082N  Security processing failed with reason "24" ("USERNAME AND/OR PASSWORD INVALID")' in message
    assert "SQLCODE=-30082" in message and "Wr0ng-Secret" not in message


def test_an_unknown_database_is_sql1013n(port):
    with pytest.raises(Exception) as caught:
        ibm_db.connect(dsn(port, database="NODB"), "", "")
    assert ('SQL1013N  The database alias name or database name "NODB" could not be found.  '
            'SQLSTATE=42705 SQLCODE=-1013') in str(caught.value)


def test_rollback_undoes_and_commit_keeps_as_the_clp_sees_it(db2, conn):
    ibm_db.exec_immediate(conn, "CREATE TABLE UOW (ID INTEGER)")
    ibm_db.autocommit(conn, ibm_db.SQL_AUTOCOMMIT_OFF)
    ibm_db.exec_immediate(conn, "INSERT INTO UOW VALUES (1)")
    assert rows(conn, "SELECT COUNT(*) FROM UOW") == [(1,)]  # its own unit of work sees it
    ibm_db.rollback(conn)
    ibm_db.exec_immediate(conn, "INSERT INTO UOW VALUES (2)")
    ibm_db.commit(conn)
    rc, out = clp(db2, "SELECT ID FROM UOW;\n")
    assert out.split() == ["2"], out


def test_ten_thousand_rows_come_in_several_blocks(db2, conn):
    rc, out = clp(db2, "CREATE TABLE BIG (N INTEGER, T VARCHAR(40));\nINSERT INTO BIG WITH RECURSIVE R(N) AS "
                       "(SELECT 1 UNION ALL SELECT N + 1 FROM R WHERE N < 10000) SELECT N, 'row ' || N FROM R;\n")
    assert rc == 0, out
    db2.exec_run(["touch", "/run/db2standin/db2inst1/drda.trace"], user="db2inst1")
    try:
        found = rows(conn, "SELECT N, T FROM BIG ORDER BY N")
        trace = db2.exec_run(["cat", "/run/db2standin/db2inst1/drda.trace"]).output.decode()
    finally:
        db2.exec_run(["rm", "-f", "/run/db2standin/db2inst1/drda.trace"], user="db2inst1")
    assert trace.count("<- 2006\n") >= 3, trace  # CNTQRY: the driver asked for the following blocks
    assert len(found) == 10000
    assert found[0] == (1, "row 1") and found[-1] == (10000, "row 10000")
    assert [row[0] for row in found] == list(range(1, 10001))


def test_the_ats_procedures_are_called_over_ibm_db(conn):
    ibm_db.exec_immediate(conn, "CREATE TABLESPACE SYSTOOLSPACE IN IBMCATGROUP MANAGED BY AUTOMATIC STORAGE "
                                "EXTENTSIZE 4")
    ibm_db.callproc(conn, "SYSPROC.ADMIN_TASK_ADD",
                    ("DRDA_TASK", None, None, None, "5 13 * * *", "SYSPROC", "ADMIN_CMD",
                     "VALUES('RUNSTATS ON TABLE DB2INST1.BIG')", None, None))
    assert rows(conn, "SELECT NAME, SCHEDULE FROM SYSTOOLS.ADMIN_TASK_LIST WHERE NAME = ?",
                ("DRDA_TASK",)) == [("DRDA_TASK", "5 13 * * *")]


def test_pydrda_connects_queries_binds_and_sees_errors(port):
    connection = drda.connect(host="127.0.0.1", database="TESTDB", port=port, user="db2inst1", password=PASSWORD)
    try:
        cursor = connection.cursor()
        cursor.execute("CREATE TABLE PYD (ID INTEGER, AMOUNT DECIMAL(9,2), NOTE VARCHAR(20))")
        cursor.execute("INSERT INTO PYD VALUES (?, ?, ?)", (1, decimal.Decimal("10.50"), "pydrda"))
        connection.commit()
        cursor.execute("SELECT ID, AMOUNT, NOTE FROM PYD WHERE ID = ?", (1,))
        assert cursor.fetchall() == [(1, decimal.Decimal("10.50"), "pydrda")]
        assert [d[0] for d in cursor.description] == ["ID", "AMOUNT", "NOTE"]
        with pytest.raises(drda.OperationalError) as caught:
            cursor.execute("SELECT * FROM BOGUS")
        assert "SQLCODE=-204 SQLSTATE=42704" in str(caught.value)
    finally:
        connection.close()


# --- the collection's ibm_db transport against the same server as its CLP transport ------------

RUNSTATS = "VALUES('RUNSTATS ON TABLE DB2INST1.BIG')"


@pytest.mark.parametrize("transport", ["docker_exec", "ibm_db"])
def test_the_ats_modules_give_the_same_results_over_ibm_db_as_over_the_clp(db2, port, tmp_path, transport):
    """Each transport works on a database of its own; the expectations are the same for both, and
    what one transport wrote, the other one reads back identically."""
    database = {"docker_exec": "VIACLP", "ibm_db": "VIADRDA"}[transport]
    rc, out = clp(db2, "CREATE DATABASE %s;\nACTIVATE DATABASE %s;\n" % (database, database))
    assert out.count("DB20000I") == 2, out
    over = {"docker_exec": dict(container=db2.name),
            "ibm_db": dict(transport="ibm_db", db_host="127.0.0.1", db_port=port, db_user="db2inst1",
                           db_password=PASSWORD, db_ssl=False)}

    def run(module, via=transport, **args):
        return run_module(tmp_path, module, dict(over[via], database=database, **args))[1]

    # IBM's scheduler is off until DB2_ATS_ENABLE is set (the stand-in's strict reading, its default).
    assert run_db2(db2, "db2set DB2_ATS_ENABLE=")[0] == 0
    info = run("db2_ats_task_info")
    assert (info["systoolspace"], info["tasks"], info["ats_enabled"]) == (False, [], False), info
    tasks = [dict(name="A1", schedule="5 13 * * *", procedure_name="ADMIN_CMD", procedure_input=RUNSTATS),
             dict(name="A2; DROP TABLE BIG --", schedule="0 15 * * MON-Fri", procedure_name="ADMIN_CMD",
                  procedure_input=RUNSTATS, remarks="it's fine", max_invocations=3,
                  begin_timestamp="2030-01-01-10.00.00")]
    if transport == "ibm_db":  # db2set runs in the container only: say so, change nothing
        refused = run("db2_ats_tasks", tasks=tasks, create_systoolspace=True, enable_ats=True)
        assert refused["failed"] and "cannot run db2set over ibm_db" in refused["msg"], refused
        assert "Nothing was changed" in refused["msg"] and run("db2_ats_task_info")["systoolspace"] is False
        assert run_db2(db2, "db2set DB2_ATS_ENABLE=YES")[0] == 0
    created = run("db2_ats_tasks", tasks=tasks, create_systoolspace=True, enable_ats=True)
    assert not created.get("failed") and created["changed"], created
    assert (created["commands"][0] == "db2set DB2_ATS_ENABLE=YES") is (transport == "docker_exec")
    assert created["added"] == ["A1", "A2; DROP TABLE BIG --"]
    again = run("db2_ats_tasks", tasks=tasks)
    assert (again["changed"], again["commands"]) == (False, []), again
    removed = run("db2_ats_task", name="A1", state="absent")
    assert removed["changed"] and not removed.get("failed"), removed
    bad = run("db2_ats_task", name="B1", schedule="* * * * *", procedure_name="NOSUCHPROC")
    assert bad["failed"] and "SYSPROC.NOSUCHPROC does not exist" in bad["msg"] and "Nothing was changed" in bad["msg"]

    expected = [dict(name="A2; DROP TABLE BIG --", schedule="0 15 * * mon-fri", procedure_schema="SYSPROC",
                     procedure_name="ADMIN_CMD", procedure_input=RUNSTATS, begin_timestamp="2030-01-01-10.00.00.000000",
                     end_timestamp=None, max_invocations=3, remarks="it's fine")]
    for via in ("docker_exec", "ibm_db"):  # written over one transport, read over both
        listed = run("db2_ats_task_info", via=via)
        assert [{k: t[k] for k in expected[0]} for t in listed["tasks"]] == expected, (via, listed["tasks"])
        # added seconds ago: the scheduler (every 5 minutes) cannot have run it yet; said the same way
        assert [t["run_state"] for t in listed["tasks"]] == ["not_picked_up"], (via, listed["tasks"])
        assert listed["crontab"] == ['0 15 * * mon-fri    call SYSPROC.ADMIN_CMD (%s); -- "A2; DROP TABLE BIG --"'
                                     % RUNSTATS]


def test_ibm_db_gets_the_encrypted_mechanism_it_asks_for_and_clear_text_still_works(db2, port, conn):
    """IBM's driver asks for SECMEC 9 (user id and password DES-encrypted) and gets it: one ACCSEC,
    then SECCHK (the code points the server traces). A client asking for SECMEC 3 gets 3."""
    db2.exec_run(["touch", "/run/db2standin/db2inst1/drda.trace"], user="db2inst1")
    try:
        ibm_db.close(ibm_db.connect(dsn(port), "", ""))
        trace = db2.exec_run(["cat", "/run/db2standin/db2inst1/drda.trace"]).output.decode()
    finally:
        db2.exec_run(["rm", "-f", "/run/db2standin/db2inst1/drda.trace"], user="db2inst1")
    assert "<- 1041 106D\n" in trace and "<- 106E 2001\n" in trace, trace  # no second ACCSEC
    from drda import ddm
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        name = "TESTDB".ljust(18)
        chain = [ddm.packEXCSAT(None, [0x1403, 10, 0x2407, 11, 0x1474, 5, 0x240F, 12, 0x1440, 9]),
                 ddm.packACCSEC(name, 3, None)]
        for number, packet in enumerate(chain, start=1):
            ddm.write_request_dss(sock, packet, number, False, number == len(chain))
        replies = [ddm.read_dss(sock) for _reply in range(2)]
        assert replies[1][3] == 0x14AC and replies[1][4][4:6] == b"\x00\x03"  # ACCSECRD SECMEC 3
        ddm.write_request_dss(sock, ddm.packSECCHK(3, None, None, name, "db2inst1", PASSWORD, "cp500"), 1, False, False)
        ddm.write_request_dss(sock, ddm.packACCRDB("SQL12010", name, "cp500"), 2, False, True)
        assert [ddm.read_dss(sock)[3] for _reply in range(2)] == [0x1219, 0x2201]  # SECCHKRM, ACCRDBRM


def test_drda_clients_authenticate_through_the_ldap_plugin_when_it_is_in_effect(ldap_on):
    """As `CONNECT ... USER ... USING` does (test_standin_ldap.py): the plug-in in effect decides."""
    db2, _host = ldap_on
    db2.reload()
    address = next(iter(db2.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]
    target = (f"DATABASE=TESTDB;HOSTNAME={address};PORT=50000;PROTOCOL=TCPIP;")
    connection = ibm_db.connect(target + "UID=alice;PWD=alice-Secret1;", "", "")
    assert rows(connection, "VALUES CURRENT USER") == [("ALICE",)]
    ibm_db.close(connection)
    for user, password in (("alice", "wrong"), ("db2inst1", PASSWORD)):  # db2inst1 is no LDAP user
        with pytest.raises(Exception) as caught:
            ibm_db.connect(target + f"UID={user};PWD={password};", "", "")
        assert 'SQL30082N  Security processing failed with reason "24"' in str(caught.value)
        assert password not in str(caught.value)


# --- bad input: the server drops that connection, logs it, serves the others ---------------------

def raw_session(port, payload, close_write=True):
    """Send raw bytes; return what the server answers before it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(payload)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk


def diag(container):
    return container.exec_run(["cat", "/database/config/db2inst1/sqllib/db2dump/DIAG0000/db2diag.log"]).output.decode()


@pytest.mark.parametrize("payload, logged", [
    (b"GET / HTTP/1.0\r\n\r\n", "not a DSS"),
    (b"\x00\x20\xd0", "connection closed inside a DSS"),           # a truncated DDM header
    (b"\xff\xff\xd0\x01\x00\x01" + b"\x00" * 64, "DSS continuation"),  # a huge length
    (b"\x00\x0a\xd0\x01\x00\x01\x7f\xff\x10\x41", "does not fill the DSS"),  # object longer than the DSS
])
def test_garbage_is_logged_and_dropped_and_the_server_goes_on(db2, port, conn, payload, logged):
    assert raw_session(port, payload) == b""
    assert "DRDA connection from" in diag(db2) and logged in diag(db2)
    assert rows(conn, "VALUES 1") == [(1,)]
    other = ibm_db.connect(dsn(port), "", "")
    assert rows(other, "VALUES 2") == [(2,)]
    ibm_db.close(other)


def test_a_client_gone_mid_transaction_commits_nothing(db2, port, conn):
    ibm_db.exec_immediate(conn, "CREATE TABLE HALF (ID INTEGER)")
    client = drda.connect(host="127.0.0.1", database="TESTDB", port=port, user="db2inst1", password=PASSWORD)
    cursor = client.cursor()
    cursor.execute("INSERT INTO HALF VALUES (1)")
    cursor.execute("INSERT INTO HALF VALUES (2)")
    client.sock.close()  # no commit, no rollback, no goodbye
    ibm_db.exec_immediate(conn, "INSERT INTO HALF VALUES (3)")  # waits for nobody's lock
    rc, out = clp(db2, "SELECT ID FROM HALF;\n")
    assert out.split() == ["3"], out


def test_a_client_gone_mid_fetch_leaves_the_others_served(db2, port, conn):
    from drda import ddm
    client = drda.connect(host="127.0.0.1", database="TESTDB", port=port, user="db2inst1", password=PASSWORD)
    for number, (packet, same, last) in enumerate([
            (ddm.packPRPSQLSTT(client.pkgid, client.pkgcnstkn, client.pkgsn, client.database), True, False),
            (ddm.packSQLSTT("SELECT N, T FROM BIG"), False, False),
            (ddm.packOPNQRY(client.pkgid, client.pkgcnstkn, client.pkgsn, client.database, 32767), False, True)]):
        ddm.write_request_dss(client.sock, packet, 1 if number < 2 else 2, same, last)
    assert struct.unpack(">H", client.sock.recv(2))[0] > 0  # the first reply is on its way
    client.sock.close()  # gone before the first block is read, the cursor still open
    assert len(rows(conn, "SELECT N FROM BIG WHERE N <= ?", (3,))) == 3
    rc, out = clp(db2, "SELECT COUNT(*) FROM BIG;\n")
    assert out.split() == ["10000"], out


def applications(db2):
    """`Applications connected currently` of TESTDB in `db2 list active databases`."""
    out = db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2 list active databases'],
                       user="db2inst1").output.decode()
    block = out.split("Database name                              = TESTDB\n", 1)[1]
    return int(block.split("Applications connected currently           = ", 1)[1].split()[0])


def test_remote_clients_count_as_connected_applications_as_db2stop_sees_them(db2, port):
    connection = ibm_db.connect(dsn(port), "", "")
    try:
        assert applications(db2) >= 1
        result = db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2stop'], user="db2inst1")
        assert result.exit_code == 1 and b"SQL1025N" in result.output, result.output
        assert rows(connection, "VALUES 1") == [(1,)]  # the refused db2stop changed nothing
    finally:
        ibm_db.close(connection)
    deadline = time.monotonic() + 30  # the server sees the other tests' clients go, one by one
    while applications(db2) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert applications(db2) == 0


def test_the_listener_starts_with_the_instance_and_goes_with_db2stop(db2, port):
    result = db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2stop force'], user="db2inst1")
    assert result.exit_code == 0, result.output
    with pytest.raises(Exception) as caught:
        ibm_db.connect(dsn(port), "", "")
    assert "SQL30081N" in str(caught.value)  # a communication error: nothing listens
    assert "db2sysc" not in db2.exec_run(["ps", "-eo", "args"]).output.decode()
    result = db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2start'], user="db2inst1")
    assert result.exit_code == 0, result.output
    connection = ibm_db.connect(dsn(port), "", "")  # answers as soon as db2start has returned
    assert rows(connection, "SELECT COUNT(*) FROM BIG") == [(10000,)]
    ibm_db.close(connection)
