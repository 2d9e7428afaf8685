"""Parsing what the Db2 CLP and tools print. Samples are real outputs (see the facts file)."""
import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._db2 import clp as db2_clp
from ansible_collections.db2ops.docker.plugins.module_utils._docker.exec import ExecResult

# Cookbook transcript (11.1.4.4) with IBM's real layout: wrapped lines end with a space.
DB2LEVEL_11144 = (
    'DB21085I  This instance or install (instance name, where applicable: \n'
    '"db2inst1") uses "64" bits and DB2 code release "SQL11014" with level \n'
    'identifier "0205010F".\n'
    'Informational tokens are "DB2 v11.1.4.4", "s1811091400", "DYN1811091400AMD64", \n'
    'and Fix Pack "4".\n'
    'Product is installed at "/opt/ibm/db2/V11.1".\n\n'
)
# The cookbook's 11.1.3.3a slide, as transcribed (one space, no comma before "and Fix Pack").
DB2LEVEL_1133A_SLIDE = (
    'DB21085I This instance or install (instance name, where applicable:  \n'
    '"db2inst1") uses "64" bits and DB2 code release "SQL11013" with level  \n'
    'identifier "0204010F".\n'
    'Informational tokens are "DB2 v11.1.3.3", "s1804271300", "DYN1804271300AMD64"  \n'
    'and Fix Pack "3a".\n'
    'Product is installed at "/opt/ibm/db2/V11.1".\n'
)
DB2LEVEL_11580 = (
    'DB21085I  This instance or install (instance name, where applicable:\n'
    '"db2inst1") uses "64" bits and DB2 code release "SQL11058" with level\n'
    'identifier "0609010F".\n'
    'Informational tokens are "DB2 v11.5.8.0", "s2209201700", "DYN2209201700AMD64",\n'
    'and Fix Pack "0".\n'
    'Product is installed at "/opt/ibm/db2/V11.5".\n\n'
)


def test_db2level_11144():
    facts = db2_clp.parse_db2level(DB2LEVEL_11144)
    assert facts == {
        "instance": "db2inst1", "bits": 64, "code_release": "SQL11014", "level_identifier": "0205010F",
        "version": "11.1.4.4", "build": "s1811091400", "build_dyn": "DYN1811091400AMD64", "fixpack": "4",
        "install_path": "/opt/ibm/db2/V11.1", "level": "11.1.4.4",
    }


def test_db2level_slide_variant_and_fixpack_letter():
    facts = db2_clp.parse_db2level(DB2LEVEL_1133A_SLIDE)
    assert facts["level"] == "11.1.3.3a"
    assert facts["fixpack"] == "3a"
    assert facts["code_release"] == "SQL11013"


def test_db2level_11580():
    facts = db2_clp.parse_db2level(DB2LEVEL_11580)
    assert (facts["level"], facts["install_path"]) == ("11.5.8.0", "/opt/ibm/db2/V11.5")


def test_db2level_garbage_is_none():
    assert db2_clp.parse_db2level("bash: db2level: command not found\n") is None


@pytest.mark.parametrize("older, newer", [
    ("11.1.3.3", "11.1.3.3a"),
    ("11.1.3.3a", "11.1.3.3b"),
    ("11.1.3.3b", "11.1.4.4"),
    ("11.1.4.4-x86_64", "11.5.0.0"),
    ("11.5.8.0", "11.5.9.0"),
    ("11.5.9.0", "12.1.0.0"),
])
def test_level_order(older, newer):
    assert db2_clp.parse_level(older) < db2_clp.parse_level(newer)


def test_level_of_non_level_tag():
    assert db2_clp.parse_level("latest") is None


def test_messages_sqlcode_sqlstate_and_wrapping():
    out = ('SQL0204N  "DB2INST1.NOPE" is an undefined name.  SQLSTATE=42704\n\n'
           'DB20000I  The UPDATE DATABASE MANAGER CONFIGURATION command completed \nsuccessfully.\n')
    first, second = db2_clp.parse_messages(out)
    assert (first.code, first.sqlcode, first.sqlstate, first.is_error) == ("SQL0204N", -204, "42704", True)
    assert first.text == '"DB2INST1.NOPE" is an undefined name.  SQLSTATE=42704'
    assert second.code == "DB20000I" and second.sqlcode is None
    assert second.text.endswith("command completed successfully.")


