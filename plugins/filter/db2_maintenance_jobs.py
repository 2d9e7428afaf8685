# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: db2_maintenance_jobs
short_description: The job list of role db2_maintenance, checked and normalised
version_added: 0.1.0
author:
  - db2ops.docker developers (@db2ops)
description:
  - Checks every job of a C(db2ops.docker.db2_maintenance) job list (the AWX survey's C(db2_jobs)) before
    anything is scheduled, and returns the list with each schedule in canonical form (single blanks,
    month and day names in lower case).
  - Every string of every job (C(name), C(container), C(command), C(instance), C(database), C(procedure),
    C(docker_host), C(schedule), C(remarks), C(path) and any other key) must be one line of printable text.
    A line break in a host or client job would start a second line in the cron file.
  - Names follow their rules (full matches) - C(container) Docker's container name rule, C(instance) an OS
    user name, C(database) a Db2 database name, C(docker_host) C(tcp://HOST:PORT) or C(ssh://[USER@]HOST).
  - Schedules are 5 cron fields with numbers in range, ranges, steps, lists and month or day names; host and
    client schedules as Debian's cron reads them (a step needs C(*) or a range before it), because one line
    cron cannot read makes it ignore the whole file.
  - A bad job fails the task with one line naming the job (or its position) and the field, never the value.
options:
  _input:
    description: The jobs, as documented for role C(db2ops.docker.db2_maintenance) (O(db2_maintenance_jobs)).
    type: list
    elements: dict
    required: true
  instance_owner:
    description: The instance owner of jobs without their own C(instance) (the role's C(db2_maintenance_instance)).
    type: str
    default: db2inst1
"""

EXAMPLES = r"""
- name: Check the job list before any change
  ansible.builtin.set_fact:
    jobs: "{{ db2_jobs | db2ops.docker.db2_maintenance_jobs(instance_owner='db2inst1') }}"
"""

RETURN = r"""
_value:
  description: The jobs, each schedule in canonical form; everything else as given.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.db2ops.docker.plugins.module_utils._ats.maintenance import JobError, check_jobs


def db2_maintenance_jobs(jobs, instance_owner="db2inst1"):
    try:
        return check_jobs(jobs, instance=instance_owner)
    except JobError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"db2_maintenance_jobs": db2_maintenance_jobs}
