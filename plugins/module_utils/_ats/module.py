# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine of db2_ats_task, db2_ats_tasks and db2_ats_task_info: open the transport, check
the ATS preconditions (fixing them only when asked), plan, then act unless in check mode.

Everything is checked before the first change: a bad task, an unknown database or procedure,
ATS disabled, SYSTOOLSPACE missing, an inactive database or a stopped container fail the
task with one line, and nothing is changed.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.db2ops.docker.plugins.module_utils._ats import runs as runs_mod
from ansible_collections.db2ops.docker.plugins.module_utils._ats import tasks as ats
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Error
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import (
    find_db2_containers,
    instance_owner,
)
from ansible_collections.db2ops.docker.plugins.module_utils._db2.sql import (
    DB2_CONNECTION_ARGS,
    DB2_REQUIRED_IF,
    HAS_IBM_DB,
    IBM_DB_IMPORT_ERROR,
    ApplyError,
    ClpSession,
    IbmDbSession,
    check_database_name,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    DOCKER_REQUIRED_TOGETHER,
    DockerModuleClient,
    DockerOperationError,
    docker_argument_spec,
)
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import CONTAINER_NAME, fail_on_bad_params

NOTHING = "Nothing was changed."
# ADMIN_TASK_ADD's input is SQL (a CLOB): long, but one line like every other option.
LONG_OPTIONS = ("procedure_input", "tasks.procedure_input")

# ADMIN_TASK_ADD parameters as module options (name handled by each module).
TASK_OPTIONS = dict(
    schedule=dict(type="str"),
    procedure_schema=dict(type="str", default="SYSPROC"),
    procedure_name=dict(type="str"),
    procedure_input=dict(type="str"),
    begin_timestamp=dict(type="str"),
    end_timestamp=dict(type="str"),
    max_invocations=dict(type="int"),
    remarks=dict(type="str"),
)
PRECONDITION_OPTIONS = dict(
    enable_ats=dict(type="bool", default=False),
    create_systoolspace=dict(type="bool", default=False),
    activate_database=dict(type="bool", default=False),
)


def argument_spec(extra):
    spec = docker_argument_spec(DB2_CONNECTION_ARGS)
    spec.update(extra)
    return spec


def module_kwargs(extra, required_if=()):
    return dict(argument_spec=argument_spec(extra), required_together=DOCKER_REQUIRED_TOGETHER,
                required_if=DB2_REQUIRED_IF + list(required_if), supports_check_mode=True)


