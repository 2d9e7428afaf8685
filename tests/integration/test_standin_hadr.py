"""HADR in the Db2 stand-in (tests/images/db2-standin/README.md, "HADR"), against real containers
on a user-defined Docker network: IBM's setup order (backup, restore without roll-forward, db cfg,
START HADR AS STANDBY, then AS PRIMARY), real log shipping over TCP, db2pd, takeover, the
rolling-update level rules, and IBM's messages (shared/reference/hadr-facts.md).
"""
import re
import time
import uuid

import ibm_db
import pytest

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log
from test_standin_image import SETUP_DONE, exec_owner, wait_for_log_count

HADR_PORT = "4000"
TIMEOUT = 5  # HADR_TIMEOUT of the pairs: a lost partner is noticed within seconds
SETUP_WAIT = 180  # a container start takes a minute on a loaded 2-core machine


@pytest.fixture
def network(docker_client):
    net = docker_client.networks.create("db2ops-t-hadr-" + uuid.uuid4().hex[:8])
    yield net
    net.reload()
    for container in net.containers:  # the containers fixture may tear down after this one
        container.remove(force=True, v=True)
    net.remove()


@pytest.fixture
def share(tmp_path):
    """The /hadr directory both sides mount, as IBM's image declares it (backup images go here)."""
    tmp_path.chmod(0o777)
    return tmp_path


def start(containers, network, share, image, name, **env):
    container = containers.run(
        image, name, hostname=name, network=network.name,
        environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB", **env},
        volumes={str(share): {"bind": "/hadr", "mode": "rw"}},
        ports={"50000/tcp": ("127.0.0.1", None)})
    return container


def owner(container, command):
    return exec_owner(container, command)


def ok(container, command):
    code, out = owner(container, command)
    assert code == 0, out
    return out


def batch(container, *commands):
    """Several commands in one `docker exec` (each one costs a second on a loaded machine):
    [(rc, output)] in order."""
    script = "".join('echo "@@@"; %s; echo "@@@rc $?"; ' % command for command in commands)
    _code, out = owner(container, script)
    results = re.findall(r"@@@\n(.*?)@@@rc (\d+)\n", out, re.S)
    assert len(results) == len(commands), out
    return [(int(rc), text) for text, rc in results]


def sql(container, statement, ur=False):
    """One statement on TESTDB over the CLP; (rc, output). `ur` reads WITH UR (reads on standby)."""
    return owner(container, SQL % (statement, " with ur" if ur else ""))


# A CLP connection, one statement and its rc (the connection's own error when it fails).
SQL = ('( out=$(db2 connect to testdb) || { echo "$out"; exit 4; }; db2 -x "%s%s"; rc=$?; '
       'db2 terminate >/dev/null; exit $rc )')


def configure(container, local, remote, **extra):
    pairs = {"HADR_LOCAL_HOST": local, "HADR_LOCAL_SVC": HADR_PORT, "HADR_REMOTE_HOST": remote,
             "HADR_REMOTE_SVC": HADR_PORT, "HADR_REMOTE_INST": "db2inst1",
             "HADR_TIMEOUT": str(TIMEOUT), "LOGINDEXBUILD": "ON", **extra}
    ok(container, "db2 update db cfg for testdb using " + " ".join("%s %s" % kv for kv in pairs.items()))


def pd(container):
    """`db2pd -db testdb -hadr` as {field: value} (first block)."""
    out = ok(container, "db2pd -db testdb -hadr")
    return dict(re.findall(r"^ *(\S+) = (.*)$", out, re.M))


