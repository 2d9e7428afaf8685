"""db2ops.docker.db2_container_user through real ansible-playbook in a running stand-in container."""
from __future__ import annotations

import uuid

import pytest
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, run_db2, wait_for_log
from playbook import run_module

SETUP_DONE = "(*) Setup has completed."
PASSWORD = "Us3r-Passw0rd!"


@pytest.fixture(scope="module")
def db2(standin_images, docker_client, tmp_path_factory):
    """One running container for the module (each test uses its own users)."""
    storage = tmp_path_factory.mktemp("db2fs-user")
    storage.chmod(0o755)
    container = docker_client.containers.create(
        standin_images["11.5.8.0"], name="db2ops-t-user-" + uuid.uuid4().hex[:8],
        environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB"},
        volumes={str(storage): {"bind": "/database", "mode": "rw"}})
    try:
        container.start()
        wait_for_log(container, SETUP_DONE)
        yield container
    finally:
        container.remove(force=True, v=True)


def user(tmp_path, container, check=False, diff=False, **args):
    _proc, result = run_module(tmp_path, "db2_container_user", dict(container=container.name, **args),
                               check=check, diff=diff)
    return result


def shadow_hash(container, name):
    return container.exec_run(["sh", "-c", "getent shadow %s | cut -d: -f2" % name]).output.decode().strip()


def test_create_connect_rerun_check_and_remove(tmp_path, db2):
    planned = user(tmp_path, db2, check=True, diff=True, name="appuser", uid=2001, groups=["db2iadm1"],
                   password=PASSWORD)
    assert planned["changed"] is True and planned["diff"]["before"] == {"exists": False}, planned
    assert db2.exec_run(["id", "appuser"]).exit_code != 0, "check mode must create nothing"

    created = user(tmp_path, db2, name="appuser", uid=2001, groups=["db2iadm1"], password=PASSWORD)
    assert created["changed"] is True, created
    assert created["commands"] == ["useradd -M -N -s /bin/bash -u 2001 -G db2iadm1 appuser", "chpasswd -e"]
    assert created["user"]["uid"] == 2001 and created["user"]["groups"] == ["db2iadm1"]
    assert PASSWORD not in str(created)
    stored = shadow_hash(db2, "appuser")
    assert stored.startswith("$6$") and stored not in str(created)

    code, out = run_db2(db2, "db2 connect to TESTDB user appuser using '%s'" % PASSWORD)
    assert code == 0 and "SQL authorization ID   = APPUSER" in out, out
    code, out = run_db2(db2, "db2 connect to TESTDB user appuser using 'Wrong-pw1'")
    assert code != 0 and "SQL30082N" in out, out

    again = user(tmp_path, db2, name="appuser", uid=2001, groups=["db2iadm1"], password=PASSWORD)
    assert again["changed"] is False and again["commands"] == [], again
    assert shadow_hash(db2, "appuser") == stored, "an unchanged password must not be re-salted"

    # on_create leaves an existing password alone; always replaces it.
    kept = user(tmp_path, db2, name="appuser", password="New-pw-2", update_password="on_create")
    assert kept["changed"] is False and shadow_hash(db2, "appuser") == stored
    changed = user(tmp_path, db2, diff=True, name="appuser", password="New-pw-2")
    assert changed["changed"] is True and changed["commands"] == ["chpasswd -e"]
    assert changed["diff"]["after"]["password"] == "changed"
    code, out = run_db2(db2, "db2 connect to TESTDB user appuser using 'New-pw-2'")
    assert code == 0, out

    groups = user(tmp_path, db2, name="appuser", groups=[], shell="/bin/sh")
    assert groups["changed"] is True and groups["user"]["groups"] == [] and groups["user"]["shell"] == "/bin/sh"

    gone_check = user(tmp_path, db2, check=True, name="appuser", state="absent")
    assert gone_check["changed"] is True and db2.exec_run(["id", "appuser"]).exit_code == 0
    gone = user(tmp_path, db2, name="appuser", state="absent")
    assert gone["changed"] is True and gone["user"] is None
    assert db2.exec_run(["id", "appuser"]).exit_code != 0
    assert user(tmp_path, db2, name="appuser", state="absent")["changed"] is False


