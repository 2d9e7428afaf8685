"""Every AWX-facing playbook documents its variables at the top (name, type, default), and the AWX
survey in docs/awx/surveys asks for exactly those, with the same defaults and types that the
playbook or its role accepts."""
import json
import pathlib
import re

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOKS = sorted(p for p in (REPO / "playbooks").glob("*.yml") if not p.stem.endswith("demo"))  # demos: make targets
ROW = re.compile(r"^#   (\w+)\s+(str|int|list|bool)\s+(\(required[^)]*\)|\S+(?: \(secret\))?)\s+\S")
SURVEY_TYPES = {"str": {"text", "password", "multiplechoice"}, "int": {"integer"}, "list": {"textarea"},
                "bool": {"multiplechoice"}}


def header(playbook):
    """{name: (type, default)} from the comment table at the top of the playbook."""
    lines = playbook.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^#   name\s+type\s+default\s+meaning", line))
    rows = {}
    for line in lines[start + 1:]:
        match = ROW.match(line)
        if not match:
            break
        rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


def role_options(playbook):
    plays = yaml.safe_load(playbook.read_text())
    names = {r["role"] for p in plays for r in p.get("roles", [])}
    names |= {t["ansible.builtin.include_role"]["name"] for p in plays for t in p.get("tasks", [])
              if "ansible.builtin.include_role" in t}
    options = {}
    for name in names:
        specs = yaml.safe_load((REPO / "roles" / name.split(".")[-1] / "meta" / "argument_specs.yml").read_text())
        options.update(specs["argument_specs"]["main"]["options"])
    return options


def test_every_awx_playbook_has_a_survey():
    assert {p.stem for p in PLAYBOOKS} == {p.stem for p in (REPO / "docs" / "awx" / "surveys").glob("*.json")}


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=[p.stem for p in PLAYBOOKS])
def test_survey_matches_the_documented_variables(playbook):
    documented = header(playbook)
    survey = json.loads((REPO / "docs" / "awx" / "surveys" / f"{playbook.stem}.json").read_text())
    questions = {q["variable"]: q for q in survey["spec"]}
    assert list(questions) == list(documented), "survey and playbook header list different variables"
    options = role_options(playbook)
    body = "\n".join(line for line in playbook.read_text().splitlines() if not line.lstrip().startswith("#"))
    for name, (kind, default) in documented.items():
        question = questions[name]
        assert question["type"] in SURVEY_TYPES[kind], name
        assert question["question_name"] and question["question_description"], name
        if default.startswith("(required"):
            assert question["required"] and question["default"] == "", name
        elif default in ('""', '"" (secret)', "[]"):
            assert question["default"] == "", name
        else:
            assert str(question["default"]).lower() == default.lower(), name
        if question["type"] == "password":
            assert "secret" in default, name
        # Used by the playbook itself, or an option of its role with the same default and choices.
        assert re.search(r"\b%s\b" % name, body) or name in options, f"{name} is used nowhere"
        if name in options and not re.search(r"\b%s\b" % name, body):
            spec = options[name]
            assert str(spec.get("default", "")).lower() == str(question["default"]).lower(), name
            if question["type"] == "multiplechoice" and "choices" in spec:
                assert set(question["choices"]) <= {str(c).lower() for c in spec["choices"]}, name
            if question["required"] is False:
                assert question["default"] == "", "an optional answer left empty must mean the default: %s" % name
