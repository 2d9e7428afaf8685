"""Every role's meta/argument_specs.yml options match its defaults/main.yml keys and values."""
import pathlib

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (REPO / "roles").iterdir() if (p / "defaults" / "main.yml").exists())


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_argument_specs_in_sync_with_defaults(role):
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    options = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert set(defaults) - set(options) == set(), "defaults without a spec"
    for name, spec in options.items():
        assert name.startswith(role.name + "_"), name
        if spec.get("required"):
            continue
        assert name in defaults, "spec without a default: %s" % name
        assert spec.get("default") == defaults[name], name
