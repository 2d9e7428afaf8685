"""The YAML snippets of the documentation (README, docs/*.md, role READMEs), for the tests that run them."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md")) + sorted((REPO / "roles").glob("*/README.md"))


def snippets():
    """(document, parsed YAML, text) of every ```yaml block."""
    found = []
    for path in DOCUMENTS:
        for match in re.finditer(r"^```ya?ml\n(.*?)^```", path.read_text(), re.S | re.M):
            found.append((path.relative_to(REPO).as_posix(), yaml.safe_load(match.group(1)), match.group(1)))
    return found


def role_variable_files():
    """(document, role name, vars) of the snippets that set a role's variables (extra-vars files)."""
    roles = [p.name for p in (REPO / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists()]
    result = []
    for document, data, _text in snippets():
        inventory = isinstance(data, dict) and any(isinstance(v, dict) and ({"hosts", "children"} & set(v))
                                                   for v in data.values())
        if isinstance(data, dict) and not inventory:  # an inventory's group names are not variables
            for role in roles:
                if any(key.startswith(role + "_") for key in data):
                    result.append((document, role, data))
    return result
