#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_container_upgrade
short_description: Move a Db2 container to a new image (fix pack or version) on the same storage, safely
version_added: 0.1.0
description:
  - Recipe 1 of the Docker cookbook as one idempotent operation. The steps are inspect, refuse a target
    older than the storage, back up, rename the old container to C(<name>_<level>_upgrading), stop it,
    create the new container with everything carried over, wait until Db2 is ready, verify C(db2level),
    run the post-upgrade tasks, then keep the old container as C(<name>_<level>) or remove it.
  - The new container gets B(everything) of the old one from C(docker inspect), not from task options
    (mounts, environment including C(--env-file) values, ports, host name, links, networks with aliases
    and static addresses, privileged mode, capabilities, devices, restart policy, labels, resource
    limits, ulimits, C(--stop-timeout)). Only what the user set is carried from C(Config); the new image's own
    defaults win over the old image's.
  - A container started without C(-v) keeps C(/database) on the anonymous volume that IBM's images declare
    (C(VOLUME /database)); the new container mounts that same volume by its name, never a new empty one.
  - A container started with C(--rm) is refused before anything changes, as stopping it would delete it and its
    anonymous volumes, leaving no way back.
  - A failed backup (for example a full file system) stops the upgrade before the old container is touched;
    the databases that an offline backup deactivated and that were active are activated again.
  - Any failure after the stop and before the new container is verified removes the new container, renames
    the old one back, starts it and waits until it is ready; the task then fails with the step that failed.
    A failure of the post-upgrade tasks does not roll back, because the new Db2 has already updated the
    instance on the storage and the old image could not start on it; the new container stays up and a
    rerun of the task retries the post-upgrade tasks.
  - At no moment do two containers run on one storage; another running container on the same storage
    makes the module refuse before it changes anything.
  - A run that was killed half way is visible as a container named C(<name>_<level>_upgrading); running
    the task again continues forward from where it stopped.
  - Already at the target image and level, nothing is stopped and the task reports no change.
  - B(Version upgrade) (the image's Db2 version is newer than the storage's, for example 11.1 to 11.5 or 11.5 to
    12.1) is its own path, as IBM documents it. Before anything stops, every database must connect and answer
    (as C(db2ckupgrade) requires, so no backup, rollforward or restore pending) and the jump must be one IBM
    supports (11.5 from 10.5 or 11.1, 12.1 from 11.1 or 11.5). A backup is required (O(backup.mode=none) is
    refused unless O(force_no_backup=true)). A copy of the instance directory (the instance owner's home under
    C(/database/config)) is kept next to it as C(<home>.db2ops-before-upgrade) before the stop. Once the new
    instance is up, C(UPGRADE DATABASE) runs for every database (C(SQL1103W), already upgraded, counts as done);
    the container is ready when every database is upgraded and answers; then the binds.
  - A version upgrade that fails before the new container is verified is rolled back although the new image has
    already upgraded the instance. The new container is removed, the kept copy replaces the instance directory
    (by a short-lived container of the old image, without Db2), the old container starts, and every database it
    cannot open (upgraded, or left half upgraded) is restored from the backup this run took. See
    C(docs/upgrade.md) for exactly what is kept.
  - B(HADR pairs.) Before anything changes the HADR role of every database is read (C(GET DB CFG)). A container
    with a database in an HADR pair (role C(PRIMARY) or C(STANDBY)) is refused unless O(hadr_rolling_update=true),
    and a version upgrade of such a container is refused always (IBM supports only fix packs and mod packs as a
    rolling update). See O(hadr_rolling_update) and C(playbooks/hadr_fixpack.yml).
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.docker
  - db2ops.docker.attributes
  - db2ops.docker.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
    details:
      - Returns the plan in RV(steps) (status C(planned)), the commands a real run would run in RV(commands),
        and what would be carried over; changes nothing.
  diff_mode:
    support: full
    details:
      - Shows image, image id and Db2 level before and after.
