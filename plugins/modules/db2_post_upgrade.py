#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_post_upgrade
short_description: Run IBM's post-upgrade tasks of a fix pack on a running Db2 container
version_added: 0.1.0
description:
  - Runs what IBM asks for after a fix pack, as M(db2ops.docker.db2_container_upgrade) runs it after it moves a
    container to a new image, on a container that already runs the new level. First C(db2updv111), C(db2updv115)
    or C(db2updv121) (after the running C(db2level)) for each database whose catalog (C(SYSIBM.SYSVERSIONS)) is
    behind the code, then IBM's standard binds (C(db2schema.bnd), C(@db2ubind.lst), C(@db2cli.lst) from
    C(sqllib/bnd)) on each database.
  - Meant for the rolling fix pack update of an HADR pair (C(playbooks/hadr_fixpack.yml)). Both sides are upgraded
    with O(db2ops.docker.db2_container_upgrade#module:hadr_rolling_update=true), which runs no post-upgrade task
    on a standby. Then this module runs once, on the primary, when both sides run the new level. The catalog change
    of C(db2updvNNN) reaches the standby through the log.
  - A database in the HADR C(STANDBY) role is never touched. It refuses connections (C(SQL1776N)). By default it
    is left out and returned in RV(standby); naming it in O(databases) fails before anything is changed.
  - The binds run every time (IBM's bind options make a rerun harmless), so a run that reaches the binds reports
    a change. C(db2updvNNN) runs only where the catalog is behind.
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
      - Reads the databases and their HADR roles and returns the plan in RV(commands); C(db2updvNNN) is listed for
        every database, marked C(if needed), because it runs only where the catalog is behind. Nothing runs.
  diff_mode:
    support: none
options:
  databases:
    description:
      - The databases to run the tasks on. Each must be cataloged in the container and not an HADR standby.
      - Empty (the default) means every cataloged database whose HADR role is not C(STANDBY).
    type: list
    elements: str
    default: []
  exec_timeout:
    description: Seconds one C(docker exec) (C(db2updvNNN), or the binds of all databases) may take.
    type: int
    default: 3600
seealso:
  - module: db2ops.docker.db2_container_upgrade
"""

EXAMPLES = r"""
- name: Post-upgrade tasks on the primary, once both sides of the pair run the new level
  db2ops.docker.db2_post_upgrade:
    container: db2primary
  register: post

- name: Only TESTDB
  db2ops.docker.db2_post_upgrade:
    container: db2primary
    databases: [TESTDB]
"""

RETURN = r"""
post_upgrade:
  description: What was done, in order. Empty in check mode (see RV(commands)).
  returned: always
  type: list
  elements: str
  sample: ["db2updv115 -d TESTDB", "binds on TESTDB"]
databases:
  description: The databases the tasks ran on (or would run on, in check mode).
  returned: always
  type: list
  elements: str
  sample: [TESTDB]
standby:
  description: Cataloged databases left out because they are HADR standbys (only when O(databases) is empty).
  returned: always
  type: list
  elements: str
  sample: []
level:
  description: The Db2 level of the container (its C(db2level)), which decides the C(db2updvNNN) tool.
  returned: always
  type: str
  sample: 11.5.9.0
commands:
  description: The commands run, in order; in check mode the ones a real run would run.
  returned: always
  type: list
  elements: str
  sample: ["db2updv115 -d TESTDB", "CONNECT TO TESTDB",
           "BIND /database/config/db2inst1/sqllib/bnd/db2schema.bnd BLOCKING ALL GRANT PUBLIC SQLERROR CONTINUE"]
"""

from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionRecorder
from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import BackupInputError, check_database
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Error
from ansible_collections.db2ops.docker.plugins.module_utils._db2.module import DATABASE_RULE, Db2Target, db2_target_module
from ansible_collections.db2ops.docker.plugins.module_utils._db2.post_upgrade import (
    PostUpgradeError,
    choose_databases,
    run_post_upgrade,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError


def main():
    module = db2_target_module(dict(databases=dict(type="list", elements="str", default=[])), exec_timeout=3600,
                               rules={"databases": DATABASE_RULE})
    p = module.params
    target = Db2Target(module)
    recorder = ActionRecorder(check_mode=module.check_mode)
    try:
        try:
            wanted = [check_database(name) for name in p["databases"]]
        except BackupInputError:  # the gate checked the same rule: only a safety net, never the value
            module.fail_json(msg="databases: not a Db2 database name; nothing was changed", changed=False)
        target.open()
        facts = target.facts()
        databases, standby = choose_databases(target.clp, facts["databases"], wanted, p["container"])
        level = facts["db2level"]["level"]
        done = run_post_upgrade(target.clp, databases, facts["instance_home"], level, (), recorder) if databases else []
    except (PostUpgradeError, DockerOperationError, Db2Error) as exc:
        # A bind that failed may follow binds (and db2updv) that went through.
        started = any(c.startswith(("BIND ", "db2updv")) for c in recorder.commands) and not module.check_mode
        target.fail_on(recorder.fail(exc).mark(changed=exc.changed or started), doing="post-upgrade tasks")
    finally:
        target.close()
    module.exit_json(changed=bool(databases), post_upgrade=[] if module.check_mode else done, databases=databases,
                     standby=standby, level=level, commands=recorder.commands)


if __name__ == "__main__":
    main()
