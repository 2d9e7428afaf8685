"""module_utils/_ldap/db2_auth.py: the ini, the dbm cfg plan, the pending-restart rule, and the way
back when db2start refuses a configuration (with a fake instance; the real one is in
tests/integration/test_ldap_auth.py, but the stand-in cannot be made to refuse an ini the
module accepts)."""
import base64

import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._ldap import ibm_ini
from ansible_collections.db2ops.docker.plugins.module_utils._ldap import db2_auth as ldap_auth
from ansible_collections.db2ops.docker.plugins.module_utils._docker.exec import ExecResult

BASE = "dc=example,dc=org"


def params(**extra):
    p = dict((name, spec.get("default")) for name, spec in ibm_ini.INI_OPTIONS.items())
    p.update(ldap_host=["ldap-service:389"], user_basedn="ou=Users," + BASE, search_dn="cn=ldapquery," + BASE,
             search_pw="pw", state="present", group_plugin=True, client_plugin=False, authentication=None,
             srvcon_auth=None, restart=True, network=None, network_aliases=None, verify_user=None,
             verify_password=None, verify_database="TESTDB", exec_timeout=60)
    p.update(extra)
    return p


def test_ini_from_options_in_ibm_order_with_booleans_and_masking():
    text = ibm_ini.render_ini(ibm_ini.ini_values(params(ldap_host=["a:389", "b"], nested_groups=True)))
    assert text.splitlines() == [
        ibm_ini.HEADER.strip(), "LDAP_HOST = a:389 b", "ENABLE_SSL = FALSE", "USER_OBJECTCLASS = inetOrgPerson",
        "USER_BASEDN = ou=Users,dc=example,dc=org", "USERID_ATTRIBUTE = uid", "AUTHID_ATTRIBUTE = uid",
        "GROUP_OBJECTCLASS = groupOfUniqueNames", "GROUPNAME_ATTRIBUTE = cn", "GROUP_LOOKUP_METHOD = SEARCH_BY_DN",
        "GROUP_LOOKUP_ATTRIBUTE = uniqueMember", "NESTED_GROUPS = TRUE", "SEARCH_DN = cn=ldapquery,dc=example,dc=org",
        "SEARCH_PW = pw"]
    assert "SEARCH_PW = ********\n" in ibm_ini.mask_ini(text) and "= pw" not in ibm_ini.mask_ini(text)
    assert ibm_ini.mask_ini("search_pw=x ; c\n") == "search_pw = ********\n"


def test_every_problem_is_named_at_once():
    with pytest.raises(ldap_auth.LdapAuthError) as err:
        ibm_ini.ini_values(params(ldap_host=None, search_pw="a;b", group_basedn="nodn", userid_attribute="1x",
                                  ssl_pw="x" * 257, groupname_attribute=None))
    msg = str(err.value)
    for part in ("SEARCH_PW contains ';'", "GROUP_BASEDN 'nodn' is not a valid DN", "USERID_ATTRIBUTE",
                 "SSL_PW is 257 bytes long; the plug-in takes at most 256", "ldap_host is required",
                 "groupname_attribute is required with group_plugin=true", "ssl_keyfile and ssl_pw go together"):
        assert part in msg
    assert "a;b" not in msg and "xxxx" not in msg
    # Without the group plug-in the group keys are optional.
    assert ibm_ini.ini_values(params(groupname_attribute=None), groups=False)


def test_dbm_plan_clears_only_ldap_plugins_and_compares_keywords_case_insensitively():
    current = {"SRVCON_PW_PLUGIN": "", "GROUP_PLUGIN": "myGroups", "CLNT_PW_PLUGIN": "IBMLDAPauthclient",
               "AUTHENTICATION": "server"}
    wanted = ldap_auth.dbm_wanted(params(group_plugin=False, authentication="SERVER"), current)
    assert wanted == {"SRVCON_PW_PLUGIN": "IBMLDAPauthserver", "CLNT_PW_PLUGIN": "", "AUTHENTICATION": "SERVER"}
    changes = ldap_auth.dbm_changes(wanted, current)
    assert changes == {"SRVCON_PW_PLUGIN": "IBMLDAPauthserver", "CLNT_PW_PLUGIN": ""}
    assert ldap_auth.update_statement(changes) == \
        "UPDATE DBM CFG USING CLNT_PW_PLUGIN NULL SRVCON_PW_PLUGIN IBMLDAPauthserver"


