"""Shared fixtures for the integration tests: a real Docker daemon, the stand-in images, and
containers/storage that are always cleaned up.

Every test that starts something registers it here, so nothing leaks between runs.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import docker
import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "tests" / "images" / "build.sh"
# DB2OPS_STANDIN_REPO: own tags for a worktree that changes the stand-in (build.sh honours it).
STANDIN_REPO = os.environ.get("DB2OPS_STANDIN_REPO", "db2ops/db2-standin")
STANDIN_LEVELS = ("11.1.3.3a", "11.1.4.4", "11.5.8.0", "11.5.9.0", "12.1.0.0")
OPENLDAP_IMAGE = "db2ops/openldap:test"

# Simulated Db2 setup time inside the stand-in (real images take ~90 s).
FAST_SETUP_ENV = {"STANDIN_SETUP_SECONDS": "1"}
BASE_DB2_ENV = {"LICENSE": "accept", "DB2INSTANCE": "db2inst1", "DB2INST1_PASSWORD": "Passw0rd-1"}
# DB2OPS_STANDIN_UPGRADE=kind|strict: run a test file against one reading of version upgrades
# (the stand-in's DB2_STANDIN_UPGRADE; unset: the stand-in's default, strict).
if os.environ.get("DB2OPS_STANDIN_UPGRADE"):
    BASE_DB2_ENV["DB2_STANDIN_UPGRADE"] = os.environ["DB2OPS_STANDIN_UPGRADE"]


# The files that hold a worker longest, handed out first: `--dist loadfile` deals files out in
# collection order, and a long file dealt out last leaves the other worker idle at the end (make
# integration prints the slowest tests; keep this list in step with it). Order inside a file is kept.
LONGEST_FIRST = (
    "test_fleet_upgrade.py", "test_upgrade_faults.py", "test_hadr_playbooks.py", "test_standin_hadr_hosts.py",
    "test_standin_hadr.py", "test_hadr_faults.py", "test_db2_hadr_module.py", "test_upgrade_hadr.py",
    "test_container_upgrade.py", "test_version_upgrade.py", "test_ldap_phpldapadmin.py",
    "test_bad_input_docker.py", "test_bad_input_ats.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


def _build_images(target: str) -> None:
    """Run the image build once per machine at a time (pytest-xdist workers share a lock)."""
    with images_locked(target):
        pass


@contextlib.contextmanager
def images_locked(target: str):
    """Build `target` from this checkout and hold the build lock meanwhile.

    Other checkouts build the same tags from their own contexts; a container created inside
    this block uses this checkout's image (a container keeps its image once created).
    """
    lock_path = Path(tempfile.gettempdir()) / "db2ops-build-images.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run([str(BUILD_SCRIPT), target], check=True)
        yield


@pytest.fixture(scope="session")
def docker_client():
    client = docker.from_env(timeout=120)
    try:
        client.ping()
    except Exception as exc:  # pragma: no cover - environment problem, not a test failure
        pytest.fail(f"no Docker daemon answers ({exc}); run `make dockerd` first")
    yield client
    client.close()


@pytest.fixture(scope="session")
def standin_images(docker_client):
    _build_images("standin")
    return {level: f"{STANDIN_REPO}:{level}" for level in STANDIN_LEVELS} | {
        "failsetup": f"{STANDIN_REPO}:11.1.4.4-failsetup",
        "neverready": f"{STANDIN_REPO}:11.1.4.4-neverready",
    }


@pytest.fixture(scope="session")
def openldap_image(docker_client):
    _build_images("openldap")
    return OPENLDAP_IMAGE


@pytest.fixture
def unique_name():
    """A short unique prefix for containers, networks and files of one test."""
    return "db2ops-t-" + uuid.uuid4().hex[:8]


@pytest.fixture
def storage(tmp_path_factory):
    """A fresh host directory to bind-mount as /database; removed afterwards."""
    path = tmp_path_factory.mktemp("db2fs")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def containers(docker_client):
    """Track containers by id and remove them (forcefully) at teardown."""
    created: list[str] = []

    class Tracker:
        def run(self, image, name, **kwargs):
            """Create, track, then start: a container whose start fails is still removed."""
            kwargs.pop("detach", None)
            container = docker_client.containers.create(image, name=name, **kwargs)
            created.append(container.id)
            container.start()
            container.reload()
            return container

        def track(self, container_id):
            created.append(container_id)

    yield Tracker()
    for cid in reversed(created):
        try:
            docker_client.containers.get(cid).remove(force=True, v=True)
        except docker.errors.NotFound:
            pass


@contextlib.contextmanager
def shared_standin(docker_client, image: str, prefix: str, ports=None, **env):
    """A ready stand-in container (DBNAME=TESTDB) for a whole test module; removed afterwards."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    with images_locked("standin"):
        container = docker_client.containers.create(
            image, name=name, ports=ports or {},
            environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB"} | env)
    try:
        container.start()
        wait_for_log(container, "(*) Setup has completed.")
        yield container
    finally:
        container.remove(force=True, v=True)


def wait_for_log(container, needle: str, timeout: float = 60.0) -> str:
    """Poll the container log until `needle` appears; return the log. Fails on exit or timeout."""
    deadline = time.monotonic() + timeout
    while True:
        logs = container.logs().decode("utf-8", "replace")
        if needle in logs:
            return logs
        container.reload()
        if container.status in ("exited", "dead"):
            raise AssertionError(f"container exited before {needle!r}:\n{logs}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {needle!r}:\n{logs}")
        time.sleep(0.2)


def run_db2(container, command: str, user: str = "db2inst1"):
    """Run a shell command as the instance owner with db2profile sourced; return (rc, output)."""
    script = f'. "$HOME/sqllib/db2profile" && {command}'
    result = container.exec_run(["su", "-", user, "-c", script], demux=False)
    return result.exit_code, result.output.decode("utf-8", "replace")


@pytest.fixture(scope="session")
def tls_daemon(tmp_path_factory):
    """A second dockerd on 127.0.0.1 with --tlsverify and certificates made for this run."""
    from daemons import DockerDaemon, free_port, make_tls_material

    root = tmp_path_factory.mktemp("tlsd")
    tls = make_tls_material(root / "certs")
    daemon = DockerDaemon(root, tcp=f"127.0.0.1:{free_port()}", tls=tls).start()
    yield daemon
    daemon.stop()
