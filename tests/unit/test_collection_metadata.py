"""Collection-wide rules that drift silently unless a test holds them."""
import ast
import pathlib

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
MODULES = sorted(p for p in (REPO / "plugins" / "modules").glob("*.py") if p.name != "__init__.py")


def documentation(path):
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{path.name} has no DOCUMENTATION")


# The connection a module's argument spec is built on, seen in its source: the group it belongs to.
CONNECTION_SPEC = {"docker": ("docker_argument_spec(", "docker_module(", "_ats.module import", "db2_target_module("),
                   "ldap": ("ldap_argument_spec(",)}


def test_every_module_is_in_the_action_group_of_its_connection_and_says_so():
    """Issue 12: one group per connection, so module_defaults of one never reach the other's modules."""
    groups = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]
    assert set(groups) == {"docker", "ldap"}
    assert set(groups["docker"]).isdisjoint(groups["ldap"])
    assert set(groups["docker"]) | set(groups["ldap"]) == {p.stem for p in MODULES}
    for path in MODULES:
        group = "docker" if path.stem in groups["docker"] else "ldap"
        other = "ldap" if group == "docker" else "docker"
        fragments = documentation(path).get("extends_documentation_fragment", [])
        assert "db2ops.docker.%s" % group in fragments, path.name  # documents that connection's options
        assert "db2ops.docker.%s" % other not in fragments, path.name
        assert "db2ops.docker.attributes.actiongroup_%s" % group in fragments, path.name
        source = path.read_text()
        assert any(marker in source for marker in CONNECTION_SPEC[group]), path.name
        assert not any(marker in source for marker in CONNECTION_SPEC[other]), path.name


def test_every_module_documents_version_added_and_author():
    for path in MODULES:
        doc = documentation(path)
        assert doc.get("version_added"), path.name
        assert doc.get("author"), path.name


def test_changelog_fragments_are_valid_sections():
    config = yaml.safe_load((REPO / "changelogs" / "config.yaml").read_text())
    sections = {name for name, _title in config["sections"]} | {"trivial", "release_summary"}
    for fragment in (REPO / "changelogs" / "fragments").glob("*.yml"):
        data = yaml.safe_load(fragment.read_text())
        assert set(data) <= sections, fragment.name
