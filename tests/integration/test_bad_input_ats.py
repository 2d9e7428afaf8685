"""Bad input for the ATS modules (issue 11): every string option of db2_ats_task, db2_ats_tasks and
db2_ats_task_info fed each hostile value, through real ansible-playbook against the stand-in.

Per case, one of two outcomes:
- an error: one line that names the option, says nothing was changed, never echoes the value, and
  SYSTOOLS.ADMIN_TASK_LIST (read by the test itself) is as it was;
- data (a task name, its procedure input or remarks may hold `;`, quotes, `$(...)`, `{{ }}` or
  non-ASCII text): stored literally, read back equal, a rerun changes nothing, nothing is run.

The modules run in this process (tests/integration/in_process.py: a fresh module run per case, no
playbook per case); the template (`{{ lookup('pipe', ...) }}`) values, whose danger is Ansible's own
templating, go through ONE real ansible-playbook run, reaching the modules as AWX survey answers do:
marked unsafe, never templated. One container, shared by the module, serves every case.
"""
import json
import os
import uuid

import pytest
import yaml
from conftest import shared_standin
from in_process import run_module
from playbook import run_playbook

RUNSTATS = "VALUES('RUNSTATS ON TABLE SYSIBM.SYSDUMMY1')"
MARK = "/tmp/db2ops-ats-pwned-%s" % uuid.uuid4().hex[:8]
FAR = "0 0 1 1 *"  # never due while the test runs: nothing is run by the scheduler
VALUES = {
    "empty": "",
    "newline": "X\nY",
    "nul": "X\x00Y",
    "semicolon": "X; DROP TABLE T1 --",
    "quotes": "it's \"quoted\"",
    "subshell": "$(touch %s)" % MARK,
    "template": "{{ lookup('pipe', 'touch %s') }}" % MARK,
    "long": "L" * 10000,
    "non_ascii": "Ünïcødé ✓ 日本語",
}
TASK_OPTIONS = ("name", "schedule", "procedure_schema", "procedure_name", "procedure_input", "begin_timestamp",
                "end_timestamp", "remarks")
OPTIONS = {
    "db2_ats_task": TASK_OPTIONS + ("database", "container"),
    "db2_ats_tasks": tuple("tasks." + o for o in TASK_OPTIONS) + ("database", "container"),
    "db2_ats_task_info": ("database", "container"),
}
# Values that are data, not mistakes, and what Db2 then holds (empty: the option's default).
DATA = {
    "name": {"semicolon", "quotes", "subshell", "template", "non_ascii"},
    "procedure_input": {"empty", "semicolon", "quotes", "subshell", "template", "non_ascii", "long"},
    "remarks": {"empty", "semicolon", "quotes", "subshell", "template", "non_ascii"},
    "procedure_schema": {"empty"},
    "begin_timestamp": {"empty"},
    "end_timestamp": {"empty"},
}
DEFAULTS = {"procedure_schema": "SYSPROC"}
# Remarks that the CLP's padded table used to read back differently (issue 11, item 4).
REMARKS = {"dash": "-", "leading": "  two leading blanks", "trailing": "two trailing blanks  ",
           "inner": "several   inner    blanks", "blanks": "   ", "dash_padded": " - "}
CASES = [(module, option, kind) for module, options in OPTIONS.items() for option in options for kind in VALUES]


class Unsafe(str):
    """A string the playbook marks !unsafe, as AWX marks survey answers."""


yaml.SafeDumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", value, style='"'))


def unsafe(value):
    if isinstance(value, str):
        return Unsafe(value)
    if isinstance(value, dict):
        return {key: unsafe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unsafe(item) for item in value]
    return value


def plain(option):
    return option.split(".")[-1]


def is_data(option, kind):
    return kind in DATA.get(plain(option), ())


def case_id(module, option, kind):
    return "%s-%s-%s" % (module, option.replace(".", "_"), kind)


def base_task(name):
    return dict(name=name, schedule=FAR, procedure_name="ADMIN_CMD", procedure_input=RUNSTATS)


