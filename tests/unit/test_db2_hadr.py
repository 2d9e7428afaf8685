"""The HADR readers (_db2/hadr.py) on IBM's own db2pd sample and on the stand-in's outputs
(tests/unit/samples/README.md says where each one comes from)."""
import pathlib

from ansible_collections.db2ops.docker.plugins.module_utils._db2 import hadr

SAMPLES = pathlib.Path(__file__).parent / "samples"


def sample(name):
    return (SAMPLES / name).read_text()


def test_ibm_primary_sample_parses_to_ibm_field_names():
    blocks = hadr.parse_db2pd_hadr(sample("db2pd_hadr_ibm_11580_primary.txt"))
    assert list(blocks) == ["SAMPLE"]
    fields = blocks["SAMPLE"]
    assert fields["_header"] == "Active"
    assert fields["HADR_ROLE"] == "PRIMARY" and fields["HADR_STATE"] == "PEER"
    assert fields["HADR_LOG_GAP(bytes)"] == "0"
    assert fields["PRIMARY_LOG_FILE,PAGE,POS"] == "S0000001.LOG, 0, 48912046"
    assert fields["PEER_WINDOW_END"] == "04-07-2024 06:35:52.000000 (1720100152)"
    status = hadr.HadrStatus("SAMPLE", {"role": "PRIMARY"}, fields, True).as_dict()
    assert status["peer_window_seconds"] == 300 and status["log_gap_bytes"] == 0
    assert status["peer_window_end"].endswith("(1720100152)")
    assert status["last_takeover_time"] is None  # NULL
    assert status["standby_host"] == "pacemakertest2" and status["timeout_seconds"] == 120


def test_alldbs_output_keeps_a_standard_database_apart_from_the_pair():
    blocks = hadr.parse_db2pd_hadr(sample("db2pd_hadr_primary_alldbs.txt"))
    assert blocks["OTHER"] == {}  # "HADR is not active."
    assert blocks["TESTDB"]["HADR_ROLE"] == "PRIMARY"


def test_standby_block_and_its_db_cfg():
    fields = hadr.parse_db2pd_hadr(sample("db2pd_hadr_standby.txt"))["TESTDB"]
    assert fields["_header"] == "Standby" and fields["HADR_ROLE"] == "STANDBY"
    cfg = hadr.parse_db_cfg_hadr(sample("dbcfg_hadr_standby.txt"))
    assert cfg["role"] == "STANDBY" and cfg["rollforward_pending"] is True
    assert cfg["HADR_LOCAL_HOST"] == "hs-s1" and cfg["HADR_REMOTE_SVC"] == "4000"
    assert cfg["HADR_TARGET_LIST"] == "" and cfg["LOGINDEXBUILD"] == "ON"
    assert hadr.archive_logging(cfg)
    status = hadr.HadrStatus("TESTDB", cfg, fields, True)
    assert status.role == "STANDBY" and status.in_pair and status.running and status.state == "PEER"
    assert status.as_dict()["configuration"]["target_list"] is None


def test_an_inactive_database_has_no_block():
    assert hadr.parse_db2pd_hadr(sample("db2pd_hadr_inactive.txt")) == {}


def test_circular_logging_is_not_archive_logging():
    assert not hadr.archive_logging({"LOGARCHMETH1": "OFF", "LOGARCHMETH2": "OFF"})
    assert not hadr.archive_logging({})
    assert hadr.archive_logging({"LOGARCHMETH1": "OFF", "LOGARCHMETH2": "DISK:/arch"})


def test_status_script_output_is_read_per_database():
    cfg = sample("dbcfg_hadr_standby.txt")
    output = ("@@DB2OPS_HADR cfg_TESTDB\n%s\n@@DB2OPS_HADR rc=0\n"
              "@@DB2OPS_HADR cfg_OTHER\n SQL1013N  The database alias name or database name \"OTHER\" could not "
              "be found.  SQLSTATE=42705\n@@DB2OPS_HADR rc=4\n"
              "@@DB2OPS_HADR active\n Database name = TESTDB\n@@DB2OPS_HADR rc=0\n"
              "@@DB2OPS_HADR pd\n%s@@DB2OPS_HADR rc=0\n" % (cfg, sample("db2pd_hadr_standby.txt")))
    statuses = hadr.parse_status(output, ["TESTDB", "OTHER"])
    assert statuses["TESTDB"].role == "STANDBY" and statuses["TESTDB"].active
    assert statuses["OTHER"].role == "STANDARD" and not statuses["OTHER"].active
    assert statuses["OTHER"].cfg["role"] is None  # not cataloged: no HADR rows at all
    assert "GET DB CFG FOR %s" in hadr.status_script(["TESTDB"]) and "for db in 'TESTDB';" in hadr.status_script(["TESTDB"])


