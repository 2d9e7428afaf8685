"""Fault campaign for db2ops.docker.db2_container_upgrade (issue 11, part D).

Each fault hits a real upgrade run at a real step, then a RERUN of the same task must converge with
nothing lost: the container runs under its name at the target level, the rows written before are
all there, no `_upgrading` leftover, the old container kept (stopped) as `<name>_<old level>`.

The steps are found in the Docker daemon's own event stream (exec_start, rename, stop, create of the
container), never through hooks in the product code. See docs/reliability.md for the campaign.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import uuid

import docker
import pytest
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import wait_until_ready
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, images_locked, run_db2, wait_for_log
from daemons import DockerDaemon
from playbook import BIN, REPO, ansible_env, run_module

OLD, NEW = "11.1.3.3a", "11.1.4.4"
SETUP_DONE = "(*) Setup has completed."
ROWS = "1 written 2 before 3 fault"
BACKUP_PATH = "/database/backup"


def start_db2(client, image, name, storage):
    """An 11.1.3.3a container with three rows, run as a DBA runs it (restart policy, bind mount)."""
    container = client.containers.run(
        image, name=name, detach=True, environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB"},
        volumes={str(storage): {"bind": "/database", "mode": "rw"}}, restart_policy={"Name": "unless-stopped"})
    wait_for_log(container, SETUP_DONE)
    rc, out = run_db2(container, 'db2 connect to TESTDB >/dev/null && db2 "create table t (id int, v varchar(20))" '
                                 "&& db2 \"insert into t values (1, 'written')\" "
                                 "&& db2 \"insert into t values (2, 'before')\" "
                                 "&& db2 \"insert into t values (3, 'fault')\"")
    assert rc == 0, out
    return container


def read_rows(container):
    rc, out = run_db2(container, 'db2 connect to TESTDB >/dev/null && db2 -x "select id, v from t order by id"')
    return rc, " ".join(out.split())


def upgrade_args(name, image, **extra):
    args = {"container": name, "image": image, "ready_timeout": 90, "stop_timeout": 20,
            "backup": {"mode": "offline"}, "post_upgrade": True}
    return args | extra


def upgrade(tmp_path, args):
    return run_module(tmp_path, "db2_container_upgrade", args)[1]


def run_with_fault(client, tmp_path, args, match, fault=None):
    """Run the upgrade task in ansible-playbook (its own session) while following the daemon's events;
    on the first event `match` accepts, call `fault(event)`, by default a SIGKILL of every process of
    the run (ansible-playbook, its worker and the module). Returns (returncode, the event, log)."""
    play = [{"hosts": "localhost", "gather_facts": False, "connection": "local",
             "tasks": [{"name": "upgrade", "db2ops.docker.db2_container_upgrade": args}]}]
    book = tmp_path / f"fault-{uuid.uuid4().hex[:8]}.json"
    book.write_text(json.dumps(play))
    log = book.with_suffix(".log")
    events = client.events(decode=True, filters={"type": "container"})  # subscribed before the run starts
    hit, errors = [], []
    with open(log, "w") as out:
        proc = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", "localhost,", str(book)], stdout=out,
                                stderr=subprocess.STDOUT, env=ansible_env(), cwd=REPO, start_new_session=True)

    def kill(_event):
        kill_run(proc.pid)

    def watch():
        try:
            for event in events:
                if match(event):
                    hit.append(event)
                    break
        except Exception:  # the stream closed: the run ended without the event
            return
        try:
            (fault or kill)(hit[0])
        except BaseException as exc:  # seen by the test, not lost in the thread
            errors.append(exc)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            kill_run(proc.pid)
            proc.wait()
        watcher.join(timeout=120)
        events.close()
    assert hit, f"the run never reached the event of its fault:\n{log.read_text()}"
    if errors:
        raise errors[0]
    return proc.returncode, hit[0], log.read_text()


def process_groups(pid):
    """The process groups of pid and of all its descendants."""
    children = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    groups, todo = set(), [pid]
    while todo:
        current = todo.pop()
        try:
            groups.add(os.getpgid(current))
        except ProcessLookupError:
            continue
        todo += children.get(current, [])
    return groups


def kill_run(pid):
    """SIGKILL a whole ansible-playbook run. Its process group is not enough: Ansible's workers call
    setsid(), so the module runs in a group of its own. Freeze every group first, then look again
    (nothing forks while stopped) and kill them all: the module gets no chance to clean up."""
    groups = process_groups(pid)
    for group in groups:
        os.killpg(group, signal.SIGSTOP)
    for group in groups | process_groups(pid):
        os.killpg(group, signal.SIGKILL)


def on_container(container_id, action):
    return lambda e: e.get("id") == container_id and e.get("Action") == action


def created(name):
    return lambda e: e.get("Action") == "create" and e["Actor"]["Attributes"].get("name") == name


def exec_on(name, old_id, needle=""):
    """An exec started in the new container (named `name`, not the old one) whose command has `needle`."""
    return lambda e: (e.get("Action", "").startswith("exec_start:") and e.get("id") != old_id
                      and e["Actor"]["Attributes"].get("name") == name and needle in e["Action"])


def exec_in_old(old_id, e):
    return e.get("id") == old_id and e.get("Action", "").startswith("exec_start:")


def backup_directory(old_id):
    """The backup's first exec (it makes the backup directory), after the module's free-space check."""
    return lambda e: exec_in_old(old_id, e) and e["Action"].strip().endswith(f" {BACKUP_PATH} db2inst1")


def backup_session(old_id):
    """The CLP session of the backup: the next exec in the old container after the backup directory's."""
    armed, directory = [], backup_directory(old_id)

    def match(e):
        if armed and exec_in_old(old_id, e):
            return True
        armed.extend([True] if directory(e) else [])
        return False
    return match


