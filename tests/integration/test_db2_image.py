"""db2ops.docker.db2_image through real ansible-playbook and a real daemon, from stand-in base images."""
from __future__ import annotations

import json
import uuid

import docker
import pytest
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, run_db2, wait_for_log
from playbook import run_module

from ansible_collections.db2ops.docker.plugins.module_utils._image.build import user_password_hash

SETUP_DONE = "(*) Setup has completed."
APP_PASSWORD = "App-S3cret-pw"
PREFIX = "db2ops-t/img-%s" % uuid.uuid4().hex[:8]
# A tag of our own on the stand-in: other worktrees may rebuild the shared stand-in tag meanwhile.
BASE = PREFIX + "-base:11.1.4.4"


def image_args(name, script="echo '(*) hello from custom'", **extra):
    args = dict(
        name=name, base_image=BASE,
        files=[dict(content="#!/bin/bash\n%s\n" % script, dest="/var/custom/10-hello.sh")],
        users=[dict(name="appuser1", uid=2001, groups=["db2iadm1"], password=APP_PASSWORD)],
        labels={"org.example.team": "dba"},
    )
    args.update(extra)
    return args


@pytest.fixture(scope="module")
def built(standin_images, docker_client, tmp_path_factory):
    """One image for the whole module; removed at the end."""
    name = PREFIX + ":11.1.4.4"
    docker_client.images.get(standin_images["11.1.4.4"]).tag(BASE)
    tmp = tmp_path_factory.mktemp("db2img")
    proc, result = run_module(tmp, "db2_image", image_args(name))
    assert not result.get("failed"), (result, proc.stdout[-2000:])
    yield name, result
    for tag in (name, BASE):
        docker_client.images.remove(tag, force=True)


def start(containers, image, name, storage, **env):
    environment = BASE_DB2_ENV | FAST_SETUP_ENV | env
    return containers.run(image, name, environment=environment,
                          volumes={str(storage): {"bind": "/database", "mode": "rw"}})


def text_search_running(container):
    code, out = container.exec_run(["cat", "/run/db2standin/db2inst1/state.json"])
    return json.loads(out).get("text_search", False)


def test_build_reports_and_rerun_is_a_noop(tmp_path, built, docker_client):
    name, first = built
    assert first["changed"] is True and first["image_id"]
    image = docker_client.images.get(name)
    assert image.labels["db2ops.image.hash"] == first["hash"]
    assert image.labels["org.example.team"] == "dba"
    assert image.attrs["Config"]["Entrypoint"] == ["/var/db2ops/entrypoint.sh"]
    _proc, again = run_module(tmp_path, "db2_image", image_args(name))
    assert again["changed"] is False and again["image_id"] == first["image_id"], again["actions"]
    assert "build_log" not in again


def test_databases_active_at_ready_and_text_search_toggle(built, standin_images, containers, storage, unique_name):
    name = built[0]
    # First container creates TESTDB; TEXT_SEARCH defaults to true in the image (the cookbook's default).
    first = start(containers, name, unique_name + "-a", storage, DBNAME="TESTDB")
    log = wait_for_log(first, SETUP_DONE)
    assert "(*) Starting TEXT SEARCH service ..." in log and text_search_running(first)
    assert "(*) hello from custom" in wait_for_log(first, "(*) hello from custom")
    first.remove(force=True)

    # The base image re-created on that storage: no database is active until someone activates it.
    plain = start(containers, standin_images["11.1.4.4"], unique_name + "-b", storage)
    wait_for_log(plain, SETUP_DONE)
    code, out = run_db2(plain, "db2 list active databases")
    assert "SQL1611W" in out, out
    plain.remove(force=True)

    # The built image re-created with TEXT_SEARCH=false: TESTDB is active the moment it reports ready.
    second = start(containers, name, unique_name + "-c", storage, TEXT_SEARCH="false")
    log = wait_for_log(second, SETUP_DONE)
    code, out = run_db2(second, "db2 list active databases")
    assert code == 0 and "Database name                              = TESTDB" in out, out
    assert log.index("(*) Activating database TESTDB...") < log.index(SETUP_DONE)
    assert "TEXT SEARCH" not in log and not text_search_running(second)

    # Users of the image log in with their password, and only with it.
    code, out = run_db2(second, "db2 connect to TESTDB user appuser1 using %s" % APP_PASSWORD)
    assert code == 0 and "SQL authorization ID   = APPUSER1" in out, out
    code, out = run_db2(second, "db2 connect to TESTDB user appuser1 using wrong-pw")
    assert code != 0 and "SQL30082N" in out, out
    code, out = second.exec_run(["id", "appuser1"])
    assert b"uid=2001(appuser1)" in out and b"(db2iadm1)" in out

    # docker stop reaches the base entrypoint through the wrapper: Db2 stops, exit 0, no 10 s kill.
    second.stop(timeout=20)
    second.reload()
    assert second.attrs["State"]["ExitCode"] == 0
    assert "SQL1064N  DB2STOP processing was successful." in second.logs().decode()


def test_history_and_config_hold_no_secret(built, docker_client):
    name = built[0]
    api = docker_client.api
    secret_hash = user_password_hash(dict(name="appuser1", password=APP_PASSWORD), name)
    salt = secret_hash.split("$")[2]
    blob = json.dumps(api.history(name)) + json.dumps(api.inspect_image(name))
    for needle in (APP_PASSWORD, secret_hash, secret_hash.split("$")[3], salt):
        assert needle not in blob
    # The users stage's cache images (they held the hash file) are gone.
    for image_id in built[1].get("removed_stage_images", []):
        with pytest.raises(Exception):
            api.inspect_image(image_id)
    assert built[1]["removed_stage_images"]


