"""db2ops.docker.db2_hadr against two stand-in containers on one user-defined Docker network: the
standby initialised from the primary by the module, the primary started, PEER, a committed row on
the standby, reruns unchanged, check mode, takeovers, state absent; and bad input that changes nothing.

The pair is built once for the file (each container start costs a minute on a loaded machine); the
tests run in file order and each leaves the pair as the next expects it.
"""
from __future__ import annotations

import uuid

import pytest
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log
from in_process import run_module
from playbook import run_module as run_playbook_module
from test_standin_hadr import SQL, batch, ok, wait_state
from test_standin_image import SETUP_DONE

PORT = "4000"
TIMEOUT = 5  # HADR_TIMEOUT: a primary started first gives up within seconds
SETUP_WAIT = 240


@pytest.fixture(scope="module")
def pair(docker_client, standin_images):
    tag = uuid.uuid4().hex[:6]
    net = docker_client.networks.create("db2ops-t-hmod-" + tag)
    made = []
    try:
        for side in ("hmp", "hms"):
            made.append(docker_client.containers.run(
                standin_images["11.5.8.0"], name="%s-%s" % (side, tag), hostname="%s-%s" % (side, tag),
                network=net.name, detach=True, environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB"}))
        for container in made:
            wait_for_log(container, SETUP_DONE, SETUP_WAIT)
        primary, standby = made
        ok(primary, "db2 connect to testdb >/dev/null && db2 'create table kept (id int)' "
                    "&& db2 'insert into kept values (1)' && db2 terminate")
        yield primary, standby
    finally:
        for container in made:
            container.remove(force=True, v=True)
        net.remove()


def args(me, other, role, **extra):
    return dict(container=me.name, database="TESTDB", role=role, local_host=me.name, local_svc=PORT,
                remote_host=other.name, remote_svc=PORT, hadr_timeout=TIMEOUT, **extra)


def role_of(container):
    return ok(container, "db2 get db cfg for testdb | grep 'HADR database role'").split("=")[1].strip()


def cfg_of(container):
    return ok(container, "db2 get db cfg for testdb")


HOSTILE = ["a\nb", "a;b", "$(id)", "a'b", 'a"b', "{{ lookup('env','HOME') }}", "x" * 10240]


def test_bad_input_fails_in_one_line_and_changes_nothing(pair):
    primary, standby = pair
    before = cfg_of(standby)
    socket = dict(container=primary.name, docker_host="unix:///var/run/docker.sock")
    base = args(standby, primary, "standby", primary=socket)
    for option in ("local_host", "remote_host", "local_svc", "remote_svc", "remote_inst", "database",
                   "backup_path", "target_list"):
        for value in HOSTILE + (["80", "65536", "-x"] if option.endswith("svc") else []):
            result = run_module("db2_hadr", dict(base, **{option: [value] if option == "target_list" else value}))
            assert result.get("failed") and result["changed"] is False, (option, value, result)
            assert "\n" not in result["msg"] and option in result["msg"], (option, result["msg"])
            assert "nothing was changed" in result["msg"].lower()
            if len(value) > 3:
                assert value not in result["msg"], option
    for value in HOSTILE:  # the primary's container name, inside the nested option
        result = run_module("db2_hadr", dict(base, primary=dict(socket, container=value)))
        assert result.get("failed") and result["changed"] is False and "primary.container" in result["msg"], result
        assert "\n" not in result["msg"] and "nothing was changed" in result["msg"].lower()
    for option, value in (("hadr_timeout", 0), ("peer_window", -1)):
        result = run_module("db2_hadr", dict(base, **{option: value}))
        assert result.get("failed") and result["changed"] is False and option in result["msg"], result
    wrong = run_module("db2_hadr", dict(base, role="primary"))
    assert wrong["failed"] and "applies to role=standby only" in wrong["msg"], wrong
    missing = run_module("db2_hadr", dict(base, container="db2ops-t-no-such-" + uuid.uuid4().hex[:6]))
    assert missing["failed"] and missing["changed"] is False and "does not exist" in missing["msg"]
    down = run_module("db2_hadr", dict(base, docker_host="unix:///tmp/db2ops-no-daemon.sock"))
    assert down["failed"] and down["changed"] is False and "Cannot reach the Docker daemon" in down["msg"]
    down = run_module("db2_hadr", dict(base, primary=dict(container=primary.name,
                                                          docker_host="unix:///tmp/db2ops-no-daemon.sock")))
    assert down["failed"] and down["changed"] is False and "Nothing was changed" in down["msg"], down
    no_primary = run_module("db2_hadr", args(standby, primary, "standby"))
    assert no_primary["failed"] and "option primary" in no_primary["msg"] and no_primary["changed"] is False
    assert cfg_of(standby) == before
    assert ok(standby, "ls /database/hadr_init 2>/dev/null; true").strip() == ""


def test_pair_set_up_by_the_module_ships_rows_reruns_unchanged(pair, tmp_path):
    primary, standby = pair
    socket = dict(container=primary.name, docker_host="unix:///var/run/docker.sock")
    planned = run_module("db2_hadr", args(standby, primary, "standby", primary=socket), check=True)
    assert planned["changed"] is True and not planned.get("failed"), planned
    assert "START HADR ON DATABASE TESTDB AS STANDBY" in planned["commands"]
    assert role_of(standby) == "STANDARD" and "hadr_init" not in ok(primary, "ls /database")

    _proc, made = run_playbook_module(tmp_path, "db2_hadr", args(standby, primary, "standby", primary=socket),
                                      diff=True)
    assert not made.get("failed") and made["changed"] is True, made
    assert made["role"] == "STANDBY" and made["backup"] and len(made["backup"]) == 14
    assert made["diff"]["before"]["role"] == "STANDARD" and made["diff"]["after"]["role"] == "STANDBY"
    assert made["diff"]["after"]["configuration"]["remote_host"] == primary.name
    assert made["commands"][-1].startswith("rm -f -- /database/hadr_init/TESTDB.0.db2inst1.DBPART000.")
    # The primary keeps its backup (a real one); the standby's copy is gone.
    assert made["backup"] in ok(primary, "ls /database/hadr_init")
    assert ok(standby, "ls /database/hadr_init").strip() == ""
    assert role_of(standby) == "STANDBY"

    before = cfg_of(primary)
    plan = run_module("db2_hadr", args(primary, standby, "primary"), check=True)
    assert plan["changed"] is True and plan["commands"][-1] == "START HADR ON DATABASE TESTDB AS PRIMARY"
    assert cfg_of(primary) == before
    started = run_module("db2_hadr", args(primary, standby, "primary"))
    assert not started.get("failed") and started["changed"] is True and started["role"] == "PRIMARY", started
    wait_state(primary, "PEER", timeout=40)
    wait_state(standby, "PEER", timeout=40)

    for me, other, role in ((standby, primary, "standby"), (primary, standby, "primary")):
        again = run_module("db2_hadr", args(me, other, role, primary=socket if role == "standby" else None))
        assert not again.get("failed") and again["changed"] is False and again["commands"] == [], again
        assert again["status"]["state"] == "PEER"

    ok(primary, "db2 connect to testdb >/dev/null && db2 'insert into kept values (2)'")
    _set, read, _unset = batch(standby, "db2set DB2_HADR_ROS=ON", SQL % ("select id from kept order by id", " with ur"),
                               "db2set DB2_HADR_ROS=")
    assert read[0] == 0 and read[1].split() == ["1", "2"], read


def test_takeover_never_refused_peer_swaps_roles(pair):
    primary, standby = pair
    refused = run_module("db2_hadr", args(standby, primary, "primary"))
    assert refused["failed"] and refused["changed"] is False and "takeover=peer" in refused["msg"], refused
    assert role_of(standby) == "STANDBY" and role_of(primary) == "PRIMARY"
    wrong = run_module("db2_hadr", args(primary, standby, "standby"))
    assert wrong["failed"] and wrong["changed"] is False and "is the primary" in wrong["msg"], wrong

    swapped = run_module("db2_hadr", args(standby, primary, "primary", takeover="peer"))
    assert not swapped.get("failed") and swapped["changed"] is True, swapped
    assert swapped["commands"] == ["TAKEOVER HADR ON DATABASE TESTDB"] and swapped["role"] == "PRIMARY"
    assert wait_state(primary, "PEER", timeout=40)["HADR_ROLE"] == "STANDBY"
    assert run_module("db2_hadr", args(standby, primary, "primary", takeover="peer"))["changed"] is False


def test_state_absent_stops_hadr_on_both_sides(pair):
    old_primary, new_primary = pair
    planned = run_module("db2_hadr", dict(container=old_primary.name, database="TESTDB", state="absent"), check=True)
    assert planned["commands"] == ["DEACTIVATE DATABASE TESTDB", "STOP HADR ON DATABASE TESTDB"]
    assert role_of(old_primary) == "STANDBY"
    messages = []
    for container in (old_primary, new_primary):
        gone = run_module("db2_hadr", dict(container=container.name, database="TESTDB", state="absent"))
        assert not gone.get("failed") and gone["changed"] is True and gone["role"] == "STANDARD", gone
        assert role_of(container) == "STANDARD"
        messages.append(gone["msg"])
    assert "rollforward pending" in messages[0]  # the former standby says what it is left as
    code, out = batch(new_primary, SQL % ("select count(*) from kept", ""))[0]
    assert code == 0 and out.split() == ["2"], out  # the former primary serves its data as a STANDARD database
    again = run_module("db2_hadr", dict(container=old_primary.name, database="TESTDB", state="absent"))
    assert again["changed"] is False and again["commands"] == []


def test_primary_without_a_standby_fails_with_advice_and_says_where_it_stands(pair):
    _old_primary, new_primary = pair
    result = run_module("db2_hadr", args(new_primary, _old_primary, "primary", peer_window=7))
    assert result["failed"] and result["changed"] is True, result  # the db cfg was updated first
    assert 'SQL1768N' in result["msg"] and "start the standby first" in result["msg"], result["msg"]
    assert "\n" not in result["msg"]
    assert result["commands"][-1] == "START HADR ON DATABASE TESTDB AS PRIMARY"
    assert result["status"]["role"] == "STANDARD" and result["status"]["configuration"]["peer_window"] == "7"
