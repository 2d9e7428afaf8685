"""The stand-in's transaction log (tests/images/db2-standin/standin/translog.py): the positions
db2pd shows, the records HADR ships, and a replay that gives the standby the primary's rows.
Plain files and SQLite, no container."""
import sqlite3
import sys
import types
from pathlib import Path

import pytest

STANDIN = Path(__file__).resolve().parents[2] / "tests" / "images" / "db2-standin"
sys.path.insert(0, str(STANDIN))
try:
    from standin import dbcfg, dialect, translog  # noqa: E402
    from standin.database import Database  # noqa: E402
finally:
    sys.path.remove(str(STANDIN))


def make_database(root, name):
    """A database directory as the stand-in lays it out, recoverable (LOGARCHMETH1 on)."""
    instance = types.SimpleNamespace(name="db2inst1", runtime=root / "run")
    database = Database(instance, name, {"name": name, "token": "SQL00001", "path": str(root / name)})
    database.store.mkdir(parents=True)
    dbcfg.update(database, {"LOGARCHMETH1": "LOGRETAIN"})
    return database


class Context:
    """What the CLP and the DRDA server hand to translog: a connection of one application."""

    def __init__(self, database, schema="DB2INST1"):
        self.conn = database.open(schema)
        self.schema = schema

    def run(self, database, text, params=()):
        statement = dialect.prepare(text, self.schema, database.alias)
        for schema in statement.schemas:
            database.attach(self.conn, schema, create=statement.creates)
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN")
        self.conn.execute(statement.sql, params)
        translog.note(self, database, statement, self.schema, params)


@pytest.fixture
def primary(tmp_path):
    return make_database(tmp_path, "PRIM")


def test_positions_follow_the_stream_across_log_files(primary):
    dbcfg.update(primary, {"LOGFILSIZ": "1"})  # one 4 KB page per file
    line = b"x" * 999 + b"\n"
    ends = []
    with translog.locked(primary):
        for _record in range(9):
            ends.append(translog.append_line(primary, line)[1])
    assert ends == [1000 * n for n in range(1, 10)]
    assert translog.end(primary) == 9000
    files = sorted(p.name for p in translog.log_dir(primary).glob("S*.LOG"))
    assert files == ["S0000000.LOG", "S0000001.LOG", "S0000002.LOG"]  # at most 4096 bytes each
    assert translog.position(primary, 4500) == ("S0000001.LOG", 0, 4500)
    assert translog.position(primary, 9000) == ("S0000002.LOG", 0, 9000)
    assert [lso for lso, _line in translog.records(primary, 6000)] == [6000, 7000, 8000]
    assert translog.record_ending_at(primary, 5000) == line
    assert translog.record_ending_at(primary, 5500) is None


def test_a_restored_database_logs_on_from_the_image_end(primary):
    translog.reset(primary, 123456)
    assert translog.end(primary) == 123456
    with translog.locked(primary):
        assert translog.append_line(primary, b"{}\n") == (123456, 123459)
    assert translog.position(primary, 123459) == ("S0000000.LOG", 0, 123459)
    assert translog.replayed(primary) == 123459  # not a standby: its own log is all applied


def test_committed_units_of_work_replay_on_a_copy_and_rolled_back_ones_do_not(tmp_path, primary):
    ctx = Context(primary)
    ctx.run(primary, "CREATE TABLE T (ID INT, D DECIMAL(5,2), B BLOB(10), TS TIMESTAMP)")
    translog.commit(ctx, primary)
    ctx.run(primary, "INSERT INTO T VALUES (?, ?, ?, CURRENT TIMESTAMP)",
            (1, 1.5, b"\x00\xff"))
    ctx.run(primary, "INSERT INTO T VALUES (2, 2.25, NULL, CURRENT TIMESTAMP)")
    translog.commit(ctx, primary)
    ctx.run(primary, "INSERT INTO T VALUES (99, 0, NULL, NULL)")
    translog.rollback(ctx)
    ctx.conn.close()
    lines = [line for _lso, line in translog.records(primary, 0)]
    assert len(lines) == 2  # two units of work; the rolled-back one left nothing

    standby = make_database(tmp_path, "STBY")
    for line in lines:
        translog.replay(standby, line)

    def rows(database):
        with sqlite3.connect(database.store / "DB2INST1.sqlite") as conn:
            return conn.execute("SELECT ID, D, B, TS FROM T ORDER BY ID").fetchall()
    assert rows(standby) == rows(primary)  # CURRENT TIMESTAMP was logged as the primary's value
    assert [row[0] for row in rows(standby)] == [1, 2]


def test_a_database_that_is_no_longer_primary_refuses_to_commit(primary):
    ctx = Context(primary)
    ctx.run(primary, "CREATE TABLE T (ID INT)")
    dbcfg.update(primary, {"HADR_DB_ROLE": "STANDBY"})
    with pytest.raises(dialect.SqlError) as refused:
        translog.commit(ctx, primary)
    assert refused.value.msg_id == "SQL1224N"
    assert not ctx.conn.in_transaction and translog.end(primary) == 0


def test_a_tool_write_is_logged_so_the_standby_replays_it(tmp_path, primary):
    """db2updv's catalog row: run once on the primary, shipped to the standby by the log."""
    with primary.schema_connection("SYSIBM") as conn:
        conn.execute("CREATE TABLE SYSVERSIONS (VERSIONNUMBER INTEGER, VERSION_TIMESTAMP TIMESTAMP, "
                     "AUTHID VARCHAR(128), VERSIONBUILDLEVEL VARCHAR(255))")
    standby = make_database(tmp_path, "STBY")
    with standby.schema_connection("SYSIBM") as conn:
        conn.execute("CREATE TABLE SYSVERSIONS (VERSIONNUMBER INTEGER, VERSION_TIMESTAMP TIMESTAMP, "
                     "AUTHID VARCHAR(128), VERSIONBUILDLEVEL VARCHAR(255))")
    translog.tool_write(primary, "SYSIBM", "INSERT INTO SYSVERSIONS VALUES (?, ?, ?, ?)",
                        (11010404, "2026-01-01-00.00.00.000000", "DB2INST1", "s1811091400"))
    for _lso, line in translog.records(primary, 0):
        translog.replay(standby, line)
    assert standby.catalog_level() == primary.catalog_level() == 11010404


def test_a_record_replayed_again_after_a_kill_is_applied_once(tmp_path, primary):
    """hadrd writes standin.replayed after the replay's COMMIT: a standby killed in between replays
    the record again on its restart. The position kept in the file's header in the same transaction
    makes the second replay a no-op (test_hadr_faults.py saw a row twice before)."""
    ctx = Context(primary)
    ctx.run(primary, "CREATE TABLE T (ID INT)")
    translog.commit(ctx, primary)
    ctx.run(primary, "INSERT INTO T VALUES (1)")
    translog.commit(ctx, primary)
    ctx.conn.close()
    standby = make_database(tmp_path, "STBY")
    records = list(translog.records(primary, 0))
    for lso, line in records + records[-1:]:  # the last one twice, as after the kill
        translog.replay(standby, line, upto=lso + len(line))
    with sqlite3.connect(standby.store / "DB2INST1.sqlite") as conn:
        assert conn.execute("SELECT ID FROM T").fetchall() == [(1,)]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == records[-1][0] + len(records[-1][1])
