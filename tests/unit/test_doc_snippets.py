"""The documented variable files are valid for their roles, as the roles' argument specs check them."""
import os
import sys

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from doc_snippets import REPO, role_variable_files, snippets  # noqa: E402

FILES = role_variable_files()


def test_every_yaml_snippet_parses_and_some_set_role_variables():
    assert len(snippets()) >= 7 and len(FILES) >= 3


def _spec(options):
    """Ansible's role argument spec (meta/argument_specs.yml) as an AnsibleModule-style spec."""
    spec = {}
    for name, option in options.items():
        entry = {k: v for k, v in option.items() if k in ("type", "elements", "choices", "required", "no_log")}
        if "options" in option:
            entry["options"] = _spec(option["options"])
        spec[name] = entry
    return spec


@pytest.mark.parametrize("document, role, data", FILES, ids=["%s:%s" % (d, r) for d, r, _data in FILES])
def test_documented_variables_pass_the_role_argument_spec(document, role, data):
    options = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    spec = _spec(options["argument_specs"]["main"]["options"])
    ours = {k: v for k, v in data.items() if k.startswith(role + "_")}
    unknown = set(ours) - set(spec)
    assert not unknown, "%s documents variables role %s does not have: %s" % (document, role, unknown)
    for name in spec:  # required ones a snippet leaves to other files (vaults) are not its business
        spec[name].pop("required", None)
    # A templated value is checked by Ansible after templating; the snippet only has to name it right.
    literal = {k: v for k, v in ours.items() if "{{" not in str(v)}
    result = ArgumentSpecValidator(spec).validate(literal)
    assert not result.error_messages, "%s: %s" % (document, result.error_messages)


def test_documented_job_lists_pass_the_maintenance_job_check():
    from ansible_collections.db2ops.docker.plugins.module_utils._ats.maintenance import check_jobs

    lists = [data["db2_jobs"] for _document, data, _text in snippets() if isinstance(data, dict) and "db2_jobs" in data]
    assert lists, "docs/maintenance.md shows a job list"
    for jobs in lists:
        check_jobs(jobs)  # raises JobError naming the job and field
