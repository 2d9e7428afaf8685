# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: db2_offline_backup_script
short_description: The script of an offline backup job for a Db2 container
version_added: 0.1.0
author:
  - db2ops.docker developers (@db2ops)
description:
  - Renders the bash script that role C(db2ops.docker.db2_maintenance) feeds to
    C(docker exec -i -u root CONTAINER bash -s) for a job of C(type=offline_backup).
  - The script creates the backup directory for the instance owner, forces the applications off,
    deactivates the database, takes an offline C(BACKUP DATABASE ... TO path), activates the
    database again when it was active, and on success deletes all but the newest O(_input.keep) backups.
  - Offline means the database, not the container; the instance stays up, as BACKUP needs it.
  - Bad input (database name, path, keep, instance owner) fails the task before anything is written.
  - Every word of the script is quoted, so a database name with C($), C(#) or C(@) (legal in Db2) is matched
    literally by the C(ls) and the pruning, never expanded by the shell.
options:
  _input:
    description: The job.
    type: dict
    required: true
    suboptions:
      database:
        description: The database to back up.
        type: str
        required: true
      path:
        description: Absolute backup directory in the container (letters, digits and C(_ . @ + -)).
        type: str
        default: /database/backup
      keep:
        description: Keep the newest N backups of the database in O(_input.path) (N >= 1); none to keep all.
        type: int
      force_applications:
        description: C(FORCE APPLICATION ALL) first (every application of the instance); when false, a connected
          application makes the backup fail with C(SQL1035N).
        type: bool
        default: true
      compress:
        description: C(BACKUP ... COMPRESS).
        type: bool
        default: false
  instance_owner:
    description: The instance owner, an OS user name (C(a-z), C(0-9), C(_), C(-); 1-30 characters).
    type: str
    default: db2inst1
"""

EXAMPLES = r"""
- name: The script of a nightly offline backup that keeps a week of images
  ansible.builtin.copy:
    content: "{{ {'database': 'TESTDB', 'path': '/database/backup', 'keep': 7} | db2ops.docker.db2_offline_backup_script }}"
    dest: /usr/local/lib/db2ops/nightly-backup.offline-backup.sh
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The bash script, to be run as root in the container.
  type: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import (
    DEFAULT_BACKUP_PATH,
    BackupInputError,
    offline_backup_script,
)


def db2_offline_backup_script(job, instance_owner="db2inst1"):
    if not isinstance(job, dict):
        raise AnsibleFilterError("db2_offline_backup_script expects a job (a dict), not %r" % (job,))
    keep = job.get("keep")
    if isinstance(keep, str) and keep.strip().isdigit():
        keep = int(keep)
    try:
        return offline_backup_script(job.get("database"), job.get("path") or DEFAULT_BACKUP_PATH, instance_owner, keep=keep,
                                     force_applications=boolean(job.get("force_applications", True), strict=True),
                                     compress=boolean(job.get("compress", False), strict=True))
    except (BackupInputError, TypeError) as exc:
        raise AnsibleFilterError("job %s: %s" % (job.get("name", "(no name)"), exc))


class FilterModule(object):
    def filters(self):
        return {"db2_offline_backup_script": db2_offline_backup_script}
