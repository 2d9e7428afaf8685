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


def test_every_module_is_in_the_action_group_and_says_so():
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    group = set(runtime["action_groups"]["db2"])
    assert group == {p.stem for p in MODULES}
    for path in MODULES:
        fragments = documentation(path).get("extends_documentation_fragment", [])
        assert "db2ops.docker.attributes.actiongroup_db2" in fragments, path.name


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
