#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_restore
short_description: Restore a Db2 database in a container from a backup image on its storage
version_added: 0.1.0
description:
  - Restores one database of a running Db2 container from a backup image in a directory of its storage,
    chosen by timestamp or the newest one, into the same database or a new one (O(into)).
  - An image of an offline backup is restored C(WITHOUT ROLLING FORWARD). For an image of an online backup,
    Db2 requires a roll-forward (SQL2537N); the module then restores its logs to a C(LOGTARGET) directory and
    runs C(ROLLFORWARD DATABASE ... TO END OF BACKUP AND COMPLETE).
  - The target database must be unused, so the module deactivates it, and with O(force_applications=true)
    forces applications off first.
  - A restore always replaces data; the module always reports a change. Check mode shows the statements.
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
      - Checks that the image exists and returns the statements that would run; nothing is restored.
  diff_mode:
    support: none
options:
  database:
    description: The database whose backup image to restore (the alias in the image file name).
    type: str
    required: true
  timestamp:
    description: The image's timestamp (C(YYYYMMDDhhmmss)), or V(latest) for the newest image of O(database).
    type: str
    required: true
  path:
    description: Directory inside the container holding the images.
    type: str
    default: /database/backup
  into:
    description:
      - Restore into this database instead (created when it does not exist).
      - An existing database here is refused unless O(replace_existing=true), as its data would be replaced.
    type: str
  replace_existing:
    description:
      - Allow O(into) to name a database that exists, replacing all its data with the image.
      - Not needed to restore a database from its own image (O(into) unset or equal to O(database)).
    type: bool
    default: false
  force_applications:
    description: Force all applications off the instance before the restore.
    type: bool
    default: false
  exec_timeout:
    description: Seconds the restore may take.
    type: int
    default: 3600
seealso:
  - module: db2ops.docker.db2_backup
"""

EXAMPLES = r"""
- name: Put TESTDB back as it was at the backup taken before the upgrade
  db2ops.docker.db2_restore:
    container: db2server
    database: TESTDB
    timestamp: "{{ upgrade.backups[0].timestamp }}"
    force_applications: true

- name: The newest image of TESTDB as a copy to inspect
  db2ops.docker.db2_restore:
    container: db2server
    database: TESTDB
    timestamp: latest
    into: TESTCOPY
"""

RETURN = r"""
restored:
  description: What was restored.
  returned: always
  type: dict
  sample: {database: TESTDB, into: TESTDB, timestamp: "20191106143831",
           file: /database/backup/TESTDB.0.db2inst1.DBPART000.20191106143831.001, rolled_forward: false}
commands:
  description: The statements run, or that would run in check mode.
  returned: always
  type: list
  elements: str
"""


from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import (
    SAFE_PATH,
    TIMESTAMP,
    BackupInputError,
    activate_statement,
    check_database,
    check_path,
    list_images,
    run_restore,
    select_image,
)
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Error
from ansible_collections.db2ops.docker.plugins.module_utils._db2.module import DATABASE_RULE, Db2Target, db2_target_module
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError

PATH_RULE = (SAFE_PATH, "an absolute path of letters, digits and _ . @ + -")
TIMESTAMP_RULE = (r"[0-9]{14}|latest", "a backup timestamp YYYYMMDDhhmmss or latest")


def main():
    module = db2_target_module(dict(
        database=dict(type="str", required=True),
        timestamp=dict(type="str", required=True),
        path=dict(type="str", default="/database/backup"),
        into=dict(type="str"),
        replace_existing=dict(type="bool", default=False),
        force_applications=dict(type="bool", default=False),
    ), exec_timeout=3600, rules={"database": DATABASE_RULE, "into": DATABASE_RULE, "timestamp": TIMESTAMP_RULE,
                                 "path": PATH_RULE})
    p = module.params
    db2 = Db2Target(module)
    try:
        path = check_path(p["path"])
        database = check_database(p["database"])
        into = check_database(p["into"]) if p["into"] else None
        if p["timestamp"] != "latest" and not TIMESTAMP.fullmatch(p["timestamp"]):
            raise BackupInputError("timestamp %r is neither YYYYMMDDhhmmss nor 'latest'" % p["timestamp"])
        db2.open()
        facts = db2.facts()
        image = select_image(list_images(db2.clp, path), database, p["timestamp"])
        if image is None:
            raise BackupInputError("no backup image of %s taken at %s in %s of container %s"
                                   % (database, p["timestamp"], path, p["container"]))
        target = into or database
        if target != database and target in facts["databases"] and not p["replace_existing"]:
            raise BackupInputError("database %s exists in container %s: restoring %s into it would replace all its "
                                   "data; set replace_existing=true to overwrite it" % (target, p["container"], database))
        rolled_forward, commands = run_restore(
            db2.clp, database, path, image["timestamp"], into=into, target_exists=target in facts["databases"],
            force_applications=p["force_applications"], check_mode=module.check_mode)
        if not module.check_mode and target in facts["active_databases"]:
            commands.append(activate_statement(target))
            try:
                db2.clp.run(activate_statement(target))
            except (Db2Error, DockerOperationError) as exc:  # the restore itself is done: say so
                db2.docker.fail("restored %s from the image of %s, but activating it again failed: %s"
                                % (target, image["timestamp"], exc), changed=True, commands=commands)
    except (BackupInputError, DockerOperationError, Db2Error) as exc:
        db2.fail_on(exc, doing="restore")
    finally:
        db2.close()
    module.exit_json(changed=True, commands=commands, restored=dict(
        database=database, into=target, timestamp=image["timestamp"], file=image["file"],
        rolled_forward=rolled_forward))


if __name__ == "__main__":
    main()
