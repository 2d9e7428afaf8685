# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine of db2_hadr: make one database the primary or the standby of an HADR pair, or take
it out of its pair, in IBM's order (hadr-facts.md sections 2 and 5).

It reads the database through _db2/hadr.py, decides from its role (STANDARD, PRIMARY, STANDBY),
and makes every change through an ActionRecorder, so check mode returns the plan as `commands`.
A standby is initialised from an online backup of its primary, streamed between the two
containers (possibly on two Docker daemons) without a copy on the controller.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import shlex

from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionFailed, ActionRecorder
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import USER_NAME, InputError
from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import (
    SAFE_PATH,
    BackupInputError,
    backup_statements,
    check_path,
    list_images,
    parse_backup_timestamp,
    prepare_directory,
)
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Clp, Db2Error
from ansible_collections.db2ops.docker.plugins.module_utils._db2.hadr import (
    HADR_PARAMETERS,
    PRIMARY,
    STANDARD,
    STANDBY,
    archive_logging,
    read_status,
)
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import instance_owner, open_running_db2
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import api_message
from ansible_collections.db2ops.docker.plugins.module_utils._docker.exec import exec_in_container

try:
    from docker.errors import DockerException
except ImportError:  # the module reports the missing SDK before the engine runs
    DockerException = Exception

# Input rules (full matches through inputs.require_match): values go into CLP statements.
# `_` too: Docker's DNS resolves container names such as db2_a, which are not RFC 1123 host names.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
HOST_NAME = r"(?=.{1,253}\Z)%s(?:\.%s)*" % (_LABEL, _LABEL)
IPV6 = r"(?=.{2,45}\Z)[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*"
HOST_RULE = (r"%s|%s" % (HOST_NAME, IPV6), "a host name or an IPv4/IPv6 address")
_PORT = r"(?:102[4-9]|10[3-9][0-9]|1[1-9][0-9]{2}|[2-9][0-9]{3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}" \
        r"|655[0-2][0-9]|6553[0-5])"
_SERVICE = r"[a-z][a-z0-9-]{0,31}"
SVC_RULE = (r"%s|%s" % (_PORT, _SERVICE), "a port 1024-65535 or a service name ([a-z][a-z0-9-], at most 32)")
TARGET_RULE = (r"(?:%s|\[%s\]):(?:%s|%s)" % (HOST_NAME, IPV6, _PORT, _SERVICE),
               "host:port (a host name, an IPv4 address or [IPv6], and a port 1024-65535 or a service name)")
INSTANCE_RULE = (USER_NAME, "an instance name (1-30 characters a-z, 0-9, _ or -, not starting with a digit or -)")
PATH_RULE = (SAFE_PATH, "an absolute path of letters, digits and _ . @ + -")
DEFAULT_BACKUP_PATH = "/database/hadr_init"
TAKEOVER = dict(peer="", force=" BY FORCE", force_peer_window=" BY FORCE PEER WINDOW ONLY")


class HadrSetupError(ActionFailed):
    """A refusal or failure of db2_hadr, in one line; `changed` says whether anything was changed."""


def wanted_configuration(params, instance):
    """{db cfg parameter: value} the options ask for, as the CLP takes and GET DB CFG shows them."""
    values = dict(params)
    values["remote_inst"] = params.get("remote_inst") or instance
    values["syncmode"] = (params.get("syncmode") or "NEARSYNC").upper()
    values["target_list"] = "|".join(params.get("target_list") or [])
    return dict((param, str(values[option]) if values.get(option) is not None else "")
                for option, param in HADR_PARAMETERS)


def _same(param, current, wanted):
    # Host names are case-insensitive; Db2 may show a parameter in another case than typed.
    return (current or "").strip().upper() == (wanted or "").strip().upper()


def cfg_changes(cfg, wanted, logindexbuild=True):
    """{parameter: value} of `wanted` (plus LOGINDEXBUILD ON) that the db cfg does not hold yet."""
    changes = dict((param, value) for param, value in wanted.items() if not _same(param, cfg.get(param), value))
    if logindexbuild and (cfg.get("LOGINDEXBUILD") or "OFF").upper() != "ON":
        changes["LOGINDEXBUILD"] = "ON"
    return changes


