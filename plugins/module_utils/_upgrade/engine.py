# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recipe 1 as one safe operation: move a Db2 container to a new image on the same storage.

inspect -> refuse an older target -> backup -> rename old -> stop -> create new (everything carried
over) -> wait ready -> verify db2level -> post-upgrade tasks -> keep or remove the old container.
Any failure after the stop removes the new container and brings the old one back under its
original name. The storage lock of the Db2 image and the order of steps make sure two containers
never run on one storage. A run that was killed half way converges when run again: the rename comes
before the stop so that no kill leaves a stopped container under its own name, which a rerun could not
tell from one the user stopped.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import time

from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionFailed, ActionRecorder
from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import (
    BackupInputError,
    activate_statement,
    check_path,
    run_backup,
)
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import (
    Db2Clp,
    Db2Error,
    parse_db2level,
    parse_level,
)
from ansible_collections.db2ops.docker.plugins.module_utils._db2.post_upgrade import PostUpgradeError, run_post_upgrade
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import (
    container_name,
    containers_on_storage,
    db2_facts,
    instance_owner,
    open_running_db2,
    storage_dir,
    storage_mount,
    wait_until_ready,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    DEFAULT_DOCKER_HOST,
    APIError,
    DockerOperationError,
    NotFound,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.containers import get_container
from ansible_collections.db2ops.docker.plugins.module_utils._docker.recreate import carried_over, create_spec
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade import hadr, version

LABEL_FROM_CONTAINER = "db2ops.upgrade.from_container"
LABEL_FROM_LEVEL = "db2ops.upgrade.from_level"
# The databases active before the upgrade: a resumed run reads them here (the old one is stopped by then).
LABEL_ACTIVE = "db2ops.upgrade.active_databases"
# The old container gets at least this long to come back in a rollback: a ready_timeout cut short to
# catch a new image that hangs must not also give up on the old one, which is known to start.
ROLLBACK_READY_MIN = 300


class UpgradeError(ActionFailed):
    """A failed step. The message says what went wrong; `changed` (set by run()) says whether a
    container was already touched, and the module states the outcome from it and the rollback."""

    def __init__(self, message, step=None):
        super(UpgradeError, self).__init__(message)
        self.step = step


class ContainerUpgrade:
    """One upgrade run. `run()` returns the result dict or raises UpgradeError (after rollback)."""

    def __init__(self, api, params, check_mode=False, diff=False):
        self.api = api
        self.p = params
        self.check_mode = check_mode
        self.want_diff = diff
        self.steps = []
        # Every change goes through the recorder: recorded, then done only outside check mode.
        self.recorder = ActionRecorder(check_mode=check_mode)
        self.commands = self.recorder.commands
        self.result = dict(changed=False, rolled_back=False, backups=[], downtime_seconds=None)
        self.old = None          # inspect of the container being replaced
        self.new_id = None
        self.renamed_to = None
        self.stopped_at = None
        self.verified = False    # the new container answered at the target level
        self.ready_level_text = None  # db2level as printed by the readiness probe
        self.active_before = []  # databases active in the old container: active again afterwards
        self.version_upgrade = False  # a newer Db2 version: the steps of _upgrade/version.py join in
        self.instance_home = None  # version upgrade: the instance directory whose copy is kept
        self.databases = None  # the cataloged databases, once read
        self.standby = []  # HADR standby databases (_upgrade/hadr.py); None: a resumed run reads them later

    # -- bookkeeping ------------------------------------------------------------------------

    def step(self, name, func, *args, plan=True):
        """Run one step. In check mode a step with `plan` runs with the recorder only recording (its
        commands are the plan); the others (waiting on a new container) are just listed."""
        started = time.monotonic()
        entry = dict(name=name, status="planned" if self.check_mode else "running", seconds=None, detail=None)
        self.steps.append(entry)
        if self.check_mode and not plan:
            return None
        try:
            value = func(*args)
        except UpgradeError as exc:
            entry.update(status="failed", detail=str(exc), seconds=round(time.monotonic() - started, 3))
            exc.step = exc.step or name
            raise
        except (DockerOperationError, Db2Error, APIError, BackupInputError) as exc:
            entry.update(status="failed", detail=str(exc), seconds=round(time.monotonic() - started, 3))
            raise UpgradeError(str(exc), step=name)
        except OSError as exc:  # requests' ConnectionError is one: the daemon restarted or went away
            message = "lost the connection to the Docker daemon %s: %s" % (self.p.get("docker_host") or "", exc)
            entry.update(status="failed", detail=message, seconds=round(time.monotonic() - started, 3))
            raise UpgradeError(message, step=name)
        if self.check_mode:
            return value
        entry.update(status="done", seconds=round(time.monotonic() - started, 3))
        if isinstance(value, str):
            entry["detail"] = value
        return value

    # -- discovery ---------------------------------------------------------------------------

    def locate(self):
        """(container to replace, step to resume at, new container of a killed run or None).

        While an upgrade is in flight the old container is named `<name>_<level>_upgrading`, so a
        killed run is visible in `docker ps -a` and a rerun continues forward from where it stopped:
        going back would start the old image on storage the new image may already have updated.
        """
        name = self.p["container"]
        current = get_container(self.api, name)
        leftover = self._in_flight(name)
        if leftover is not None:
            self.result["resumed"] = True
            self.renamed_to = container_name(leftover)
            if current is None:
                self.standby = None  # recorded on no container yet: read once the new one runs
                return leftover, "create", None
            labels = (current.get("Config") or {}).get("Labels") or {}
            if labels.get(LABEL_FROM_CONTAINER) != leftover["Id"]:
                raise UpgradeError("both %s and %s exist and the first was not made by this upgrade: resolve by hand "
                                   "(rename %s back once %s is gone)"
                                   % (name, self.renamed_to, self.renamed_to, name), step="inspect")
            self.active_before = [db for db in (labels.get(LABEL_ACTIVE) or "").split(",") if db]
            self.instance_home = labels.get(version.LABEL_KEPT_INSTANCE) or None
            self.standby = hadr.from_labels(labels)
            if (current.get("State") or {}).get("Running"):
                return leftover, "wait_ready", current
            # A new container that a killed run created but never started: made again from scratch.
            self.recorder.do("docker rm -f %s" % name, self.api.remove_container, current["Id"], force=True)
            return leftover, "create", None
        try:
            return open_running_db2(self.api, name, hint=": start it so that its Db2 level and databases can be "
                                    "read"), None, None
        except DockerOperationError as exc:
            raise UpgradeError(str(exc), step="inspect")

    def _in_flight(self, name):
        pattern = re.compile("^/?" + re.escape(name) + r"_\d+\.\d+\.\d+\.\d+[a-z]?(_\d+)?_upgrading$")
        for entry in self.api.containers(all=True):
            if any(pattern.match(n) for n in entry.get("Names") or []):
                return self.api.inspect_container(entry["Id"])
        return None

    def target_image(self):
        ref = self.p["image"]
        try:
            return self.api.inspect_image(ref)
        except NotFound:
            pass
        if self.p["pull"] == "never":
            raise UpgradeError("image %s is not on this Docker host (pull=never)" % ref,
                               step="check_target")
        repo, _sep, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
        try:
            # Recorded but not counted as a change: a pulled image alone changes no container.
            self.recorder.record("docker pull %s" % ref)
            if self.check_mode:  # the registry's manifest, without pulling: a typo in the tag shows here
                self.api.inspect_distribution(ref)
                return None
            self.api.pull(repo, tag=tag)
            return self.api.inspect_image(ref)
        except (APIError, NotFound) as exc:
            raise UpgradeError("image %s is not on %s and cannot be pulled (%s); check the tag"
                               % (ref, self.p.get("docker_host") or DEFAULT_DOCKER_HOST,
                                  " ".join(str(getattr(exc, "explanation", None) or exc).split())[:200]),
                               step="check_target")

    # -- the run -----------------------------------------------------------------------------

    def run(self):
        """The result dict; or UpgradeError (after the rollback) marked with what was done."""
        try:
            return self._run()
        except UpgradeError as exc:
            raise self.recorder.fail(exc)

    def _run(self):
        old, resume_at, in_flight = self.locate()
        self.old = old
        name = self.p["container"]
        image = self.target_image()
        target_level = version.image_level(self.p["image"], image, self.p.get("target_level"))
        if not target_level or not parse_level(target_level):
            raise UpgradeError("cannot tell the Db2 level of image %s from its tag or its %s label: set target_level"
                               % (self.p["image"], version.LEVEL_LABEL), step="check_target")
        if resume_at is None:
            try:
                facts = db2_facts(self.api, old)
            except DockerOperationError as exc:
                raise UpgradeError(str(exc), step="inspect")
            current_level = facts["db2level"]["level"]
            self.active_before = facts["active_databases"]
        else:
            facts = None
            current_level = self.renamed_to[len(name) + 1:].split("_")[0]
        self.version_upgrade = self.result["version_upgrade"] = version.is_version_upgrade(current_level, target_level)
        self.databases = facts["databases"] if facts else None
        before = dict(image=old["Config"]["Image"], image_id=old["Image"], level=current_level)
        after = dict(image=self.p["image"], image_id=(image or {}).get("Id"), level=target_level)
        self.result.update({"container": name, "from": before, "to": after})
        if self.want_diff:
            self.result["diff"] = dict(before=before, after=after)

        if resume_at is None:
            self.result["storage_usage"] = facts["storage_usage"]
            if not self._preflight(old, image, current_level, target_level):
                hadr.rejoin(self, old)
                return self.finish()
            self._check_backup_space(facts["storage_usage"])
            backup = self.p["backup"]
            clp_old = Db2Clp(self.api, old["Id"], instance_owner(old), timeout=self.p["exec_timeout"])
            try:  # before the version pre-check: a pair gets the HADR answer, not a CONNECT error
                hadr.preflight(self, clp_old, current_level, target_level)
            except (DockerOperationError, Db2Error) as exc:
                raise UpgradeError(str(exc), step="check_hadr")
            if self.version_upgrade:
                self.step("precheck", version.preflight, self, clp_old, current_level, target_level)
            to_back_up = hadr.others(self, facts["databases"])  # a standby cannot be backed up (SQL1117N)
            if backup["mode"] != "none" and to_back_up:
                try:
                    self.step("backup", self._backup, clp_old, to_back_up)
                except UpgradeError as exc:
                    raise self._backup_failed(exc)
            if self.version_upgrade:
                self.instance_home = facts["instance_home"]
                try:
                    self.step("keep_instance", version.keep_instance, self)
                except UpgradeError as exc:  # the old container runs on: active again as after a failed backup
                    raise self._backup_failed(exc)
        self.result["changed"] = True
        self.result["carried_over"] = carried_over(old, self._image_config(old["Image"]))
        try:
            self.stopped_at = time.monotonic()
            if resume_at is None:
                self.step("rename", self._rename, current_level)
            if resume_at is None or (resume_at == "create" and (old.get("State") or {}).get("Running")):
                # A resumed run whose kill came between the rename and the stop: stop it now.
                self.stopped_at = time.monotonic()
                self.step("stop", self._stop)
            if resume_at in (None, "create"):
                self.step("create", self._create, current_level)
            else:
                self.new_id = in_flight["Id"]
            if self.version_upgrade:  # ready: the instance up, then every database upgraded and answering
                self.step("wait_ready", self._wait_ready, [], plan=False)
                self.step("upgrade_databases", version.upgrade_databases, self, plan=False)
            self.step("wait_databases" if self.version_upgrade else "wait_ready", self._wait_ready, self.databases,
                      plan=False)
            self.step("verify_level", self._verify_level, target_level, plan=False)
            self.verified = not self.check_mode
            if self.standby:  # back in the pair as soon as the level is right
                self.step("start_hadr", hadr.start_standby, self, self.new_id)
            if not self.check_mode:
                # Downtime ends here: Db2 answers at the target level. The post-upgrade tasks run
                # with the databases open, as in IBM's fix pack procedure.
                self.result["downtime_seconds"] = round(time.monotonic() - self.stopped_at, 3)
            if self.p["post_upgrade"]:
                self.step("post_upgrade", self._post_upgrade, target_level, facts)
            elif self.active_before:
                self.step("activate", self._activate, self.new_id, self.active_before)
        except UpgradeError as exc:
            if self.verified:
                # The new Db2 runs at the target level and has updated the instance on the storage:
                # the old image could not start on it any more. Keep the new one; a rerun retries.
                self.result["not_rolled_back"] = (
                    "%s runs %s, verified at Db2 %s; the old container stays stopped as %s; run the task again to "
                    "retry the post-upgrade tasks" % (name, self.p["image"], target_level, self.renamed_to))
            elif not self.check_mode:
                self._rollback(exc)
            raise
        self.step("old_container", self._dispose_old, current_level)
        return self.finish()

    def _preflight(self, old, image, current_level, target_level):
        """Checks before anything is touched. False when there is nothing to do."""
        name = self.p["container"]
        if parse_level(target_level) < parse_level(current_level):
            raise UpgradeError("target image %s is Db2 %s, older than the %s the storage of %s is at: Db2 cannot go "
                               "back on the same storage (restore a backup instead)"
                               % (self.p["image"], target_level, current_level, name), step="check_target")
        if image is not None and image["Id"] == old["Image"] and parse_level(target_level) == parse_level(current_level):
            self.result["msg"] = "%s already runs %s (Db2 %s)" % (name, self.p["image"], current_level)
            return False
        if (old.get("HostConfig") or {}).get("AutoRemove"):
            raise UpgradeError("container %s runs with --rm: stopping it would delete it and its anonymous volumes, "
                               "so there would be no way back; re-create it without --rm first"
                               % name, step="check_storage")
        mount = storage_mount(old)
        if mount is None:
            raise UpgradeError("container %s has no mount on /database: its databases would not survive a new "
                               "container" % name, step="check_storage")
        others = [o for o in containers_on_storage(self.api, mount, exclude_ids=(old["Id"],)) if o["state"] == "running"]
        if others:
            raise UpgradeError("another running container uses the storage %s of %s: %s; refusing to upgrade (two "
                               "Db2 instances must never share one storage)"
                               % (mount.get("source") or mount.get("name"), name, ", ".join(o["name"] for o in others)),
                               step="check_storage")
        return True

    def _check_backup_space(self, usage):
        backup = self.p["backup"]
        factor = backup.get("space_factor") or 0
        on_storage = (backup["path"].rstrip("/") + "/").startswith(storage_dir(self.old) + "/")
        if backup["mode"] == "none" or factor <= 0 or not on_storage or "free_kb" not in usage or "data_kb" not in usage:
            return
        need = int(usage["data_kb"] * factor)
        if usage["free_kb"] < need:
            raise UpgradeError("%d KiB free on the storage of %s, the databases take %d KiB: not enough for the backup "
                               "(backup.space_factor %s needs %d KiB)"
                               % (usage["free_kb"], self.p["container"], usage["data_kb"], factor, need),
                               step="check_storage")

    def _backup_failed(self, error):
        """The old container still runs, but an offline backup deactivated its databases: activate
        those that were active, so that "nothing was changed" holds (ATS runs only on active ones)."""
        if self.p["backup"]["mode"] != "offline" or not self.active_before:
            return error
        try:
            self.step("activate", self._activate, self.old["Id"], self.active_before)
        except UpgradeError as exc:
            return UpgradeError("%s; %s not active again: %s" % (error, ", ".join(self.active_before), exc),
                                step=error.step)
        return error

    def finish(self):
        self.result["steps"] = self.steps
        self.result["commands"] = self.commands
        return self.result

    def _image_config(self, image_id):
        try:
            return (self.api.inspect_image(image_id) or {}).get("Config") or {}
        except NotFound:
            return {}

    # -- steps ----------------------------------------------------------------------------------

    def _backup(self, clp, databases):
        backup = self.p["backup"]
        path = check_path(backup["path"], "backup.path")
        # No re-activation after an offline backup: the container stops next (a rollback activates).
        backups, commands = run_backup(clp, databases, path, online=backup["mode"] == "online",
                                       compress=backup["compress"], force_applications=True,
                                       check_mode=self.check_mode)
        self.recorder.record(*commands)
        self.result["backups"] = backups
        return ", ".join("%s %s" % (b["database"], b["timestamp"]) for b in backups)

    def _stop_timeout(self):
        """The task's stop_timeout, or the container's own `--stop-timeout` when that is longer."""
        return max(self.p["stop_timeout"], (self.old.get("Config") or {}).get("StopTimeout") or 0)

    def _stop(self):
        name = self.renamed_to or self.p["container"]
        self.recorder.do("docker stop --time %d %s" % (self._stop_timeout(), name),
                         self.api.stop, self.old["Id"], timeout=self._stop_timeout())

    def _free_name(self, base, suffix=""):
        new_name, n = base + suffix, 1
        while get_container(self.api, new_name) is not None:
            n += 1
            new_name = "%s_%d%s" % (base, n, suffix)
        return new_name

    def _rename(self, level):
        new_name = self._free_name("%s_%s" % (self.p["container"], level), "_upgrading")
        self.recorder.do("docker rename %s %s" % (self.p["container"], new_name), self.api.rename, self.old["Id"], new_name)
        self.renamed_to = new_name
        return new_name

    def _create(self, level):
        kwargs, other_networks = create_spec(
            self.old, self._image_config(self.old["Image"]), self.p["image"], self.p["container"],
            extra_labels={LABEL_FROM_CONTAINER: self.old["Id"], LABEL_FROM_LEVEL: level,
                          LABEL_ACTIVE: ",".join(self.active_before),
                          version.LABEL_KEPT_INSTANCE: self.instance_home or "", **hadr.labels(self)})
        created = self.recorder.do("docker create --name %s (configuration of %s) %s"
                                   % (self.p["container"], self.renamed_to, self.p["image"]),
                                   lambda: self.api.create_container(**kwargs))  # kwargs hold `command`
        self.new_id = created["Id"] if created else None
        for network, endpoint in sorted(other_networks.items()):
            self.recorder.do("docker network connect %s %s" % (network, self.p["container"]),
                             self.api.connect_container_to_network, self.new_id, network,
                             aliases=endpoint.get("Aliases"),
                             ipv4_address=(endpoint.get("IPAMConfig") or {}).get("IPv4Address"))
        self.recorder.do("docker start %s" % self.p["container"], self.api.start, self.new_id)
        return self.new_id[:12] if self.new_id else None

    def _wait_ready(self, databases):
        databases = hadr.probe_databases(self, self.new_id, databases)
        self.ready_level_text = wait_until_ready(self.api, self.new_id, timeout=self.p["ready_timeout"],
                                                 databases=databases)

    def _verify_level(self, target_level):
        """The level the readiness probe printed (the same exec): no extra round trip in the downtime."""
        level = parse_db2level(self.ready_level_text or "")
        got = level["level"] if level else None
        self.result["to"]["level_verified"] = got
        if got is None or parse_level(got) != parse_level(target_level):
            raise UpgradeError("the new container reports Db2 %s, not the expected %s" % (got, target_level))
        return got

    def _post_upgrade(self, target_level, facts):
        """db2updvNNN where a database's catalog is behind the code, then IBM's binds on every
        database, and the databases that were active activated again: three execs in all."""
        clp = Db2Clp(self.api, self.new_id, instance_owner(self.old), timeout=self.p["exec_timeout"])
        if not facts and self.new_id:  # a resumed run: read them from the new container
            facts = db2_facts(self.api, self.api.inspect_container(self.new_id))
        if not facts:  # check mode of a resumed run that creates the container: nothing to read
            facts = dict(databases=["<each database>"], instance_home="$HOME")
        try:
            done = run_post_upgrade(clp, hadr.others(self, facts["databases"]), facts["instance_home"], target_level,
                                    self.active_before, self.recorder)
        except PostUpgradeError as exc:
            raise UpgradeError(str(exc))
        if not self.check_mode:
            self.result["post_upgrade"] = done
        return "; ".join(done)

    def _activate(self, container_id, databases):
        """Activate what was active before: ATS jobs only run on active databases (cookbook, recipe 3)."""
        clp = Db2Clp(self.api, container_id, instance_owner(self.old), timeout=self.p["exec_timeout"])
        statements = [activate_statement(name) for name in databases]
        # Recorded, not counted as a change: it brings back the state before the task.
        self.recorder.record(*statements)
        if not self.check_mode:
            clp.run_script(statements)
        return ", ".join(databases)

    def _dispose_old(self, level):
        """Remove the old container, or keep it (stopped) as `<name>_<level>`: the upgrade is over."""
        if self.p["old_container"] == "remove":
            version.drop_kept_instance(self)  # the copy goes with the way back
            self.recorder.do("docker rm %s" % self.renamed_to, self.api.remove_container, self.old["Id"], v=False)
            self.result["old_container"] = None
            return "removed %s" % self.renamed_to
        kept = self._free_name("%s_%s" % (self.p["container"], level))
        self.recorder.do("docker rename %s %s" % (self.renamed_to, kept), self.api.rename, self.old["Id"], kept)
        self.result["old_container"] = kept
        return "kept %s (stopped)" % kept

    # -- rollback -------------------------------------------------------------------------------

    def _rollback(self, error):
        """Remove the new container, give the old one its name back, start it, wait for it."""
        self.result["rolled_back"] = True
        notes = []
        marked = bool(self.renamed_to)  # the old container still carries the _upgrading name
        try:
            do = self.recorder.do
            if self.new_id:
                do("docker rm -f %s" % self.p["container"], self.api.remove_container, self.new_id, force=True)
                notes.append("removed the new container")
            if self.version_upgrade and self.instance_home and self.new_id:  # the new image upgraded it
                notes.append(version.put_back_instance(self))
            if self.renamed_to:
                do("docker rename %s %s" % (self.renamed_to, self.p["container"]),
                   self.api.rename, self.old["Id"], self.p["container"])
                marked = False
                notes.append("renamed %s back to %s" % (self.renamed_to, self.p["container"]))
            do("docker start %s" % self.p["container"], self.api.start, self.old["Id"])
            try:
                level_text = wait_until_ready(self.api, self.old["Id"],
                                              timeout=max(self.p["ready_timeout"], ROLLBACK_READY_MIN),
                                              databases=[] if self.version_upgrade or self.standby != [] else None)
            except DockerOperationError:
                # Do not leave it in a restart loop (restart policies) on storage it cannot use.
                do("docker stop --time %d %s" % (self._stop_timeout(), self.p["container"]),
                   self.api.stop, self.old["Id"], timeout=self._stop_timeout())
                raise
            level = parse_db2level(level_text)  # what the readiness probe printed
            if level is None:
                raise DockerOperationError("%s answered, but not db2level as Db2 does: %s"
                                           % (self.p["container"], level_text.strip()[:300]))
            notes.append("%s runs Db2 %s again" % (self.p["container"], level["level"]))
            if self.version_upgrade:  # the databases the old code cannot open, from the backups
                notes += version.restore_unusable(self)
            if self.active_before:  # as they were (an offline backup or the stop deactivated them)
                notes.append("activated %s" % self._activate(self.old["Id"], self.active_before))
            if self.standby:  # back in the pair, as before (unknown in a resumed run: left to the DBA)
                notes.append(hadr.start_standby(self, self.old["Id"]))
            self.result["rollback"] = dict(status="done", detail="; ".join(notes))
        except Exception as exc:  # report both failures: the user must act now
            backups = ", ".join("%s %s" % (b["database"], b["timestamp"]) for b in self.result["backups"]) or "none"
            if marked:  # e.g. the Docker daemon went away: a rerun finds the marker and continues
                advice = ("%s is left as %s; run the task again once the Docker daemon answers: it continues the "
                          "upgrade from there (backups: %s)" % (self.p["container"], self.renamed_to, backups))
            else:
                advice = ("%s is stopped; start a container from %s on this storage again, or restore the backups "
                          "(%s)" % (self.p["container"], self.p["image"], backups))
            self.result["rollback"] = dict(status="failed", detail="; ".join(notes + [
                "rollback failed: %s" % exc, advice]))
        self.steps.append(dict(name="rollback", status=self.result["rollback"]["status"], seconds=None,
                               detail=self.result["rollback"]["detail"]))
