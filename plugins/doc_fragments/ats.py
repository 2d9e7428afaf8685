# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The ATS preconditions (module_utils/_ats/module.py PRECONDITION_OPTIONS).
    DOCUMENTATION = r"""
options:
  enable_ats:
    description:
      - When the instance registry variable C(DB2_ATS_ENABLE) is not YES, TRUE, 1 or ON, the scheduler
        never runs a task. With V(false) the module then fails and changes nothing; with V(true) it runs
        C(db2set DB2_ATS_ENABLE=YES) first (O(transport=docker_exec) only).
    type: bool
    default: false
  create_systoolspace:
    description:
      - C(ADMIN_TASK_ADD) needs the C(SYSTOOLSPACE) table space (C(SQL0204N) otherwise), which
        C(CREATE DATABASE) does not make. With V(false) the module fails when it is missing; with V(true)
        it runs C(CREATE TABLESPACE SYSTOOLSPACE IN IBMCATGROUP MANAGED BY AUTOMATIC STORAGE EXTENTSIZE 4).
    type: bool
    default: false
  activate_database:
    description:
      - ATS runs tasks of active databases only. With V(false) the module fails when the database is not
        active; with V(true) it runs C(ACTIVATE DATABASE) (O(transport=docker_exec) only).
    type: bool
    default: false
notes:
  - The preconditions are checked only when tasks are added or changed; removing tasks needs none of them.
    When the wanted tasks are already there, a rerun still makes the fixes asked for (O(enable_ats),
    O(activate_database)) and reports a change only when it made one.
  - IBM's scheduler is off until C(DB2_ATS_ENABLE) is set, and checks the active databases for new or changed
    tasks every five minutes, so a task added or changed now cannot run before its next check; the result
    says so in C(notes), and M(db2ops.docker.db2_ats_task_info) in each task's C(run_state).
  - Everything (task values, the database, the procedures in C(SYSCAT.ROUTINES), the preconditions) is
    checked before the first change, so bad input fails with one line and changes nothing.
  - Every string option, task lists included, must be one line of printable text (no line breaks, NUL or other
    control characters) of at most 4096 characters (C(procedure_input) up to 1 MiB). O(container) must be a
    container name or id, not a pattern. The error names the option, never the value.
  - Task names, C(procedure_input) and C(remarks) are data - C(;), quotes, C($(...)), C({{ }}) or non-ASCII text
    are stored literally and read back equal. Names and remarks are read back exactly (with their blanks, and a
    remark C(-) is not taken for NULL), so a rerun changes nothing. C(procedure_schema) and C(procedure_name) must
    be SQL identifiers, ordinary or in double quotes.
"""