def update_statement(database, changes):
    """UPDATE DB CFG for the changes, in IBM's parameter order; an empty value is NULL."""
    order = [param for _option, param in HADR_PARAMETERS] + ["LOGINDEXBUILD"]
    pairs = ["%s %s" % (param, changes[param] or "NULL") for param in order if param in changes]
    return "UPDATE DB CFG FOR %s USING %s" % (database, " ".join(pairs))


def options_view(configuration):
    """{option: value} of {db cfg parameter: value} (the `configuration` of the diff)."""
    return dict((option, configuration.get(param) or None) for option, param in HADR_PARAMETERS)


class HadrSetup:
    """Converge one database's HADR role. `open_primary()` returns the primary's Db2Clp (role
    standby only, when the standby must be initialised); the caller closes what it opened."""

    def __init__(self, clp, params, recorder, open_primary=None, container="", primary_container=""):
        self.clp = clp
        self.p = params
        self.recorder = recorder
        self.open_primary = open_primary
        self.container = container
        self.primary_container = primary_container
        self.database = params["database"].upper()
        self.wanted = wanted_configuration(params, clp.instance) if params.get("state") != "absent" else {}
        self.backup = None
        self.restart_required = False
        self.notes = []

    # -- reading and doing ------------------------------------------------------------------------

    def status(self):
        return read_status(self.clp, [self.database])[self.database]

    def run_clp(self, statement, clp=None, where=""):
        """Record one CLP statement and run it unless in check mode (Db2Error on an error message)."""
        clp = clp or self.clp
        return self.recorder.do(where + statement, clp.run, statement)

    def fail(self, message):
        raise self.recorder.fail(HadrSetupError(message))

    # -- the task -----------------------------------------------------------------------------------

    def run(self):
        before = self.status()
        # Only a standby initialised from its primary may be new here: RESTORE creates the database.
        fresh_standby = self.p.get("state") != "absent" and self.p.get("role") == "standby"
        if not before.readable and not fresh_standby:
            self.fail("database %s is not cataloged in container %s" % (self.database, self.container))
        try:
            if self.p.get("state") == "absent":
                self.absent(before)
            elif self.p["role"] == "standby":
                self.standby(before)
            else:
                self.primary(before)
        except ActionFailed as exc:  # Db2Error, DockerOperationError, HadrSetupError: say what ran
            raise self.recorder.fail(exc)
        after = before if self.recorder.check_mode or not self.recorder.commands else self.status()
        return self.result(before, after)

    def result(self, before, after):
        if self.recorder.check_mode:
            role = STANDARD if self.p.get("state") == "absent" else self.p["role"].upper()
            role = role if self.recorder.commands else before.role
            configuration = options_view(self.wanted) if self.wanted and self.recorder.commands else \
                before.as_dict()["configuration"]
        else:
            role, configuration = after.role, after.as_dict()["configuration"]
        msg = " ".join(self.notes) or "database %s is %s" % (self.database, role)
        return dict(changed=self.recorder.changed, database=self.database, role=role, status=after.as_dict(),
                    commands=list(self.recorder.commands), backup=self.backup, restart_required=self.restart_required,
                    msg=msg, diff=dict(before=dict(role=before.role, configuration=before.as_dict()["configuration"]),
                                       after=dict(role=role, configuration=configuration)))

    def absent(self, status):
        if status.role == STANDARD:
            return
        if status.role == STANDBY:
            if status.active:
                self.run_clp("DEACTIVATE DATABASE %s" % self.database)
            self.notes.append("HADR stopped on %s: it is a STANDARD database in rollforward pending (it holds the "
                              "primary's data up to its last replay; ROLLFORWARD ... AND STOP makes it usable)."
                              % self.database)
        self.run_clp("STOP HADR ON DATABASE %s" % self.database)

    # -- role standby ---------------------------------------------------------------------------------

    def standby(self, status):
        if status.role == STANDARD or self.p.get("reinitialize"):
            return self.initialise_standby(status)
        changes = cfg_changes(status.cfg, self.wanted)
        if status.role == PRIMARY:
            if status.running:
                self.fail("database %s in container %s is the primary of its pair (HADR %s, %s); it is not made a "
                          "standby: swap roles with role=primary takeover=peer on the standby"
                          % (self.database, self.container, status.state, status.connect_status))
            self.notes.append("%s was a primary without HADR running (an old primary after a forced takeover): "
                              "reintegrated as the standby." % self.database)
        elif status.active and changes:
            self.run_clp("DEACTIVATE DATABASE %s" % self.database)  # cheap on a standby: new values need a start
        if changes:
            self.run_clp(update_statement(self.database, changes))
        if changes or not status.active or status.role == PRIMARY:
            self.run_clp("START HADR ON DATABASE %s AS STANDBY" % self.database)

    def initialise_standby(self, status):
        """IBM's setup: online backup of the primary, RESTORE without roll-forward here, db cfg, START."""
        if not self.open_primary:
            self.fail("database %s in container %s is %s: option primary (the primary's container) is required to "
                      "initialise it as the standby" % (self.database, self.container, status.role))
        path = self.p.get("backup_path") or DEFAULT_BACKUP_PATH
        primary = self.open_primary()
        where = "%s: " % self.primary_container
        source = read_status(primary, [self.database])[self.database]
        if not source.readable:
            self.fail("database %s is not cataloged in the primary's container %s"
                      % (self.database, self.primary_container))
        if source.role == STANDBY:
            self.fail("database %s in container %s is a standby itself: option primary must name the pair's primary"
                      % (self.database, self.primary_container))
        if not archive_logging(source.cfg):
            self.fail("database %s in container %s uses circular logging: HADR needs archive logging (Db2 refuses "
                      "with SQL1768N reason 1): set LOGARCHMETH1 (then an offline backup) on the primary first"
                      % (self.database, self.primary_container))
        self.recorder.do("%sinstall -d -o %s %s" % (where, primary.instance, path), prepare_directory, primary, path)
        statement = backup_statements(self.database, path, online=True)[0]
        result = self.run_clp(statement, primary, where)
        self.backup = parse_backup_timestamp(result.output) if result else None
        if result and not self.backup:
            self.fail("the online backup of %s printed no timestamp" % self.database)
        stamp = self.backup or "<timestamp>"
        files = [i["file"] for i in list_images(primary, path) if i["database"] == self.database and
                 i["timestamp"] == self.backup] if self.backup else []
        self.recorder.do("install -d -o %s %s" % (self.clp.instance, path), prepare_directory, self.clp, path)
        self.recorder.do("docker cp %s:%s/%s.0.*.%s.001 - | docker cp - %s:%s"
                         % (self.primary_container, path, self.database, stamp, self.container, path),
                         self.copy_images, primary, files, path)
        if status.active:
            self.run_clp("DEACTIVATE DATABASE %s" % self.database)
        self.run_clp("RESTORE DATABASE %s FROM %s TAKEN AT %s WITHOUT PROMPTING" % (self.database, path, stamp))
        # All of them: the restored db cfg is the primary's (its own HADR values, its target list).
        self.run_clp(update_statement(self.database, dict(self.wanted, LOGINDEXBUILD="ON")))
        self.run_clp("START HADR ON DATABASE %s AS STANDBY" % self.database)
        self.recorder.do("rm -f -- %s" % (" ".join(shlex.quote(f) for f in files) or path + "/<image>"),
                         self.remove_copies, files)
        self.notes.append("%s initialised as the standby from the online backup %s of %s (kept there in %s)."
                          % (self.database, stamp, self.primary_container, path))

    def copy_images(self, primary, files, path):
        """Stream each image file from the primary's container into this one (a tar, never a file on
        the controller), owned by the instance owner."""
        try:
            for name in files:
                stream, _stat = primary.api.get_archive(primary.container_id, name)
                self.clp.api.put_archive(self.clp.container_id, path, stream)
        except DockerException as exc:
            raise HadrSetupError("copying the backup image of %s from %s failed: %s"
                                 % (self.database, self.primary_container, api_message(exc)))
        self.root("chown %s -- %s" % (shlex.quote(self.clp.instance),
                                      " ".join(shlex.quote(path + "/" + f.rsplit("/", 1)[-1]) for f in files)))

    def remove_copies(self, files):
        self.root("rm -f -- %s" % " ".join(shlex.quote(f) for f in files))

    def root(self, command):
        result = exec_in_container(self.clp.api, self.clp.container_id, ["/bin/sh", "-c", command], user="root",
                                   timeout=120)
        if result.rc != 0:
            raise HadrSetupError("`%s` failed in container %s: %s"
                                 % (command, self.container, (result.stdout + result.stderr).strip()[:300]))

    # -- role primary -----------------------------------------------------------------------------------

    def primary(self, status):
        changes = cfg_changes(status.cfg, self.wanted)
        by_force = " BY FORCE" if self.p.get("force_start") else ""
        if status.role == STANDBY:
            how = self.p.get("takeover") or "never"
            if how == "never":
                self.fail("database %s in container %s is the standby of its pair; set takeover=peer (in PEER "
                          "state) or force to make it the primary" % (self.database, self.container))
            self.run_clp("TAKEOVER HADR ON DATABASE %s%s" % (self.database, TAKEOVER[how]))
            if changes:
                self.run_clp(update_statement(self.database, changes))
                self.restart_required = True
        elif status.role == STANDARD:
            if not archive_logging(status.cfg):
                self.fail("database %s in container %s uses circular logging: HADR needs archive logging (Db2 "
                          "refuses with SQL1768N reason 1): set LOGARCHMETH1 (then an offline backup) first"
                          % (self.database, self.container))
            if changes:
                self.run_clp(update_statement(self.database, changes))
            self.start_primary(by_force)
        else:
            if changes:
                self.run_clp(update_statement(self.database, changes))
                self.restart_required = status.active
            if not status.active:
                self.start_primary(by_force, activate=not by_force)
        if self.restart_required:
            self.notes.append("The HADR configuration of %s changed; it takes effect when HADR is stopped and started "
                              "again on the primary (the serving primary was not deactivated)." % self.database)

    def start_primary(self, by_force, activate=False):
        """START HADR AS PRIMARY (or ACTIVATE of a primary): Db2 waits HADR_TIMEOUT for the standby."""
        statement = "ACTIVATE DATABASE %s" % self.database if activate else \
            "START HADR ON DATABASE %s AS PRIMARY%s" % (self.database, by_force)
        try:
            self.run_clp(statement)
        except Db2Error as exc:
            if exc.code == "SQL1768N" and 'Reason code = "7"' in str(exc):
                raise self.recorder.fail(HadrSetupError(
                    "%s: no standby connected within HADR_TIMEOUT; start the standby first (role=standby) or use "
                    "force_start=true" % exc))
            raise