options:
  container:
    description: Name of the running Db2 container to upgrade.
    type: str
    required: true
  image:
    description:
      - The image to move to, for example C(icr.io/db2_community/db2:11.5.9.0).
    type: str
    required: true
  target_level:
    description:
      - The Db2 level O(image) provides, such as C(11.1.4.4) or C(11.1.3.3a).
      - By default taken from the image's C(db2ops.level) label (set by M(db2ops.docker.db2_image)), else from
        the tag (C(11.1.4.4-x86_64) gives C(11.1.4.4)).
      - The new container's C(db2level) must report this level or the upgrade is rolled back.
    type: str
  pull:
    description:
      - V(missing) pulls O(image) when the Docker host does not have it; V(never) fails instead.
    type: str
    choices: [missing, never]
    default: missing
  backup:
    description: Backup of every database before anything is stopped. A failed backup stops the upgrade.
    type: dict
    default: {}
    suboptions:
      mode:
        description:
          - V(offline) forces applications off, deactivates each database and takes a consistent image
            (the databases that were active are active again in the new container).
          - V(online) needs archive logging (C(LOGARCHMETH1)); V(none) skips the backup.
        type: str
        choices: [offline, online, none]
        default: offline
      path:
        description: Directory inside the container, on the storage, for the backup images.
        type: str
        default: /database/backup
      compress:
        description: Compress the backup images.
        type: bool
        default: false
      space_factor:
        description:
          - Refuse the upgrade, before anything is touched, when the free space on the storage is less than
            this many times what the databases under C(/database/data) take. Checked when O(backup.path) is on
            the storage (under C(/database)); V(0) turns the check off.
        type: float
        default: 1.2
  post_upgrade:
    description:
      - Run the post-upgrade tasks of IBM's fix pack procedure on every database after the new container is
        verified; C(db2updv111)/C(db2updv115)/C(db2updv121) where a database's catalog (C(SYSIBM.SYSVERSIONS)) is
        behind the code, then the standard binds (C(db2schema.bnd), C(@db2ubind.lst), C(@db2cli.lst) from C(sqllib/bnd)).
    type: bool
    default: true
  force_no_backup:
    description:
      - Allow a version upgrade with O(backup.mode=none). Without a backup a failed version upgrade cannot bring the
        old container back with its databases; fix pack upgrades do not need this.
    type: bool
    default: false
  hadr_rolling_update:
    description:
      - Upgrade this container as one step of the rolling update of an HADR pair (in IBM's order the standby
        first, then a takeover on it, then the old primary as the new standby). C(playbooks/hadr_fixpack.yml)
        runs the whole update.
      - Only a container whose pair databases are all standbys is upgraded; a primary is refused (take over on
        the standby first). A standby database is not backed up (a standby cannot be, C(SQL1117N); the primary
        holds the data), the readiness probe does not connect to it (C(SQL1776N)), no post-upgrade task runs on it
        (they run once on the primary, see M(db2ops.docker.db2_post_upgrade)), and once the new level is verified it
        is started again with C(START HADR ON DATABASE <db> AS STANDBY); a rollback starts it as standby again too.
        Databases of the container that are not in a pair are handled as usual.
      - Run again on a container that already runs O(image), it starts the standby databases whose HADR does not
        run (for example after a failed C(START HADR)) and changes nothing else.
      - V(false) refuses any container with a database in an HADR pair, before anything is changed.
    type: bool
    default: false
  old_container:
    description:
      - V(keep) leaves the old container, stopped, as C(<name>_<old level>) after a verified upgrade, as a way
        back for the DBA; V(remove) deletes it (never its volumes).
      - After a version upgrade, V(keep) also keeps the copy of the instance directory (C(<home>.db2ops-before-upgrade));
        V(remove) deletes it.
    type: str
    choices: [keep, remove]
    default: keep
  stop_timeout:
    description:
      - Seconds C(docker stop) waits for the old container before killing it; the container's own
        C(docker run --stop-timeout), when longer, wins (it is carried over to the new container too).
    type: int
    default: 120
  ready_timeout:
    description:
      - Seconds the new container may take to log C(Setup has completed.) and answer a CLP probe on every
        database (real Db2 images take about 90 s, more on slow storage).
      - In a rollback the old container is given this long too, but at least 300 seconds.
    type: int
    default: 900
  exec_timeout:
    description: Seconds one Db2 command (a backup, a bind) may take.
    type: int
    default: 3600
