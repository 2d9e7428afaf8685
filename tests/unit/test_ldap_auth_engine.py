"""_ldap/db2_auth.py (db2_ldap_auth) against the fake daemon, through the real Db2Clp and exec code:
the plan in check mode, the ini written on stdin, the dbm cfg update, the instance restart, the
proof login, the network attach, removal, and what each failure reports. The instance's LDAP side
(ini file, dbm cfg, db2start, logins) is modelled here with scripted exec answers."""
import base64
import re

import pytest
from fake_docker import OK, FakeDocker

from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError
from ansible_collections.db2ops.docker.plugins.module_utils._ldap import ibm_ini
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.db2_auth import LdapAuthError, run_task

IMAGE = "ibmcom/db2:11.5.8.0"
BASE = "dc=example,dc=org"
SEARCH_PW = "Qz7searchpw"
LOGIN_PW = "alice-Pw9"
PLAN = ["write /database/config/db2inst1/sqllib/cfg/IBMLDAPSecurity.ini (mode 0600)",
        "UPDATE DBM CFG USING GROUP_PLUGIN IBMLDAPgroups SRVCON_PW_PLUGIN IBMLDAPauthserver",
        "db2stop force; db2start"]
DENIED = 'SQL30082N  Security processing failed with reason "24" ("USERNAME AND/OR PASSWORD INVALID").  SQLSTATE=08001'


class LdapInstance:
    """The LDAP side of the Db2 instance in container `db2`: IBMLDAPSecurity.ini, the dbm cfg, the
    applied mark, a db2start that refuses an ini naming USER_OBJECTCLASS `refuse`, and LDAP users."""

    path = "/database/config/db2inst1/sqllib/cfg/IBMLDAPSecurity.ini"

    def __init__(self, daemon):
        self.ini, self.mark, self.running = None, "", True
        self.dbm = {"SRVCON_PW_PLUGIN": "", "GROUP_PLUGIN": "", "CLNT_PW_PLUGIN": "", "AUTHENTICATION": "SERVER",
                    "SRVCON_AUTH": "NOT_SPECIFIED", "DIAGPATH": "/database/config/db2inst1/sqllib/db2dump/ $m"}
        self.users = {("alice", LOGIN_PW): ("ALICE", ["DB2USERS", "STAFF"])}
        self.log = []  # what changed the instance, in order
        self.write_error = self.update_error = self.groups_error = None  # what the next such step answers
        for pattern, answer in ((r"^ini=", self._read), (r"^umask 077; tmp=", self._write), (r"^rm -f ", self._remove),
                                (r"^umask 077; printf", self._mark), (r"^db2stop force", self._restart),
                                (r"^tail -c 65536 ", self._diag), (r"^db2 -t \+p -s -f /dev/stdin", self._clp)):
            daemon.on_exec(pattern, answer)

    def _read(self, container, command, stdin, user):
        out = ["@@DB2OPS-LDAPAUTH path", self.path, "@@DB2OPS-LDAPAUTH exists"]
        if self.ini is not None:
            out += ["yes", "db2inst1 600"]
        out += ["@@DB2OPS-LDAPAUTH ini", base64.b64encode((self.ini or "").encode()).decode(),
                "@@DB2OPS-LDAPAUTH mark", self.mark, "@@DB2OPS-LDAPAUTH running", "0" if self.running else "1",
                "@@DB2OPS-LDAPAUTH dbm"] + [" Some parameter (%s) = %s" % item for item in self.dbm.items()]
        return 0, "\n".join(out) + "\n"

    def _write(self, container, command, stdin, user):
        assert user == "db2inst1" and "chmod 600" in command and SEARCH_PW not in command
        if self.write_error:
            return 1, "", self.write_error
        self.ini = stdin
        self.log.append("write ini")
        return 0, ""

    def _remove(self, container, command, stdin, user):
        self.ini = None
        self.log.append("remove ini")
        return 0, ""

    def _mark(self, container, command, stdin, user):
        self.mark = re.search(r"' ([0-9a-f]{64}) >", command).group(1)
        return 0, ""

    def _restart(self, container, command, stdin, user):
        self.running = not (self.ini and "= refuse" in self.ini and self.dbm["SRVCON_PW_PLUGIN"])
        self.log.append("restart" if self.running else "restart refused")
        if self.running:
            return 0, "SQL1064N  DB2STOP processing was successful.\nSQL1063N  DB2START processing was successful.\n"
        return 1, "SQL1064N  DB2STOP processing was successful.\nSQL1365N  db2start or db2stop failed in processing the plugin\n"

    def _diag(self, container, command, stdin, user):
        assert "/database/config/db2inst1/sqllib/db2dump/db2diag.log" in command
        return 0, "2026-01-01-00.00.00.000000+000 I1E1 LEVEL: Error\nMESSAGE : db2ldapReadConfig: bad USER_OBJECTCLASS\n"

    def _clp(self, container, command, stdin, user):
        out = []
        for line in stdin.splitlines():
            statement = line.strip().rstrip(";")
            if statement.startswith("ECHO "):
                out.append(statement[5:])
            elif statement.startswith("UPDATE DBM CFG USING ") and self.update_error:
                out.append(self.update_error)
                return 4, "\n".join(out) + "\n"
            elif statement.startswith("UPDATE DBM CFG USING "):
                words = statement.split()[4:]
                self.dbm.update((name, "" if value == "NULL" else value) for name, value in zip(words[::2], words[1::2]))
                self.log.append(statement)
                out.append(OK)
            elif statement.startswith("CONNECT TO "):
                user_name, password = re.match(r"CONNECT TO \w+ USER (\S+) USING (.*)$", statement).groups()
                found = self.running and self.dbm["SRVCON_PW_PLUGIN"] and self.users.get((user_name, password.strip('"')))
                if not found:
                    out.append(DENIED)
                    return 4, "\n".join(out) + "\n"
                out.append(" Database server        = DB2/LINUXX8664 11.5.8.0\n SQL authorization ID   = %s" % found[0])
            elif statement.startswith("SELECT GROUPNAME") and self.groups_error:
                out.append(self.groups_error)
                return 4, "\n".join(out) + "\n"
            elif statement.startswith("SELECT GROUPNAME"):
                groups = self.users[("alice", LOGIN_PW)][1]
                out.append("GROUPNAME\n---------\n%s\n\n  %d record(s) selected.\n" % ("\n".join(groups), len(groups)))
            elif statement == "CONNECT RESET":
                out.append(OK)
            else:
                raise AssertionError("the LDAP instance model does not know %r" % statement)
        return 0, "\n".join(out) + "\n"