def test_parse_dbm_cfg_lines():
    text = (" Group Plugin                             (GROUP_PLUGIN) = IBMLDAPgroups\n"
            " Server Userid-Password Plugin        (SRVCON_PW_PLUGIN) = \n"
            " Diagnostic data directory path               (DIAGPATH) = /h/sqllib/db2dump/ $m\n"
            " Current member resolved DIAGPATH                        = /h/sqllib/db2dump/DIAG0000/\n")
    cfg = ldap_auth.parse_dbm_cfg(text)
    assert cfg["GROUP_PLUGIN"] == "IBMLDAPgroups" and cfg["SRVCON_PW_PLUGIN"] == ""
    assert cfg["RESOLVED_DIAGPATH"] == "/h/sqllib/db2dump/DIAG0000/"


class FakeInstance:
    """A Db2Clp stand-in for the orchestration: files, dbm cfg, and a db2start that refuses
    configurations whose ini contains `refuse`."""

    instance = "db2inst1"
    api = container_id = None

    def __init__(self, ini=None, dbm=None):
        self.ini = ini
        self.dbm = dict({"SRVCON_PW_PLUGIN": "", "GROUP_PLUGIN": "", "CLNT_PW_PLUGIN": "",
                         "AUTHENTICATION": "SERVER", "SRVCON_AUTH": "NOT_SPECIFIED"}, **(dbm or {}))
        self.mark = ""
        self.running = True
        self.log = []

    def shell(self, command, stdin=None, timeout=None):
        if command.startswith("ini="):
            out = ["@@DB2OPS-LDAPAUTH path", "/h/sqllib/cfg/IBMLDAPSecurity.ini", "@@DB2OPS-LDAPAUTH exists"]
            if self.ini is not None:
                out += ["yes", "db2inst1 600"]
            out += ["@@DB2OPS-LDAPAUTH ini", base64.b64encode((self.ini or "").encode()).decode(),
                    "@@DB2OPS-LDAPAUTH mark", self.mark, "@@DB2OPS-LDAPAUTH running", "0" if self.running else "1",
                    "@@DB2OPS-LDAPAUTH dbm"] + [" x (%s) = %s" % kv for kv in self.dbm.items()]
            return ExecResult(0, "\n".join(out) + "\n", "")
        self.log.append(command.split(";")[-1].strip() if "umask" in command else command)
        if "mv -f" in command:
            self.ini = stdin
        elif command.startswith("rm -f"):
            self.ini = None
        elif command.startswith("umask 077; printf"):
            self.mark = command.split("'%s\\n' ")[1].split(" ")[0]
        elif command.startswith("db2stop"):
            self.running = not (self.ini and "refuse" in self.ini and self.dbm["SRVCON_PW_PLUGIN"])
            return ExecResult(0 if self.running else 1, "SQL1063N  ok" if self.running else
                              "SQL1365N  db2start or db2stop failed in processing the plugin", "")
        elif command.startswith("tail"):
            return ExecResult(0, "2024-01-01-00.00.00.000000+000 I1E1 LEVEL: Error\nMESSAGE : db2ldapReadConfig: bad\n", "")
        return ExecResult(0, "", "")

    def run(self, statement, secrets=(), timeout=None):
        self.log.append(statement)
        words = statement.split()[4:]
        for name, value in zip(words[::2], words[1::2]):
            self.dbm[name] = "" if value == "NULL" else value


def task(fake, **extra):
    t = ldap_auth.LdapAuth.__new__(ldap_auth.LdapAuth)
    t.params, t.check_mode, t.warn, t.clp = params(**extra), False, lambda msg: None, fake
    t.commands, t.changed, t.result = [], False, {}
    return t


def test_refused_configuration_is_rolled_back_and_the_instance_started():
    fake = FakeInstance()
    with pytest.raises(ldap_auth.LdapAuthError) as err:
        task(fake, user_objectclass="refuse").run()
    assert "db2start refused the new LDAP configuration (SQL1365N" in str(err.value)
    assert "db2diag.log: db2ldapReadConfig: bad" in str(err.value)
    assert "the previous configuration was restored and the instance started again" in str(err.value)
    assert fake.running and fake.ini is None and fake.dbm["SRVCON_PW_PLUGIN"] == ""