notes:
  - Going back to an older level on the same storage is refused; Db2 does not support it. After a failure
    in the post-upgrade step the storage may already be at the new level, in which case the old container
    cannot start again; the result names the backup images to restore with M(db2ops.docker.db2_restore).
seealso:
  - module: db2ops.docker.db2_container_info
  - module: db2ops.docker.db2_backup
"""

EXAMPLES = r"""
- name: Fix pack 4 for db2server, as in the cookbook
  db2ops.docker.db2_container_upgrade:
    container: db2server
    image: store/ibmcorp/db2_developer_c:11.1.4.4-x86_64

- name: Version upgrade with an online backup, removing the old container when verified
  db2ops.docker.db2_container_upgrade:
    container: db2prod
    image: icr.io/db2_community/db2:11.5.9.0
    backup:
      mode: online
      path: /database/backup/pre-11.5
    old_container: remove
    ready_timeout: 1800
  register: upgrade

- name: The standby of an HADR pair, as the first step of a rolling fix pack
  db2ops.docker.db2_container_upgrade:
    container: db2standby
    image: icr.io/db2_community/db2:11.5.9.0
    hadr_rolling_update: true

- name: Show the downtime
  ansible.builtin.debug:
    msg: "{{ upgrade.from.level }} -> {{ upgrade.to.level }} in {{ upgrade.downtime_seconds }} s"
"""

RETURN = r"""
container:
  description: The container's name.
  returned: always
  type: str
  sample: db2server
from:
  description: Image, image id and Db2 level before.
  returned: always
  type: dict
  sample: {image: "store/ibmcorp/db2_developer_c:11.1.3.3a-x86_64", image_id: "sha256:18585aea3e7b", level: 11.1.3.3a}
to:
  description: Image, image id and Db2 level after; C(level_verified) is what C(db2level) reported.
  returned: always
  type: dict
  sample: {image: "store/ibmcorp/db2_developer_c:11.1.4.4-x86_64", image_id: "sha256:399b96dc7c1b", level: 11.1.4.4,
           level_verified: 11.1.4.4}
steps:
  description: Each step with its status (C(planned), C(done), C(failed)), seconds and detail.
  returned: always
  type: list
  elements: dict
  sample: [{name: backup, status: done, seconds: 2.1, detail: "TESTDB 20191106143831"}]
backups:
  description: Backup images taken before the stop.
  returned: always
  type: list
  elements: dict
  sample: [{database: TESTDB, timestamp: "20191106143831", mode: offline, path: /database/backup,
            files: [/database/backup/TESTDB.0.db2inst1.DBPART000.20191106143831.001]}]
downtime_seconds:
  description:
    - From the stop of the old container until the new one answers a CLP probe on every database and its
      C(db2level) is verified. The post-upgrade tasks and the activation run after it, with Db2 answering;
      their times are in RV(steps).
  returned: when an upgrade ran
  type: float
  sample: 96.4
post_upgrade:
  description: The post-upgrade tasks that ran, and the databases activated again.
  returned: when O(post_upgrade=true) and an upgrade ran
  type: list
  elements: str
  sample: ["db2updv111 -d TESTDB", "binds on TESTDB", "activated TESTDB"]
storage_usage:
  description: Space on the storage in KiB before the upgrade (see O(backup.space_factor)).
  returned: when the container was inspected
  type: dict
  sample: {size_kb: 102687672, free_kb: 55123456, data_kb: 183400}
old_container:
  description: Name under which the old container was kept; null when removed.
  returned: when an upgrade ran
  type: str
  sample: db2server_11.1.3.3a
carried_over:
  description: What was carried from the old container to the new one.
  returned: when an upgrade is planned or ran
  type: dict
rolled_back:
  description: Whether a failure was rolled back.
  returned: always
  type: bool
rollback:
  description: How the rollback went (C(status) done or failed, C(detail)).
  returned: when a rollback ran
  type: dict
not_rolled_back:
  description: Why a failure after verification was not rolled back, and what to do.
  returned: when the post-upgrade tasks failed
  type: str
version_upgrade:
  description: True when the image's Db2 version is newer than the storage's (the version-upgrade path ran).
  returned: when the container was inspected
  type: bool
upgraded_databases:
  description: What C(UPGRADE DATABASE) did per database in a version upgrade.
  returned: when a version upgrade upgraded the databases
  type: list
  elements: str
  sample: ["TESTDB upgraded"]
