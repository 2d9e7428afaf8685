# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Db2 authentication through IBM's LDAP security plug-ins, in a running Db2 container:
IBMLDAPSecurity.ini rendered and checked, the plug-in parameters of the dbm cfg, an instance
restart only when the configuration in effect is not the configured one, a proof login, and
a way back when db2start refuses the new configuration.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import re

from ansible_collections.db2ops.docker.plugins.module_utils.actions import mask_secrets
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Clp, Db2Error
from ansible_collections.db2ops.docker.plugins.module_utils._db2.dbm_cfg import (
    CLIENT_PLUGIN,
    GROUP_PLUGIN,
    LDAP_PLUGINS,
    PLUGIN_PARAMS,
    SERVER_PLUGIN,
    parse_dbm_cfg,
    uses_ldap,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import InputError, check_params, require_match
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.ibm_ini import (
    LIMITS,
    LdapAuthError,
    ini_values,
    mask_ini,
    render_ini,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.exec import split_sections

KEYWORD_PARAMS = ("AUTHENTICATION", "SRVCON_AUTH")
AUTH_TYPES = ["SERVER", "SERVER_ENCRYPT", "SERVER_ENCRYPT_AES", "CLIENT", "DATA_ENCRYPT", "DATA_ENCRYPT_CMP"]


_SECTION = "@@DB2OPS-LDAPAUTH"
APPLIED_MARK = ".db2ops_ldap_applied"  # next to the ini: fingerprint of what the last db2start loaded


# ---------------------------------------------------------------------------------------------
# IBMLDAPSecurity.ini


# ---------------------------------------------------------------------------------------------
# dbm cfg

def _norm(param, value):
    value = (value or "").strip()
    return value.upper() if param in KEYWORD_PARAMS else value  # plug-in names are file names


def dbm_wanted(params, current):
    """{PARAM: value ('' clears)} the task wants; parameters it leaves alone are absent."""
    wanted = {}
    present = params["state"] == "present"
    for param, plugin, on in (("SRVCON_PW_PLUGIN", SERVER_PLUGIN, present),
                              ("GROUP_PLUGIN", GROUP_PLUGIN, present and params["group_plugin"]),
                              ("CLNT_PW_PLUGIN", CLIENT_PLUGIN, present and params["client_plugin"])):
        if on:
            wanted[param] = plugin
        elif current.get(param) in LDAP_PLUGINS:  # clear ours, never someone else's plug-in
            wanted[param] = ""
    for param in KEYWORD_PARAMS:
        if params.get(param.lower()):
            wanted[param] = params[param.lower()].upper()
    return wanted


def dbm_changes(wanted, current):
    return dict((p, v) for p, v in wanted.items() if _norm(p, current.get(p)) != _norm(p, v))


def update_statement(changes):
    return "UPDATE DBM CFG USING " + " ".join("%s %s" % (p, v or "NULL") for p, v in sorted(changes.items()))


def fingerprint(ini_text, dbm):
    """What identifies a configuration: the ini and the LDAP-relevant dbm cfg values."""
    relevant = dict((p, _norm(p, dbm.get(p))) for p in PLUGIN_PARAMS + KEYWORD_PARAMS)
    return hashlib.sha256(json.dumps([ini_text or "", relevant], sort_keys=True).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# The instance

_READ_SCRIPT = "; ".join((
    'ini="${DB2LDAPSecurityConfig:-$HOME/sqllib/cfg/IBMLDAPSecurity.ini}"',
    'echo "%(s)s path"; echo "$ini"',
    'echo "%(s)s exists"; if [ -e "$ini" ]; then echo yes; stat -c "%%U %%a" "$ini"; fi',
    'echo "%(s)s ini"; base64 -w0 "$ini" 2>/dev/null; echo',
    'echo "%(s)s mark"; cat "$(dirname "$ini")/%(mark)s" 2>/dev/null',
    'echo "%(s)s running"; db2gcf -s >/dev/null 2>&1; echo $?',
    'echo "%(s)s dbm"; db2 get dbm cfg 2>&1; db2 terminate >/dev/null 2>&1; true',
)) % dict(s=_SECTION, mark=APPLIED_MARK)


class Instance:
    """The LDAP-related state of one Db2 instance, read in one exec."""

    def __init__(self, clp):
        self.clp = clp
        result = clp.shell(_READ_SCRIPT)
        sections = dict((name, part["output"]) for name, part in split_sections(result.stdout, _SECTION).items())
        if "dbm" not in sections or "(SRVCON_PW_PLUGIN)" not in sections["dbm"]:
            raise LdapAuthError("cannot read the dbm cfg of instance %s: %s"
                                % (clp.instance, " ".join((result.stdout + result.stderr).split())[-300:]))
        self.path = sections["path"].strip()
        exists = sections["exists"].split()
        self.exists = bool(exists)
        self.owner_mode = (exists[1], exists[2]) if len(exists) == 3 else None
        self.ini = base64.b64decode(sections["ini"].strip()).decode("utf-8", "replace") if self.exists else None
        self.mark = sections["mark"].strip()
        self.running = sections["running"].strip() == "0"
        self.dbm = parse_dbm_cfg(sections["dbm"])

    @property
    def diag_log(self):
        path = self.dbm.get("RESOLVED_DIAGPATH") or self.dbm.get("DIAGPATH", "").split(" $")[0].strip()
        return (path or "$HOME/sqllib/db2dump").rstrip("/") + "/db2diag.log"

    def pending_restart(self):
        """Whether the configuration in effect may differ from the configured one."""
        if not self.running:
            return True
        current = fingerprint(self.ini, self.dbm)
        if self.mark:
            return self.mark != current
        # Never restarted by this module: only an LDAP configuration can be out of date.
        return uses_ldap(self.dbm)


def write_ini(clp, path, text):
    """Replace the ini atomically, 0600, owned by the instance owner (the exec runs as it);
    the content travels on stdin."""
    quoted = "'%s'" % path.replace("'", "'\\''")
    result = clp.shell('umask 077; tmp=%s.db2ops-new; cat > "$tmp" && chmod 600 "$tmp" && mv -f "$tmp" %s'
                       % (quoted, quoted), stdin=text)
    if result.rc != 0:
        raise LdapAuthError("cannot write %s: %s" % (path, (result.stdout + result.stderr).strip()))


def remove_ini(clp, path):
    quoted = "'%s'" % path.replace("'", "'\\''")
    result = clp.shell("rm -f %s" % quoted)
    if result.rc != 0:
        raise LdapAuthError("cannot remove %s: %s" % (path, (result.stdout + result.stderr).strip()))


def write_mark(clp, path, value):
    mark = path.rsplit("/", 1)[0] + "/" + APPLIED_MARK
    clp.shell("umask 077; printf '%%s\\n' %s > '%s'" % (value, mark))


def restart(clp, timeout):
    """`db2stop force; db2start` inside the container; (ok, output).

    The instance restarts, not the container: PID 1 of IBM's images is the setup script, which
    re-runs the whole instance setup on a container restart (minutes), while db2stop/db2start
    through `docker exec` leave it alone (it only tails db2diag.log).
    """
    result = clp.shell("db2stop force 2>&1; db2start 2>&1", timeout=timeout)
    output = (result.stdout + result.stderr).strip()
    started = result.rc == 0 and "SQL1063N" in output
    return started, output


_DIAG_MESSAGE = re.compile(r"^MESSAGE : (.*)$", re.M)


def last_diag_error(clp, diag_log):
    """The MESSAGE of the last `LEVEL: Error` (or Severe) record in db2diag.log."""
    result = clp.shell('tail -c 65536 "%s" 2>/dev/null' % diag_log.replace('"', ""))
    records = re.split(r"\n(?=\d{4}-\d\d-\d\d-\d\d\.\d\d\.\d\d)", result.stdout)
    for record in reversed(records):
        if re.search(r"LEVEL: (Error|Severe|Critical)", record):
            match = _DIAG_MESSAGE.search(record)
            if match:
                return match.group(1).strip()
    return None


# ---------------------------------------------------------------------------------------------
# Proof login

# The proof login travels as a CLP statement, where a `;` ends the statement and a statement
# starting with `!` is a shell command run as the instance owner. The user name therefore gets
# a strict rule (Db2 authorization IDs: letters, digits, _ @ # $ and, from LDAP uids, . and -);
# the password is sent as is when it is plain, in double quotes otherwise, and refused when even
# quotes cannot carry it.
LOGIN_NAME = re.compile(r"[A-Za-z0-9_@#$][A-Za-z0-9_@#$.-]{0,127}")
_PLAIN_PASSWORD = re.compile(r"[A-Za-z0-9_.@#$%&*+=,:/?~^-]+")


def clp_password(password, option="verify_password"):
    """The password as a CLP token (plain, or in double quotes); InputError when it cannot be one."""
    if not password:
        raise InputError(option, "is empty")
    if '"' in password or ";" in password:
        raise InputError(option, "contains a double quote or ';', which a CLP CONNECT statement cannot carry "
                                 "(IBM does not support ';' in passwords)")
    if password != password.strip():
        raise InputError(option, "has leading or trailing blanks, which Db2 strips before checking it")
    if len(password.encode("utf-8")) > LIMITS["password"]:
        raise InputError(option, "is longer than the %d bytes the LDAP plug-in takes" % LIMITS["password"])
    if _PLAIN_PASSWORD.fullmatch(password) and "--" not in password:  # `--` would start a comment
        return password
    return '"%s"' % password


def check_task_inputs(params):
    """Every option through the input gate, then the proof login's rules; InputError before anything is done."""
    check_params(params)
    if params.get("verify_user") is not None:
        require_match(LOGIN_NAME, params["verify_user"], "verify_user",
                      "a login name of 1-128 letters, digits, _ @ # $ . or -, not starting with . or -")
    if params.get("verify_password") is not None:
        clp_password(params["verify_password"])
    if params.get("verify_user") is not None:  # the database goes into the same statement
        require_match(r"[A-Za-z@#$][A-Za-z0-9@#$_]{0,7}", params.get("verify_database"), "verify_database",
                      "a Db2 database name (1-8 letters, digits, @ # $ or _)")


def secret_pieces(password):
    """The password and each of its blank-, quote- or ';'-separated pieces of 3+ characters, longest
    first: what to mask if anything ever split it (shorter pieces would mask ordinary words)."""
    pieces = {password} | set(p for p in re.split(r"[\s;\"']+", password) if len(p) >= 3)
    return sorted((p for p in pieces if p), key=len, reverse=True)


def mask_secret(text, password):
    return mask_secrets(text, secret_pieces(password))


def verify_login(clp, database, user, password):
    """(authid, groups) after `CONNECT TO db USER u USING p`; LdapAuthError when the login fails."""
    connect = "CONNECT TO %s USER %s USING %s" % (database, user, clp_password(password))
    secrets = secret_pieces(password)
    try:
        out = clp.run_script([connect, "CONNECT RESET"], secrets=secrets)
    except Db2Error as exc:
        raise LdapAuthError("the proof login as %s to %s failed: %s" % (user, database, mask_secret(str(exc), password)))
    match = re.search(r"SQL authorization ID\s*=\s*(\S+)", out[0].output)
    authid = match.group(1) if match else user.upper()
    query = ("SELECT GROUPNAME FROM TABLE(SYSPROC.AUTH_LIST_GROUPS_FOR_AUTHID('%s')) AS T ORDER BY 1"
             % authid.replace("'", "''"))
    try:
        rows = clp.run_script([connect, query, "CONNECT RESET"], secrets=secrets)[1].rows or []
    except Db2Error as exc:
        raise LdapAuthError("the login as %s worked, but listing its groups failed: %s"
                            % (user, mask_secret(str(exc), password)))
    return authid, [row.get("GROUPNAME") for row in rows]


# ---------------------------------------------------------------------------------------------
# The whole task

class LdapAuth:
    """Plan and apply one db2_ldap_auth task. Nothing is written before the plan is complete."""

    def __init__(self, api, inspect, instance, params, check_mode, warn):
        self.params = params
        self.check_mode = check_mode
        self.warn = warn
        self.clp = Db2Clp(api, inspect["Id"], instance, timeout=params["exec_timeout"])
        self.commands = []
        self.changed = False
        self.result = {}

    def run(self):
        p = self.params
        if p["network"]:
            self._attach(p["network"])
        present = p["state"] == "present"
        values = ini_values(p, groups=p["group_plugin"]) if present else None
        before = Instance(self.clp)
        new_ini = render_ini(values) if present else None
        wanted = dbm_wanted(p, before.dbm)
        changes = dbm_changes(wanted, before.dbm)
        ini_changed = new_ini != before.ini or (present and before.owner_mode not in (None, (self.clp.instance, "600")))
        needs_restart = bool(ini_changed or changes or before.pending_restart())
        self.result.update(ini_path=before.path, dbm_cfg_changes=changes, restart_pending=False,
                           diff=dict(before=dict(ini=mask_ini(before.ini) or "",
                                                 dbm_cfg=dict((k, before.dbm.get(k, "")) for k in wanted)),
                                     after=dict(ini=mask_ini(new_ini) or "",
                                                dbm_cfg=dict((k, before.dbm.get(k, "")) for k in wanted))))
        self.result["diff"]["after"]["dbm_cfg"].update(changes)
        if ini_changed:
            self.commands.append("write %s (mode 0600)" % before.path if present else "remove %s" % before.path)
        if changes:
            self.commands.append(update_statement(changes))
        restart_now = needs_restart and p["restart"]
        if restart_now:
            self.commands.append("db2stop force; db2start")
        elif needs_restart:
            self.result["restart_pending"] = True
            self.warn("The LDAP configuration of instance %s takes effect at the next db2stop/db2start "
                      "(restart=false)." % self.clp.instance)
        self.changed = bool(self.changed or ini_changed or changes or restart_now)
        if self.check_mode:
            if p["verify_user"] and self.changed:
                self.warn("check mode: the proof login was not tried, the configuration is not applied yet")
            elif p["verify_user"]:
                self._verify()
            return
        if ini_changed:
            (write_ini(self.clp, before.path, new_ini) if present else remove_ini(self.clp, before.path))
        if changes:
            self._update_dbm(changes)
        if restart_now:
            self._restart(before, ini_changed, changes)
        if p["verify_user"]:
            if needs_restart and not restart_now:
                self.warn("the proof login ran against the configuration still in effect (restart=false)")
            self._verify()

    def _attach(self, network):
        """Put the Db2 container on a user-defined network (live), so LDAP_HOST can name the LDAP
        container the way the cookbook's `--link` alias did, without the legacy link."""
        api, container = self.clp.api, self.clp.container_id
        try:
            info = api.inspect_network(network)
        except Exception as exc:  # docker.errors.NotFound / APIError, not imported here
            raise LdapAuthError("Docker network %s cannot be used: %s" % (network, exc))
        if (info.get("Driver") == "bridge" and info.get("Name") == "bridge") or info.get("Scope") == "host":
            raise LdapAuthError("network %s is not a user-defined network: containers cannot find each other "
                                "by name on it" % network)
        inspect = api.inspect_container(container)
        if info.get("Name") in ((inspect.get("NetworkSettings") or {}).get("Networks") or {}):
            return
        self.commands.append("connect container %s to network %s" % (inspect["Name"].lstrip("/"), network))
        self.changed = True
        if not self.check_mode:
            api.connect_container_to_network(container, info["Id"], aliases=self.params["network_aliases"] or None)

    def _update_dbm(self, changes):
        try:
            self.clp.run(update_statement(changes))
        except Db2Error as exc:
            raise LdapAuthError(str(exc))

    def _restart(self, before, ini_changed, changes):
        started, output = restart(self.clp, self.params["exec_timeout"])
        if started:
            after = Instance(self.clp)
            write_mark(self.clp, after.path, fingerprint(after.ini, after.dbm))
            self.result["restarted"] = True
            return
        reason = last_diag_error(self.clp, before.diag_log) or " ".join(output.split())[-300:]
        # Never leave the instance down: the previous ini and dbm cfg back, then start again.
        if ini_changed:
            if before.ini is None:
                remove_ini(self.clp, before.path)
            else:
                write_ini(self.clp, before.path, before.ini)
        if changes:
            self._update_dbm(dict((p, before.dbm.get(p, "")) for p in changes))
        restored, output2 = restart(self.clp, self.params["exec_timeout"])
        what = "the previous configuration was restored and the instance started again"
        if not restored:
            # Last resort: operating system authentication, so the instance at least runs.
            self._update_dbm(dict((p, "") for p in PLUGIN_PARAMS if before.dbm.get(p) in LDAP_PLUGINS))
            restored, output2 = restart(self.clp, self.params["exec_timeout"])
            what = ("the previous configuration did not start either; the LDAP plug-ins were cleared and the "
                    "instance %s with operating system authentication" % ("started" if restored else "DID NOT START"))
        if restored:
            after = Instance(self.clp)
            write_mark(self.clp, after.path, fingerprint(after.ini, after.dbm))
        raise LdapAuthError("db2start refused the new LDAP configuration (%s); db2diag.log: %s; %s"
                            % (_last_message(output), reason, what))

    def _verify(self):
        p = self.params
        authid, groups = verify_login(self.clp, p["verify_database"], p["verify_user"], p["verify_password"])
        self.result["verified"] = dict(user=p["verify_user"], authid=authid, groups=groups)


def _last_message(output):
    lines = [line.strip() for line in output.splitlines() if re.match(r"^SQL\d{4,5}[NWIC]", line.strip())]
    return lines[-1] if lines else " ".join(output.split())[-200:]


def run_task(api, inspect, instance, params, check_mode, warn):
    """(changed, result) of one task; LdapAuthError / Db2Error / DockerOperationError propagate."""
    task = LdapAuth(api, inspect, instance, params, check_mode, warn)
    try:
        task.run()
    except (LdapAuthError, Db2Error, DockerOperationError) as exc:
        exc.commands = task.commands
        exc.changed = task.changed and not check_mode
        raise
    task.result["commands"] = task.commands
    return task.changed, task.result