def test_when_the_previous_configuration_fails_too_os_authentication_is_the_last_resort():
    fake = FakeInstance(ini="USER_OBJECTCLASS = refuse\n", dbm={"SRVCON_PW_PLUGIN": "IBMLDAPauthserver"})
    fake.running = False
    with pytest.raises(ldap_auth.LdapAuthError) as err:
        task(fake, user_objectclass="refuseToo").run()
    assert "the LDAP plug-ins were cleared and the instance started with operating system" in str(err.value)
    assert fake.running and fake.dbm["SRVCON_PW_PLUGIN"] == ""


def test_pending_restart_rule():
    fake = FakeInstance()
    t = task(fake)
    t.run()
    assert fake.mark and t.result["restarted"]
    fake.log.clear()
    t = task(fake)
    t.run()
    assert not t.changed and fake.log == []
    fake.mark = "stale"  # the ini/dbm cfg were changed behind the module's back, then put back
    t = task(fake)
    t.run()
    assert t.changed and t.commands == ["db2stop force; db2start"]


# ---------------------------------------------------------------------------------------------
# The proof login goes into a CLP statement: user names by rule, passwords quoted or refused.

@pytest.mark.parametrize("user", ["x; !touch /tmp/pwned", "x;", "!id", "a b", "x\n!id", "'x'", "", "-x", "x" * 129])
def test_verify_user_outside_the_login_name_rule_is_refused(user):
    with pytest.raises(ldap_auth.InputError) as err:
        ldap_auth.check_task_inputs(params(verify_user=user, verify_password="pw"))
    message = str(err.value)
    assert "verify_user" in message and "nothing was changed" in message and "\n" not in message
    assert "touch" not in message and "!id" not in message


@pytest.mark.parametrize("user", ["alice", "db2inst1", "john.doe", "a-b_c@x#$"])
def test_login_names_that_fit_the_rule_pass(user):
    ldap_auth.check_task_inputs(params(verify_user=user, verify_password="pw"))


@pytest.mark.parametrize("password", ["a b;c", 'say "hi"', " Xq7z", "Xq7z ", "", "x" * 257])
def test_passwords_the_clp_cannot_carry_are_refused_without_echo(password):
    with pytest.raises(ldap_auth.InputError) as err:
        ldap_auth.check_task_inputs(params(verify_user="alice", verify_password=password))
    message = str(err.value)
    assert "verify_password" in message and "\n" not in message
    assert not password or password.strip() not in message


def test_verify_database_goes_into_the_statement_so_it_has_a_rule():
    with pytest.raises(ldap_auth.InputError, match="verify_database"):
        ldap_auth.check_task_inputs(params(verify_user="alice", verify_password="pw", verify_database="X; !id"))


@pytest.mark.parametrize("password, token", [
    ("Secret-1", "Secret-1"), ("p!id", '"p!id"'), ("!id", '"!id"'), ("a b", '"a b"'), ("a--b", '"a--b"'),
    ("it's", '"it\'s"'), ("Zürich", '"Zürich"')])
def test_passwords_are_plain_or_in_double_quotes(password, token):
    assert ldap_auth.clp_password(password) == token


class RecordingClp:
    """Db2Clp stand-in: records scripts, answers like a failed login whose text echoes the statement."""

    def __init__(self):
        self.scripts = []

    def run_script(self, statements, secrets=()):
        from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Error, mask_statement
        self.scripts.append(statements)
        shown = mask_statement(statements[0], secrets)
        raise Db2Error("%s failed: SQL30082N reason 24 near %s" % (shown, statements[0].split("USING", 1)[1]))


def test_no_piece_of_the_password_reaches_the_error():
    clp = RecordingClp()
    password = "alpha9 bravo7!charlie5"
    with pytest.raises(ldap_auth.LdapAuthError) as err:
        ldap_auth.verify_login(clp, "TESTDB", "alice", password)
    assert clp.scripts[0][0] == 'CONNECT TO TESTDB USER alice USING "alpha9 bravo7!charlie5"'
    for piece in (password, "alpha9", "bravo7", "charlie5", "bravo7!charlie5"):
        assert piece not in str(err.value)
