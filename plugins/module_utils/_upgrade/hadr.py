# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""db2_container_upgrade in an HADR pair (issue 16): the refusals, and the standby's part of IBM's
rolling update (shared/reference/hadr-facts.md section 6).

One side of a pair is upgraded only as part of a rolling update (hadr_rolling_update), and only
while all its pair databases are standbys: the standby goes first, then takes over, then the old
primary is upgraded as the new standby. A version upgrade of a pair is refused always (IBM does not
support it rolling). For a standby database the engine skips the backup (SQL1117N: the primary holds
the data), does not connect to it to probe readiness (SQL1776N), runs no post-upgrade task on it
(db2updv's catalog change reaches it through the log, from the primary), and starts it again with
START HADR AS STANDBY once the level is verified, or in a rollback.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Clp
from ansible_collections.db2ops.docker.plugins.module_utils._db2.hadr import PRIMARY, STANDBY, pair_roles, read_status
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import (
    db2_facts,
    instance_owner,
    wait_until_ready,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError

# On the new container: the old one's standby databases (a resumed run reads them here).
LABEL_STANDBY = "db2ops.upgrade.hadr_standby"
PLAYBOOK = "playbooks/hadr_fixpack.yml"


class HadrRefusal(DockerOperationError):
    """The container takes part in an HADR pair in a way this upgrade may not touch; nothing changed."""


def _roles(statuses):
    """{DB: role} of the databases in a pair (PRIMARY or STANDBY)."""
    return dict((name, pair["role"]) for name, pair in pair_roles(statuses).items())


def preflight(run, clp_old, current_level, target_level):
    """Read the roles (one exec, before anything changes) and refuse as the contract says. Sets
    run.standby and result `hadr`; returns a summary for the steps."""
    roles = _roles(read_status(clp_old, run.databases or []))
    run.result["hadr"] = roles
    run.standby = [name for name, role in roles.items() if role == STANDBY]
    run.active_before = others(run, run.active_before)  # a standby is started as one, not activated
    if not roles:
        return None
    described = ", ".join("%s (%s)" % item for item in roles.items())
    if run.version_upgrade:
        raise HadrRefusal("%s in an HADR pair: a version upgrade (Db2 %s -> %s) of a pair is not supported as a "
                          "rolling update (IBM); stop HADR and follow IBM's procedure for upgrading HADR servers"
                          % (described, current_level, target_level))
    if not run.p.get("hadr_rolling_update"):
        raise HadrRefusal("%s in an HADR pair: upgrading one side on its own breaks the pair; run the rolling "
                          "update of %s, or set hadr_rolling_update=true for a standby within one"
                          % (described, PLAYBOOK))
    primaries = [name for name, role in roles.items() if role == PRIMARY]
    if primaries:
        raise HadrRefusal("%s is the HADR primary: take over on the standby first (%s), then upgrade this side as "
                          "the standby" % (", ".join(primaries), PLAYBOOK))
    summary = "rolling update of the standby %s" % ", ".join(run.standby)
    run.steps.append(dict(name="check_hadr", status="done", seconds=None, detail=summary))
    return summary


def others(run, databases):
    """The databases that are not standbys: backed up, probed, post-upgraded and activated."""
    return [name for name in databases if name not in (run.standby or [])]


def labels(run):
    """The new container's label, when the standby databases are known."""
    return {} if run.standby is None else {LABEL_STANDBY: ",".join(run.standby)}


def from_labels(container_labels):
    """The standby databases a killed run recorded on the new container; None when it did not."""
    value = container_labels.get(LABEL_STANDBY)
    return None if value is None else [name for name in value.split(",") if name]


def probe_databases(run, container_id, databases):
    """The databases the readiness probe of container_id may connect to (None: all cataloged).

    A standby refuses connections (SQL1776N), so with standbys the instance is waited for first,
    then the directory (and, for a resumed run that did not record them, the roles) is read."""
    if run.standby == [] or (run.standby is not None and databases is not None):
        return others(run, databases) if databases is not None else None
    wait_until_ready(run.api, container_id, timeout=run.p["ready_timeout"], databases=[])
    names = db2_facts(run.api, run.api.inspect_container(container_id))["databases"]
    if run.standby is None:
        clp = Db2Clp(run.api, container_id, instance_owner(run.old), timeout=run.p["exec_timeout"])
        roles = _roles(read_status(clp, names))
        run.result["hadr"] = roles
        run.standby = [name for name, role in roles.items() if role == STANDBY]
    return others(run, databases if databases is not None else names)


def start_standby(run, container_id):
    """START HADR AS STANDBY for each standby database (inactive after a container start)."""
    clp = Db2Clp(run.api, container_id, instance_owner(run.old), timeout=run.p["exec_timeout"])
    statements = ["START HADR ON DATABASE %s AS STANDBY" % name for name in run.standby]
    run.recorder.record(*statements)  # as _activate: brings back the state before the task
    if not run.check_mode:
        clp.run_script(statements)
    return "started %s as standby" % ", ".join(run.standby)


def rejoin(run, old):
    """Already at the target: with hadr_rolling_update, start the standbys whose HADR does not run
    (a run whose start_hadr step failed after the level was verified ends here when run again)."""
    if not run.p.get("hadr_rolling_update"):
        return
    clp = Db2Clp(run.api, old["Id"], instance_owner(old), timeout=run.p["exec_timeout"])
    statuses = read_status(clp, run.databases or [])
    run.result["hadr"] = _roles(statuses)
    run.standby = [name for name, s in sorted(statuses.items()) if s.role == STANDBY and not s.running]
    if run.standby:
        run.result["changed"] = True
        run.result["msg"] += "; %s" % run.step("start_hadr", start_standby, run, old["Id"])
