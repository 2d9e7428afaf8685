"""The bad-input table of the Docker-side modules (issue 11): every string option of db2_command,
db2_container_info, db2_container_user, db2_image, db2_backup, db2_restore, db2_container_upgrade and
db2_post_upgrade gets each hostile value. One stand-in container serves every case; the modules run in this process
(tests/integration/in_process.py: a fresh module run per case, no playbook per case), and ONE real
ansible-playbook run carries the template (`{{ lookup('pipe', ...) }}`) values through Ansible.

Expected per case: a one-line error naming the option, never echoing the value, and nothing changed
(same container id, still running, same OS users, same rows and backups, no new image); or, where the
value is data by nature (SQL text, a password, a label value, file content), the documented safe
outcome: used as data, never run by a shell or templated by Ansible (marker files never appear).
"""
from __future__ import annotations

import glob
import json
import uuid
from types import SimpleNamespace

import pytest
import yaml
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, images_locked, run_db2, wait_for_log
from in_process import run_module
from playbook import run_playbook

TOKEN = "db2ops-badinput-" + uuid.uuid4().hex[:8]
MARK = "/tmp/" + TOKEN  # a shell or a template that ran would create MARK-<case> (controller or container)
VALUES = {
    "empty": "",
    "newline": "x\nRUN id",
    "nul": "x\x00y",
    "semicolon": "x; touch %s-semicolon" % MARK,
    "quotes": "x'\"y",
    "subst": "$(touch %s-subst)" % MARK,
    "jinja": "{{ lookup('pipe', 'touch %s-jinja') }}" % MARK,
    "long": "a" * 10000,
    "nonascii": "dbé€ü",
}
PREFIX = "db2ops-t-badin-" + uuid.uuid4().hex[:6]
IMAGE = "db2ops-t/badin-%s:1" % uuid.uuid4().hex[:6]
IMAGE_BASE = "db2ops-t/badin-base-%s:11.1.4.4" % uuid.uuid4().hex[:6]
PW_USER = "pwtarget"  # an existing user whose password the password cases set (data)

BASE_ARGS = {
    "db2_command": dict(container=PREFIX, database="TESTDB", statements=["SELECT COUNT(*) FROM BADIN"],
                        secrets=["N0t-a-secret"], changed=False),
    "db2_container_info": dict(name=[PREFIX], label=["team"], image=["db2ops/*"], backup_path="/database/backup",
                               gather_db2=False),
    "db2_container_user": dict(container=PREFIX, name="badinuser", groups=["db2iadm1"], shell="/bin/bash",
                               password="Us3r-pw-1"),
    "db2_image": dict(name=IMAGE, base_image=IMAGE_BASE, labels={"team": "dba"}, allowed_dest_dirs=["/opt/site"],
                      files=[dict(content="echo hi\n", dest="/var/custom/x.sh", owner="root", mode="0755")],
                      users=[dict(name="appuser1", uid=2001, groups=["db2iadm1"], password="App-pw-1",
                                  password_salt="abcdefgh", shell="/bin/bash")]),
    "db2_backup": dict(container=PREFIX, databases=["TESTDB"], path="/database/backup"),
    "db2_restore": dict(container=PREFIX, database="TESTDB", timestamp="latest", path="/database/backup",
                        into="TESTDB2"),
    "db2_container_upgrade": dict(container=PREFIX, image="db2ops/db2-standin:11.5.8.0", target_level="11.5.8.0",
                                  backup=dict(mode="offline", path="/database/backup")),
    "db2_post_upgrade": dict(container=PREFIX, databases=["TESTDB"]),
}
# (module, option path as the error names it) -> the values that are data for it, not refused.
DATA = {
    ("db2_command", "statements[0]"): {"newline", "semicolon", "quotes", "subst", "jinja", "long", "nonascii"},
    ("db2_command", "secrets[0]"): {"empty", "semicolon", "quotes", "subst", "jinja", "nonascii"},
    ("db2_container_info", "label[0]"): {"semicolon", "quotes", "subst", "jinja", "nonascii"},
    ("db2_container_user", "password"): {"semicolon", "quotes", "subst", "jinja", "nonascii"},
    ("db2_image", "files[0].content"): {"empty", "newline", "semicolon", "quotes", "subst", "jinja", "long",
                                        "nonascii"},
    ("db2_image", "users[0].password"): {"semicolon", "quotes", "subst", "jinja", "nonascii"},
    ("db2_image", "labels.team"): {"empty", "semicolon", "quotes", "subst", "jinja", "nonascii"},
}
# What the error calls an option when it is not the plain option path.
NAMED = {("db2_image", "files[0].src"): "file src", ("db2_image", "files[0].mode"): "file mode",
         ("db2_image", "labels key"): "labels"}


