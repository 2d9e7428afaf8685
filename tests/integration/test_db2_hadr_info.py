"""db2ops.docker.db2_hadr_info, the `hadr` of db2_container_info and the HADR column of the fleet report
(playbooks/report.yml) against a real stand-in pair on one Docker network, built by hand as
test_standin_hadr.py builds it (its helpers), through real ansible-playbook; the bad-input table runs
the module in this process (tests/integration/in_process.py).

The tests share one pair and run in file order: peer on both sides, then the report, then the
primary deactivated (the standby falls back to REMOTE_CATCHUP_PENDING) and the errors.
"""
from __future__ import annotations

import glob
import json
import re
import sys
import uuid

import pytest
import yaml

from conftest import BASE_DB2_ENV
from in_process import run_module as run_in_process
from playbook import REPO, run_module, run_playbook
from test_standin_hadr import TIMEOUT, ok, owner, prepare_pair, start_pair

PEER_WINDOW = 5  # seconds: db2pd shows PEER_WINDOW_END in PEER only with a window
TOKEN = "/tmp/db2ops-hinfo-" + uuid.uuid4().hex[:8]  # a shell that ran a hostile value would create it
HOSTILE = {
    "semicolon": "TESTDB; db2 stop hadr on db testdb; touch %s-semicolon" % TOKEN,
    "subst": "$(touch %s-subst)" % TOKEN,
    "newline": "TESTDB\n",  # a regex ending in $ would let it through
    "quotes": "testdb' OR '1'='1",
    "long": "TESTDB123",  # nine characters
    "path": "../../etc/passwd",
    "empty": "",
    "nul": "TEST\x00DB",
    "secret": BASE_DB2_ENV["DB2INST1_PASSWORD"],
}
# Valid container names (only the Docker daemon can say they do not exist, and the error names them).
CONTAINER_NAMES = ("long", "secret")


class Tracker:
    """conftest's `containers` for a whole module: containers removed (with volumes) at the end."""

    def __init__(self, docker_client):
        self.docker, self.made = docker_client, []

    def run(self, image, name, **kwargs):
        container = self.docker.containers.create(image, name=name, **kwargs)
        self.made.append(container)
        container.start()
        container.reload()
        return container


@pytest.fixture(scope="module")
def pair(docker_client, standin_images, tmp_path_factory):
    """TESTDB in PEER between a primary and a standby (HADR_TIMEOUT 5, peer window 5), and a standard
    database PLAIN on the primary, left inactive."""
    network = docker_client.networks.create("db2ops-t-hinfo-" + uuid.uuid4().hex[:8])
    share = tmp_path_factory.mktemp("hadr")
    share.chmod(0o777)
    tracker = Tracker(docker_client)
    try:
        image = standin_images["11.5.8.0"]
        primary, standby = prepare_pair(tracker, network, share, image, image, HADR_PEER_WINDOW=str(PEER_WINDOW))
        ok(primary, "db2 create db plain >/dev/null")
        start_pair(primary, standby)
        yield primary, standby
    finally:
        for container in tracker.made:
            container.remove(force=True, v=True)
        network.remove()


def info(tmp_path, container, database=None, check=False):
    args = {"container": container.name}
    if database is not None:
        args["database"] = database
    return run_module(tmp_path, "db2_hadr_info", args, check=check)[1]


def wait_for_state(tmp_path, container, state, retries=40):
    """The documented way to wait (EXAMPLES): the task repeated with until/retries, in a real playbook."""
    out = tmp_path / ("wait-%s.json" % uuid.uuid4().hex[:6])
    play = [{"hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": [
        {"name": "wait", "db2ops.docker.db2_hadr_info": {"container": container.name, "database": "TESTDB"},
         "register": "r", "until": "r.hadr.state == %r" % state, "retries": retries, "delay": 1},
        {"name": "save", "ansible.builtin.copy": {"content": "{{ r | to_json }}", "dest": str(out)}}]}]
    book = tmp_path / (out.stem + ".json")
    book.write_text(json.dumps(play))
    proc = run_playbook(book, inventory="localhost,")
    assert proc.returncode == 0, proc.stdout[-3000:]
    return json.loads(out.read_text())


def snapshot(container):
    """What a read-only task must leave as it was: databases, HADR role/state, the HADR db cfg."""
    text = ok(container, "db2 list db directory | grep -E 'Database (name|alias)'; "
                         "db2 get db cfg for testdb | grep -E 'HADR|Rollforward'; "
                         "db2pd -db testdb -hadr | grep -E ' (HADR_ROLE|HADR_STATE|HADR_CONNECT_STATUS) |not activated'")
    container.reload()
    return text, container.id, container.status


