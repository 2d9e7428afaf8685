"""db2_container_upgrade and db2_post_upgrade on a real HADR pair of stand-in containers on one
network (built by hand as test_standin_hadr.py does): the refusals change nothing, and the rolling
fix pack 11.5.8.0 -> 11.5.9.0: the standby first (back in PEER under its 11.5.8.0 primary, with
the rows committed while it was down), takeover, the old primary waiting in REMOTE_CATCHUP_PENDING
until it runs the new level too, then the post-upgrade tasks once, on the primary."""
import threading
import time

import pytest
from playbook import run_module
from test_standin_hadr import network, ok, pd, prepare_pair, share, sql, start_pair, wait_state  # noqa: F401 pylint: disable=unused-import

READY = 240  # ready_timeout: a container start takes a minute or more on the loaded test machine
PAIR_WAIT = 60  # seconds for a pair to reach a state after a container start


def upgrade(tmp_path, container, image, check=False, **extra):
    args = dict({"container": container.name, "image": image, "ready_timeout": READY, "stop_timeout": 20,
                 "old_container": "remove"}, **extra)
    return run_module(tmp_path, "db2_container_upgrade", args, check=check)[1]


def post_upgrade(tmp_path, container, check=False, **extra):
    return run_module(tmp_path, "db2_post_upgrade", dict({"container": container.name}, **extra), check=check)[1]


def current(docker_client, container):
    """The container now under that name (an upgrade replaces it)."""
    return docker_client.containers.get(container.name)


def catalog(container):
    code, out = sql(container, "select versionnumber from sysibm.sysversions order by version_timestamp desc "
                               "fetch first 1 rows only")
    assert code == 0, out
    return out.split()[0]


@pytest.fixture
def pair(containers, network, share, standin_images, docker_client):  # noqa: F811
    """A 11.5.8.0 pair in PEER; at teardown also the containers the upgrades made under the same names."""
    image = standin_images["11.5.8.0"]
    primary, standby = prepare_pair(containers, network, share, image, image)
    start_pair(primary, standby)
    yield primary, standby
    for name in (primary.name, standby.name):
        for leftover in docker_client.containers.list(all=True, filters={"name": name}):
            leftover.remove(force=True, v=True)


def unchanged(docker_client, container, state="PEER"):
    now = current(docker_client, container)
    assert now.id == container.id and now.status == "running"
    assert pd(now)["HADR_STATE"] == state


def test_one_side_of_a_pair_is_refused_and_nothing_changes(tmp_path, docker_client, pair, standin_images):
    primary, standby = pair
    result = upgrade(tmp_path, standby, standin_images["11.5.9.0"])
    assert result["failed"] and result["changed"] is False
    assert "TESTDB (STANDBY) in an HADR pair" in result["msg"] and "playbooks/hadr_fixpack.yml" in result["msg"]
    assert result["msg"].endswith("nothing was changed") and "\n" not in result["msg"]
    assert result["hadr"] == {"TESTDB": "STANDBY"}

    result = upgrade(tmp_path, standby, standin_images["12.1.0.0"], hadr_rolling_update=True)
    assert result["failed"] and result["changed"] is False
    assert "a version upgrade (Db2 11.5.8.0 -> 12.1.0.0) of a pair is not supported" in result["msg"]

    result = upgrade(tmp_path, primary, standin_images["11.5.9.0"], hadr_rolling_update=True)
    assert result["failed"] and result["changed"] is False
    assert "TESTDB is the HADR primary: take over on the standby first" in result["msg"]
    for container in (primary, standby):
        unchanged(docker_client, container)
    assert sorted(c.name for c in docker_client.containers.list(all=True, filters={"name": primary.name[3:]})) == \
        sorted([primary.name, standby.name]), "no container was renamed, created or left behind"


class Writer(threading.Thread):
    """A client committing a row every 0.3 s on the primary: the ids whose COMMIT returned."""

    def __init__(self, primary, first):
        super().__init__(daemon=True)
        self.primary, self.next_id, self.committed = primary, first, []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            code, _out = sql(self.primary, "insert into kept values (%d, 'during the upgrade')" % self.next_id)
            if code == 0:
                self.committed.append(self.next_id)
            self.next_id += 1
            time.sleep(0.3)