def case_args(module, option, kind, container):
    """Module args for one case: a good task with `option` set to the hostile value."""
    value = VALUES[kind]
    args = dict(container=container, database="TESTDB")
    name = "C-%s-%s" % (module[-5:], option.split(".")[-1][:12] + "-" + kind)
    if module == "db2_ats_task_info":
        args[option] = value
        return args, name
    task = base_task(name)
    key = plain(option)
    if key in args:
        args[key] = value
    else:
        task[key] = value
        if key == "name":
            name = value
    if module == "db2_ats_task":
        args.update(task)
    else:
        args["tasks"] = [task]
    return args, name


def play(tasks, results_file):
    names = [task["register"] for task in tasks if "register" in task]
    save = {"name": "save the results", "ansible.builtin.copy": {
        "dest": str(results_file), "content": "{{ {%s} | to_json }}" % ", ".join("'%s': %s" % (n, n) for n in names)}}
    return [{"hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": tasks + [save]}]


def module_task(register, module, args, **extra):
    task = {"name": register, "db2ops.docker.%s" % module: unsafe(args), "register": register, "ignore_errors": True}
    task.update(extra)
    return task


def run(tmp, plays, label):
    book = tmp / ("%s.yml" % label)
    book.write_text(yaml.safe_dump(plays, allow_unicode=False, width=1000000))
    proc = run_playbook(book, inventory="localhost,", env={"ANSIBLE_PIPELINING": "1"})
    results = tmp / ("%s.json" % label)
    assert results.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads(results.read_text())