@pytest.fixture
def daemon():
    fake = FakeDocker()
    fake.add_image(IMAGE, level="11.5.8.0")
    fake.add_db2("db2", IMAGE)
    fake.ldap = LdapInstance(fake)
    yield fake
    assert fake.unexpected == []


def params(**extra):
    p = dict((name, spec.get("default")) for name, spec in ibm_ini.INI_OPTIONS.items())
    p.update(ldap_host=["ldap-host:389"], user_basedn="ou=Users," + BASE, search_dn="cn=ldapquery," + BASE,
             search_pw=SEARCH_PW, state="present", group_plugin=True, client_plugin=False, authentication=None,
             srvcon_auth=None, restart=True, network=None, network_aliases=None, verify_user=None,
             verify_password=None, verify_database="TESTDB", exec_timeout=60)
    p.update(extra)
    return p


def run(daemon, check_mode=False, **extra):
    warnings = []
    changed, result = run_task(daemon, daemon.inspect_container("db2"), "db2inst1", params(**extra), check_mode,
                               warnings.append)
    return changed, result, warnings


def test_check_mode_plans_every_step_and_changes_nothing(daemon):
    changed, result, warnings = run(daemon, check_mode=True, verify_user="alice", verify_password=LOGIN_PW)
    assert changed and result["commands"] == PLAN
    assert result["dbm_cfg_changes"] == {"GROUP_PLUGIN": "IBMLDAPgroups", "SRVCON_PW_PLUGIN": "IBMLDAPauthserver"}
    assert "SEARCH_PW = ********" in result["diff"]["after"]["ini"] and SEARCH_PW not in str(result)
    assert warnings == ["check mode: the proof login was not tried, the configuration is not applied yet"]
    assert daemon.ldap.ini is None and daemon.ldap.log == [] and daemon.ldap.dbm["SRVCON_PW_PLUGIN"] == ""