def _set(args, path, value):
    """A copy of args with the option at `path` (files[0].dest, labels.team, labels key) set to value."""
    args = json.loads(json.dumps(args))
    if path == "labels key":
        args["labels"] = {value: "dba"}
        return args
    target, parts = args, path.replace("]", "").replace("[", ".").split(".")
    for index, part in enumerate(parts[:-1]):
        key = int(part) if part.isdigit() else part
        target = target[key]
    last = parts[-1]
    target[int(last) if last.isdigit() else last] = value
    return args


OPTIONS = {
    "db2_command": ["container", "database", "statements[0]", "secrets[0]"],
    "db2_container_info": ["name[0]", "label[0]", "image[0]", "backup_path", "docker_host"],
    "db2_container_user": ["container", "name", "groups[0]", "shell", "password"],
    "db2_image": ["name", "base_image", "files[0].dest", "files[0].src", "files[0].content", "files[0].owner",
                  "files[0].mode", "users[0].name", "users[0].groups[0]", "users[0].shell", "users[0].password",
                  "users[0].password_salt", "labels.team", "labels key", "allowed_dest_dirs[0]"],
    "db2_backup": ["container", "databases[0]", "path"],
    "db2_restore": ["container", "database", "timestamp", "path", "into"],
    "db2_container_upgrade": ["container", "image", "target_level", "backup.path"],
    "db2_post_upgrade": ["container", "databases[0]"],
}


def _cases():
    cases = []
    for module, options in OPTIONS.items():
        for option in options:
            for value_name, value in VALUES.items():
                data = value_name in DATA.get((module, option), set())
                args = _set(BASE_ARGS[module], option, value)
                if option == "files[0].src":
                    args["files"][0].pop("content")
                if module == "db2_container_user" and option == "password" and data:
                    args = dict(container=PREFIX, name=PW_USER, password=value)  # only the password changes
                cases.append(dict(id="%s:%s:%s" % (module, option, value_name), module=module, option=option,
                                  value=value, data=data, args=args,
                                  check=module == "db2_image" and data))  # data for an image: render only
    # The plain options rendered in check mode: the Dockerfile every data case must keep.
    cases.append(dict(id="db2_image:baseline", module="db2_image", option="baseline", value="", data=True,
                      args=BASE_ARGS["db2_image"], check=True))
    return cases


CASES = _cases()
TEMPLATE_CASES = [c for c in CASES if c["id"].endswith(":jinja")]


def instructions(dockerfile):
    return [line.split()[0] for line in dockerfile.splitlines() if line.strip() and not line.startswith("#")]


def _state(container, docker_client):
    files = container.exec_run(["cat", "/etc/passwd", "/etc/group"]).output
    shadow = container.exec_run(["sh", "-c", "grep -v '^%s:' /etc/shadow" % PW_USER]).output
    _code, rows = run_db2(container, "db2 connect to TESTDB >/dev/null && db2 -x 'SELECT ID, NAME FROM BADIN "
                                     "ORDER BY ID'")
    backups = container.exec_run(["sh", "-c", "ls -ln /database/backup 2>/dev/null"]).output
    container.reload()
    images = sorted(i.id for i in docker_client.images.list(all=True) if any("badin" in t for t in i.tags))
    return dict(id=container.id, running=container.status == "running", files=files, shadow=shadow, rows=rows,
                backups=backups, images=images)


def _markers(container):
    inside = container.exec_run(["sh", "-c", "ls -d %s* 2>/dev/null" % MARK]).output.decode()
    return glob.glob(MARK + "*") + inside.split()


def _playbook(cases, tmp):
    """The cases run by one ansible-playbook, their values passed as data (a looked-up file: unsafe)."""
    modules = [m for m in OPTIONS if any(c["module"] == m for c in cases)]
    (tmp / "cases.json").write_text(json.dumps({m: [c for c in cases if c["module"] == m] for m in modules}))
    tasks, names = [], []
    for module in modules:  # the upgrade last: a case that slipped through must not disturb the others
        for check in ((False, True) if module == "db2_image" else (False,)):
            tasks.append({
                "name": "%s %s" % (module, "data cases, check mode" if check else "cases"),
                "db2ops.docker.%s" % module: "{{ item.args }}",
                "loop": "{{ cases['%s'] | selectattr('check', 'equalto', %s) | list }}" % (module, check),
                "loop_control": {"label": "{{ item.id }}"},
                "check_mode": check, "register": "r_%s_%d" % (module, int(check)), "ignore_errors": True,
            })
            names.append("r_%s_%d" % (module, int(check)))
    tasks.append({"name": "save", "ansible.builtin.copy": {
        "content": "{{ [%s] | map(attribute='results') | flatten | to_json }}" % ", ".join(names),
        "dest": str(tmp / "results.json")}, "check_mode": False})
    play = [{"hosts": "localhost", "gather_facts": False, "connection": "local",
             "vars": {"cases": "{{ lookup('ansible.builtin.file', '%s') | from_json }}" % (tmp / "cases.json")},
             "tasks": tasks}]
    (tmp / "play.yml").write_text(yaml.safe_dump(play))
    proc = run_playbook(tmp / "play.yml", inventory="localhost,")
    assert (tmp / "results.json").exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    results = {r["item"]["id"]: r for r in json.loads((tmp / "results.json").read_text())}
    assert set(results) == {c["id"] for c in cases}, "the playbook skipped cases"
    return SimpleNamespace(results=results, output=proc.stdout + proc.stderr)


