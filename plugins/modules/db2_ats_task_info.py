#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_ats_task_info
short_description: List the Db2 ATS tasks of a database with their last runs and a "crontab -l" view
version_added: 0.1.0
description:
  - Reads C(SYSTOOLS.ADMIN_TASK_LIST) and C(SYSTOOLS.ADMIN_TASK_STATUS) of one database, and reports
    whether the scheduler can run them (C(DB2_ATS_ENABLE), C(SYSTOOLSPACE), database active).
  - Also renders the task list the way the Docker Cookbook's "crontab -l" query does.
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.docker
  - db2ops.docker.db2
  - db2ops.docker.attributes
  - db2ops.docker.attributes.info_module
  - db2ops.docker.attributes.actiongroup_docker
options: {}
seealso:
  - module: db2ops.docker.db2_ats_tasks
"""

EXAMPLES = r"""
- name: Tasks and their last runs
  db2ops.docker.db2_ats_task_info:
    container: db2server
    database: TESTDB
  register: ats

- name: Show them as the cookbook does
  ansible.builtin.debug:
    var: ats.crontab
"""

RETURN = r"""
database:
  description: The database, upper-case.
  returned: always
  type: str
  sample: TESTDB
ats_enabled:
  description: Whether C(DB2_ATS_ENABLE) lets the scheduler run tasks.
  returned: always
  type: bool
db2_ats_enable:
  description: The value of C(DB2_ATS_ENABLE); null when unset.
  returned: always
  type: str
systoolspace:
  description: Whether the C(SYSTOOLSPACE) table space exists.
  returned: always
  type: bool
active:
  description: Whether the database is active (null over ibm_db, where it cannot be seen).
  returned: always
  type: bool
tasks:
  description:
    - The tasks, each with C(last_run) (the latest status row, or null), C(run_state) and C(run_state_text).
    - C(run_state) says what the status may be taken to mean, rather than claim one. V(scheduler_off) (C(DB2_ATS_ENABLE)
      off), V(inactive) (database not active), V(not_picked_up) (added or changed less than five minutes ago;
      IBM's scheduler checks for new or changed tasks every five minutes, so it cannot have run in this form yet),
      V(ran), V(status_hidden) (another user's task; C(ADMIN_TASK_STATUS) shows only the runs of the connecting
      user's tasks), V(not_run_yet).
  returned: always
  type: list
  elements: dict
  sample: [{name: DAILY BACKUP, schedule: "5 13 * * *", procedure_schema: SYSPROC, procedure_name: ADMIN_CMD,
            last_run: {status: COMPLETED, invocation: 1, sqlcode: 0}, run_state: ran,
            run_state_text: last run COMPLETED}]
runs:
  description: Every row of C(ADMIN_TASK_STATUS) (name, taskid, status, invocation, begin_time, end_time, sqlcode, sqlstate, rc).
  returned: always
  type: list
  elements: dict
crontab:
  description: One line per task, as the cookbook's "crontab -l" query prints them.
  returned: always
  type: list
  elements: str
  sample: ["0 18 * * *    call SYSPROC.ADMIN_CMD (VALUES('BACKUP DATABASE TESTDB ONLINE TO /database/backup WITHOUT PROMPTING')); -- \"DAILY BACKUP\""]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.db2ops.docker.plugins.module_utils._ats.module import AtsRunner, module_kwargs


def main():
    module = AnsibleModule(**module_kwargs({}))
    module.exit_json(**AtsRunner(module).info())


if __name__ == "__main__":
    main()
