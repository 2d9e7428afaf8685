"""_db2/run.py (db2_container): create, start, stop, remove and drift, against the fake daemon."""
import pytest
from fake_docker import FakeDocker

from ansible_collections.db2ops.docker.plugins.module_utils._db2.run import Db2ContainerRun, parse_port
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import InputError

IMAGE = "db2:11.5.8.0"


@pytest.fixture
def daemon():
    fake = FakeDocker()
    fake.add_image(IMAGE, level="11.5.8.0")
    yield fake
    assert fake.unexpected == []


def params(**extra):
    p = dict(name="db2", state="started", image=IMAGE, storage="/srv/db2", instance="db2inst1", password="S3cret!",
             database="TESTDB", accept_license=True, text_search=None, env={"BLU": "false"}, ports=["50000:50000"],
             hostname="db2server", privileged=False, restart_policy="unless-stopped", network=None, labels={},
             ready_timeout=5, stop_timeout=30)
    p.update(extra)
    return p


def run(daemon, check_mode=False, **extra):
    return Db2ContainerRun(daemon, params(**extra), check_mode=check_mode).run()


def test_create_plans_in_check_mode_then_creates_and_waits(daemon):
    plan = run(daemon, check_mode=True)
    assert daemon.names() == [] and plan["changed"]
    (command,) = plan["commands"]
    assert command.startswith("docker run -d --name db2 -h db2server --restart unless-stopped -p 50000:50000")
    assert "-e DB2INST1_PASSWORD=********" in command and "S3cret!" not in command
    assert command.endswith("-v /srv/db2:/database db2:11.5.8.0")

    result = run(daemon)
    assert result["changed"] and result["commands"] == plan["commands"] and result["drift"] == []
    container = daemon.container("db2")
    assert container["State"]["Running"] and "DB2INST1_PASSWORD=S3cret!" in container["Config"]["Env"]
    assert container["HostConfig"]["PortBindings"] == {"50000/tcp": [{"HostIp": "", "HostPort": "50000"}]}
    assert result["container"]["env"]["DB2INST1_PASSWORD"] == "********"

    again = run(daemon)
    assert again["changed"] is False and again["commands"] == [] and again["drift"] == []


def test_drift_is_reported_and_nothing_is_recreated(daemon):
    run(daemon)
    daemon.add_image("db2:11.5.9.0", level="11.5.9.0")
    result = run(daemon, image="db2:11.5.9.0", storage="/srv/other", env={"BLU": "true"}, password="changed",
                 ports=["50001:50000"], hostname="other", privileged=True, restart_policy="always", network="db2net")
    assert result["changed"] is False and daemon.calls[-1][0] == "start"
    drift = " | ".join(result["drift"])
    for words in ("image is db2:11.5.8.0", "use db2ops.docker.db2_container_upgrade", "storage is /srv/db2",
                  "environment BLU differs (false, the task asks for true)", "environment DB2INST1_PASSWORD differs |",
                  "ports are", "hostname is db2server", "privileged is False", "restart policy is unless-stopped",
                  "not on network db2net"):
        assert words in drift + " |", words
    assert "changed" not in drift, "no secret value in the drift"


def test_start_stop_absent(daemon):
    run(daemon)
    daemon.stop("db2")
    started = run(daemon)
    assert started["changed"] and started["commands"] == ["docker start db2"]
    assert run(daemon, check_mode=True, state="stopped")["commands"] == ["docker stop --time 30 db2"]
    assert daemon.container("db2")["State"]["Running"]
    assert run(daemon, state="stopped")["changed"] and not daemon.container("db2")["State"]["Running"]
    assert run(daemon, state="stopped")["changed"] is False
    assert run(daemon, check_mode=True, state="absent")["commands"] == ["docker rm -f db2"] and daemon.names() == ["db2"]
    assert run(daemon, state="absent")["changed"] and daemon.names() == []
    assert run(daemon, state="absent")["changed"] is False
    with pytest.raises(DockerOperationError, match="does not exist"):
        run(daemon, state="stopped")


def test_volume_storage_and_a_network(daemon):
    result = run(daemon, storage="db2data", network="db2net", ports=["127.0.0.1:50000:50000/tcp"], text_search=True)
    assert "-v db2data:/database" in result["commands"][0] and "-e TEXT_SEARCH=true" in result["commands"][0]
    assert daemon.container("db2")["Mounts"][0]["Name"] == "db2data"


@pytest.mark.parametrize("extra, option", [
    (dict(name="bad name"), "name"),
    (dict(instance="DB2INST1"), "instance"),
    (dict(database="TOOLONGNAME"), "database"),
    (dict(storage="vol:x"), "storage"),
    (dict(storage="/srv/../etc"), "storage"),
    (dict(env={"BAD-NAME": "x"}), "env key"),
    (dict(env={"LICENSE": "accept"}), "env"),
    (dict(env={"DB2INST1_PASSWORD": "x"}), "env"),
    (dict(ports=["99999:50000"]), "ports"),
    (dict(ports=["a:b"]), "ports"),
    (dict(hostname="-bad"), "hostname"),
    (dict(image=None), "image"),
    (dict(accept_license=False), "accept_license"),
    (dict(password=None), "password"),
])
def test_bad_input_is_refused_before_anything(daemon, extra, option):
    with pytest.raises(InputError) as err:
        run(daemon, **extra)
    assert "Option %s " % option in str(err.value) and "nothing was changed" in str(err.value)
    assert daemon.names() == [] and daemon.calls == []


def test_storage_in_use_is_refused(daemon):
    daemon.add_db2("other", IMAGE, storage="/srv/db2")
    with pytest.raises(DockerOperationError, match="already used by container"):
        run(daemon)
    assert daemon.names() == ["other"]


def test_parse_port():
    # `docker run -p 50000:50000` (the cookbook's form): host port 50000, not an IP "50000".
    assert parse_port("50000:50000") == ("50000/tcp", "50000")
    assert parse_port("127.0.0.1::50000") == ("50000/tcp", ("127.0.0.1", ""))
    assert parse_port("[::1]:50000:50000/udp") == ("50000/udp", ("::1", "50000"))
    assert parse_port("50000") == ("50000/tcp", "")