def test_pair_in_peer_seen_from_both_sides(pair, tmp_path):
    primary, standby = pair
    ok(primary, "db2 connect to testdb >/dev/null && db2 \"insert into kept values (2, 'shipped')\" "
                "&& db2 terminate >/dev/null")
    p = info(tmp_path, primary, "testdb")
    s = info(tmp_path, standby, "TESTDB")
    assert not p.get("failed") and not s.get("failed"), (p, s)
    assert p["changed"] is False and s["changed"] is False
    hp, hs = p["hadr"], s["hadr"]
    assert p["databases"] == [hp] and s["databases"] == [hs]
    assert (hp["database"], hp["role"], hp["active"], hp["hadr_running"], hp["state"], hp["connect_status"]) == \
        ("TESTDB", "PRIMARY", True, True, "PEER", "CONNECTED")
    assert (hs["database"], hs["role"], hs["active"], hs["hadr_running"], hs["state"], hs["connect_status"]) == \
        ("TESTDB", "STANDBY", True, True, "PEER", "CONNECTED")
    for h in (hp, hs):
        # NEARSYNC in peer: the standby has every committed record; both sides name the same hosts.
        assert (h["syncmode"], h["log_gap_bytes"], h["timeout_seconds"]) == ("NEARSYNC", 0, TIMEOUT)
        assert (h["primary_host"], h["standby_host"]) == (primary.name, standby.name)
        assert h["peer_window_seconds"] == PEER_WINDOW
        assert re.fullmatch(r"\d\d-\d\d-\d{4} \d\d:\d\d:\d\d\.\d{6} \(\d+\)", h["peer_window_end"]), h
        assert h["last_takeover_time"] is None and h["reads_on_standby"] is False
        assert re.fullmatch(r"S\d{7}\.LOG, \d+, \d+", h["primary_log_position"]), h
    assert hp["primary_log_position"] == hp["standby_log_position"]
    assert int(hp["primary_log_position"].split(", ")[2]) > 0  # the insert moved it
    assert (hp["rollforward_pending"], hs["rollforward_pending"]) == (False, True)
    assert hp["configuration"] == {"local_host": primary.name, "local_svc": "4000", "remote_host": standby.name,
                                   "remote_svc": "4000", "remote_inst": "db2inst1", "syncmode": "NEARSYNC",
                                   "timeout": str(TIMEOUT), "peer_window": str(PEER_WINDOW), "target_list": None}
    assert hs["configuration"]["local_host"] == standby.name and hs["configuration"]["remote_host"] == primary.name

    # Every database when none is named: the standard PLAIN (inactive) next to the pair's TESTDB.
    every = info(tmp_path, primary)
    assert "hadr" not in every
    by_name = {d["database"]: d for d in every["databases"]}
    assert sorted(by_name) == ["PLAIN", "TESTDB"] and by_name["TESTDB"]["state"] == "PEER"
    plain = by_name["PLAIN"]
    assert (plain["role"], plain["active"], plain["hadr_running"], plain["state"], plain["log_gap_bytes"]) == \
        ("STANDARD", False, False, None, None)

    # Check mode reads the same; nothing is changed.
    before = snapshot(primary)
    checked = info(tmp_path, primary, "TESTDB", check=True)
    assert checked["changed"] is False and checked["hadr"]["state"] == "PEER"
    assert snapshot(primary) == before


def test_container_info_shows_the_roles(pair, tmp_path):
    primary, standby = pair
    ok(primary, "db2 activate db plain")  # a standard database, active: not listed
    result = run_module(tmp_path, "db2_container_info", {"name": [primary.name, standby.name]})[1]
    assert not result.get("failed"), result
    found = {c["name"]: c for c in result["containers"]}
    assert found[primary.name]["hadr"] == {"TESTDB": {"role": "PRIMARY", "state": "PEER",
                                                      "connect_status": "CONNECTED"}}
    assert found[standby.name]["hadr"] == {"TESTDB": {"role": "STANDBY", "state": "PEER",
                                                      "connect_status": "CONNECTED"}}
    assert found[primary.name]["databases"] == ["PLAIN", "TESTDB"]
    ok(primary, "db2 deactivate db plain")