def test_a_database_that_is_not_cataloged_carries_db2s_message():
    output = ("@@DB2OPS_HADR cfg_NOPE\nSQL1013N  The database alias name or database name \"NOPE\" could not be\n"
              "found.  SQLSTATE=42705\n@@DB2OPS_HADR rc=4\n@@DB2OPS_HADR active\n@@DB2OPS_HADR rc=4\n"
              "@@DB2OPS_HADR pd\n@@DB2OPS_HADR rc=0\n")
    status = hadr.parse_status(output, ["NOPE"])["NOPE"]
    assert not status.readable and not status.active
    assert status.error.startswith("SQL1013N The database alias name or database name \"NOPE\" could not be found.")
    assert hadr.pair_roles({"NOPE": status}) == {}


def test_all_cataloged_databases_are_listed_in_the_same_exec():
    script = hadr.status_script(None)
    assert script.startswith("{ for db in $(db2 list db directory ")
    assert script.count("db2pd -alldbs -hadr") == 1
    cfg = sample("dbcfg_hadr_standby.txt")
    standard = cfg.replace("= STANDBY", "= STANDARD")
    output = ("@@DB2OPS_HADR cfg_OTHER\n%s\n@@DB2OPS_HADR rc=0\n@@DB2OPS_HADR cfg_TESTDB\n%s\n@@DB2OPS_HADR rc=0\n"
              "@@DB2OPS_HADR active\n Database name = TESTDB\n@@DB2OPS_HADR rc=0\n"
              "@@DB2OPS_HADR pd\n%s@@DB2OPS_HADR rc=0\n" % (standard, cfg, sample("db2pd_hadr_standby.txt")))
    statuses = hadr.parse_status(output, None)
    assert sorted(statuses) == ["OTHER", "TESTDB"]
    assert statuses["OTHER"].role == "STANDARD" and statuses["OTHER"].error is None
    # db2_container_info: only the databases in a pair, with role, state and connection.
    assert hadr.pair_roles(statuses) == {"TESTDB": {"role": "STANDBY", "state": "PEER", "connect_status": "CONNECTED"}}


def test_an_inactive_database_in_a_pair_keeps_its_role_without_a_state():
    status = hadr.HadrStatus("TESTDB", hadr.parse_db_cfg_hadr(sample("dbcfg_hadr_standby.txt")), None, False)
    info = status.as_dict()
    assert (info["role"], info["active"], info["hadr_running"], info["state"]) == ("STANDBY", False, False, None)
    assert info["connect_status"] is None and info["log_gap_bytes"] is None
    assert info["timeout_seconds"] == 5  # from the db cfg when db2pd has nothing
    assert hadr.pair_roles({"TESTDB": status}) == {"TESTDB": {"role": "STANDBY", "state": None,
                                                              "connect_status": None}}


def test_read_status_asks_nothing_for_an_empty_list():
    assert hadr.read_status(None, []) == {}


class FakeClp:
    """A Db2Clp that answers status_script() with a canned output and counts the execs."""

    def __init__(self, output):
        self.output, self.scripts = output, []

    def shell(self, script):
        self.scripts.append(script)
        return type("Result", (), {"stdout": self.output, "rc": 0})()


def test_hadr_info_is_one_exec_and_names_a_missing_database():
    cfg = sample("dbcfg_hadr_standby.txt")
    clp = FakeClp("@@DB2OPS_HADR cfg_TESTDB\n%s\n@@DB2OPS_HADR rc=0\n@@DB2OPS_HADR active\n@@DB2OPS_HADR rc=0\n"
                  "@@DB2OPS_HADR pd\n@@DB2OPS_HADR rc=0\n" % cfg)
    result = hadr.hadr_info(clp, "testdb")
    assert len(clp.scripts) == 1 and "for db in 'TESTDB';" in clp.scripts[0]
    assert result["hadr"] == result["databases"][0] and result["hadr"]["role"] == "STANDBY"
    assert result["hadr"]["active"] is False and result["hadr"]["state"] is None
    missing = FakeClp("@@DB2OPS_HADR cfg_NOPE\nSQL1013N  The database alias name or database name \"NOPE\" could "
                      "not be found.  SQLSTATE=42705\n@@DB2OPS_HADR rc=4\n")  # one line, two spaces as Db2 prints
    try:
        hadr.hadr_info(missing, "nope", "container db2a")
    except hadr.HadrReadError as exc:
        assert str(exc) == ('database NOPE is not cataloged in container db2a: SQL1013N The database alias name '
                            'or database name "NOPE" could not be found. SQLSTATE=42705')
        assert not exc.changed
    else:
        raise AssertionError("a missing database must fail")