def family(client, name):
    return {c.name: c for c in client.containers.list(all=True, filters={"name": f"^{name}(_.*)?$"})}


def assert_converged(client, name, old_id, image):
    """Whole again: `name` runs the target image at the target level with every row; the old container
    is kept stopped as `<name>_<old level>`; nothing named `_upgrading` is left."""
    found = family(client, name)
    assert not [n for n in found if n.endswith("_upgrading")], sorted(found)
    current = found.pop(name)
    assert current.status == "running" and current.image.id == client.images.get(image).id
    rc, out = run_db2(current, "db2level")
    assert rc == 0 and '"DB2 v11.1.4.4"' in out, out
    assert read_rows(current) == (0, ROWS)
    assert sorted(found) == [f"{name}_{OLD}"], sorted(found)
    assert found[f"{name}_{OLD}"].id == old_id and found[f"{name}_{OLD}"].status == "exited"
    return current


@pytest.fixture
def db2(docker_client, standin_images, storage, unique_name):
    """One 11.1.3.3a container with data; at teardown every container named after the test goes
    (the module creates and renames containers)."""
    with images_locked("standin"):
        container = start_db2(docker_client, standin_images[OLD], unique_name, storage)
    yield container
    for leftover in docker_client.containers.list(all=True, filters={"name": unique_name}):
        leftover.remove(force=True, v=True)


# Each step of an upgrade, told by the daemon's event that the step has begun or is done.
KILL_AT = {
    "backup": lambda name, old_id: backup_session(old_id),
    "rename": lambda name, old_id: on_container(old_id, "rename"),
    "stop": lambda name, old_id: on_container(old_id, "stop"),
    "create": lambda name, old_id: created(name),
    "wait_ready": exec_on,  # the readiness probe
    "post_upgrade": lambda name, old_id: exec_on(name, old_id, "db2updv111"),
}


@pytest.mark.parametrize("step", list(KILL_AT))
def test_controller_killed_at_each_step_then_rerun_converges(tmp_path, docker_client, db2, standin_images, step):
    name, target = db2.name, standin_images[NEW]
    args = upgrade_args(name, target)
    rc, _event, log = run_with_fault(docker_client, tmp_path, args, KILL_AT[step](name, db2.id))
    assert rc == -signal.SIGKILL, log
    if step != "backup":
        assert f"{name}_{OLD}_upgrading" in family(docker_client, name), "the in-flight state is visible"

    again = upgrade(tmp_path, args)
    assert not again.get("failed") and again["changed"] is True, again
    # From the rename on, the rerun continues forward; killed in the backup, it starts afresh.
    assert again.get("resumed", False) is (step != "backup"), again
    assert again["to"]["level_verified"] == NEW
    current = assert_converged(docker_client, name, db2.id, target)
    if step in ("create", "wait_ready", "post_upgrade"):  # the new container's label tells the rerun
        assert "TESTDB" in run_db2(current, "db2 list active databases")[1], "active again, as before"
    assert upgrade(tmp_path, args)["changed"] is False


@pytest.fixture
def small_storage(tmp_path_factory):
    """A 32 MiB tmpfs of the test's own for /database, so the test can fill it."""
    path = tmp_path_factory.mktemp("db2small")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0755", "db2ops-faults", str(path)], check=True)
    yield path
    subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path, leave=8192):
    """Fill the file system of `path` in one call, leaving `leave` bytes: room for Db2's small writes
    (db2diag.log, the configuration), not for a backup image (about 20 KiB here)."""
    stat = os.statvfs(path)
    filler = path / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.posix_fallocate(fd, 0, stat.f_bavail * stat.f_frsize - leave)
    finally:
        os.close(fd)
    return filler


