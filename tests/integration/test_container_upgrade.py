"""db2ops.docker.db2_container_upgrade against real stand-in containers through ansible-playbook."""
from __future__ import annotations

import hashlib
import os

import docker
import pytest
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import wait_until_ready
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, run_db2, wait_for_log
from playbook import run_module

SETUP_DONE = "(*) Setup has completed."


def tree_digest(path) -> str:
    """A hash of every file (path, mode, content) under path: proves storage is byte-identical."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            if os.path.islink(full):
                continue
            digest.update(os.path.relpath(full, path).encode())
            digest.update(str(os.stat(full).st_mode).encode())
            with open(full, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()


@pytest.fixture
def network(docker_client, unique_name):
    """A user-defined network; at teardown also every container named after the test (the module
    creates and renames containers the `containers` tracker does not know)."""
    net = docker_client.networks.create(unique_name + "-net")
    yield net
    for container in docker_client.containers.list(all=True, filters={"name": unique_name}):
        container.remove(force=True)
    net.remove()


@pytest.fixture
def db2(network, standin_images, containers, storage, unique_name):
    """A 11.1.3.3a container as a DBA would run it: env, port, label, hostname, network, caps, restart."""
    container = containers.run(
        standin_images["11.1.3.3a"], unique_name, hostname="db2server",
        environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB", "MY_SETTING": "kept"},
        volumes={str(storage): {"bind": "/database", "mode": "rw"}},
        ports={"50000/tcp": None}, labels={"app": "billing"}, network=network.name,
        cap_add=["IPC_LOCK", "IPC_OWNER"], restart_policy={"Name": "unless-stopped"}, mem_limit="512m")
    wait_for_log(container, SETUP_DONE)
    rc, out = run_db2(container, 'db2 connect to TESTDB >/dev/null && db2 "create table t (id int, v varchar(20))" '
                                 '&& db2 "insert into t values (1, \'before upgrade\')"')
    assert rc == 0, out
    return container


def upgrade(tmp_path, container, image, check=False, diff=False, **extra):
    args = {"container": container, "image": image, "ready_timeout": 90, "stop_timeout": 20,
            "backup": {"mode": "none"}, "post_upgrade": False}
    args.update(extra)
    return run_module(tmp_path, "db2_container_upgrade", args, check=check, diff=diff)[1]


def read_rows(container):
    rc, out = run_db2(container, 'db2 connect to TESTDB >/dev/null && db2 -x "select id, v from t order by id"')
    return rc, " ".join(out.split())


def test_fixpack_upgrade_carries_everything_and_keeps_data(tmp_path, docker_client, db2, standin_images, network):
    before = docker_client.api.inspect_container(db2.id)
    result = upgrade(tmp_path, db2.name, standin_images["11.1.4.4"], diff=True, backup={"mode": "offline"},
                     post_upgrade=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert (result["from"]["level"], result["to"]["level"], result["to"]["level_verified"]) == (
        "11.1.3.3a", "11.1.4.4", "11.1.4.4")
    assert result["diff"]["before"]["level"] == "11.1.3.3a" and result["diff"]["after"]["level"] == "11.1.4.4"
    steps = [s["name"] for s in result["steps"]]
    assert steps == ["backup", "rename", "stop", "create", "wait_ready", "verify_level", "post_upgrade",
                     "old_container"]
    (backup,) = result["backups"]
    assert backup["database"] == "TESTDB" and backup["mode"] == "offline"
    assert backup["files"] == [f"/database/backup/TESTDB.0.db2inst1.DBPART000.{backup['timestamp']}.001"]
    assert result["post_upgrade"] == ["db2updv111 -d TESTDB", "binds on TESTDB", "activated TESTDB"]
    # Downtime is old stopped -> new verified; the post-upgrade tasks run with Db2 answering.
    seconds = {s["name"]: s["seconds"] for s in result["steps"]}
    down = sum(seconds[name] for name in steps[steps.index("stop"):steps.index("verify_level") + 1])
    assert down - 0.01 <= result["downtime_seconds"] < down + seconds["post_upgrade"], (result["downtime_seconds"], seconds)
    assert result["old_container"] == f"{db2.name}_11.1.3.3a"

    new = docker_client.containers.get(db2.name)
    assert new.id != db2.id and new.image.id == docker_client.images.get(standin_images["11.1.4.4"]).id
    after = docker_client.api.inspect_container(new.id)
    env = dict(e.split("=", 1) for e in after["Config"]["Env"])
    assert env["MY_SETTING"] == "kept" and env["DBNAME"] == "TESTDB" and env["LICENSE"] == "accept"
    assert after["Config"]["Hostname"] == "db2server"
    assert after["Config"]["Labels"]["app"] == "billing"
    assert after["HostConfig"]["Binds"] == before["HostConfig"]["Binds"]
    assert after["HostConfig"]["PortBindings"] == before["HostConfig"]["PortBindings"]
    assert sorted(after["HostConfig"]["CapAdd"]) == ["IPC_LOCK", "IPC_OWNER"]
    assert after["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert after["HostConfig"]["Memory"] == 512 * 1024 * 1024
    assert list(after["NetworkSettings"]["Networks"]) == [network.name]
    assert read_rows(new) == (0, "1 before upgrade")
    rc, out = run_db2(new, 'db2 connect to TESTDB >/dev/null && db2 -x "select versionnumber from sysibm.sysversions '
                           'order by version_timestamp desc fetch first 1 rows only" && '
                           'db2 -x "select count(*) from syscat.packages"')
    catalog, packages = out.split()
    assert catalog == "11010404", "db2updv111 brought the catalog to the code level"
    assert int(packages) > 0, "the utilities were bound"
    rc, out = run_db2(new, "db2 list active databases")
    assert "TESTDB" in out, "a database active before the upgrade is active after it"

    old = docker_client.containers.get(f"{db2.name}_11.1.3.3a")
    assert old.id == db2.id and old.status == "exited"

    again = upgrade(tmp_path, db2.name, standin_images["11.1.4.4"])
    assert again["changed"] is False and not again.get("failed"), again
    assert docker_client.containers.get(db2.name).id == new.id, "an up-to-date container is not touched"


def test_check_mode_plans_and_changes_nothing(tmp_path, docker_client, db2, standin_images, storage, unique_name):
    image_before = db2.image.id
    names_before = sorted(c.name for c in docker_client.containers.list(all=True, filters={"name": unique_name}))
    data_before = database_digest(storage)
    backups_before = sorted(os.listdir(storage / "backup"))  # the image's setup took one (ARCHIVE_LOGS)
    result = upgrade(tmp_path, db2.name, standin_images["11.1.4.4"], check=True, diff=True,
                     backup={"mode": "offline"}, post_upgrade=True, old_container="remove")
    assert result["changed"] is True and not result.get("failed"), result
    assert {s["status"] for s in result["steps"]} == {"planned"}
    assert result["carried_over"]["hostname"] == "db2server"
    assert "MY_SETTING" in result["carried_over"]["env"]
    marker, image, bnd = f"{db2.name}_11.1.3.3a_upgrading", standin_images["11.1.4.4"], "/database/config/db2inst1/sqllib/bnd"
    assert result["commands"] == [
        "install -d -o db2inst1 /database/backup",
        "FORCE APPLICATION ALL", "DEACTIVATE DATABASE TESTDB",
        "BACKUP DATABASE TESTDB TO /database/backup WITHOUT PROMPTING",
        f"docker rename {db2.name} {marker}",
        f"docker stop --time 20 {marker}",
        f"docker create --name {db2.name} (configuration of {marker}) {image}",
        f"docker start {db2.name}",
        "db2updv111 -d TESTDB (if needed)",
        "CONNECT TO TESTDB",
        f"BIND {bnd}/db2schema.bnd BLOCKING ALL GRANT PUBLIC SQLERROR CONTINUE",
        f"BIND {bnd}/@db2ubind.lst BLOCKING ALL GRANT PUBLIC ACTION ADD",
        f"BIND {bnd}/@db2cli.lst BLOCKING ALL GRANT PUBLIC ACTION ADD",
        "CONNECT RESET",
        "ACTIVATE DATABASE TESTDB",
        f"docker rm {marker}",
    ], result["commands"]
    # Nothing changed: the same container under its own name, running its image, no other container,
    # no backup taken, the databases untouched and TESTDB still active.
    current = docker_client.containers.get(unique_name)
    assert current.id == db2.id and current.status == "running" and current.image.id == image_before
    assert sorted(c.name for c in docker_client.containers.list(all=True, filters={"name": unique_name})) == names_before
    assert database_digest(storage) == data_before
    assert sorted(os.listdir(storage / "backup")) == backups_before
    assert "TESTDB" in run_db2(current, "db2 list active databases")[1]


def database_digest(storage):
    """The databases and the instance level on storage (logs and markers change on every start)."""
    instuse = (storage / "config" / "db2inst1" / "sqllib" / ".instuse").read_bytes()
    return tree_digest(storage / "data"), instuse


def test_failing_setup_rolls_back_with_storage_untouched(tmp_path, docker_client, db2, standin_images, storage):
    rc, before_rows = read_rows(db2)
    db2.stop(timeout=20)  # a consistent picture of the storage to compare with
    digest = database_digest(storage)
    db2.start()
    wait_until_ready(docker_client.api, db2.id, timeout=120)
    assert run_db2(db2, "db2 activate database TESTDB")[0] == 0  # a restart does not activate it
    result = upgrade(tmp_path, db2.name, standin_images["failsetup"], target_level="11.1.4.4")
    assert result["failed"] and result["rolled_back"] is True
    assert "failed at step wait_ready" in result["msg"] and "rolled back" in result["msg"]
    # Seen at the first exit, though the carried-over restart policy starts the container again.
    assert "restarted by its restart policy" in result["msg"] and "did not log" not in result["msg"], result["msg"]
    assert result["rollback"]["status"] == "done"
    current = docker_client.containers.get(db2.name)
    assert current.id == db2.id and current.status == "running"
    assert read_rows(current) == (0, before_rows)
    assert "activated TESTDB" in result["rollback"]["detail"]
    assert "TESTDB" in run_db2(current, "db2 list active databases")[1], "active again, as before the upgrade"
    names = [c.name for c in docker_client.containers.list(all=True) if c.name.startswith(db2.name)]
    assert names == [db2.name], "the failed new container is removed"
    current.stop(timeout=20)
    assert database_digest(storage) == digest


def test_never_ready_times_out_and_rolls_back(tmp_path, docker_client, db2, standin_images):
    result = upgrade(tmp_path, db2.name, standin_images["neverready"], target_level="11.1.4.4", ready_timeout=5)
    assert result["failed"] and result["rolled_back"] is True
    assert "failed at step wait_ready" in result["msg"] and "within 5s" in result["msg"]
    current = docker_client.containers.get(db2.name)
    assert current.id == db2.id and current.status == "running"
    assert read_rows(current) == (0, "1 before upgrade")


def test_older_target_is_refused(tmp_path, docker_client, standin_images, containers, storage, unique_name):
    container = containers.run(standin_images["11.1.4.4"], unique_name, environment=BASE_DB2_ENV | FAST_SETUP_ENV,
                               volumes={str(storage): {"bind": "/database", "mode": "rw"}})
    wait_for_log(container, SETUP_DONE)
    result = upgrade(tmp_path, container.name, standin_images["11.1.3.3a"])
    assert result["failed"] and result["changed"] is False
    assert "is Db2 11.1.3.3a, older than the 11.1.4.4" in result["msg"] and "nothing was changed" in result["msg"]
    container.reload()
    assert container.status == "running"


def test_missing_image_is_refused_before_anything(tmp_path, db2):
    result = upgrade(tmp_path, db2.name, "db2ops/db2-standin:11.1.4.4-typo", pull="never")
    assert result["failed"] and result["changed"] is False
    assert "image db2ops/db2-standin:11.1.4.4-typo is not on this Docker host" in result["msg"]
    db2.reload()
    assert db2.status == "running"


def test_no_room_for_the_backup_is_refused_before_anything(tmp_path, docker_client, db2, standin_images, storage):
    backups_before = sorted(os.listdir(storage / "backup")) if (storage / "backup").is_dir() else []
    plan = upgrade(tmp_path, db2.name, standin_images["11.1.4.4"], check=True, backup={"mode": "offline"})
    usage = plan["storage_usage"]
    assert usage["free_kb"] > 0 and usage["data_kb"] > 0, usage
    factor = 2.0 * usage["free_kb"] / usage["data_kb"]  # the storage as if twice as full as it can take
    result = upgrade(tmp_path, db2.name, standin_images["11.1.4.4"], backup={"mode": "offline", "space_factor": factor})
    assert result["failed"] and result["changed"] is False and result["backups"] == []
    assert "failed at step check_storage" in result["msg"] and "not enough for the backup" in result["msg"], result["msg"]
    assert (sorted(os.listdir(storage / "backup")) if (storage / "backup").is_dir() else []) == backups_before
    current = docker_client.containers.get(db2.name)
    assert current.id == db2.id and current.status == "running"


def test_unknown_and_not_running_containers(tmp_path, db2, unique_name, standin_images):
    missing = upgrade(tmp_path, unique_name + "-nope", standin_images["11.1.4.4"])
    assert missing["failed"] and f"container {unique_name}-nope does not exist; did you mean {unique_name}?" in missing["msg"]
    db2.stop(timeout=20)
    stopped = upgrade(tmp_path, db2.name, standin_images["11.1.4.4"])
    assert stopped["failed"] and "is not running (state: exited)" in stopped["msg"]


def test_second_container_on_the_storage_is_refused(tmp_path, docker_client, db2, standin_images, storage,
                                                    containers, unique_name):
    # A container that mounts the same storage without Db2's lock (a shell) is still a second user.
    containers.run("db2ops/base:bookworm", unique_name + "-intruder", command=["sleep", "300"],
                   volumes={str(storage): {"bind": "/mnt", "mode": "rw"}})
    result = upgrade(tmp_path, db2.name, standin_images["11.1.4.4"])
    assert result["failed"] and result["changed"] is False
    assert "another running container uses the storage" in result["msg"] and unique_name + "-intruder" in result["msg"]
    db2.reload()
    assert db2.status == "running" and db2.image.id == docker_client.images.get(standin_images["11.1.3.3a"]).id


def test_killed_run_converges_on_rerun(tmp_path, docker_client, db2, standin_images):
    """The state a run killed right after stop + rename leaves behind; the rerun finishes the upgrade."""
    db2.stop(timeout=20)
    db2.rename(f"{db2.name}_11.1.3.3a_upgrading")
    name = db2.name.rsplit("_11.1.3.3a_upgrading", 1)[0]
    result = upgrade(tmp_path, name, standin_images["11.1.4.4"])
    assert not result.get("failed"), result
    assert result["resumed"] is True and result["changed"] is True
    new = docker_client.containers.get(name)
    assert new.id != db2.id and read_rows(new) == (0, "1 before upgrade")
    assert docker_client.containers.get(f"{name}_11.1.3.3a").id == db2.id
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(f"{name}_11.1.3.3a_upgrading")
    assert upgrade(tmp_path, name, standin_images["11.1.4.4"])["changed"] is False


def test_version_upgrade_and_remove_old(tmp_path, docker_client, db2, standin_images):
    # A version upgrade needs a backup (see test_version_upgrade.py for the rest of its path).
    result = upgrade(tmp_path, db2.name, standin_images["11.5.8.0"], old_container="remove",
                     backup={"mode": "offline"})
    assert not result.get("failed"), result
    assert result["to"]["level_verified"] == "11.5.8.0" and result["old_container"] is None
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(db2.id)
    new = docker_client.containers.get(db2.name)
    env = dict(e.split("=", 1) for e in docker_client.api.inspect_container(new.id)["Config"]["Env"])
    assert read_rows(new) == (0, "1 before upgrade")
    assert env.get("DB2DIR", "/opt/ibm/db2/V11.5") != "/opt/ibm/db2/V11.1", "image defaults come from the new image"


def test_every_database_gets_the_post_upgrade_tasks_and_is_active_again(tmp_path, docker_client, db2, standin_images):
    """Two databases, one active and one not: each gets db2updv and the binds (in one CLP session for
    all), only the active one is activated again, and both keep their data."""
    rc, out = run_db2(db2, 'db2 create database SALES >/dev/null && db2 connect to SALES >/dev/null && '
                           'db2 "create table s (id int)" >/dev/null && db2 "insert into s values (7)" >/dev/null && '
                           'db2 connect reset >/dev/null && db2 deactivate database SALES >/dev/null; '
                           'db2 activate database TESTDB >/dev/null; db2 list active databases')
    assert rc == 0 and "TESTDB" in out and "SALES" not in out, out
    result = upgrade(tmp_path, db2.name, standin_images["11.1.4.4"], post_upgrade=True)
    assert not result.get("failed"), result
    assert result["post_upgrade"] == ["db2updv111 -d SALES", "db2updv111 -d TESTDB", "binds on SALES",
                                      "binds on TESTDB", "activated TESTDB"]
    new = docker_client.containers.get(db2.name)
    rc, out = run_db2(new, "db2 list active databases")
    assert "TESTDB" in out and "SALES" not in out, out
    for database in ("SALES", "TESTDB"):
        rc, out = run_db2(new, f'db2 connect to {database} >/dev/null && db2 -x "select versionnumber from '
                               'sysibm.sysversions order by version_timestamp desc fetch first 1 rows only"')
        assert out.split() == ["11010404"], (database, out)
    assert run_db2(new, 'db2 connect to SALES >/dev/null && db2 -x "select id from s"')[1].split() == ["7"]


def test_container_without_v_keeps_its_anonymous_volume(tmp_path, docker_client, standin_images, network, unique_name):
    """`docker run` without -v: /database is the anonymous volume of the image's VOLUME; the new
    container must mount that very volume (a new empty one would strand the data)."""
    container = docker_client.containers.run(
        standin_images["11.1.3.3a"], name=unique_name, detach=True, stop_signal=None,
        environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB"}, network=network.name)
    (volume,) = [m["Name"] for m in container.attrs["Mounts"] if m["Destination"] == "/database"]
    try:
        wait_for_log(container, SETUP_DONE)
        rc, out = run_db2(container, 'db2 connect to TESTDB >/dev/null && db2 "create table t (id int, v varchar(20))" '
                                     '&& db2 "insert into t values (1, \'on anon volume\')"')
        assert rc == 0, out
        result = upgrade(tmp_path, unique_name, standin_images["11.1.4.4"])
        assert not result.get("failed") and result["changed"] is True, result
        new = docker_client.containers.get(unique_name)
        assert [m["Name"] for m in new.attrs["Mounts"] if m["Destination"] == "/database"] == [volume]
        assert read_rows(new) == (0, "1 on anon volume")
    finally:
        for leftover in docker_client.containers.list(all=True, filters={"name": unique_name}):
            leftover.remove(force=True)
        docker_client.volumes.get(volume).remove(force=True)


def test_stop_timeout_is_carried_and_honoured(tmp_path, docker_client, standin_images, containers, unique_name):
    # `docker run --stop-timeout 333`: the SDK's high-level run() has no such argument.
    api = docker_client.api
    created = api.create_container(
        standin_images["11.1.3.3a"], name=unique_name + "-st", stop_timeout=333,
        environment=BASE_DB2_ENV | FAST_SETUP_ENV,
        host_config=api.create_host_config(binds=[str(tmp_path / "st") + ":/database"]))
    containers.track(created["Id"])
    api.start(created["Id"])
    container = docker_client.containers.get(created["Id"])
    wait_for_log(container, SETUP_DONE)
    plan = upgrade(tmp_path, container.name, standin_images["11.1.4.4"], check=True)
    assert plan["carried_over"]["stop_timeout"] == 333
    result = upgrade(tmp_path, container.name, standin_images["11.1.4.4"])
    assert not result.get("failed"), result
    assert any(c.startswith("docker stop --time 333 %s_" % container.name) for c in result["commands"]), result["commands"]
    new = docker_client.api.inspect_container(container.name)
    containers.track(new["Id"])
    assert new["Config"]["StopTimeout"] == 333


def test_container_run_with_rm_is_refused(tmp_path, docker_client, standin_images, containers, storage, unique_name):
    container = containers.run(standin_images["11.1.3.3a"], unique_name, auto_remove=True,
                               environment=BASE_DB2_ENV | FAST_SETUP_ENV,
                               volumes={str(storage): {"bind": "/database", "mode": "rw"}})
    wait_for_log(container, SETUP_DONE)
    result = upgrade(tmp_path, container.name, standin_images["11.1.4.4"])
    assert result["failed"] and result["changed"] is False
    assert "runs with --rm" in result["msg"] and "nothing was changed" in result["msg"], result["msg"]
    container.reload()
    assert container.status == "running" and container.name == unique_name
