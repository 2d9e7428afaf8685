#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_ats_tasks
short_description: The whole set of Db2 Administrative Task Scheduler (ATS) tasks of a database
version_added: 0.1.0
description:
  - Makes the ATS tasks of one database match a list, however long, with one read of
    C(SYSTOOLS.ADMIN_TASK_LIST) and one CLP session (one C(docker exec)) for all changes.
  - Tasks in the list are added, updated (C(ADMIN_TASK_UPDATE)) or, when the procedure or its input
    differs, removed and added again. With O(exclusive=true) every other task is removed.
  - Every task is validated (cron fields, lengths, timestamps, duplicates) and every precondition checked
    before the first change, so bad input fails with one line and changes nothing.
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.docker
  - db2ops.docker.db2
  - db2ops.docker.ats
  - db2ops.docker.attributes
  - db2ops.docker.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  tasks:
    description:
      - The tasks, each with the options of M(db2ops.docker.db2_ats_task).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Task name, unique, at most 128 bytes.
        type: str
        required: true
      schedule:
        description: 5-field UNIX cron schedule (C(minute hour day-of-month month day-of-week)).
        type: str
        required: true
      procedure_schema:
        description: Schema of the procedure.
        type: str
        default: SYSPROC
      procedure_name:
        description: Name of the procedure.
        type: str
        required: true
      procedure_input:
        description: SQL returning the one row of procedure arguments, for example C(VALUES('...')).
        type: str
      begin_timestamp:
        description: Earliest time the task may run.
        type: str
      end_timestamp:
        description: Last time the task may start.
        type: str
      max_invocations:
        description: How many times the task may run.
        type: int
      remarks:
        description: Description, at most 254 bytes.
        type: str
  exclusive:
    description:
      - Remove the tasks of the database that are not in O(tasks).
    type: bool
    default: false
seealso:
  - module: db2ops.docker.db2_ats_task
  - module: db2ops.docker.db2_ats_task_info
"""

EXAMPLES = r"""
- name: Exactly these maintenance tasks in TESTDB
  db2ops.docker.db2_ats_tasks:
    container: db2server
    database: TESTDB
    exclusive: true
    enable_ats: true
    create_systoolspace: true
    tasks:
      - name: DAILY BACKUP
        schedule: "0 18 * * *"
        procedure_name: ADMIN_CMD
        procedure_input: "VALUES('BACKUP DATABASE TESTDB ONLINE TO /database/backup WITHOUT PROMPTING')"
      - name: RUNSTATS
        schedule: "0 15 * * mon-fri"
        procedure_name: ADMIN_CMD
        procedure_input: "VALUES('RUNSTATS ON TABLE DB2INST1.ORDERS WITH DISTRIBUTION')"

- name: The same through ibm_db to the server's SSL port
  db2ops.docker.db2_ats_tasks:
    transport: ibm_db
    db_host: db2host1.example.com
    db_user: db2inst1
    db_password: "{{ vault_db2inst1_password }}"
    db_ssl_ca: /etc/db2ops/db2-server.arm
    database: TESTDB
    tasks: "{{ db2_ats_tasks }}"
"""

RETURN = r"""
commands:
  description: The statements run (or that would run in check mode), in order.
  returned: always
  type: list
  elements: str
actions:
  description: One entry per task that changed (V(add), V(update), V(replace), V(remove)) with the fields that differed.
  returned: always
  type: list
  elements: dict
added:
  description: Names of the tasks added.
  returned: always
  type: list
  elements: str
updated:
  description: Names of the tasks updated or replaced.
  returned: always
  type: list
  elements: str
removed:
  description: Names of the tasks removed.
  returned: always
  type: list
  elements: str
tasks:
  description: The task set after the run, sorted by name.
  returned: always
  type: list
  elements: dict
notes:
  description:
    - What the scheduler will and will not have done yet, e.g. that new or changed tasks are picked up at its
      next check of the database (every five minutes, IBM), so they cannot have run before then.
  returned: always
  type: list
  elements: str
  sample: ["The Db2 task scheduler picks up new or changed tasks when it next checks the database (every 5 minutes): until then they cannot run."]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.db2ops.docker.plugins.module_utils._ats.module import (
    PRECONDITION_OPTIONS,
    TASK_OPTIONS,
    AtsRunner,
    module_kwargs,
)


def main():
    task_spec = dict(TASK_OPTIONS, name=dict(type="str", required=True),
                     schedule=dict(type="str", required=True), procedure_name=dict(type="str", required=True))
    options = dict(tasks=dict(type="list", elements="dict", default=[], options=task_spec),
                   exclusive=dict(type="bool", default=False))
    options.update(PRECONDITION_OPTIONS)
    module = AnsibleModule(**module_kwargs(options))
    runner = AtsRunner(module)
    module.exit_json(**runner.sync(runner.tasks_from_params(module.params["tasks"]),
                                   exclusive=module.params["exclusive"]))


if __name__ == "__main__":
    main()
