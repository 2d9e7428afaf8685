"""One contract per connection (issue 12): the Docker options are defined once (DOCKER_COMMON_ARGS in
_docker/client.py) and the LDAP options once (LDAP_COMMON_ARGS in _ldap/connection.py). Every module's
argument spec, the nested connections (db2_image's copy_from, the inventory plugin's docker_hosts) and
the documentation are held to that one definition here."""
import ast
import importlib
import pathlib

import pytest
import yaml
from ansible_collections.db2ops.docker.plugins.doc_fragments import docker as docker_fragment
from ansible_collections.db2ops.docker.plugins.doc_fragments import ldap as ldap_fragment
from ansible_collections.db2ops.docker.plugins.module_utils._db2 import module as db2_target
from ansible_collections.db2ops.docker.plugins.module_utils._docker import client as docker_client
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DOCKER_COMMON_ARGS, docker_suboptions
from ansible_collections.db2ops.docker.plugins.module_utils._ldap import connection as ldap_connection
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.fleet import DAEMON_SPEC

REPO = pathlib.Path(__file__).resolve().parents[2]
GROUPS = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]
COMMON = {"docker": DOCKER_COMMON_ARGS, "ldap": ldap_connection.LDAP_COMMON_ARGS}


class Built(Exception):
    """Raised by the stand-in AnsibleModule: the module's keyword arguments, nothing run."""

    def __init__(self, kwargs):
        super().__init__("built")
        self.kwargs = kwargs


def argument_spec(name, monkeypatch):
    """The argument spec a module hands to AnsibleModule (or through bulk_module / docker_module / db2_target_module)."""
    module = importlib.import_module("ansible_collections.db2ops.docker.plugins.modules." + name)

    def capture(*_args, **kwargs):
        raise Built(kwargs)
    for target in (module, ldap_connection, db2_target, docker_client):
        if hasattr(target, "AnsibleModule"):
            monkeypatch.setattr(target, "AnsibleModule", capture)
    with pytest.raises(Built) as built:
        module.main()
    return built.value.kwargs["argument_spec"]


def documented(text):
    return yaml.safe_load(text)["options"]


def doc_of(path):
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError(path)


def assert_documented(options, docs, where):
    """Names, types, aliases, defaults and required of a spec match its documentation."""
    assert set(options) == set(docs), where
    for name, option in options.items():
        doc = docs[name]
        assert doc.get("type", "str") == option.get("type", "str"), (where, name)
        assert sorted(doc.get("aliases", [])) == sorted(option.get("aliases", [])), (where, name)
        assert doc.get("default") == option.get("default"), (where, name)
        assert bool(doc.get("required")) == bool(option.get("required")), (where, name)


@pytest.mark.parametrize("name", sorted(GROUPS["docker"] + GROUPS["ldap"]))
def test_every_module_takes_its_connection_from_the_one_definition(name, monkeypatch):
    group = "docker" if name in GROUPS["docker"] else "ldap"
    other = "ldap" if group == "docker" else "docker"
    spec = argument_spec(name, monkeypatch)
    for option, definition in COMMON[group].items():
        assert spec[option] == definition, (name, option)
    # The other connection's own options never leak in (module_defaults of one group must not fit both).
    assert not set(COMMON[other]) - set(COMMON[group]) & set(spec), name


def test_the_doc_fragments_are_the_definitions():
    assert_documented(DOCKER_COMMON_ARGS, documented(docker_fragment.ModuleDocFragment.DOCUMENTATION), "docker")
    assert_documented(ldap_connection.LDAP_COMMON_ARGS, documented(ldap_fragment.ModuleDocFragment.DOCUMENTATION),
                      "ldap")


def test_copy_from_is_the_docker_contract_for_the_source_daemon(monkeypatch):
    copy_from = argument_spec("db2_image", monkeypatch)["copy_from"]
    assert copy_from["options"] == docker_suboptions(timeout=600)
    assert_documented(copy_from["options"], doc_of(REPO / "plugins" / "modules" / "db2_image.py")
                      ["options"]["copy_from"]["suboptions"], "copy_from")


def test_the_inventory_daemons_are_the_docker_contract():
    assert {k: v for k, v in DAEMON_SPEC.items() if k != "alias"} == docker_suboptions()
    assert_documented(DAEMON_SPEC, doc_of(REPO / "plugins" / "inventory" / "db2_containers.py")
                      ["options"]["docker_hosts"]["suboptions"], "docker_hosts")


def test_nested_docker_options_keep_names_types_and_aliases_but_no_environment():
    nested = docker_suboptions(timeout=600)
    assert list(nested) == list(DOCKER_COMMON_ARGS)
    for name, option in nested.items():
        assert "fallback" not in option, name  # DOCKER_HOST etc. describe the task's daemon, not this one
        assert option["type"] == DOCKER_COMMON_ARGS[name]["type"], name
        assert option.get("aliases") == DOCKER_COMMON_ARGS[name].get("aliases"), name
    assert nested["docker_host"]["required"] and "default" not in nested["docker_host"]
    assert nested["timeout"]["default"] == 600 and DOCKER_COMMON_ARGS["timeout"]["default"] == 60  # a copy