PRESENT_OPTIONS = ("role", "local_host", "local_svc", "remote_host", "remote_svc")


def check_options(params):
    """What the options must be together, after the input gate: InputError before anything is done."""
    try:
        check_path(params["backup_path"], "backup_path")
    except BackupInputError:
        raise InputError("backup_path", "must be %s" % PATH_RULE[1])
    if params["state"] == "present":
        missing = [name for name in PRESENT_OPTIONS if not params[name]]
        if missing:
            raise InputError(", ".join(missing), "is required with state=present")
    if params["peer_window"] < 0:
        raise InputError("peer_window", "must be 0 or more seconds")
    if params["primary"] and params["role"] != "standby":
        raise InputError("primary", "applies to role=standby only")


def run_task(target):
    """db2_hadr on a Db2Target (module.py): the result, or the task ends through target.fail_on; after
    a change the failure says where the database stands now (`status`)."""
    p = target.params
    params = dict(p, timeout=p["hadr_timeout"])  # the engine's option names are HADR_PARAMETERS's

    def open_primary():
        api = target.docker.connect_other("primary")
        inspect = open_running_db2(api, p["primary"]["container"])
        return Db2Clp(api, inspect["Id"], instance_owner(inspect), timeout=p["exec_timeout"])

    recorder = ActionRecorder(check_mode=target.module.check_mode)
    engine = None
    try:
        target.open()
        engine = HadrSetup(target.clp, params, recorder, open_primary=open_primary if p["primary"] else None,
                           container=p["container"], primary_container=(p["primary"] or {}).get("container", ""))
        return engine.run()
    except ActionFailed as exc:  # Db2Error, DockerOperationError, HadrSetupError
        where = {}
        if engine is not None and recorder.done:
            try:
                where["status"] = engine.status().as_dict()
            except ActionFailed:
                pass
        target.fail_on(recorder.fail(exc), doing="db2_hadr on %s" % p["database"], **where)