def test_apply_writes_updates_restarts_and_proves_a_login_then_has_nothing_to_do(daemon):
    changed, result, warnings = run(daemon, verify_user="alice", verify_password=LOGIN_PW)
    assert changed and result["commands"] == PLAN and result["restarted"] and warnings == []
    assert daemon.ldap.log == ["write ini", PLAN[1], "restart"], "ini and dbm cfg before the one restart"
    assert "SEARCH_PW = %s\n" % SEARCH_PW in daemon.ldap.ini and "LDAP_HOST = ldap-host:389" in daemon.ldap.ini
    assert daemon.ldap.mark, "the configuration in effect is marked"
    assert result["verified"] == dict(user="alice", authid="ALICE", groups=["DB2USERS", "STAFF"])
    assert LOGIN_PW not in str(result) and SEARCH_PW not in str(result)

    changed, result, _warnings = run(daemon, verify_user="alice", verify_password=LOGIN_PW)
    assert changed is False and result["commands"] == [] and daemon.ldap.log[-1] == "restart"
    assert result["verified"]["groups"] == ["DB2USERS", "STAFF"]
    # In check mode with nothing to change, the proof login is tried.
    assert run(daemon, check_mode=True, verify_user="alice", verify_password=LOGIN_PW)[1]["verified"]["authid"] == "ALICE"


def test_restart_false_leaves_the_restart_pending_and_says_so(daemon):
    changed, result, warnings = run(daemon, restart=False, verify_user="alice", verify_password=LOGIN_PW)
    assert changed and result["commands"] == PLAN[:2] and result["restart_pending"]
    assert daemon.ldap.log == ["write ini", PLAN[1]]
    assert "takes effect at the next db2stop/db2start (restart=false)" in warnings[0]
    assert warnings[1] == "the proof login ran against the configuration still in effect (restart=false)"
    assert result["verified"]["authid"] == "ALICE"
    # The next run with restart=true restarts, though the files already match.
    changed, result, _warnings = run(daemon)
    assert changed and result["commands"] == ["db2stop force; db2start"]


def test_a_failed_proof_login_is_an_error_without_the_password(daemon):
    with pytest.raises(LdapAuthError) as err:
        run(daemon, verify_user="alice", verify_password="Wrong-Pw9")
    message = str(err.value)
    assert message.startswith("the proof login as alice to TESTDB failed:") and "SQL30082N" in message
    assert "Wrong-Pw9" not in message
    assert err.value.changed and err.value.commands == PLAN, "the configuration was applied before the login"


def test_a_refused_configuration_is_rolled_back_and_the_error_says_why(daemon):
    with pytest.raises(LdapAuthError) as err:
        run(daemon, user_objectclass="refuse")
    message = str(err.value)
    assert "db2start refused the new LDAP configuration (SQL1365N" in message
    assert "db2diag.log: db2ldapReadConfig: bad USER_OBJECTCLASS" in message
    assert "the previous configuration was restored and the instance started again" in message
    assert daemon.ldap.log == ["write ini", PLAN[1], "restart refused", "remove ini",
                               "UPDATE DBM CFG USING GROUP_PLUGIN NULL SRVCON_PW_PLUGIN NULL", "restart"]
    assert daemon.ldap.running and daemon.ldap.ini is None and daemon.ldap.mark
    assert err.value.changed and err.value.commands == PLAN