def test_messages_db2start_timestamp_line_counts_once():
    out = ("04/27/2019 09:45:40     0   0   SQL1063N  DB2START processing was successful.\n"
           "SQL1063N  DB2START processing was successful.\n")
    assert [m.code for m in db2_clp.parse_messages(out)] == ["SQL1063N"]


def test_warning_sqlcode_positive():
    (msg,) = db2_clp.parse_messages("SQL1611W  No data was returned by Database System Monitor.\n")
    assert msg.sqlcode == 1611 and msg.is_warning


@pytest.mark.parametrize("output, rc", [
    ("DB20000I  The SQL command completed successfully.", 0),
    ("\nNAME\n----\n\n  0 record(s) selected.\n", 1),
    ("SQL1611W  No data was returned by Database System Monitor.", 2),
    ('SQL0104N  An unexpected token "x" was found.  SQLSTATE=42601', 4),
])
def test_classify_like_clp_return_codes(output, rc):
    assert db2_clp.classify(output) == rc


def test_table_with_nulls_and_spaces():
    out = ("\nNAME                 TASKID      STATUS     SQLCODE\n"
           "-------------------- ----------- ---------- -----------\n"
           "DAILY BACKUP                  41 COMPLETE            0\n"
           "RUNSTATS                      43 -                    -\n\n"
           "  2 record(s) selected.\n\n")
    assert db2_clp.parse_table(out) == [
        {"NAME": "DAILY BACKUP", "TASKID": "41", "STATUS": "COMPLETE", "SQLCODE": "0"},
        {"NAME": "RUNSTATS", "TASKID": "43", "STATUS": None, "SQLCODE": None},
    ]


def test_table_unnamed_column_and_no_table():
    out = "\n1\n-----------\n        438\n\n  1 record(s) selected.\n"
    assert db2_clp.parse_table(out) == [{"1": "438"}]
    assert db2_clp.parse_table("DB20000I  The SQL command completed successfully.") is None


def test_active_databases():
    out = ("\n                           Active Databases\n\n"
           "Database name                              = BLUDB\n"
           "Applications connected currently           = 0\n"
           "Database path                              = /mnt/bludata0/db2/databases/db2inst1/NODE0000/SQL00001/\n\n"
           "Database name                              = TESTDB\n"
           "Applications connected currently           = 1\n"
           "Database path                              = /database/data/db2inst1/NODE0000/SQL00002/\n\n")
    assert db2_clp.active_databases(out) == ["BLUDB", "TESTDB"]
    assert db2_clp.active_databases("SQL1611W  No data was returned by Database System Monitor.") == []


def test_mask_statement():
    masked = db2_clp.mask_statement("CONNECT TO testdb USER appuser USING s3cr3t", ())
    assert masked == "CONNECT TO testdb USER appuser USING ********"
    assert db2_clp.mask_statement("CALL P('tok-123')", ["tok-123"]) == "CALL P('********')"


def test_split_marked_output_stops_where_clp_stopped():
    text = ("@@M 0@@\nDB20000I  ok.\n@@M 1@@\nSQL0204N  \"X\" is an undefined name.  SQLSTATE=42704\n")
    assert db2_clp.split_marked_output(text, "@@M", 3) == [
        "DB20000I  ok.", 'SQL0204N  "X" is an undefined name.  SQLSTATE=42704', None]


def test_run_script_raises_db2error_with_message(monkeypatch):
    calls = []

    def fake_exec(api, cid, cmd, user="", stdin=None, timeout=None, **kw):
        calls.append((cmd, user, stdin))
        mark = stdin.split()[1].split(" ")[0]
        return ExecResult(4, "%s 0@@\n\n   Database Connection Information\n\n%s 1@@\n"
                          "SQL0204N  \"DB2INST1.NOPE\" is an undefined name.  SQLSTATE=42704\n" % (mark, mark), "")

    monkeypatch.setattr(db2_clp, "exec_in_container", fake_exec)
    clp = db2_clp.Db2Clp(None, "c1", "db2inst1")
    with pytest.raises(db2_clp.Db2Error) as err:
        clp.run_script(["CONNECT TO testdb USER u USING pw", "SELECT * FROM nope", "SELECT 1 FROM x"])
    assert err.value.code == "SQL0204N" and err.value.sqlcode == -204
    assert "SELECT * FROM nope failed: SQL0204N" in str(err.value)
    cmd, user, stdin = calls[0]
    assert user == "db2inst1"
    assert "pw" not in " ".join(cmd), "secrets never in argv"
    assert "USING pw;" in stdin
