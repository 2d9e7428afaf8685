"""The stand-in's imitation of IBM's LDAP security plug-ins (IBMLDAPauthserver, IBMLDAPgroups)
against the real slapd of db2ops/openldap:test, both containers on a user-defined network
(tests/images/db2-standin/README.md, "LDAP plug-ins").
"""
import io
import tarfile
import uuid

import pytest

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log
from test_standin_image import SETUP_DONE, exec_owner

BASE = "dc=example,dc=org"
CA_PATH = "/container/service/slapd/assets/certs/ca.crt"
BOOTSTRAP = "/container/service/slapd/assets/config/bootstrap/ldif/50-bootstrap.ldif"
INI = "/database/config/db2inst1/sqllib/cfg/IBMLDAPSecurity.ini"
CA_IN_DB2 = "/database/config/db2inst1/sqllib/cfg/ldap-ca.pem"
LDIF = """\
dn: ou=Users,{base}
objectClass: organizationalUnit
ou: Users

dn: ou=Groups,{base}
objectClass: organizationalUnit
ou: Groups

dn: cn=Alice Smith,ou=Users,{base}
objectClass: inetOrgPerson
cn: Alice Smith
sn: Smith
uid: alice
userPassword: alice-Secret1

dn: cn=bob,ou=Users,{base}
objectClass: inetOrgPerson
cn: bob
sn: Bob
uid: bob
userPassword: bob-Secret1

dn: cn=db2iadm1,ou=Groups,{base}
objectClass: groupOfUniqueNames
cn: db2iadm1
uniqueMember: cn=Alice Smith,ou=Users,{base}

dn: cn=readers,ou=Groups,{base}
objectClass: groupOfUniqueNames
cn: readers
uniqueMember: cn=Alice Smith,ou=Users,{base}
uniqueMember: cn=bob,ou=Users,{base}

""".format(base=BASE)
GROUPS = "select groupname from table(sysproc.auth_list_groups_for_authid('{0}')) as t order by 1"


def ini(host, **overrides):
    keys = {"LDAP_HOST": host, "ENABLE_SSL": "FALSE", "USER_OBJECTCLASS": "inetOrgPerson",
            "USER_BASEDN": "ou=Users," + BASE, "USERID_ATTRIBUTE": "uid", "AUTHID_ATTRIBUTE": "uid",
            "GROUP_OBJECTCLASS": "groupOfUniqueNames", "GROUP_BASEDN": "ou=Groups," + BASE,
            "GROUPNAME_ATTRIBUTE": "cn", "GROUP_LOOKUP_METHOD": "SEARCH_BY_DN",
            "GROUP_LOOKUP_ATTRIBUTE": "uniqueMember", "NESTED_GROUPS": "FALSE",
            "SEARCH_DN": "cn=ldapquery," + BASE, "SEARCH_PW": "ldap4db2"}
    keys.update(overrides)
    return "; IBM LDAP security plug-in configuration\n" + "".join(
        "%s = %s\n" % (k, v) for k, v in keys.items() if v is not None)


def write_ini(db2, text):
    code, out = exec_owner(db2, "umask 077 && cat > %s" % INI, stdin=text)
    assert code == 0, out


def restart(db2):
    return exec_owner(db2, "db2stop force >/dev/null; db2start")


def connect(db2, user, password):
    return exec_owner(db2, "db2 connect to testdb user '%s' using '%s'; rc=$?; db2 terminate >/dev/null; "
                           "exit $rc" % (user, password))