@pytest.fixture(scope="module")
def table(standin_images, docker_client, tmp_path_factory):
    """The shared container, every case run (in process; the template cases in one playbook), and the
    state before and after."""
    storage = tmp_path_factory.mktemp("db2fs-badin")
    storage.chmod(0o755)
    docker_client.images.get(standin_images["11.1.4.4"]).tag(IMAGE_BASE)
    with images_locked("standin"):
        container = docker_client.containers.create(
            standin_images["11.1.4.4"], name=PREFIX, labels={"team": "dba"},
            environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB"},
            volumes={str(storage): {"bind": "/database", "mode": "rw"}})
    try:
        container.start()
        wait_for_log(container, "(*) Setup has completed.")
        code, out = run_db2(container, "db2 connect to TESTDB && db2 'CREATE TABLE BADIN (ID INT, NAME VARCHAR(20))'"
                                       " && db2 \"INSERT INTO BADIN VALUES (1, 'one'), (2, 'two')\"")
        assert code == 0, out
        assert container.exec_run(["useradd", "-M", "-N", "-u", "2300", PW_USER], user="root").exit_code == 0
        before = _state(container, docker_client)
        # Every case but the template ones runs in this process, one fresh module run each; the
        # upgrade cases last: a case that slipped through must not disturb the others.
        results, played = {}, None
        for case in sorted(CASES, key=lambda c: c["module"] == "db2_container_upgrade"):  # stable sort
            if case["module"] == "db2_container_upgrade" and played is None:
                # A template's danger is Ansible's own templating: those cases go through ONE real
                # playbook, before the upgrade cases run here.
                played = _playbook(TEMPLATE_CASES, tmp_path_factory.mktemp("badin-play"))
            if case not in TEMPLATE_CASES:
                results[case["id"]] = run_module(case["module"], case["args"], check=case["check"])
        results.update(played.results)
        yield dict(container=container, before=before, after=_state(container, docker_client), results=results,
                   markers=_markers(container), output=played.output)
    finally:
        container.remove(force=True, v=True)
        for tag in (IMAGE_BASE, IMAGE):  # by tag: the base tag shares its image with the stand-in
            if docker_client.api.images(name=tag):
                docker_client.images.remove(tag)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_each_hostile_value(table, case):
    result = table["results"][case["id"]]
    msg = str(result.get("msg", ""))
    assert "\n" not in msg, msg
    sql_text = case["option"] == "statements[0]"  # SQL is echoed in Db2's error, as the user wrote it
    if case["value"] and not sql_text:
        assert case["value"] not in msg, "the value is echoed: " + msg
    if not case["data"]:
        names = (case["option"], NAMED.get((case["module"], case["option"]), case["option"]))
        assert result.get("failed") is True and not result.get("changed"), result
        assert any(name in msg for name in names) and "nothing was changed" in msg.lower(), msg
        return
    # Data by nature: used as data, never run by a shell or templated (the marker test below).
    if sql_text:
        # SQL text goes to the CLP on stdin: Db2 rejects it as SQL (or runs it), no shell sees it.
        assert "changed" in result, result
    elif case["module"] == "db2_image":
        assert result.get("failed") is not True and result["changed"] is True and result["image_id"] is None, result
        # The Dockerfile keeps its instructions: the value added none (file content and passwords are
        # not in it at all; a label value is one JSON string of the LABEL line).
        assert instructions(result["dockerfile"]) == instructions(table["results"]["db2_image:baseline"]["dockerfile"])
        if case["option"] != "labels.team" and case["value"]:
            assert case["value"] not in result["dockerfile"]
        assert "App-pw-1" not in json.dumps({k: v for k, v in result.items() if k != "item"})  # item: our case
    else:
        assert result.get("failed") is not True, result
        if case["module"] == "db2_container_info":
            assert result["containers"] == []
        if case["module"] == "db2_container_user":
            assert result["changed"] is True


def test_nothing_changed_and_nothing_ran(table):
    before, after = table["before"], table["after"]
    assert after["id"] == before["id"] and after["running"], "the container must be the same, still running"
    assert after["files"] == before["files"], "OS users or groups changed"
    assert after["shadow"] == before["shadow"], "passwords other than %s changed" % PW_USER
    assert after["rows"] == before["rows"] and "one" in after["rows"], "table data changed"
    assert after["backups"] == before["backups"], "a backup or restore ran"
    assert after["images"] == before["images"], "an image was built"
    assert table["markers"] == [], "a hostile value ran in a shell or a template"