def test_fleet_report_shows_roles_and_skips_what_a_standby_cannot_do(pair, tmp_path):
    primary, standby = pair
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"db2_containers": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "hosts": {c.name: {"db2_container": c.name} for c in (primary, standby)}}}))
    out = tmp_path / "out"
    out.mkdir()
    proc = run_playbook(REPO / "playbooks" / "report.yml", str(inventory),
                        extra_vars={"db2_report_target_level": "11.5.8.0", "db2_report_dir": str(out),
                                    "db2_report_name": "pair",
                                    # no images there: each database's backup is missing, unless a standby's
                                    "db2_report_backup_path": "/database/no-backups"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    rows = {r["container"]: r for r in json.loads((out / "pair.json").read_text())["rows"]}
    p, s = rows[primary.name], rows[standby.name]
    assert p["hadr"] == {"TESTDB": {"role": "PRIMARY", "state": "PEER", "connect_status": "CONNECTED",
                                    "text": "PRIMARY, PEER"}}
    assert s["hadr"]["TESTDB"]["text"] == "STANDBY, PEER"
    assert "PLAIN" not in p["hadr"]  # a standard database shows no HADR
    # The standby's TESTDB: no backup of its own (SQL1117N) is expected, and its ATS tasks are not read
    # (a connection to a standby is refused, SQL1776N), so neither is reported as a fault.
    assert s["backups_missing"] == [] and s["ats"]["state"] == "none", s
    assert p["backups_missing"] == ["PLAIN", "TESTDB"]
    assert (p["ats"]["state"], p["error"], s["error"]) == ("none", None, None)
    page = (out / "pair.html").read_text()
    assert 'data-database="TESTDB" title="HADR role, state">HADR PRIMARY, PEER</span>' in page
    assert 'data-database="TESTDB" title="HADR role, state">HADR STANDBY, PEER</span>' in page
    assert "TESTDB: <span class=\"small\">standby, backed up on its primary</span>" in page


def test_standby_waits_for_a_deactivated_primary(pair, tmp_path):
    primary, standby = pair
    ok(primary, "db2 deactivate db testdb")
    waited = wait_for_state(tmp_path, standby, "REMOTE_CATCHUP_PENDING")
    hs = waited["hadr"]
    assert (hs["role"], hs["active"], hs["hadr_running"], hs["connect_status"]) == \
        ("STANDBY", True, True, "DISCONNECTED")
    # The primary is inactive: its role from the db cfg, no state (db2pd shows inactive databases no HADR).
    hp = info(tmp_path, primary, "TESTDB")["hadr"]
    assert (hp["role"], hp["active"], hp["hadr_running"], hp["state"], hp["connect_status"]) == \
        ("PRIMARY", False, False, None, None)
    assert (hp["log_gap_bytes"], hp["peer_window_end"], hp["timeout_seconds"]) == (None, None, TIMEOUT)
    roles = run_module(tmp_path, "db2_container_info", {"name": [primary.name, standby.name]})[1]
    assert {c["name"]: c["hadr"] for c in roles["containers"]} == {
        primary.name: {"TESTDB": {"role": "PRIMARY", "state": None, "connect_status": None}},
        standby.name: {"TESTDB": {"role": "STANDBY", "state": "REMOTE_CATCHUP_PENDING",
                                  "connect_status": "DISCONNECTED"}}}


def test_missing_database_and_container(pair, tmp_path):
    primary, _standby = pair
    before = snapshot(primary)
    missing = info(tmp_path, primary, "NOSUCHDB")
    assert missing["failed"] and missing["changed"] is False
    assert missing["msg"] == (
        'database NOSUCHDB is not cataloged in container %s: SQL1013N The database alias name or database name '
        '"NOSUCHDB" could not be found. SQLSTATE=42705. Nothing was changed.' % primary.name)
    name = "db2ops-t-gone-" + uuid.uuid4().hex[:8]
    gone = run_module(tmp_path, "db2_hadr_info", {"container": name, "database": "TESTDB"})[1]
    assert gone["failed"] and gone["msg"] == "container %s does not exist. Nothing was changed." % name
    assert snapshot(primary) == before


@pytest.mark.parametrize("option", ["database", "container"])
def test_hostile_values_are_refused_and_change_nothing(pair, option):
    primary, _standby = pair
    before = snapshot(primary)
    for case, value in HOSTILE.items():
        if option == "container" and case in CONTAINER_NAMES:
            continue
        args = {"container": primary.name, "database": "TESTDB", option: value}
        result = run_in_process("db2_hadr_info", args)
        msg = result.get("msg", "")
        assert result.get("failed") and result["changed"] is False, (case, result)
        assert "\n" not in msg and re.match(r"^Option %s (is|must|has|contains)" % option, msg), (case, msg)
        assert msg.endswith("nothing was changed."), (case, msg)
        if value:
            assert value not in msg, (case, msg)
        assert BASE_DB2_ENV["DB2INST1_PASSWORD"] not in msg and "databases" not in result, case
    assert snapshot(primary) == before
    code, _out = owner(primary, "ls %s-* 2>/dev/null" % TOKEN)
    assert code != 0, "a hostile value reached a shell in the container"
    assert glob.glob(TOKEN + "*") == [], "a hostile value reached a shell on the controller"