@pytest.fixture(scope="module")
def pair(standin_images, openldap_image, docker_client, tmp_path_factory):
    """(db2 container, ldap host name) on one user-defined network."""
    suffix = uuid.uuid4().hex[:8]
    ldif = tmp_path_factory.mktemp("ldif") / "50-bootstrap.ldif"
    ldif.write_text(LDIF)
    network = docker_client.networks.create("db2ops-t-net-" + suffix, driver="bridge")
    started = []
    try:
        ldap_name = "db2ops-t-ldap-" + suffix
        slapd = docker_client.containers.run(
            openldap_image, name=ldap_name, hostname=ldap_name, detach=True, network=network.name,
            environment={"LDAP_READONLY_USER": "true", "LDAP_READONLY_USER_USERNAME": "ldapquery",
                         "LDAP_READONLY_USER_PASSWORD": "ldap4db2"},
            volumes={str(ldif): {"bind": BOOTSTRAP, "mode": "ro"}})
        started.append(slapd)
        db2 = docker_client.containers.run(
            standin_images["11.5.8.0"], name="db2ops-t-ldapdb2-" + suffix, detach=True,
            network=network.name,
            environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB", "ARCHIVE_LOGS": "false"})
        started.append(db2)
        wait_for_log(slapd, "openldap-test: slapd ready")
        wait_for_log(db2, SETUP_DONE)
        # The CA of slapd into the instance owner's sqllib/cfg.
        stream = slapd.get_archive(CA_PATH)[0]
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            pem = tar.extractfile(tar.next()).read()
        assert exec_owner(db2, "cat > %s" % CA_IN_DB2, stdin=pem.decode())[0] == 0
        yield db2, ldap_name
    finally:
        for container in reversed(started):
            container.remove(force=True, v=True)
        network.remove()


@pytest.fixture
def ldap_on(pair):
    """The plug-ins configured and in effect; back to OS authentication afterwards."""
    db2, host = pair
    write_ini(db2, ini(host))
    code, out = exec_owner(db2, "db2 update dbm cfg using SRVCON_PW_PLUGIN IBMLDAPauthserver "
                                "GROUP_PLUGIN IBMLDAPgroups")
    assert code == 0, out
    assert restart(db2)[0] == 0
    yield db2, host
    exec_owner(db2, "db2 update dbm cfg using SRVCON_PW_PLUGIN NULL GROUP_PLUGIN NULL; "
                    "db2stop force; db2start")


def test_plugins_take_effect_at_db2start_only(pair):
    db2, host = pair
    write_ini(db2, ini(host))
    try:
        assert exec_owner(db2, "db2 update dbm cfg using SRVCON_PW_PLUGIN IBMLDAPauthserver "
                               "GROUP_PLUGIN IBMLDAPgroups")[0] == 0
        # Before the restart the OS check is in force: alice is no OS user, db2inst1 is.
        assert connect(db2, "alice", "alice-Secret1")[0] == 4
        assert connect(db2, "db2inst1", BASE_DB2_ENV["DB2INST1_PASSWORD"])[0] == 0
        code, out = restart(db2)
        assert code == 0 and out.endswith("SQL1063N  DB2START processing was successful.\n")
        code, out = connect(db2, "alice", "alice-Secret1")
        assert code == 0, out
        assert " SQL authorization ID   = ALICE\n" in out
        assert connect(db2, "db2inst1", BASE_DB2_ENV["DB2INST1_PASSWORD"])[0] == 4  # not in LDAP
    finally:
        exec_owner(db2, "db2 update dbm cfg using SRVCON_PW_PLUGIN NULL GROUP_PLUGIN NULL; "
                        "db2stop force; db2start")
    assert connect(db2, "db2inst1", BASE_DB2_ENV["DB2INST1_PASSWORD"])[0] == 0


def test_wrong_password_unknown_user_and_filter_characters(ldap_on):
    db2, _host = ldap_on
    failed = (4, 'SQL30082N  Security processing failed with reason "24" ("USERNAME AND/OR\n'
                 'PASSWORD INVALID").  SQLSTATE=08001\n')
    assert connect(db2, "alice", "wrong") == failed
    assert connect(db2, "nobody", "alice-Secret1") == failed
    assert connect(db2, "*", "alice-Secret1") == failed       # no wildcard search
    assert connect(db2, "al*", "alice-Secret1") == failed
    assert connect(db2, "alice)(uid=*", "alice-Secret1") == failed
    assert connect(db2, "bob", "bob-Secret1")[0] == 0


def test_groups_by_dn_and_by_user_attribute(ldap_on):
    db2, host = ldap_on
    query = "db2 connect to testdb >/dev/null && db2 -x \"%s\"" % GROUPS.format("ALICE")
    code, out = exec_owner(db2, query)
    assert (code, out.split()) == (0, ["DB2IADM1", "READERS"])
    code, out = exec_owner(db2, "db2 connect to testdb >/dev/null && db2 \"%s\"" % GROUPS.format("BOB"))
    assert code == 0 and out.startswith("\nGROUPNAME") and "READERS" in out and "DB2IADM1" not in out
    # USER_ATTRIBUTE: memberOf, maintained by slapd's memberof overlay.
    write_ini(db2, ini(host, GROUP_LOOKUP_METHOD="USER_ATTRIBUTE", GROUP_LOOKUP_ATTRIBUTE="memberOf"))
    assert restart(db2)[0] == 0
    code, out = exec_owner(db2, query)
    assert (code, out.split()) == (0, ["DB2IADM1", "READERS"])


def test_ldaps_with_the_ca(ldap_on):
    db2, host = ldap_on
    write_ini(db2, ini(host, ENABLE_SSL="TRUE", SSL_KEYFILE=CA_IN_DB2))
    assert restart(db2)[0] == 0
    assert connect(db2, "alice", "alice-Secret1")[0] == 0
    # Another CA: the TLS handshake fails, so does the login (and db2diag says why).
    write_ini(db2, ini(host, ENABLE_SSL="TRUE", SSL_KEYFILE="/etc/ssl/certs/ca-certificates.crt"))
    assert restart(db2)[0] == 0
    code, out = connect(db2, "alice", "alice-Secret1")
    assert code == 4 and 'reason "15"' in out, out
    assert "Can't contact LDAP server" in exec_owner(db2, "tail -5 ~/sqllib/db2dump/DIAG0000/db2diag.log")[1]


def test_ini_is_read_at_db2start_and_errors_stop_it(ldap_on):
    db2, host = ldap_on
    # A broken file changes nothing until the next db2start...
    write_ini(db2, ini(host) + "FOO = bar\n")
    assert connect(db2, "alice", "alice-Secret1")[0] == 0
    # ...which then fails, naming the problem in db2diag.log, and leaves the instance stopped.
    last = len(ini(host).splitlines()) + 1
    for text, diag in ((ini(host) + "FOO = bar\n", "unknown key value 'FOO' on line %d of %s" % (last, INI)),
                       (ini(host) + "ldap_host = other\n",
                        "duplicate key 'LDAP_HOST' on line %d of %s" % (last, INI)),
                       (ini(host, LDAP_HOST=None), "no value for key 'LDAP_HOST' found in %s" % INI),
                       (ini(host, ENABLE_SSL="yes"), "invalid value 'yes' for key 'ENABLE_SSL'")):
        write_ini(db2, text)
        code, out = restart(db2)
        assert code == 1 and 'SQL1365N  db2start or db2stop failed in processing the plugin' in out, out
        assert exec_owner(db2, "db2gcf -s")[0] == 1
        assert "MESSAGE : db2ldapReadConfig: " + diag in exec_owner(
            db2, "tail -8 ~/sqllib/db2dump/DIAG0000/db2diag.log")[1]
    # Comments, blank lines and key case do not matter.
    write_ini(db2, "\n" + ini(host).replace("LDAP_HOST", "ldap_host").replace("uid\n", "uid ; the login\n"))
    assert restart(db2)[0] == 0
    assert connect(db2, "alice", "alice-Secret1")[0] == 0
