"""Every role's meta/argument_specs.yml options match its defaults/main.yml keys and values."""
import pathlib
import re

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (REPO / "roles").iterdir() if (p / "defaults" / "main.yml").exists())


def _entry_points(role):
    return yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_argument_specs_in_sync_with_defaults(role):
    """Every entry point (main, and preflight/upgrade of db2_fixpack): each option is the role's, and its
    default is the one in defaults/main.yml; every default is an option of main."""
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    entry_points = _entry_points(role)
    assert set(defaults) - set(entry_points["main"]["options"]) == set(), "defaults without a spec"
    for entry, spec in entry_points.items():
        for name, option in spec["options"].items():
            assert name.startswith(role.name + "_"), (entry, name)
            if option.get("required"):
                continue
            assert name in defaults, "%s: spec without a default: %s" % (entry, name)
            assert option.get("default") == defaults[name], (entry, name)


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_entry_points_share_one_definition_per_option(role):
    """An option in several entry points is the same option (written once, YAML anchors), so the
    copies cannot drift (db2_fixpack_docker_client_key lost its no_log: false in two of three)."""
    seen = {}
    for entry, spec in _entry_points(role).items():
        for name, option in spec["options"].items():
            assert seen.setdefault(name, (entry, option))[1] == option, (name, entry, seen[name][0])
    text = (role / "meta" / "argument_specs.yml").read_text()
    for name in seen:
        written = re.findall(r"^      %s:(?: &\w+)?$" % name, text, re.M)  # an alias (`: *x`) is no copy
        assert len(written) == 1, "%s is written %d times" % (name, len(written))


# Names that hold a secret, or a list whose items carry passwords (db2_ldap_users, db2_image_users).
SECRET_NAME = re.compile(r"pass(word|wd)?|secret|token|credential|(^|_)pw$|(^|_)key$", re.I)


def _options(role):
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]

    def walk(options, prefix):
        for name, option in (options or {}).items():
            yield prefix + name, option
            yield from walk(option.get("options"), prefix + name + ".")
    return list(walk(spec, ""))


def _looks_secret(name, option):
    last = name.rsplit(".", 1)[-1]
    if option.get("type") == "list" and re.search(r"(^|_)users$", last):
        return True
    return bool(SECRET_NAME.search(last))


ALL_ROLES = sorted(p for p in (REPO / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())


@pytest.mark.parametrize("role", ALL_ROLES, ids=[r.name for r in ALL_ROLES])
def test_secret_options_are_no_log(role):
    """A secret-looking option says no_log: true; only a file name (of a key) may say no_log: false."""
    for name, option in _options(role):
        if not _looks_secret(name, option):
            continue
        assert "no_log" in option, "%s: %s looks secret but has no no_log" % (role.name, name)
        if option["no_log"] is not True:
            assert option.get("type") == "path" or "file" in option.get("description", "").lower() or \
                "controller" in option.get("description", "").lower() or name.endswith("_key"), \
                "%s: %s has no_log: false but is not a file name" % (role.name, name)
            assert not re.search(r"pass|secret|token|_pw$", name, re.I), name


def _tasks(node):
    for task in node or []:
        if isinstance(task, dict):
            yield task
            for key in ("block", "rescue", "always"):
                yield from _tasks(task.get(key))


@pytest.mark.parametrize("role", ALL_ROLES, ids=[r.name for r in ALL_ROLES])
def test_tasks_passing_secret_lists_are_no_log(role):
    """Module options mask single secrets (their own no_log); a list of items with passwords is only
    masked item by item by the module, so the task that passes one keeps its whole output out of logs."""
    secret_lists = [name for name, option in _options(role)
                    if option.get("no_log") is True and option.get("type") == "list"]
    for path in sorted((role / "tasks").glob("*.yml")):
        for task in _tasks(yaml.safe_load(path.read_text())):
            text = yaml.safe_dump({k: v for k, v in task.items() if k not in ("block", "rescue", "always")})
            for name in secret_lists:
                if re.search(r"\b%s\b" % name, text):
                    assert "no_log" in task, "%s: task %r passes %s without no_log" % (path.name, task.get("name"), name)


def _task_files():
    for path in sorted((REPO / "roles").glob("*/tasks/*.yml")):
        yield path, list(_tasks(yaml.safe_load(path.read_text())))
    for path in sorted((REPO / "playbooks").glob("*.yml")):
        plays = yaml.safe_load(path.read_text()) or []
        yield path, [task for play in plays for key in ("pre_tasks", "tasks", "post_tasks", "handlers")
                     for task in _tasks(play.get(key))]


def test_variables_set_inside_roles_and_playbooks_are_internal():
    """register and set_fact names start with `_` (ansible-lint var-naming allows `_<role>_...`): the
    options a user sets and the variables the collection sets for itself never share a name."""
    for path, tasks in _task_files():
        for task in tasks:
            names = [task["register"]] if "register" in task else []
            names += [k for k in (task.get("ansible.builtin.set_fact") or {}) if k != "cacheable"]
            for name in names:
                assert name.startswith("_"), "%s: task %r sets %s" % (path.relative_to(REPO), task.get("name"), name)
