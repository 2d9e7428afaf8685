#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_backup
short_description: Back up Db2 databases of a container to a path on its storage
version_added: 0.1.0
description:
  - Takes an offline or online backup of one or all databases of a running Db2 container with the CLP
    C(BACKUP DATABASE) command, to a directory on the container's storage (so the images survive the
    container), and lists the image files and timestamps.
  - An offline backup needs the database unused. With O(force_applications=true) applications are forced
    off; the database is deactivated for the backup and activated again afterwards if it was active.
  - An online backup needs archive logging (C(LOGARCHMETH1)); Db2 refuses it otherwise (SQL2413N).
  - With O(reuse_within), a database whose newest image is younger than that many seconds is not backed up
    again, which makes reruns of a playbook idempotent.
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.db2_target
  - db2ops.docker.docker
  - db2ops.docker.attributes
  - db2ops.docker.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
    details:
      - Returns the statements that would run; nothing is backed up.
  diff_mode:
    support: none
options:
  databases:
    description: Databases to back up; all cataloged databases when empty.
    type: list
    elements: str
    default: []
  mode:
    description: V(offline) or V(online) backup.
    type: str
    choices: [offline, online]
    default: offline
  path:
    description: Directory inside the container for the images; created for the instance owner when missing.
    type: str
    default: /database/backup
  compress:
    description: Compress the images.
    type: bool
    default: false
  force_applications:
    description: For an offline backup, force all applications off the instance first (C(FORCE APPLICATION ALL)).
    type: bool
    default: false
  reuse_within:
    description:
      - Seconds. Skip a database whose newest image in O(path) is younger; V(0) always backs up.
    type: int
    default: 0
  exec_timeout:
    description: Seconds one backup may take.
    type: int
    default: 3600
seealso:
  - module: db2ops.docker.db2_restore
  - module: db2ops.docker.db2_container_upgrade
"""

EXAMPLES = r"""
- name: Offline backup of every database, as before a fix pack
  db2ops.docker.db2_backup:
    container: db2server
    force_applications: true
  register: backup

- name: Online backup of TESTDB, compressed, at most once a day
  db2ops.docker.db2_backup:
    container: db2server
    databases: [TESTDB]
    mode: online
    compress: true
    reuse_within: 86400
"""

RETURN = r"""
backups:
  description: The images taken by this run.
  returned: always
  type: list
  elements: dict
  sample: [{database: TESTDB, timestamp: "20191106143831", mode: offline, path: /database/backup,
            files: [/database/backup/TESTDB.0.db2inst1.DBPART000.20191106143831.001]}]
reused:
  description: Databases not backed up because of O(reuse_within), with their newest image.
  returned: always
  type: list
  elements: dict
images:
  description: Every backup image in O(path) after the run (database, timestamp, file, size).
  returned: always
  type: list
  elements: dict
commands:
  description: The statements run, or that would run in check mode.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import (
    SAFE_PATH,
    BackupInputError,
    check_database,
    check_path,
    list_images,
    recent_images,
    run_backup,
)
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Error
from ansible_collections.db2ops.docker.plugins.module_utils._db2.module import DATABASE_RULE, Db2Target, db2_target_module
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError

PATH_RULE = (SAFE_PATH, "an absolute path of letters, digits and _ . @ + -")


def main():
    module = db2_target_module(dict(
        databases=dict(type="list", elements="str", default=[]),
        mode=dict(type="str", choices=["offline", "online"], default="offline"),
        path=dict(type="str", default="/database/backup"),
        compress=dict(type="bool", default=False),
        force_applications=dict(type="bool", default=False),
        reuse_within=dict(type="int", default=0),
    ), exec_timeout=3600, rules={"databases": DATABASE_RULE, "path": PATH_RULE})
    p = module.params
    target = Db2Target(module)
    try:
        path = check_path(p["path"])
        wanted = [check_database(name) for name in p["databases"]]
        target.open()
        facts = target.facts()
        unknown = sorted(set(wanted) - set(facts["databases"]))
        if unknown:
            raise BackupInputError("database %s is not cataloged in container %s (it has: %s)"
                                   % (", ".join(unknown), p["container"], ", ".join(facts["databases"]) or "none"))
        databases = wanted or facts["databases"]
        images = list_images(target.clp, path)
        reused = recent_images(images, databases, p["reuse_within"]) if p["reuse_within"] > 0 else {}
        todo = [d for d in databases if d not in reused]
        backups, commands = run_backup(target.clp, todo, path, online=p["mode"] == "online", compress=p["compress"],
                                       force_applications=p["force_applications"],
                                       reactivate=facts["active_databases"], check_mode=module.check_mode)
        images = list_images(target.clp, path)
    except (BackupInputError, DockerOperationError, Db2Error) as exc:
        target.fail_on(exc, doing="backup")
    finally:
        target.close()
    module.exit_json(changed=bool(todo), backups=backups, reused=[reused[d] for d in sorted(reused)],
                     images=images, commands=commands)


if __name__ == "__main__":
    main()
