#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_ats_task
short_description: One task of the Db2 Administrative Task Scheduler (ATS), present or absent
version_added: 0.1.0
description:
  - Adds, changes or removes one scheduled task of a Db2 database with C(SYSPROC.ADMIN_TASK_ADD),
    C(ADMIN_TASK_UPDATE) and C(ADMIN_TASK_REMOVE), after comparing with C(SYSTOOLS.ADMIN_TASK_LIST).
  - C(ADMIN_TASK_UPDATE) cannot change the procedure or its input; such a change removes and re-adds
    the task (its run history in C(ADMIN_TASK_STATUS) goes with it, as Db2 does on remove).
  - Values are compared after normalisation (cron blanks and month/day name case, timestamp forms,
    identifier case), so a rerun changes nothing.
  - To keep a whole set of tasks in one call, use M(db2ops.docker.db2_ats_tasks).
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
  name:
    description:
      - Task name, unique in the database, at most 128 bytes.
    type: str
    required: true
  state:
    description:
      - V(present) adds or updates the task, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  schedule:
    description:
      - UNIX cron schedule with exactly 5 fields, C(minute hour day-of-month month day-of-week), as Db2 ATS
        takes it; ranges, lists, steps and C(jan)-C(dec)/C(sun)-C(sat) names are allowed. Required with
        O(state=present).
    type: str
  procedure_schema:
    description:
      - Schema of the stored procedure the task calls.
    type: str
    default: SYSPROC
  procedure_name:
    description:
      - Name of the stored procedure, for example C(ADMIN_CMD). Required with O(state=present).
    type: str
  procedure_input:
    description:
      - SQL that returns the single row of procedure arguments, run at every execution, for example
        C(VALUES('RUNSTATS ON TABLE DB2INST1.T1')).
    type: str
  begin_timestamp:
    description:
      - Earliest time the task may run (C(YYYY-MM-DD HH:MM[:SS]) or Db2's C(YYYY-MM-DD-HH.MM.SS)). Db2 refuses
        a time in the past for a new task; once passed, it no longer counts as a difference.
    type: str
  end_timestamp:
    description:
      - Last time the task may start.
    type: str
  max_invocations:
    description:
      - How many times the task may run; unlimited when not set.
    type: int
  remarks:
    description:
      - Description, at most 254 bytes.
    type: str
seealso:
  - module: db2ops.docker.db2_ats_tasks
  - module: db2ops.docker.db2_ats_task_info
  - name: ADMIN_TASK_ADD procedure
    description: IBM Db2 documentation.
    link: https://www.ibm.com/docs/en/db2/11.1?topic=views-admin-task-add-procedure-schedule-new-task
"""

EXAMPLES = r"""
- name: The cookbook's daily backup, run by Db2 itself
  db2ops.docker.db2_ats_task:
    container: db2server
    database: TESTDB
    name: DAILY BACKUP
    schedule: "5 13 * * *"
    procedure_name: ADMIN_CMD
    procedure_input: "VALUES('BACKUP DATABASE TESTDB ONLINE TO /database/backup WITHOUT PROMPTING')"
    remarks: Backup Job Description
    enable_ats: true
    create_systoolspace: true

- name: Remove it
  db2ops.docker.db2_ats_task:
    container: db2server
    database: TESTDB
    name: DAILY BACKUP
    state: absent
"""

RETURN = r"""
commands:
  description: The statements run (or that would run in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["CALL SYSPROC.ADMIN_TASK_ADD('DAILY BACKUP', NULL, NULL, NULL, '5 13 * * *', 'SYSPROC', 'ADMIN_CMD', ...)"]
actions:
  description: What changed, one entry per task (V(add), V(update), V(replace) or V(remove)) with the fields that differed.
  returned: always
  type: list
  elements: dict
task:
  description: The task after the run (null when absent).
  returned: always
  type: dict
  sample: {name: DAILY BACKUP, schedule: "5 13 * * *", procedure_schema: SYSPROC, procedure_name: ADMIN_CMD}
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
    options = dict(name=dict(type="str", required=True),
                   state=dict(type="str", default="present", choices=["present", "absent"]))
    options.update(TASK_OPTIONS)
    options.update(PRECONDITION_OPTIONS)
    module = AnsibleModule(**module_kwargs(options, required_if=[
        ["state", "present", ["schedule", "procedure_name"]]]))
    runner = AtsRunner(module)
    if module.params["state"] == "absent":
        result = runner.sync([], absent=[module.params["name"]], only=[module.params["name"]])
    else:
        result = runner.sync(runner.tasks_from_params([module.params]), only=[module.params["name"]])
    tasks = result.pop("tasks")
    result["task"] = next((t for t in tasks if t["name"] == module.params["name"]), None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
