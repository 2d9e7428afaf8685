# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The version-upgrade path of db2_container_upgrade (11.1 -> 11.5, 11.5 -> 12.1).

IBM documents two steps: db2iupgrade upgrades the instance (IBM's images run it at start on
storage of an older version), then UPGRADE DATABASE upgrades each database; until then CONNECT
fails with SQL5035N. Neither can be undone: the way back is the instance directory as it was before
the new image started, and the backups taken before the stop. So a version upgrade here:
checks every database before anything stops (in the spirit of db2ckupgrade), insists on a backup,
keeps a copy of the instance directory, upgrades every database once the instance is up, and on a
failure puts the copy back and restores from the backups the databases the old code cannot open.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import shlex

from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import list_images, run_restore, select_image
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Clp, Db2Error, parse_level
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import db2_facts, instance_owner, storage_mount
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError
from ansible_collections.db2ops.docker.plugins.module_utils._docker.exec import exec_in_container

LEVEL_LABEL = "db2ops.level"  # set on images built by db2ops.docker.db2_image


def image_level(image_ref, image_inspect, explicit=None):
    """The Db2 level an image provides: explicit > db2ops.level label > the tag (11.1.4.4-x86_64)."""
    if explicit:
        return explicit
    labels = ((image_inspect or {}).get("Config") or {}).get("Labels") or {}
    if labels.get(LEVEL_LABEL):
        return labels[LEVEL_LABEL]
    tag = image_ref.rsplit(":", 1)[1] if ":" in image_ref.rsplit("/", 1)[-1] else ""
    match = re.match(r"^v?(\d+\.\d+\.\d+\.\d+[a-z]?)", tag)
    return match.group(1) if match else None


# Releases each version can be upgraded from directly (IBM "Upgrade essentials" of 11.5 and 12.1).
UPGRADE_FROM = {(11, 5): ((10, 5), (11, 1)), (12, 1): ((11, 1), (11, 5))}
# UPGRADE DATABASE answers: done, or "already at the current level" (IBM SQL1103W).
UPGRADE_OK = ("DB20000I", "SQL1103W")
# Where the instance directory is kept during a version upgrade, next to it on the storage.
KEPT_SUFFIX = ".db2ops-before-upgrade"
# On the new container: the instance directory whose copy was kept (a resumed run's rollback reads it).
LABEL_KEPT_INSTANCE = "db2ops.upgrade.kept_instance"


class VersionPathError(DockerOperationError):
    """A refusal or failure of the version path; the engine's steps report it like any other."""


def is_version_upgrade(current_level, target_level):
    current, target = parse_level(current_level), parse_level(target_level)
    return bool(current and target and target[:2] > current[:2])


def check_path(current_level, target_level):
    """None when IBM supports the jump, else why not."""
    current, target = parse_level(current_level)[:2], parse_level(target_level)[:2]
    allowed = UPGRADE_FROM.get(target)
    if allowed is not None and current not in allowed:
        return ("Db2 %d.%d cannot be upgraded to %d.%d directly (IBM supports %s); upgrade in steps"
                % (current + target + (" or ".join("%d.%d" % v for v in allowed),)))
    return None


# -- steps of the engine (each takes the ContainerUpgrade run) ---------------------------------

def preflight(run, clp_old, current_level, target_level):
    """Before anything stops (read-only, so the plan runs it too): a path IBM supports, a way back
    (a backup, unless forced), and every database connecting and answering, as db2ckupgrade requires
    (no backup, rollforward or restore pending). Returns a summary."""
    why = check_path(current_level, target_level)
    if why:
        raise VersionPathError(why)
    if run.p["backup"]["mode"] == "none" and not run.p["force_no_backup"]:
        raise VersionPathError("a version upgrade (Db2 %s -> %s) cannot be undone without a backup: set backup.mode "
                               "offline or online, or force_no_backup=true" % (current_level, target_level))
    databases = run.databases or []
    statements = []
    for database in databases:
        statements += ["CONNECT TO %s" % database, "SELECT COUNT(*) FROM SYSCAT.TABLESPACES", "CONNECT RESET"]
    results = clp_old.run_script(statements, stop_on_error=False) if statements else []
    problems = []
    for index, database in enumerate(databases):
        failed = next((item.error for item in results[3 * index:3 * index + 2] if item.error), None)
        if failed:
            problems.append("%s: %s %s" % (database, failed.code, failed.text))
    if len(results) < len(statements) and not problems:
        problems.append("the CLP stopped before every database was checked")
    if problems:
        raise VersionPathError("databases not ready for a version upgrade: %s" % "; ".join(problems))
    return "%s ready" % ", ".join(databases) if databases else "no databases"


def keep_instance(run):
    """Copy the instance directory (what db2iupgrade changes) next to it, as root, before the stop."""
    home = run.instance_home
    kept = home.rstrip("/") + KEPT_SUFFIX
    command = "rm -rf -- %s && cp -a -- %s %s" % (shlex.quote(kept), shlex.quote(home), shlex.quote(kept))
    result = run.recorder.do(command, exec_in_container, run.api, run.old["Id"], ["/bin/sh", "-c", command],
                             user="root", timeout=run.p["exec_timeout"])
    if result is not None and result.rc != 0:
        raise VersionPathError("cannot keep a copy of the instance directory %s: %s"
                               % (home, (result.stdout + result.stderr).strip()[-300:]))
    return kept