def test_check_mode_diff_then_a_changed_file_rebuilds(tmp_path, built, docker_client):
    name, first = built
    before_id = docker_client.images.get(name).id
    args = image_args(name, script="echo '(*) hello again'")
    _proc, planned = run_module(tmp_path, "db2_image", args, check=True, diff=True)
    assert planned["changed"] is True and planned["image_id"] is None
    # check mode names the Docker commands a real run would send
    assert [c.split()[:2] for c in planned["commands"]] == [["docker", "build"], ["docker", "tag"]]
    assert planned["commands"][1].endswith(" " + name)
    assert docker_client.images.get(name).id == before_id, "check mode must build nothing"
    before, after = planned["diff"]["before"], planned["diff"]["after"]
    assert before == first["dockerfile"] and before != after
    changed_line = [line for line in after.splitlines() if line.startswith("# /var/custom/10-hello.sh")]
    assert changed_line and changed_line[0] not in before
    _proc, rebuilt = run_module(tmp_path, "db2_image", args)
    assert rebuilt["changed"] is True and rebuilt["image_id"] != before_id
    assert any("build context changed" in a for a in rebuilt["actions"])
    assert rebuilt["commands"][1] == "docker tag %s %s" % (rebuilt["image_id"][:19], name)
    _proc, again = run_module(tmp_path, "db2_image", args)
    assert again["changed"] is False
    # back to the module fixture's content for the other tests
    _proc, restored = run_module(tmp_path, "db2_image", image_args(name))
    assert restored["changed"] is True


@pytest.mark.parametrize("change,message", [
    (dict(base_image="db2ops/no-such-base:1"), "base image db2ops/no-such-base:1 is not on this Docker host"),
    (dict(files=[dict(src="/nonexistent/x.sh", dest="/var/custom/x.sh")], users=[]), "does not exist"),
    (dict(files=[dict(content="x", dest="/etc/profile.d/x.sh")], users=[]), "outside the allowed directories"),
    (dict(users=[dict(name="App User", uid=2001)]), "Option users[0].name must be a user or group name"),
    (dict(users=[dict(name="a1", uid=2001), dict(name="a2", uid=2001)]), "uid 2001 is given to both a1 and a2"),
    (dict(users=[dict(name="a1", uid=100)]), "uid 100 of user a1 is already used by openldap"),
    (dict(files=[dict(content="x", dest="/var/custom/x.sh", owner="root:nosuchgroup")], users=[]),
     "the image build failed"),
])
def test_bad_input_fails_clearly_and_keeps_the_tag(tmp_path, built, docker_client, change, message):
    name = built[0]
    before_id = docker_client.images.get(name).id
    _proc, result = run_module(tmp_path, "db2_image", dict(image_args(name), **change))
    assert result.get("failed") is True
    assert message in result["msg"], result["msg"]
    assert "nothing was changed" in result["msg"].lower()
    assert "\n" not in result["msg"]
    assert docker_client.images.get(name).id == before_id
    if "Nothing was changed:" in result["msg"]:  # the build path (not the input gate) says what is left
        assert "keeps its previous image" in result["msg"]


def test_a_failure_claims_no_previous_image_that_never_was(tmp_path, built):
    name = built[0].rsplit(":", 1)[0] + "-never:1"
    _proc, result = run_module(tmp_path, "db2_image", dict(image_args(name), files=[
        dict(src="/nonexistent/x.sh", dest="/var/custom/x.sh")], users=[]))
    assert result.get("failed") is True and "no image %s was built" % name in result["msg"], result["msg"]
    assert "keeps its previous image" not in result["msg"]


def descendants(docker_client, image_id):
    """Ids of every image (tagged or not, as `docker images -a`) built on top of image_id."""
    parents = {i["Id"]: i.get("ParentId") for i in docker_client.api.images(all=True)}
    found = []
    for start in parents:
        current = parents.get(start)
        while current:
            if current == image_id:
                found.append(start)
                break
            current = parents.get(current)
    return found


def test_failed_build_leaves_no_step_image_with_the_hash(tmp_path, standin_images, docker_client):
    """A build failing after the users stage must not leave its step images (they hold the hash)."""
    # A base of our own, so that every image on top of it comes from this build.
    holder = docker_client.containers.create(standin_images["11.1.4.4"], name=PREFIX.replace("/", "-") + "-holder")
    try:
        base = holder.commit(repository=PREFIX + "-failbase", tag="1")
    finally:
        holder.remove(force=True)
    name = PREFIX + "-failed:1"
    password = "Fail-S3cret-" + uuid.uuid4().hex[:8]
    try:
        _proc, result = run_module(tmp_path, "db2_image", image_args(
            name, base_image=PREFIX + "-failbase:1", users=[dict(name="appuser1", uid=2001, password=password)],
            files=[dict(content="x", dest="/var/custom/x.sh", owner="root:nosuchgroup")]))
        assert result.get("failed") is True, result
        msg = result["msg"]
        assert "the image build failed" in msg and "Nothing was changed" in msg and "\n" not in msg
        assert password not in json.dumps(result)
        assert descendants(docker_client, base.id) == [], "step images of the failed build are left"
        assert not docker_client.api.images(name=name)
    finally:
        for _round in range(10):  # children before parents
            left = descendants(docker_client, base.id)
            for image_id in left:
                try:
                    docker_client.api.remove_image(image_id, force=True, noprune=True)
                except docker.errors.APIError:
                    pass
            if not left:
                break
        docker_client.images.remove(base.id, force=True)