hadr:
  description:
    - The databases in an HADR pair and their role before the upgrade (C(PRIMARY) or C(STANDBY)); empty when none is.
  returned: when the roles were read (before a first run changes anything, or by a resumed run once the new container runs)
  type: dict
  sample: {TESTDB: STANDBY}
resumed:
  description: True when this run continued an upgrade that an earlier, killed run had left half done.
  returned: when resumed
  type: bool
commands:
  description:
    - The Docker operations and Db2 commands run, in order, as a user would type them; in check mode the ones
      a real run would run (C(docker pull) when the image is missing, the backup statements, C(docker rename),
      C(docker stop), C(docker create), C(docker start), C(START HADR ... AS STANDBY) for standby databases, the
      post-upgrade commands, then C(docker rm) or
      C(docker rename) of the old container).
    - In check mode C(db2updvNNN) is listed for every database, marked C(if needed), since it runs only where
      the catalog is behind the code, which only the new container can tell.
    - A rollback's commands follow those of the failed step.
  returned: always
  type: list
  elements: str
  sample: ["docker rename db2server db2server_11.1.3.3a_upgrading", "docker stop --time 120 db2server_11.1.3.3a_upgrading",
           "docker create --name db2server (configuration of db2server_11.1.3.3a_upgrading) ibmcom/db2:11.1.4.4",
           "docker start db2server", "docker rename db2server_11.1.3.3a_upgrading db2server_11.1.3.3a"]
"""

from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import SAFE_PATH
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    CONTAINER_NAME,
    IMAGE_NAME,
    UNKNOWN_STATE,
    DockerModuleClient,
    ExecTimeout,
    docker_module,
)
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.engine import ContainerUpgrade, UpgradeError


PATH_RULE = (SAFE_PATH, "an absolute path of letters, digits and _ . @ + -")
LEVEL_RULE = (r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+[a-z]?", "a Db2 level like 11.5.8.0")


def main():
    module = docker_module(
        dict(
            container=dict(type="str", required=True),
            image=dict(type="str", required=True),
            target_level=dict(type="str"),
            pull=dict(type="str", choices=["missing", "never"], default="missing"),
            backup=dict(type="dict", default={}, options=dict(
                mode=dict(type="str", choices=["offline", "online", "none"], default="offline"),
                path=dict(type="str", default="/database/backup"),
                compress=dict(type="bool", default=False),
                space_factor=dict(type="float", default=1.2),
            )),
            post_upgrade=dict(type="bool", default=True),
            force_no_backup=dict(type="bool", default=False),
            hadr_rolling_update=dict(type="bool", default=False),
            old_container=dict(type="str", choices=["keep", "remove"], default="keep"),
            stop_timeout=dict(type="int", default=120),
            ready_timeout=dict(type="int", default=900),
            exec_timeout=dict(type="int", default=3600),
        ),
        rules={"container": CONTAINER_NAME, "image": IMAGE_NAME, "target_level": LEVEL_RULE, "backup.path": PATH_RULE})
    docker = DockerModuleClient(module)
    upgrade = ContainerUpgrade(docker.api, module.params, check_mode=module.check_mode, diff=module._diff)
    try:
        result = upgrade.run()
    except UpgradeError as exc:
        result = upgrade.finish()
        if result.get("rolled_back"):
            rollback = result["rollback"]
            outcome = ("rolled back: %s" if rollback["status"] == "done" else "%s") % rollback["detail"]
        elif result.get("not_rolled_back"):
            outcome = "not rolled back: %s" % result["not_rolled_back"]
        elif exc.changed or result.get("changed"):
            outcome = "nothing was rolled back"
        elif isinstance(exc.__context__, ExecTimeout):  # a backup may still be running in the container
            outcome = UNKNOWN_STATE[0].lower() + UNKNOWN_STATE[1:].rstrip(".")
        else:
            outcome = "nothing was changed"
        # The error says what failed; the outcome comes from its flags and the rollback, never its text.
        message = "upgrade of %s to %s failed at step %s: %s; %s" % (
            module.params["container"], module.params["image"], exc.step, exc, outcome)
        docker.fail(message, **result)
    finally:
        docker.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