def upgrade_databases(run):
    """UPGRADE DATABASE for every cataloged database of the new container (none is active yet).
    SQL1103W means upgraded already (by the image's entrypoint, or an earlier run)."""
    clp = Db2Clp(run.api, run.new_id, instance_owner(run.old), timeout=run.p["exec_timeout"])
    if run.databases is None:  # a resumed run: the new container's directory
        run.databases = db2_facts(run.api, run.api.inspect_container(run.new_id))["databases"]
    statements = ["UPGRADE DATABASE %s" % database for database in run.databases]
    run.recorder.record(*statements)
    results = clp.run_script(statements, stop_on_error=False) if statements else []
    done = []
    for database, item in zip(run.databases, results):
        codes = [m.code for m in item.messages]
        if item.error or not any(code in UPGRADE_OK for code in codes):
            text = ("%s %s" % (item.error.code, item.error.text)) if item.error else item.output.strip()[-300:]
            raise Db2Error("UPGRADE DATABASE %s failed: %s" % (database, text), statement=item.statement,
                           db2_message=item.error)
        done.append("%s %s" % (database, "upgraded" if "DB20000I" in codes else "already upgraded"))
    if len(results) < len(statements):
        raise Db2Error("the CLP stopped before every database was upgraded")
    run.result["upgraded_databases"] = done
    return "; ".join(done)


def drop_kept_instance(run):
    """With the old container removed, the copy of the instance directory goes too."""
    if not run.instance_home:
        return
    kept = run.instance_home.rstrip("/") + KEPT_SUFFIX
    command = "rm -rf -- %s" % shlex.quote(kept)
    run.recorder.do(command, exec_in_container, run.api, run.new_id, ["/bin/sh", "-c", command], user="root",
                    timeout=run.p["exec_timeout"])


# -- rollback -------------------------------------------------------------------------------

def put_back_instance(run):
    """Replace the upgraded instance directory with the kept copy. The old container cannot do it
    (its image refuses the upgraded instance): a short-lived helper of the old image does, on the
    same storage, without Db2."""
    home = run.instance_home
    kept = home.rstrip("/") + KEPT_SUFFIX
    command = "test -d %s && rm -rf -- %s && cp -a -- %s %s" % (
        shlex.quote(kept), shlex.quote(home), shlex.quote(kept), shlex.quote(home))
    mount = storage_mount(run.old)
    source = mount.get("name") if mount.get("type") == "volume" else mount.get("source")
    run.recorder.do("docker run --rm -v %s:%s --entrypoint /bin/sh %s -c '%s'"
                    % (source, mount["destination"], run.old["Config"]["Image"], command),
                    _run_helper, run.api, run.old["Image"], "%s:%s:rw" % (source, mount["destination"]), command,
                    run.p["exec_timeout"])
    return "%s put back from %s" % (home, kept)


def _run_helper(api, image_id, bind, command, timeout):
    helper = api.create_container(image_id, command=["-c", command], entrypoint=["/bin/sh"], user="root",
                                  host_config=api.create_host_config(binds=[bind]),
                                  labels={"db2ops.upgrade.helper": "put_back_instance"})["Id"]
    try:
        api.start(helper)
        code = api.wait(helper, timeout=timeout).get("StatusCode")
        if code != 0:
            logs = api.logs(helper).decode("utf-8", "replace").strip()[-300:]
            raise VersionPathError("could not put the instance directory back (exit %s): %s" % (code, logs))
    finally:
        api.remove_container(helper, force=True)


def restore_unusable(run):
    """Restore, from this run's backups (a resumed run: the newest in backup.path), every database
    the old code cannot open; returns what was done."""
    clp = Db2Clp(run.api, run.old["Id"], instance_owner(run.old), timeout=run.p["exec_timeout"])
    databases = run.databases or db2_facts(run.api, run.api.inspect_container(run.old["Id"]))["databases"]
    statements = []
    for database in databases:
        statements += ["CONNECT TO %s" % database, "CONNECT RESET"]
    results = clp.run_script(statements, stop_on_error=False) if statements else []
    unusable = [database for index, database in enumerate(databases)
                if index * 2 >= len(results) or results[index * 2].error]
    if not unusable:
        return ["%s open with the old code" % ", ".join(databases)] if databases else []
    path = run.p["backup"]["path"]
    done = []
    for database in unusable:
        image = next((b for b in run.result["backups"] if b["database"] == database), None)
        image = image or select_image(list_images(clp, path), database, "latest")
        if image is None:
            raise VersionPathError("%s does not open with the old code and there is no backup of it in %s"
                                   % (database, path))
        _rolled, commands = run_restore(clp, database, image.get("path") or path, image["timestamp"],
                                        force_applications=True)
        run.recorder.record(*commands)
        done.append("restored %s from %s" % (database, image["timestamp"]))
    return done