def test_rolling_fixpack_of_a_pair(tmp_path, docker_client, pair, standin_images):
    primary, standby = pair
    target = standin_images["11.5.9.0"]
    plan = upgrade(tmp_path, standby, target, check=True, hadr_rolling_update=True)
    assert [s["name"] for s in plan["steps"]] == ["check_hadr", "rename", "stop", "create", "wait_ready",
                                                  "verify_level", "start_hadr", "post_upgrade", "old_container"]
    assert "START HADR ON DATABASE TESTDB AS STANDBY" in plan["commands"]
    assert not any("BACKUP" in c or "db2updv" in c for c in plan["commands"]), plan["commands"]
    unchanged(docker_client, standby)

    # 1. The standby first, while a client writes on the primary.
    writer = Writer(primary, first=100)
    writer.start()
    try:
        result = upgrade(tmp_path, standby, target, hadr_rolling_update=True)
        assert not result.get("failed"), result
        assert result["hadr"] == {"TESTDB": "STANDBY"} and result["backups"] == [] and result["post_upgrade"] == []
        assert result["to"]["level_verified"] == "11.5.9.0" and result["commands"] == plan["commands"]
        standby = current(docker_client, standby)
        fields = wait_state(standby, "PEER", PAIR_WAIT)  # a later fix pack under an 11.5.8.0 primary
        assert fields["HADR_ROLE"] == "STANDBY" and "11.5.9.0" in ok(standby, "db2level")
        time.sleep(1)
    finally:
        writer.stop.set()
        writer.join()
    assert len(writer.committed) >= 3, "the primary kept committing while its standby was upgraded"
    assert "11.5.8.0" in ok(primary, "db2level") and wait_state(primary, "PEER")["HADR_ROLE"] == "PRIMARY"

    # 2. Takeover on the upgraded standby: every row committed during its upgrade is there; the old
    #    primary, at the older level, may not be its standby yet.
    ok(standby, "db2 takeover hadr on db testdb")
    code, out = sql(standby, "select id from kept where id >= 100 order by id")
    assert code == 0 and [int(i) for i in out.split()] == writer.committed, out
    assert wait_state(primary, "REMOTE_CATCHUP_PENDING", PAIR_WAIT)["HADR_ROLE"] == "STANDBY"
    code, out = sql(standby, "insert into kept values (1000, 'while the old primary waits')")
    assert code == 0, out

    # 3. The old primary, a standby now: upgraded too, it catches up.
    result = upgrade(tmp_path, primary, target, hadr_rolling_update=True)
    assert not result.get("failed"), result
    primary = current(docker_client, primary)
    wait_state(primary, "PEER", PAIR_WAIT)
    assert wait_state(standby, "PEER")["HADR_ROLE"] == "PRIMARY"

    # 4. db2_post_upgrade once, on the primary (the upgraded standby side): first hostile input
    #    and a named standby, refused with nothing changed; then check mode, then the real run.
    before = catalog(standby)
    assert before == "11050800", "no post-upgrade task ran during the rolling update"
    for value in ("TESTDB; db2stop", "TESTDB\n", "$(touch /tmp/x)", "x" * 200):
        bad = post_upgrade(tmp_path, standby, databases=[value])
        assert bad["failed"] and bad["changed"] is False, bad
        assert "databases" in bad["msg"] and "\n" not in bad["msg"] and value.strip() not in bad["msg"], bad["msg"]
        assert "nothing was changed" in bad["msg"].lower(), bad["msg"]
    refused = post_upgrade(tmp_path, primary, databases=["testdb"])
    assert refused["failed"] and "TESTDB is an HADR standby" in refused["msg"], refused
    plan = post_upgrade(tmp_path, standby, check=True)
    assert plan["databases"] == ["TESTDB"] and plan["commands"][0] == "db2updv115 -d TESTDB (if needed)"
    assert catalog(standby) == before and current(docker_client, standby).id == standby.id

    on_standby = post_upgrade(tmp_path, primary)
    assert on_standby["changed"] is False and on_standby["databases"] == [] and on_standby["standby"] == ["TESTDB"]
    done = post_upgrade(tmp_path, standby)
    assert not done.get("failed"), done
    assert done["changed"] and done["level"] == "11.5.9.0"
    assert done["post_upgrade"] == ["db2updv115 -d TESTDB", "binds on TESTDB"]
    assert catalog(standby) == "11050900"
    wait_state(primary, "PEER")