def test_absent_removes_the_ini_and_clears_only_the_ldap_plugins(daemon):
    run(daemon)
    daemon.ldap.dbm["CLNT_PW_PLUGIN"] = "theirPlugin"
    changed, result, _warnings = run(daemon, check_mode=True, state="absent")
    assert changed and result["commands"] == [
        "remove " + LdapInstance.path, "UPDATE DBM CFG USING GROUP_PLUGIN NULL SRVCON_PW_PLUGIN NULL",
        "db2stop force; db2start"]
    assert daemon.ldap.ini is not None
    changed, result, _warnings = run(daemon, state="absent")
    assert changed and daemon.ldap.ini is None and daemon.ldap.dbm["CLNT_PW_PLUGIN"] == "theirPlugin"
    assert daemon.ldap.log[-3:] == ["remove ini", result["commands"][1], "restart"]
    unchanged = {"commands": [], "ini_path": LdapInstance.path, "dbm_cfg_changes": {}, "restart_pending": False,
                 "diff": {"before": {"ini": "", "dbm_cfg": {}}, "after": {"ini": "", "dbm_cfg": {}}}}
    assert run(daemon, state="absent")[:2] == (False, unchanged)


def test_the_container_joins_a_user_defined_network_with_its_aliases(daemon):
    daemon.create_network("ldapnet", driver="bridge")
    changed, result, _warnings = run(daemon, check_mode=True, network="ldapnet")
    assert changed and result["commands"][0] == "connect container db2 to network ldapnet"
    assert "ldapnet" not in daemon.container("db2")["NetworkSettings"]["Networks"]
    run(daemon, network="ldapnet", network_aliases=["db2-host"])
    assert daemon.container("db2")["NetworkSettings"]["Networks"]["ldapnet"] == {"Aliases": ["db2-host"]}
    changed, result, _warnings = run(daemon, network="ldapnet")
    assert changed is False and result["commands"] == []


@pytest.mark.parametrize("network, reason", [
    ("nonet", 'Docker network nonet cannot be used: 404 Client Error: network nonet not found ("network nonet not found")'),
    ("bridge", "network bridge is not a user-defined network: containers cannot find each other by name on it"),
])
def test_a_network_the_containers_cannot_meet_on_is_refused_before_anything_is_done(daemon, network, reason):
    daemon.networks["bridge"] = {"Id": "bridge", "Name": "bridge", "Driver": "bridge"}
    with pytest.raises(LdapAuthError) as err:
        run(daemon, network=network)
    assert str(err.value) == reason and not err.value.changed and err.value.commands == []
    assert daemon.ldap.log == [] and daemon.ldap.ini is None


def test_a_file_that_cannot_be_written_stops_before_the_dbm_cfg(daemon):
    daemon.ldap.write_error = "mv: cannot move: Read-only file system"
    with pytest.raises(LdapAuthError) as err:
        run(daemon)
    assert str(err.value) == "cannot write %s: mv: cannot move: Read-only file system" % LdapInstance.path
    assert daemon.ldap.log == [] and daemon.ldap.dbm["SRVCON_PW_PLUGIN"] == ""


def test_an_unreadable_dbm_cfg_is_reported(daemon):
    daemon.on_exec(r"^ini=", (0, "@@DB2OPS-LDAPAUTH dbm\nSQL1390C  The environment variable DB2INSTANCE is not defined.\n"))
    with pytest.raises(LdapAuthError, match="cannot read the dbm cfg of instance db2inst1: .*SQL1390C"):
        run(daemon)


def test_a_stopped_container_is_a_docker_error(daemon):
    daemon.stop("db2")
    with pytest.raises(DockerOperationError, match="cannot exec in container") as err:
        run(daemon)
    assert err.value.commands == [] and not err.value.changed


def test_a_refused_dbm_cfg_update_is_reported_with_the_ini_already_written(daemon):
    daemon.ldap.update_error = "SQL5130N  The value specified for the configuration parameter is not valid."
    with pytest.raises(LdapAuthError) as err:
        run(daemon)
    assert str(err.value).startswith(PLAN[1] + " failed: SQL5130N")
    assert err.value.changed and daemon.ldap.log == ["write ini"], "no restart after a failed update"


def test_a_login_whose_groups_cannot_be_listed_says_the_login_worked(daemon):
    daemon.ldap.groups_error = "SQL0440N  No authorized routine named AUTH_LIST_GROUPS_FOR_AUTHID was found."
    with pytest.raises(LdapAuthError) as err:
        run(daemon, verify_user="alice", verify_password=LOGIN_PW)
    message = str(err.value)
    assert message.startswith("the login as alice worked, but listing its groups failed:") and "SQL0440N" in message
    assert LOGIN_PW not in message
