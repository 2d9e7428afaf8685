"""The stand-in's CLP fed on standard input as DBAs do it: IBM's interactive mode, not a file.

`db2` with neither a command nor `-f` is interactive mode: it reads file descriptor 0 as it is,
prints IBM's banner (texts from IBM's db2clp catalog) and the `db2 => ` prompt before each
statement unless `+p`, and returns the OR of the statements' codes after the input ends.
"""
from __future__ import annotations

import subprocess

import pytest
from conftest import shared_standin


@pytest.fixture(scope="module")
def db2(docker_client, standin_images):
    with shared_standin(docker_client, standin_images["11.1.4.4"], "db2ops-t-clp") as container:
        yield container


def pasted(container, command: str, text: str):
    """`docker exec -i C su - db2inst1 -c COMMAND <<EOF`: the cookbook's habit of pasting into the CLP."""
    result = subprocess.run(["docker", "exec", "-i", container.name, "su", "-", "db2inst1", "-c", command],
                            input=text, capture_output=True, text=True, timeout=120, check=False)
    return result.returncode, result.stdout


def after_banner(out: str) -> str:
    return out.split("For more detailed help, refer to the Online Reference Manual.\n\n", 1)[1]


def test_here_document_into_su_dash_db2_t_runs_interactively(db2):
    rc, out = pasted(db2, "db2 -t", "connect to TESTDB;\nselect count(*)\n from sysibm.sysdummy1;\n")
    assert rc == 0, out
    assert out.startswith("(c) Copyright IBM Corporation 1993,2007\nCommand Line Processor for DB2 Client 11.1.4.4\n")
    assert "To exit db2 interactive mode, type QUIT at the command prompt." in out
    assert after_banner(out).count("db2 => ") == 3, "a prompt before each statement and one that meets the end of the input"
    assert "Local database alias   = TESTDB" in out and "1 record(s) selected." in out


def test_no_prompt_with_plus_p_and_the_ored_return_code(db2):
    rc, out = pasted(db2, "db2 +p -t", "connect to TESTDB;\nselect * from no_such_table;\nvalues 1;\n")
    assert "db2 => " not in after_banner(out)
    assert "SQL0204N" in out and "1 record(s) selected." in out, "the CLP goes on after an error without -s"
    assert rc == 4


def test_quit_ends_the_session(db2):
    rc, out = pasted(db2, "db2", "connect to TESTDB\nquit\nvalues 1\n")
    assert rc == 0 and "record(s) selected" not in out


def test_f_dev_stdin_under_su_dash_cannot_reopen_the_pipe(db2):
    # A file path is opened as a path: root's pipe is not the instance owner's to open.
    rc, out = pasted(db2, "db2 -t -f /dev/stdin", "values 1;\n")
    assert rc == 8 and 'DB21005E  An error occurred while accessing the file "/dev/stdin".' in out


def test_shell_escape_runs_a_command_as_the_instance_owner(db2):
    rc, out = pasted(db2, "db2 +p", "!id -un > /tmp/clp-escape\n")
    assert rc == 0, out
    assert db2.exec_run(["cat", "/tmp/clp-escape"]).output.decode().strip() == "db2inst1"