class AtsRunner:
    """One module run against one database."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.commands = []
        self.session = None
        # Every string option (task lists included) through the one gate, before anything runs.
        fail_on_bad_params(module, long_options=LONG_OPTIONS)
        try:
            self.database = check_database_name(self.params["database"])
        except ValueError:
            self.fail("Option database must be a Db2 database name (1-8 letters, digits, @ # $, not starting with "
                      "a digit). %s" % NOTHING)
        container = self.params["container"]
        # A name, never a pattern: find_db2_containers would take `db2*` as a glob.
        if self.params["transport"] == "docker_exec" and not CONTAINER_NAME.fullmatch(container or ""):
            self.fail("Option container must be a Docker container name or id (letters, digits and _ . -). %s"
                      % NOTHING)
        self.session = self._open()

    def fail(self, msg, **kwargs):
        if self.session is not None:
            self.session.close()
        self.module.fail_json(msg=msg, commands=self.commands, **kwargs)

    def _open(self):
        p = self.params
        if p["transport"] == "ibm_db":
            if not HAS_IBM_DB:
                self.module.fail_json(msg=missing_required_lib("ibm_db"), exception=IBM_DB_IMPORT_ERROR)
            try:
                return IbmDbSession(p["db_host"], p["db_port"], self.database, p["db_user"], p["db_password"],
                                    ssl=p["db_ssl"], ssl_ca=p["db_ssl_ca"])
            except (Db2Error, ValueError) as exc:
                self.fail("%s. %s" % (exc, NOTHING))
        docker = DockerModuleClient(self.module)
        try:
            inspect = find_db2_containers(docker.api, [p["container"]])[0]
        except DockerOperationError as exc:
            self.fail("%s. %s" % (exc, NOTHING))
        return ClpSession(docker.api, inspect["Id"], instance_owner(inspect), timeout=p["exec_timeout"])

    def read(self, procedures=()):
        try:
            return self.session.read_ats(self.database, procedures)
        except (Db2Error, DockerOperationError) as exc:
            self.fail("Cannot read the ATS tasks of database %s: %s. %s" % (self.database, exc, NOTHING))

    def tasks_from_params(self, items):
        try:
            tasks = [ats.Task.from_params(item) for item in items]
            ats.check_unique(tasks)
        except ats.AtsError as exc:
            self.fail("%s. %s" % (exc, NOTHING))
        return tasks

    def preconditions(self, state, tasks, kept=()):
        """Steps that fix what ATS needs (when allowed), or a failure naming the option.

        `tasks` are added or changed. When only `kept` (unchanged) tasks are wanted, a rerun still
        makes the fixes it was asked for (enable_ats, activate_database), and never fails for them.
        """
        steps, registry_fix = [], None
        if not tasks:
            return self.asked_fixes(state) if kept else (steps, registry_fix)
        p = self.params
        value = self.session.registry("DB2_ATS_ENABLE")
        if not ats.ats_enabled(value):
            if not p["enable_ats"]:
                self.fail("The Db2 task scheduler is disabled in container/instance (DB2_ATS_ENABLE=%s): tasks "
                          "would never run. Set enable_ats=true to run db2set DB2_ATS_ENABLE=YES. %s"
                          % (value or "unset", NOTHING))
            registry_fix = self.registry_fix(value)
        if not state["systoolspace"]:
            if not p["create_systoolspace"]:
                self.fail("Database %s has no SYSTOOLSPACE table space, which ADMIN_TASK_ADD needs "
                          "(SQL0204N). Set create_systoolspace=true to create it. %s" % (self.database, NOTHING))
            steps.append(("sql", ats.CREATE_SYSTOOLSPACE))
        if state["active"] is False:
            if not p["activate_database"]:
                self.fail("Database %s is not active: ATS runs tasks of active databases only. Set "
                          "activate_database=true to activate it. %s" % (self.database, NOTHING))
            steps.insert(0, ("activate", self.database))
        elif state["active"] is None:
            self.module.warn("Over ibm_db the explicit activation of %s cannot be checked; ATS runs tasks of "
                             "active databases only." % self.database)
        missing = sorted(set("%s.%s" % (t.procedure_schema, t.procedure_name) for t in tasks
                             if (t.procedure_schema, t.procedure_name) not in state["routines"]))
        if missing:
            self.fail("Procedure %s does not exist in database %s (SYSCAT.ROUTINES). %s"
                      % (", ".join(missing), self.database, NOTHING))
        return steps, registry_fix

    def registry_fix(self, value):
        """db2set runs in the container only: over ibm_db, fail before any change."""
        if self.params["transport"] == "ibm_db":
            self.fail("The Db2 task scheduler is disabled (DB2_ATS_ENABLE=%s) and enable_ats cannot run db2set over "
                      "ibm_db: run db2set DB2_ATS_ENABLE=YES on the server, or use transport=docker_exec. %s"
                      % (value or "unset", NOTHING))
        return "db2set DB2_ATS_ENABLE=YES"

    def asked_fixes(self, state):
        steps, registry_fix = [], None
        value = self.session.registry("DB2_ATS_ENABLE")
        if self.params["enable_ats"] and not ats.ats_enabled(value):
            registry_fix = self.registry_fix(value)
        if self.params["activate_database"] and state["active"] is False:
            steps.append(("activate", self.database))
        return steps, registry_fix

    def sync(self, tasks, exclusive=False, absent=(), only=None):
        """Make the task set match; returns the module result (diff and tasks limited to `only`)."""
        state = self.read(procedures=[(t.procedure_schema, t.procedure_name) for t in tasks])
        existing = dict((task.name, task) for task in (ats.Task.from_row(row) for row in state["tasks"]))
        actions = ats.plan(tasks, existing, exclusive=exclusive, absent=absent)
        fixes, registry_fix = self.preconditions(state, [a.after for a in actions if a.after is not None], tasks)
        steps = fixes + [("call",) + call for action in actions for call in action.calls()]
        self.commands = ([registry_fix] if registry_fix else []) + [ClpSession.render(s) for s in steps]
        after = dict(existing)
        for action in actions:
            if action.after is None:
                after.pop(action.name, None)
            else:
                after[action.name] = action.after
        if (steps or registry_fix) and not self.module.check_mode:
            try:
                if registry_fix:
                    self.session.set_registry("DB2_ATS_ENABLE", "YES")
                if steps:
                    self.session.apply(self.database, steps)
            except ApplyError as exc:
                self.fail("Changing the ATS tasks of database %s failed: %s. Done before the failure: %s"
                          % (self.database, exc, exc.done or "nothing"))
            except (Db2Error, DockerOperationError) as exc:
                self.fail("Changing the ATS tasks of database %s failed: %s" % (self.database, exc))
        self.session.close()
        if only is not None:
            existing = dict((k, v) for k, v in existing.items() if k in only)
            after = dict((k, v) for k, v in after.items() if k in only)
        before_diff, after_diff = ats.task_diff(existing, after)
        result = dict(
            changed=bool(steps or registry_fix), commands=self.commands,
            actions=[a.as_dict() for a in actions],
            added=[a.name for a in actions if a.kind == "add"],
            updated=[a.name for a in actions if a.kind in ("update", "replace")],
            removed=[a.name for a in actions if a.kind == "remove"],
            tasks=[after[name].as_dict() for name in sorted(after)],
            notes=[],
        )
        # Say when the tasks cannot have run yet rather than let a status suggest they did.
        if any(a.after is not None for a in actions):
            result["notes"].append(runs_mod.CHANGED_NOTE)
        if registry_fix:
            result["notes"].append(runs_mod.ENABLED_NOTE)
        if self.module._diff:
            result["diff"] = dict(before=before_diff, after=after_diff)
        return result

    def info(self):
        state = self.read()
        try:
            status = self.session.read_status(self.database)
            registry = self.session.registry("DB2_ATS_ENABLE")
        except (Db2Error, DockerOperationError) as exc:
            self.fail("Cannot read the ATS status of database %s: %s" % (self.database, exc))
        self.session.close()
        tasks = [ats.Task.from_row(row) for row in state["tasks"]]
        runs = [runs_mod.status_row(row) for row in status["runs"]]
        last = runs_mod.last_runs(runs)
        now, ats_on = runs_mod.db2_timestamp(status["now"]), ats.ats_enabled(registry)
        listed = []
        for task, row in zip(tasks, state["tasks"]):
            item = task.as_dict()
            item["last_run"] = last.get(task.name)
            item["run_state"], item["run_state_text"] = runs_mod.run_state(
                row, item["last_run"], ats_on, state["active"], now, status["authid"])
            listed.append(item)
        return dict(changed=False, database=self.database, ats_enabled=ats_on,
                    db2_ats_enable=registry, systoolspace=state["systoolspace"], active=state["active"],
                    tasks=listed, runs=runs, crontab=ats.crontab_lines(tasks))