@pytest.mark.parametrize("args,message", [
    (dict(name="Bad User"), "Option name must be a user or group name"),
    (dict(name="db2inst1", password="x"), "does not manage it"),
    (dict(name="newuser", uid=1000), "uid 1000 is already used by db2inst1"),
    (dict(name="newuser", groups=["nosuchgroup"]), "nosuchgroup do not exist"),
    (dict(name="newuser", container="db2ops-no-such-container"), "does not exist"),
])
def test_bad_input_fails_clearly_and_changes_nothing(tmp_path, db2, args, message):
    before = db2.exec_run(["cat", "/etc/passwd", "/etc/shadow", "/etc/group"]).output
    args = dict(args)
    container = args.pop("container", db2.name)
    _proc, result = run_module(tmp_path, "db2_container_user", dict(container=container, **args))
    assert result.get("failed") is True and message in result["msg"], result
    assert "nothing was changed" in result["msg"].lower()
    assert db2.exec_run(["cat", "/etc/passwd", "/etc/shadow", "/etc/group"]).output == before


FAKE_CHPASSWD = "/usr/local/sbin/chpasswd"  # before /usr/sbin in the image's PATH


def test_password_failure_after_useradd_says_what_was_done(tmp_path, db2):
    """useradd succeeds, chpasswd fails: the container changed, so changed=true and both are named."""
    db2.exec_run(["sh", "-c", "printf '#!/bin/sh\\necho chpasswd: cannot lock /etc/shadow >&2\\nexit 1\\n' > %s && "
                  "chmod 755 %s" % (FAKE_CHPASSWD, FAKE_CHPASSWD)], user="root")
    try:
        _proc, result = run_module(tmp_path, "db2_container_user",
                                   dict(container=db2.name, name="halfuser", uid=2101, password=PASSWORD))
    finally:
        db2.exec_run(["rm", "-f", FAKE_CHPASSWD], user="root")
    try:
        assert result.get("failed") is True and result["changed"] is True, result
        msg = result["msg"]
        assert "\n" not in msg and "Nothing was changed" not in msg
        assert "chpasswd failed" in msg and "cannot lock /etc/shadow" in msg
        assert "already done in the container: useradd -M -N -s /bin/bash -u 2101 halfuser" in msg
        assert "not done: chpasswd -e" in msg
        assert PASSWORD not in str(result) and "$6$" not in str(result)
        assert db2.exec_run(["id", "halfuser"]).exit_code == 0, "useradd did run"
        assert shadow_hash(db2, "halfuser") in ("!", "*", "!!", ""), "no password was set"
        # The rerun, with chpasswd working again, finishes the job.
        fixed = user(tmp_path, db2, name="halfuser", uid=2101, password=PASSWORD)
        assert fixed["changed"] is True and fixed["commands"] == ["chpasswd -e"], fixed
    finally:
        db2.exec_run(["userdel", "halfuser"], user="root")


@pytest.mark.parametrize("args", [
    dict(name="daemon", state="absent"),
    dict(name="bin", state="absent"),
    dict(name="db2inst1", state="absent"),
    dict(name="db2fenc1", state="absent"),
    dict(name="daemon", shell="/bin/bash"),
    dict(name="newuser", uid=999),
])
def test_system_accounts_are_never_changed_or_removed(tmp_path, db2, args):
    files = ["cat", "/etc/passwd", "/etc/shadow", "/etc/group"]
    before = db2.exec_run(files).output
    _proc, result = run_module(tmp_path, "db2_container_user", dict(container=db2.name, **args))
    assert result.get("failed") is True and result.get("changed") is False, result
    msg = result["msg"]
    assert "\n" not in msg and "Nothing was changed" in msg
    assert ("system account" in msg or "does not manage it" in msg or "outside 1000-60000" in msg), msg
    assert db2.exec_run(files).output == before
