#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_command
short_description: Run Db2 CLP commands and SQL in a Db2 container as the instance owner
version_added: 0.1.0
description:
  - Runs a list of CLP commands or SQL statements in one CLP session inside a running Db2 container,
    as the instance owner with the instance environment loaded, in a single C(docker exec).
  - Statements travel on the standard input of the exec, never in its argument list, so a
    C(CONNECT TO db USER u USING password) is not visible to C(ps) or C(docker inspect).
  - Returns each statement's output, Db2 messages (id, SQLCODE, SQLSTATE) and, for queries, the rows.
  - The module cannot know whether a statement changes anything; it reports C(changed=true) unless
    O(changed) says otherwise (use C(changed_when) for finer rules). In check mode nothing runs.
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.db2_target
  - db2ops.docker.docker
  - db2ops.docker.attributes
  - db2ops.docker.attributes.actiongroup_docker
attributes:
  check_mode:
    support: partial
    details:
      - Nothing runs in check mode; the statements that would run are returned.
  diff_mode:
    support: none
options:
  statements:
    description:
      - CLP commands or SQL statements, one per item, without the C(;) terminator.
    type: list
    elements: str
    required: true
  database:
    description:
      - Connect to this database first (and reset the connection at the end).
    type: str
  stop_on_error:
    description:
      - Stop at the first statement that fails (C(db2 -s)) and fail the task. V(false) runs all statements
        and fails the task if any failed.
    type: bool
    default: true
  secrets:
    description:
      - Strings to mask as C(********) in the returned statements and outputs (passwords used in statements).
    type: list
    elements: str
    default: []
  changed:
    description: What to report as C(changed) when the statements ran.
    type: bool
    default: true
  exec_timeout:
    description: Seconds the whole CLP session may take.
    type: int
    default: 600
"""

EXAMPLES = r"""
- name: Create a table and read it back
  db2ops.docker.db2_command:
    container: db2server
    database: TESTDB
    statements:
      - CREATE TABLE APP.T (ID INTEGER NOT NULL, NAME VARCHAR(40))
      - INSERT INTO APP.T VALUES (1, 'first')
      - SELECT ID, NAME FROM APP.T
  register: out

- name: Rows of the last statement
  ansible.builtin.debug:
    var: out.results[-1].rows

- name: Queries change nothing
  db2ops.docker.db2_command:
    container: db2server
    statements: [LIST ACTIVE DATABASES]
    changed: false
"""

RETURN = r"""
results:
  description: One entry per statement that ran, in order.
  returned: always
  type: list
  elements: dict
  contains:
    statement:
      description: The statement, secrets masked.
      type: str
    rc:
      description: The CLP return code of the statement (0 ok, 1 no rows, 2 warning, 4 error).
      type: int
    output:
      description: What the CLP printed for it, secrets masked.
      type: str
    messages:
      description: Db2 messages in the output (id, sqlcode, sqlstate, text).
      type: list
      elements: dict
    rows:
      description: Rows of a query as dicts keyed by column name (null values as null); null when no table.
      type: list
      elements: dict
commands:
  description: The statements run, or that would run in check mode, secrets masked.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.db2ops.docker.plugins.module_utils.actions import mask_secrets
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import RC_ERROR, Db2Clp, Db2Error, mask_statement
from ansible_collections.db2ops.docker.plugins.module_utils._db2.module import DATABASE_RULE, Db2Target, db2_target_module
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError, failure_note


def main():
    module = db2_target_module(dict(
        statements=dict(type="list", elements="str", required=True),
        database=dict(type="str"),
        stop_on_error=dict(type="bool", default=True),
        secrets=dict(type="list", elements="str", default=[], no_log=True),
        changed=dict(type="bool", default=True),
    ), exec_timeout=600, rules={"database": DATABASE_RULE}, multiline=("statements",),
        not_empty=("container", "statements"))
    p = module.params
    statements = list(p["statements"])
    if p["database"]:
        statements = ["CONNECT TO %s" % p["database"]] + statements + ["CONNECT RESET"]
    commands = [mask_statement(s, p["secrets"]) for s in statements]
    db2 = Db2Target(module)
    docker = db2.docker
    try:
        db2.open()
        if module.check_mode:
            module.exit_json(changed=p["changed"], results=[], commands=commands)
        results = db2.clp.run_script(statements, stop_on_error=p["stop_on_error"], secrets=p["secrets"])
    except Db2Error as exc:
        docker.fail(one_line(mask_secrets(str(exc), p["secrets"])), commands=commands, db2_message=exc.code,
                    sqlcode=exc.sqlcode,
                    output=mask_secrets(exc.output or "", p["secrets"]))
    except DockerOperationError as exc:
        docker.fail("%s. %s" % (exc, failure_note(exc, "Nothing was run.")), commands=commands)
    finally:
        docker.close()
    out = []
    for item in results:
        entry = item.as_dict()
        entry["output"] = mask_secrets(entry["output"] or "", p["secrets"])
        out.append(entry)
    failed = [item for item in results if item.rc >= RC_ERROR]
    if failed:
        first = Db2Clp.error_for(failed[0])
        module.fail_json(msg=one_line(mask_secrets(str(first), p["secrets"])), changed=p["changed"], results=out,
                         commands=commands)
    module.exit_json(changed=p["changed"], results=out, commands=commands)


def one_line(text):
    """A failure message on one line: a multi-line statement is echoed in it."""
    return " ".join(text.split())


if __name__ == "__main__":
    main()