def test_storage_full_during_the_backup_keeps_the_old_container_then_rerun_converges(
        tmp_path, docker_client, standin_images, small_storage, unique_name):
    with images_locked("standin"):
        db2 = start_db2(docker_client, standin_images[OLD], unique_name, small_storage)
    try:
        assert "TESTDB" in run_db2(db2, "db2 list active databases")[1], "active, as after its setup"
        backups_before = sorted(os.listdir(small_storage / "backup"))
        args = upgrade_args(db2.name, standin_images[NEW])

        def fill_now(_event):
            # After the module's free-space check, as the backup starts; one fallocate takes well under
            # a millisecond, the backup's CLP session (next exec: FORCE, DEACTIVATE, BACKUP) far longer.
            fill(small_storage)

        rc, _event, log = run_with_fault(docker_client, tmp_path, args, backup_directory(db2.id), fault=fill_now)
        assert rc == 2, log
        error = next(line for line in log.splitlines() if line.startswith("[ERROR]: Task failed"))
        assert "failed at step backup: BACKUP DATABASE TESTDB" in error, error
        assert 'SQL2419N The target disk "/database/backup" has become full.' in error, error
        assert error.endswith("; nothing was changed") and "rolled back" not in error, error

        # The old container was never stopped: it runs under its name, its databases active as before.
        assert list(family(docker_client, db2.name)) == [db2.name]
        started = db2.attrs["State"]["StartedAt"]
        db2.reload()
        assert db2.status == "running" and db2.attrs["State"]["StartedAt"] == started
        assert "TESTDB" in run_db2(db2, "db2 list active databases")[1], "active again after the failed backup"
        assert sorted(os.listdir(small_storage / "backup")) == backups_before, "no partial backup image is left"

        (small_storage / "filler").unlink()
        assert read_rows(db2) == (0, ROWS)
        again = upgrade(tmp_path, args)
        assert not again.get("failed") and again["changed"] is True and not again.get("resumed"), again
        assert [b["database"] for b in again["backups"]] == ["TESTDB"]
        assert_converged(docker_client, db2.name, db2.id, standin_images[NEW])
        assert upgrade(tmp_path, args)["changed"] is False
    finally:
        for leftover in docker_client.containers.list(all=True, filters={"name": unique_name}):
            leftover.remove(force=True, v=True)


@pytest.fixture(scope="module")
def own_daemon(tmp_path_factory, standin_images):
    """A dockerd of this module's own with the two stand-in levels loaded: restarting it leaves the
    daemon the other tests share alone."""
    root = tmp_path_factory.mktemp("ownd")
    daemon = DockerDaemon(root).start()
    client = None
    try:
        archive = root / "images.tar"
        with images_locked("standin"):
            subprocess.run(["docker", "save", "-o", str(archive), standin_images[OLD], standin_images[NEW]], check=True)
        subprocess.run(["docker", "-H", daemon.unix_url, "load", "-i", str(archive)], check=True, capture_output=True)
        archive.unlink()
        client = docker.DockerClient(base_url=daemon.unix_url, timeout=120)
        yield daemon, client
    finally:
        if client is not None:
            for container in client.containers.list(all=True):
                container.remove(force=True, v=True)
            client.close()
        daemon.stop()


RESTART_AT = {
    "backup": lambda name, old_id: backup_session(old_id),
    "wait_ready": exec_on,  # the readiness probe
}


@pytest.mark.parametrize("step", list(RESTART_AT))
def test_dockerd_restarted_mid_upgrade_fails_clearly_then_rerun_converges(tmp_path, own_daemon, standin_images,
                                                                          storage, unique_name, step):
    daemon, client = own_daemon
    db2 = start_db2(client, standin_images[OLD], unique_name, storage)
    try:
        args = upgrade_args(db2.name, standin_images[NEW], docker_host=daemon.unix_url)
        rc, _event, log = run_with_fault(client, tmp_path, args, RESTART_AT[step](db2.name, db2.id),
                                         fault=lambda _event: daemon.restart())
        assert rc == 2, log
        error = next(line for line in log.splitlines() if line.startswith("[ERROR]: Task failed"))
        assert f"failed at step {step}: lost the connection to the Docker daemon {daemon.unix_url}" in error, log
        assert "MODULE FAILURE" not in log and "Traceback" not in log, log
        if step == "wait_ready":  # nothing could be undone with the daemon away: the rerun will continue
            assert "rollback failed" in error and f"is left as {db2.name}_{OLD}_upgrading; run the task again" \
                in error and "rolled back:" not in error, error

        # The daemon is back; containers with a restart policy that were running run again.
        for container in client.containers.list(filters={"name": unique_name}):
            wait_until_ready(client.api, container.id, timeout=120)
        again = upgrade(tmp_path, args)
        assert not again.get("failed") and again["changed"] is True, again
        assert_converged(client, db2.name, db2.id, standin_images[NEW])
        assert upgrade(tmp_path, args)["changed"] is False
    finally:
        for leftover in client.containers.list(all=True, filters={"name": unique_name}):
            leftover.remove(force=True, v=True)