def read_list(db2):
    """The task list as Db2 holds it, exact (hex), read without the modules."""
    out = db2.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && db2 connect to testdb >/dev/null && db2 -x '
                        '"select hex(name), schedule, procedure_schema, procedure_name, hex(coalesce(remarks, \'~\')), '
                        'taskid from systools.admin_task_list order by name"'], user="db2inst1").output.decode()
    assert "SQL" not in out or "SQL0100W" in out, out
    return [line.split() for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def ats_db(standin_images, docker_client, tmp_path_factory):
    with shared_standin(docker_client, standin_images["11.1.4.4"], "db2ops-t-atsbad") as container:
        tmp = tmp_path_factory.mktemp("atsbad")
        args = dict(container=container.name, database="TESTDB", tasks=[base_task("BASELINE")],
                    create_systoolspace=True, enable_ats=True)
        setup = run_module("db2_ats_tasks", args)
        assert setup["changed"] and not setup.get("failed"), setup
        yield container, tmp


def through_playbook(kind):
    """A template's danger is Ansible's own templating: those cases go through the real playbook."""
    return kind == "template"


def data_steps(container, single, batch, remarks):
    """The data cases as (register, module, args), in order: each single case added, then rerun;
    listed; the task list put back; the batch (with the remarks tasks) added, rerun, listed, put back."""
    batch_args = dict(container=container, database="TESTDB",
                      tasks=[base_task("BASELINE")] + [task for _r, task, _n in batch]
                      + [dict(base_task("R-%s" % key), remarks=value) for key, value in remarks.items()])
    cleanup = dict(container=container, database="TESTDB", exclusive=True, tasks=[base_task("BASELINE")])
    info = dict(container=container, database="TESTDB")
    steps = [("single_%s" % r, "db2_ats_task", a) for r, a, _n, _o in single]
    steps += [("rerun_%s" % r, "db2_ats_task", a) for r, a, _n, _o in single]
    return steps + [("info_single", "db2_ats_task_info", info), ("cleanup_single", "db2_ats_tasks", cleanup),
                    ("batch", "db2_ats_tasks", batch_args), ("batch_rerun", "db2_ats_tasks", batch_args),
                    ("info", "db2_ats_task_info", info), ("cleanup", "db2_ats_tasks", cleanup)]


@pytest.fixture(scope="module")
def outcomes(ats_db):
    """Every case run: errors first (the task list must stay as it was), then the data cases:
    added, rerun, listed by db2_ats_task_info, and the task list put back. The modules run in this
    process (a fresh module run per case); the template cases run last, in ONE real playbook (its
    data cases first, then its error cases, read back after it)."""
    db2, tmp = ats_db
    before = read_list(db2)
    errors = {False: [], True: []}
    single = {False: [], True: []}
    batch = {False: [], True: []}
    for module, option, kind in CASES:
        args, name = case_args(module, option, kind, db2.name)
        register = case_id(module, option, kind).replace("-", "_")
        played = through_playbook(kind)
        if not is_data(option, kind):
            errors[played].append((register, module, args))
        elif module == "db2_ats_task":
            single[played].append((register, args, name, plain(option)))
        else:
            batch[played].append((register, args["tasks"][0], name))
    results = {r: run_module(m, a) for r, m, a in errors[False]}
    after_errors = read_list(db2)
    data = {r: run_module(m, a) for r, m, a in data_steps(db2.name, single[False], batch[False], REMARKS)}
    after_data = read_list(db2)

    tasks = [module_task(r, m, a) for r, m, a in data_steps(db2.name, single[True], batch[True], {})]
    tasks += [module_task(r, m, a) for r, m, a in errors[True]]
    proc, played = run(tmp, play(tasks, tmp / "played.json"), "played")
    results.update({r: played[r] for r, _m, _a in errors[True]})
    marker = db2.exec_run(["test", "-e", MARK]).exit_code == 0 or os.path.exists(MARK)
    flows = [dict(data=data, single=single[False], batch=batch[False], after=after_data),
             dict(data=played, single=single[True], batch=batch[True], after=read_list(db2))]
    return dict(results=results, before=before, data=data, flows=flows, output=proc.stdout + proc.stderr,
                marker=marker, after_errors={False: after_errors, True: flows[1]["after"]})


@pytest.mark.parametrize("module, option, kind", [c for c in CASES if not is_data(c[1], c[2])],
                         ids=[case_id(*c) for c in CASES if not is_data(c[1], c[2])])
def test_bad_value_fails_with_one_line_and_changes_nothing(outcomes, module, option, kind):
    result = outcomes["results"][case_id(module, option, kind).replace("-", "_")]
    msg = result.get("msg", "")
    assert result.get("failed") and not result.get("changed"), result
    assert "\n" not in msg and "nothing was changed" in msg.lower(), msg
    assert plain(option) in msg.replace("task name", "name"), msg
    if len(VALUES[kind]) > 3:
        assert VALUES[kind] not in msg, msg
    assert outcomes["after_errors"][through_playbook(kind)] == outcomes["before"]


def test_data_is_stored_literally_read_back_equal_and_rerun_unchanged(outcomes):
    for flow in outcomes["flows"]:  # in process, then the template values through the playbook
        data = flow["data"]
        listed = {task["name"]: task for task in data["info_single"]["tasks"]}
        for register, args, name, option in flow["single"]:
            added, again = data["single_" + register], data["rerun_" + register]
            assert added["changed"] and not added.get("failed"), (register, added)
            assert (again["changed"], again["commands"]) == (False, []), (register, again)
            assert listed[name][option] == (args[option] or DEFAULTS.get(option)), (register, listed[name])
        listed = {task["name"]: task for task in data["info"]["tasks"]}
        assert data["batch"]["changed"] and not data["batch"].get("failed"), data["batch"]
        assert (data["batch_rerun"]["changed"], data["batch_rerun"]["commands"]) == (False, []), data["batch_rerun"]
        for register, task, name in flow["batch"]:
            for key, value in task.items():
                assert listed[name][key] == (value or DEFAULTS.get(key)), (register, key, listed[name])
        assert not data["cleanup"].get("failed") and flow["after"] == outcomes["before"]
        assert all(run["name"] == "BASELINE" for run in data["info"]["runs"])  # nothing of ours ran
    assert all(flow["single"] and flow["batch"] for flow in outcomes["flows"])  # both flows had cases
    assert not outcomes["marker"] and "db2ops-ats-pwned" not in outcomes["output"]


def test_remarks_with_blanks_or_a_dash_read_back_equal(outcomes):
    listed = {task["name"]: task for task in outcomes["data"]["info"]["tasks"]}
    assert {key: listed["R-%s" % key]["remarks"] for key in REMARKS} == REMARKS
    assert outcomes["data"]["batch_rerun"]["actions"] == []