def wait_state(container, state, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        fields = pd(container)
        if fields.get("HADR_STATE") == state:
            return fields
        assert time.monotonic() < deadline, "HADR_STATE stayed %r, not %r" % (fields.get("HADR_STATE"), state)
        time.sleep(0.2)


def diag(container):
    return container.exec_run(["cat", "/database/config/db2inst1/sqllib/db2dump/DIAG0000/db2diag.log"]
                              ).output.decode()


def prepare_pair(containers, network, share, primary_image, standby_image, **extra):
    """Two containers set up as IBM's steps say, up to (not including) START HADR:
    archive logging (the image's default), a table with one row, an online backup of the
    primary restored on the standby (left rollforward pending), the HADR db cfg on both."""
    tag = uuid.uuid4().hex[:6]
    primary = start(containers, network, share, primary_image, "hp-" + tag)
    standby = start(containers, network, share, standby_image, "hs-" + tag)
    for container in (primary, standby):
        wait_for_log(container, SETUP_DONE, SETUP_WAIT)
    ok(primary, "db2 connect to testdb >/dev/null && db2 'create table kept (id int, v varchar(30))' "
                "&& db2 \"insert into kept values (1, 'in the backup')\" && db2 terminate")
    out = ok(primary, "db2 backup db testdb online to /hadr")
    stamp = out.split(" : ")[1].strip()
    code, out = owner(standby, "db2 deactivate db testdb && "
                               "db2 restore db testdb from /hadr taken at %s without prompting" % stamp)
    assert code == 2 and "SQL2539W" in out, out  # it replaces the standby container's own TESTDB
    assert "Rollforward pending                                     = DATABASE" in \
        ok(standby, "db2 get db cfg for testdb")
    configure(primary, primary.name, standby.name, **extra)
    configure(standby, standby.name, primary.name, **extra)
    return primary, standby


def start_pair(primary, standby):
    assert ok(standby, "db2 start hadr on db testdb as standby") == \
        "DB20000I  The START HADR ON DATABASE command completed successfully.\n"
    assert ok(primary, "db2 start hadr on db testdb as primary") == \
        "DB20000I  The START HADR ON DATABASE command completed successfully.\n"
    wait_state(primary, "PEER")
    wait_state(standby, "PEER")


def dsn(container):
    port = container.ports["50000/tcp"][0]["HostPort"]
    return ("DATABASE=TESTDB;HOSTNAME=127.0.0.1;PORT=%s;PROTOCOL=TCPIP;UID=db2inst1;PWD=%s;"
            % (port, BASE_DB2_ENV["DB2INST1_PASSWORD"]))


def test_hadr_configuration_and_errors_on_one_database(containers, network, share, standin_images):
    db = start(containers, network, share, standin_images["11.5.8.0"], "h1-" + uuid.uuid4().hex[:6])
    wait_for_log(db, SETUP_DONE, SETUP_WAIT)
    (_rc, cfg), syncmode, timeout, (_rc2, cfg_after) = batch(
        db, "db2 get db cfg for testdb", "db2 update db cfg for testdb using HADR_SYNCMODE FAST",
        "db2 update db cfg for testdb using HADR_TIMEOUT 0", "db2 get db cfg for testdb")
    for line in (" HADR database role                                      = STANDARD",
                 " HADR timeout value                       (HADR_TIMEOUT) = 120",
                 " HADR log write synchronization mode     (HADR_SYNCMODE) = NEARSYNC",
                 " HADR peer window duration (seconds)  (HADR_PEER_WINDOW) = 0",
                 " Log pages during index build            (LOGINDEXBUILD) = OFF"):
        assert line + "\n" in cfg
    # Values outside IBM's ranges are refused and change nothing.
    assert syncmode[0] == 4 and syncmode[1].startswith("SQL0104N") and '"FAST"' in syncmode[1], syncmode
    assert timeout[0] == 4 and " ".join(timeout[1].split()) == (
        'SQL5130N The value specified for the configuration parameter "hadr_timeout" is not in the '
        'valid range of "1" to "4294967295".'), timeout
    assert cfg_after == cfg

    results = batch(
        db,
        "db2 start hadr on db testdb as standby",    # an active database
        "db2 deactivate db testdb",
        "db2 start hadr on db testdb as standby",    # not rollforward pending
        "db2 start hadr on db testdb as primary",    # NULL HADR parameters
        "db2 create db circ",
        "db2 start hadr on db circ as primary",      # circular logging
        "db2 stop hadr on db testdb",
        "db2 takeover hadr on db testdb",
        "db2 get db cfg for testdb | grep 'HADR database role'",
        "db2pd -db testdb -hadr",                    # inactive
        "db2 activate db testdb",
        "db2pd -db testdb -hadr",                    # active, standard
        "db2 update alternate server for database testdb using hostname standby.example port 50000",
        "db2 list db directory",
        "db2 update alternate server for database testdb using hostname NULL port NULL",
        "db2 list db directory")
    expected = [(4, 'SQL1767N  Start HADR cannot complete. Reason code = "3".'), (0, "DB20000I"),
                (4, 'SQL1767N  Start HADR cannot complete. Reason code = "1".'),
                (4, 'SQL1768N  Unable to start HADR. Reason code = "8".'), (0, "DB20000I"),
                (4, 'SQL1768N  Unable to start HADR. Reason code = "1".'),
                (4, 'SQL1769N  Stop HADR cannot complete. Reason code = "1".'),
                (4, 'SQL1770N  Takeover HADR cannot complete. Reason code = "4".'),
                (0, " HADR database role                                      = STANDARD")]
    for (code, out), (want_code, want_text) in zip(results, expected):
        assert code == want_code and out.startswith(want_text), (out, want_text)
    inactive, active, directory, reset = results[9][1], results[11][1], results[13][1], results[15][1]
    assert inactive == (
        "Database TESTDB not activated on database member 0 or this database name cannot be found "
        "in the local database directory.\n"
        "Option -hadr requires -db <database> or -alldbs option and active database.\n")
    assert active.startswith("\nDatabase Member 0 -- Database TESTDB -- Active -- Up 0 days ")
    assert active.endswith("\nHADR is not active.\n\n")
    # Automatic client reroute: the alternate server is recorded in the database directory.
    assert " Alternate server hostname            = standby.example\n" in directory
    assert " Alternate server port number         = 50000\n" in directory
    assert " Alternate server hostname            = \n" in reset


def test_pair_ships_committed_rows_keeps_the_standby_closed_and_switches_roles(
        containers, network, share, standin_images):
    image = standin_images["11.5.8.0"]
    primary, standby = prepare_pair(containers, network, share, image, image)
    ok(primary, "db2 connect to testdb >/dev/null && db2 \"insert into kept values (2, 'before HADR')\"")
    # IBM's order: the standby first; it waits for its primary (it is the TCP client).
    ok(standby, "db2 start hadr on db testdb as standby")
    fields = wait_state(standby, "REMOTE_CATCHUP_PENDING")
    assert fields["HADR_ROLE"] == "STANDBY" and fields["HADR_CONNECT_STATUS"] == "DISCONNECTED"
    ok(primary, "db2 start hadr on db testdb as primary")
    fields = wait_state(primary, "PEER")
    assert fields["HADR_ROLE"] == "PRIMARY" and fields["HADR_CONNECT_STATUS"] == "CONNECTED"
    assert fields["STANDBY_MEMBER_HOST"] == standby.name and fields["PRIMARY_INSTANCE"] == "db2inst1"
    wait_state(standby, "PEER")
    before = int(fields["PRIMARY_LOG_FILE,PAGE,POS"].split(", ")[2])

    # The standby refuses connections as IBM's does (the CLP, and IBM's own driver below), and
    # the commands that do not fit its role.
    results = batch(standby, SQL % ("select count(*) from kept", ""),
                    "db2 start hadr on db testdb as standby", "db2 stop hadr on db testdb",
                    "db2 start hadr on db testdb as primary")
    expected = [(4, 'SQL1776N  The command cannot be issued on an HADR database. Reason code = "1".'),
                (4, "SQL1777N  HADR is already started."),
                (4, 'SQL1769N  Stop HADR cannot complete. Reason code = "2".'),
                (4, 'SQL1767N  Start HADR cannot complete. Reason code = "2".')]
    for (code, out), (want_code, want_text) in zip(results, expected):
        assert code == want_code and out.startswith(want_text), (out, want_text)
    with pytest.raises(Exception, match="SQL1776N"):
        ibm_db.connect(dsn(standby), "", "")
    code, out = owner(primary, "db2 takeover hadr on db testdb")
    assert code == 4 and 'SQL1770N  Takeover HADR cannot complete. Reason code = "4".' in out, out

    # Committed rows, from the CLP and from a unit of work over IBM's driver, reach the standby;
    # a rolled-back one does not. The log positions move and meet.
    ok(primary, "db2 connect to testdb >/dev/null && db2 \"insert into kept values (3, 'clp')\"")
    conn = ibm_db.connect(dsn(primary), "", "")
    ibm_db.autocommit(conn, ibm_db.SQL_AUTOCOMMIT_OFF)
    ibm_db.exec_immediate(conn, "INSERT INTO KEPT VALUES (4, 'ibm_db unit of work')")
    ibm_db.exec_immediate(conn, "INSERT INTO KEPT VALUES (5, 'ibm_db unit of work')")
    ibm_db.commit(conn)
    ibm_db.exec_immediate(conn, "INSERT INTO KEPT VALUES (99, 'rolled back')")
    ibm_db.rollback(conn)
    ibm_db.close(conn)
    fields = pd(primary)
    assert int(fields["PRIMARY_LOG_FILE,PAGE,POS"].split(", ")[2]) > before
    assert fields["STANDBY_LOG_FILE,PAGE,POS"] == fields["PRIMARY_LOG_FILE,PAGE,POS"]  # NEARSYNC, peer
    assert fields["HADR_LOG_GAP(bytes)"] == "0"
    code, out = sql(primary, "select hadr_role, hadr_state, hadr_connect_status, hadr_timeout, hadr_log_gap, "
                             "primary_log_pos - %d from table(mon_get_hadr(null))" % before)
    assert code == 0 and out.split()[:5] == ["PRIMARY", "PEER", "CONNECTED", "5000", "0"], out
    assert int(out.split()[5]) > 0, out  # MON_GET_HADR: the same positions, durations in ms

    # Reads on standby (DB2_HADR_ROS) show the replayed rows, UR only; writes are refused.
    _set, ur_read, cs_read, write = batch(
        standby, "db2set DB2_HADR_ROS=ON", SQL % ("select id from kept order by id", " with ur"),
        SQL % ("select id from kept", ""), SQL % ("insert into kept values (6, 'on standby')", ""))
    assert ur_read[0] == 0 and ur_read[1].split() == ["1", "2", "3", "4", "5"], ur_read
    assert cs_read[0] == 4 and 'SQL1773N' in cs_read[1] and 'Reason code = "1"' in " ".join(cs_read[1].split())
    assert write[0] == 4 and 'Reason code = "5"' in " ".join(write[1].split()), write

    # Unforced takeover in peer: roles swap; the old primary is closed, the new one takes writes
    # and ships them back.
    client = ibm_db.connect(dsn(primary), "", "")  # an application connected across the takeover
    ibm_db.exec_immediate(client, "INSERT INTO KEPT VALUES (7, 'before the takeover')")
    code, out = owner(standby, "db2set DB2_HADR_ROS= && db2 takeover hadr on db testdb")
    assert (code, out) == (0, "DB20000I  The TAKEOVER HADR ON DATABASE command completed successfully.\n"), \
        out + diag(standby)[-3000:] + diag(primary)[-3000:]
    fields = pd(standby)
    assert fields["HADR_ROLE"] == "PRIMARY" and fields["HADR_LAST_TAKEOVER_TIME"] != "NULL"
    assert wait_state(primary, "PEER")["HADR_ROLE"] == "STANDBY"
    closed, _set = batch(primary, SQL % ("select count(*) from kept", ""),
                         "db2set DB2_HADR_ROS=ON DB2_STANDBY_ISO=UR")
    written = sql(standby, "insert into kept values (6, 'on the new primary')")
    assert closed[0] == 4 and "SQL1776N" in closed[1], closed
    with pytest.raises(Exception, match="SQL1224N"):  # forced off: it reconnects to the other side
        ibm_db.exec_immediate(client, "INSERT INTO KEPT VALUES (8, 'after the takeover')")
    ibm_db.close(client)
    assert written[0] == 0, written
    wait_state(primary, "PEER")
    code, out = sql(primary, "select id from kept order by id")
    assert code == 0 and out.split() == ["1", "2", "3", "4", "5", "6", "7"], out


def test_lost_partners_forced_takeover_and_reintegration(containers, network, share, standin_images):
    image = standin_images["11.5.8.0"]
    primary, standby = prepare_pair(containers, network, share, image, image)
    start_pair(primary, standby)

    # The standby goes: the primary keeps serving, disconnected.
    standby.kill()
    code, out = sql(primary, "insert into kept values (2, 'standby gone')")
    assert code == 0, out
    wait_state(primary, "DISCONNECTED", timeout=TIMEOUT + 20)
    standby.start()
    wait_for_log_count(standby, SETUP_DONE, 2, SETUP_WAIT)
    ok(standby, "db2 activate db testdb")  # a standby database activates as a standby
    wait_state(standby, "PEER")

    # The primary goes: no unforced takeover outside peer; PEER WINDOW ONLY needs a window.
    primary.kill()
    wait_state(standby, "REMOTE_CATCHUP_PENDING", timeout=TIMEOUT + 20)
    unforced, window, forced, rows, write = batch(
        standby, "db2 takeover hadr on db testdb", "db2 takeover hadr on db testdb by force peer window only",
        "db2 takeover hadr on db testdb by force", SQL % ("select id from kept order by id", ""),
        SQL % ("insert into kept values (3, 'after the forced takeover')", ""))
    assert unforced[0] == 4 and 'SQL1770N  Takeover HADR cannot complete. Reason code = "1".' in unforced[1]
    assert window[0] == 4 and 'Reason code = "9".' in window[1], window
    assert forced == (0, "DB20000I  The TAKEOVER HADR ON DATABASE command completed successfully.\n")
    assert rows[0] == 0 and rows[1].split() == ["1", "2"], rows  # nothing committed was lost
    assert write[0] == 0, write

    # The old primary comes back: as a primary it finds no standby within HADR_TIMEOUT. Its log
    # did not diverge, so it rejoins as the standby and catches up.
    primary.start()
    wait_for_log_count(primary, SETUP_DONE, 2, SETUP_WAIT)
    activate, rejoin = batch(primary, "db2 activate db testdb", "db2 start hadr on db testdb as standby")
    assert activate[0] == 4 and 'SQL1768N  Unable to start HADR. Reason code = "7".' in activate[1], activate
    assert rejoin[0] == 0, rejoin
    wait_state(primary, "PEER")
    ok(primary, "db2set DB2_HADR_ROS=ON DB2_STANDBY_ISO=UR")
    code, out = sql(primary, "select id from kept order by id")
    assert code == 0 and out.split() == ["1", "2", "3"], out


def test_rolling_update_levels(containers, network, share, standin_images):
    """A standby at a later fix pack than its primary is accepted (rolling update); a primary later
    than its standby, or another version, is refused with ADM12502E on both sides."""
    primary, standby = prepare_pair(containers, network, share, standin_images["11.1.3.3a"],
                                    standin_images["11.1.4.4"])
    other = start(containers, network, share, standin_images["11.5.8.0"], "hx-" + uuid.uuid4().hex[:6])
    wait_for_log(other, SETUP_DONE, SETUP_WAIT)
    stamp = re.findall(r"TESTDB\.0\.db2inst1\.DBPART000\.(\d{14})\.001", "\n".join(
        p.name for p in share.iterdir()))[0]
    owner(other, "db2 deactivate db testdb && db2 restore db testdb from /hadr taken at %s "
                 "without prompting" % stamp)
    configure(other, other.name, primary.name)

    ok(primary, "db2 start hadr on db testdb as primary by force")  # no standby yet: by force
    ok(other, "db2 start hadr on db testdb as standby")
    refusal = ("ADM12502E  Unable to establish HADR primary-standby connection because the DB2 "
               "versions do not match the primary and standby databases.")
    deadline = time.monotonic() + 30
    while refusal not in diag(other) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert refusal in diag(other) and refusal in diag(primary)
    assert pd(other)["HADR_STATE"] == "REMOTE_CATCHUP_PENDING"
    ok(other, "db2 deactivate db testdb")

    ok(standby, "db2 start hadr on db testdb as standby")  # 11.1.4.4 under an 11.1.3.3a primary
    wait_state(primary, "PEER")
    code, out = sql(primary, "insert into kept values (2, 'shipped to a later fix pack')")
    assert code == 0, out
    ok(standby, "db2 takeover hadr on db testdb")
    # Now the primary runs the later fix pack: its old primary (older) may not be its standby.
    deadline = time.monotonic() + 30
    while refusal not in diag(standby) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert refusal in diag(standby)
    fields = pd(primary)
    assert fields["HADR_ROLE"] == "STANDBY" and fields["HADR_STATE"] == "REMOTE_CATCHUP_PENDING"
    code, out = sql(standby, "select id from kept order by id")
    assert code == 0 and out.split() == ["1", "2"], out


def test_takeover_before_anything_is_logged_rejoins_in_peer(containers, network, share, standin_images):
    """The standby's log (restored from the backup) starts at the image's end and holds no record; the
    old primary's ends there with the records before the backup. After a takeover before any commit,
    the old primary rejoins as the standby: the logs agree (no ADM12500E)."""
    image = standin_images["11.5.8.0"]
    primary, standby = prepare_pair(containers, network, share, image, image)
    start_pair(primary, standby)
    ok(standby, "db2 takeover hadr on db testdb")
    assert wait_state(primary, "PEER")["HADR_ROLE"] == "STANDBY"
    assert "ADM12500E" not in diag(standby)
    code, out = sql(standby, "insert into kept values (2, 'after the takeover')")
    assert code == 0, out
