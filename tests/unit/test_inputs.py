"""The one input gate: control characters, NUL, length caps and full-match name rules."""
import pytest

from ansible_collections.db2ops.docker.plugins.module_utils import inputs

HOSTILE_ONE_LINE = ["true\n* * * * * root id >/tmp/x #", "a\x00b", "a\rb", "a\x1b[31mb", "x" * 10000]


@pytest.mark.parametrize("value", HOSTILE_ONE_LINE)
def test_one_line_options_refuse_control_characters_and_huge_values(value):
    with pytest.raises(inputs.InputError) as err:
        inputs.check_params({"jobs": [{"name": "ok", "command": value}]})
    message = str(err.value)
    assert "jobs[0].command" in message and "\n" not in message and "nothing was changed" in message
    assert value not in message  # the value may be a secret: never echoed


@pytest.mark.parametrize("value", ["; rm -rf /", "'quoted\"", "$(id)", "{{ lookup('pipe','id') }}", "Zürich ✓"])
def test_printable_text_passes_the_gate(value):
    inputs.check_params({"remarks": value})  # quoting is the job of whoever uses it


def test_multiline_options_keep_lines_and_tabs_but_not_nul():
    inputs.check_params({"statements": ["SELECT 1\n\tFROM SYSIBM.SYSDUMMY1"]}, multiline=("statements",))
    with pytest.raises(inputs.InputError, match=r"statements\[0\] contains a NUL"):
        inputs.check_params({"statements": ["a\x00"]}, multiline=("statements",))
    with pytest.raises(inputs.InputError, match="escape"):
        inputs.check_params({"statements": ["a\x1b"]}, multiline=("statements",))


def test_nested_option_paths_match_multiline_names():
    inputs.check_params({"files": [{"content": "line 1\nline 2", "dest": "/var/custom/a"}]},
                        multiline=("files.content",))
    with pytest.raises(inputs.InputError, match=r"files\[0\]\.dest"):
        inputs.check_params({"files": [{"content": "x", "dest": "/var/custom/a\nRUN id"}]},
                            multiline=("files.content",))


def test_dict_keys_are_checked_too():
    with pytest.raises(inputs.InputError, match="labels key"):
        inputs.check_params({"labels": {"a\nb": "c"}})


def test_require_match_is_a_full_match():
    assert inputs.require_match(r"[A-Z]{1,8}", "TESTDB", "database", "a database name") == "TESTDB"
    with pytest.raises(inputs.InputError, match="database contains a newline"):
        inputs.require_match(r"[A-Z]{1,8}", "TESTDB\n", "database", "a database name")
    with pytest.raises(inputs.InputError, match="must be a database name"):
        inputs.require_match(r"[A-Z]{1,8}", "TEST DB", "database", "a database name")


def test_fail_on_bad_params_fails_unchanged():
    class Module:
        params = {"name": "a\nb"}

        def fail_json(self, **kwargs):
            raise SystemExit(kwargs)

    with pytest.raises(SystemExit) as exit_:
        inputs.fail_on_bad_params(Module())
    assert exit_.value.args[0]["changed"] is False and "name" in exit_.value.args[0]["msg"]
