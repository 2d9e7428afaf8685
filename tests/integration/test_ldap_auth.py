"""db2_ldap_auth against the real slapd of db2ops/openldap:test and the stand-in's emulation of
IBM's LDAP plug-ins, through ansible-playbook. One slapd and one Db2 container for the module;
each test leaves the instance on operating system authentication (state=absent) for the next.
"""
from __future__ import annotations

import json
import uuid

import pytest

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, images_locked, run_db2, wait_for_log
from playbook import run_module

BASE = "dc=example,dc=org"
BOOTSTRAP = "/container/service/slapd/assets/config/bootstrap/ldif/50-bootstrap.ldif"
INI = "/database/config/db2inst1/sqllib/cfg/IBMLDAPSecurity.ini"
QUERY_PW = "Qry-4db2-x7"  # a password the tests look for everywhere
# Blanks, `!` (the CLP's shell escape) and `--` (a CLP comment): legitimate in a password, never syntax.
BOB_PW = "B0b !id --x !touch /tmp/pwned2"
LDIF = f"""\
dn: ou=Users,{BASE}
objectClass: organizationalUnit
ou: Users

dn: ou=Groups,{BASE}
objectClass: organizationalUnit
ou: Groups

dn: cn=alice,ou=Users,{BASE}
objectClass: inetOrgPerson
cn: alice
sn: Alice
uid: alice
userPassword: alice-Secret1

dn: cn=bob,ou=Users,{BASE}
objectClass: inetOrgPerson
cn: bob
sn: Bob
uid: bob
userPassword: {BOB_PW}

dn: cn=db2iadm1,ou=Groups,{BASE}
objectClass: groupOfUniqueNames
cn: db2iadm1
uniqueMember: cn=alice,ou=Users,{BASE}
"""
STARTED = "ADM7513W  Database manager has started."


@pytest.fixture(scope="module")
def env(standin_images, openldap_image, docker_client, tmp_path_factory):
    """{db2, ldap_host, network}: slapd on a user-defined network, the Db2 container not yet on it."""
    suffix = uuid.uuid4().hex[:8]
    ldif = tmp_path_factory.mktemp("ldif") / "50-bootstrap.ldif"
    ldif.write_text(LDIF)
    network = docker_client.networks.create("db2ops-t-authnet-" + suffix, driver="bridge")
    started = []
    try:
        ldap_name = "db2ops-t-authldap-" + suffix
        slapd = docker_client.containers.run(
            openldap_image, name=ldap_name, detach=True, network=network.name,
            environment={"LDAP_READONLY_USER": "true", "LDAP_READONLY_USER_USERNAME": "ldapquery",
                         "LDAP_READONLY_USER_PASSWORD": QUERY_PW, "LDAP_LOG_LEVEL": "0"},
            volumes={str(ldif): {"bind": BOOTSTRAP, "mode": "ro"}})
        started.append(slapd)
        with images_locked("standin"):
            db2 = docker_client.containers.create(
                standin_images["11.5.8.0"], name="db2ops-t-authdb2-" + suffix,
                environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB", "ARCHIVE_LOGS": "false"})
        started.append(db2)
        db2.start()
        wait_for_log(slapd, "openldap-test: slapd ready")
        wait_for_log(db2, "(*) Setup has completed.")
        yield {"db2": db2, "ldap_host": ldap_name, "network": network.name}
    finally:
        for container in reversed(started):
            container.remove(force=True, v=True)
        network.remove()


def args(env, **extra):
    return {"container": env["db2"].name, "network": env["network"], "ldap_host": [env["ldap_host"] + ":389"],
            "user_basedn": f"ou=Users,{BASE}", "group_basedn": f"ou=Groups,{BASE}",
            "search_dn": f"cn=ldapquery,{BASE}", "search_pw": QUERY_PW, **extra}


def starts(db2):
    return run_db2(db2, "cat ~/sqllib/db2dump/DIAG0000/db2diag.log")[1].count(STARTED)


def dbm(db2):
    out = run_db2(db2, "db2 get dbm cfg | grep -E 'PLUGIN|AUTH'")[1]
    return {line.split("(")[1].split(")")[0]: line.split("=", 1)[1].strip()
            for line in out.splitlines() if "(" in line and "=" in line}


def connect(db2, user, password):
    return run_db2(db2, f"db2 connect to testdb user {user} using '{password}'; rc=$?; db2 terminate >/dev/null; exit $rc")


@pytest.fixture
def os_auth(env, tmp_path):
    """Back to operating system authentication after the test."""
    yield
    _proc, r = run_module(tmp_path, "db2_ldap_auth", {"container": env["db2"].name, "state": "absent"})
    assert not r.get("failed"), r


def test_configure_verify_rerun_and_absent(env, tmp_path, os_auth):
    db2 = env["db2"]
    before = starts(db2)
    # Check mode: the plan, nothing done (not even the network attachment).
    _proc, r = run_module(tmp_path, "db2_ldap_auth", args(env), check=True, diff=True)
    assert r["changed"] and not r.get("failed"), r
    assert r["commands"] == [f"connect container {db2.name} to network {env['network']}",
                             f"write {INI} (mode 0600)",
                             "UPDATE DBM CFG USING GROUP_PLUGIN IBMLDAPgroups SRVCON_PW_PLUGIN IBMLDAPauthserver",
                             "db2stop force; db2start"]
    assert "SEARCH_PW = ********\n" in r["diff"]["after"]["ini"] and QUERY_PW not in json.dumps(r)
    db2.reload()
    assert env["network"] not in db2.attrs["NetworkSettings"]["Networks"]
    assert run_db2(db2, f"test -e {INI}")[0] == 1 and starts(db2) == before
    assert dbm(db2)["SRVCON_PW_PLUGIN"] == ""

    # Apply and prove it with alice's login; the groups come from LDAP.
    proc, r = run_module(tmp_path, "db2_ldap_auth", args(env, verify_user="alice", verify_password="alice-Secret1"),
                         diff=True, env={"ANSIBLE_VERBOSITY": "3"})
    assert r["changed"] and r["restarted"] and not r.get("failed"), r
    assert r["verified"] == {"user": "alice", "authid": "ALICE", "groups": ["DB2IADM1"]}
    assert QUERY_PW not in proc.stdout + proc.stderr + json.dumps(r)
    assert "alice-Secret1" not in proc.stdout + proc.stderr
    assert starts(db2) == before + 1
    assert run_db2(db2, f"stat -c '%U %a' {INI}")[1].strip() == "db2inst1 600"
    assert f"SEARCH_PW = {QUERY_PW}\n" in run_db2(db2, f"cat {INI}")[1]
    assert QUERY_PW not in json.dumps(db2.client.api.inspect_container(db2.id))
    assert dbm(db2)["SRVCON_PW_PLUGIN"] == "IBMLDAPauthserver" and dbm(db2)["GROUP_PLUGIN"] == "IBMLDAPgroups"
    code, out = connect(db2, "alice", "wrong")
    assert code == 4 and "SQL30082N" in out and 'reason "24"' in out

    # Rerun: nothing to do, no restart (the login is still proven).
    _proc, r = run_module(tmp_path, "db2_ldap_auth", args(env, verify_user="alice", verify_password="alice-Secret1"))
    assert not r["changed"] and r["commands"] == [] and r["verified"]["authid"] == "ALICE", r
    assert starts(db2) == before + 1

    # A failing proof login fails the task (the configuration stays, it is what was asked for).
    _proc, r = run_module(tmp_path, "db2_ldap_auth", args(env, verify_user="alice", verify_password="nope"))
    assert r["failed"] and "SQL30082N" in r["msg"] and "nope" not in json.dumps(r), r

    # absent: OS authentication again, the ini gone, one restart; and again: nothing.
    _proc, r = run_module(tmp_path, "db2_ldap_auth", {"container": db2.name, "state": "absent"}, diff=True)
    assert r["changed"] and r["dbm_cfg_changes"] == {"GROUP_PLUGIN": "", "SRVCON_PW_PLUGIN": ""}, r
    assert run_db2(db2, f"test -e {INI}")[0] == 1 and starts(db2) == before + 2
    assert connect(db2, "db2inst1", BASE_DB2_ENV["DB2INST1_PASSWORD"])[0] == 0
    assert connect(db2, "alice", "alice-Secret1")[0] == 4
    _proc, r = run_module(tmp_path, "db2_ldap_auth", {"container": db2.name, "state": "absent"})
    assert not r["changed"] and starts(db2) == before + 2, r


def test_restart_false_leaves_a_pending_restart_that_the_next_run_does(env, tmp_path, os_auth):
    db2 = env["db2"]
    before = starts(db2)
    _proc, r = run_module(tmp_path, "db2_ldap_auth", args(env, restart=False))
    assert r["changed"] and r["restart_pending"] and starts(db2) == before, r
    assert connect(db2, "alice", "alice-Secret1")[0] == 4  # not in effect yet
    _proc, r = run_module(tmp_path, "db2_ldap_auth", args(env, verify_user="alice", verify_password="alice-Secret1"))
    assert r["changed"] and r["commands"] == ["db2stop force; db2start"] and r["verified"], r
    assert starts(db2) == before + 1


@pytest.mark.parametrize("extra, message", [
    ({"search_pw": "has;semicolon"}, "SEARCH_PW contains ';'"),
    ({"user_basedn": "ou=Users,,dc=x"}, "USER_BASEDN 'ou=Users,,dc=x' is not a valid DN"),
    ({"userid_attribute": "u id"}, "USERID_ATTRIBUTE: 'u id' is not an LDAP attribute name"),
    ({"ldap_host": ["ldap:99999"]}, "LDAP_HOST entry 'ldap:99999' is not host[:port]"),
    ({"search_dn": "cn=" + "x" * 1030}, "SEARCH_DN is 1033 bytes long; the plug-in takes at most 1024"),
    ({"ssl_keyfile": "/k.kdb"}, "ssl_keyfile and ssl_pw go together"),
    ({"container": "db2ops-t-no-such-container"}, "does not exist"),
])
def test_bad_input_is_refused_before_anything_is_written(env, tmp_path, extra, message):
    db2 = env["db2"]
    before, cfg = starts(db2), dbm(db2)
    _proc, r = run_module(tmp_path, "db2_ldap_auth", args(env, **extra))
    assert r["failed"] and message in r["msg"] and "Nothing was changed" in r["msg"], r
    assert not r["changed"] and "has;semicolon" not in json.dumps(r)
    assert run_db2(db2, f"test -e {INI}")[0] == 1 and starts(db2) == before and dbm(db2) == cfg


def test_proof_login_inputs_never_become_clp_syntax(env, tmp_path, os_auth):
    db2 = env["db2"]
    before, cfg = starts(db2), dbm(db2)
    for extra, option, secret in [
            ({"verify_user": "x; !touch /tmp/pwned", "verify_password": "alice-Secret1"}, "verify_user", None),
            ({"verify_user": "alice", "verify_password": "a b;c"}, "verify_password", "a b;c")]:
        proc, r = run_module(tmp_path, "db2_ldap_auth", args(env, **extra))
        assert r["failed"] and not r["changed"] and option in r["msg"], r
        assert "nothing was changed" in r["msg"] and "\n" not in r["msg"] and "touch" not in r["msg"], r
        if secret:
            for piece in (secret, "b;c", "a b"):
                assert piece not in proc.stdout + proc.stderr + json.dumps(r), piece
        # Refused before anything: no ini, no dbm cfg change, no restart, no file.
        assert run_db2(db2, f"test -e {INI}")[0] == 1 and starts(db2) == before and dbm(db2) == cfg
        assert run_db2(db2, "test -e /tmp/pwned")[0] == 1

    # A password with blanks, `!` and `--` is a password: quoted, the login works, no command runs.
    proc, r = run_module(tmp_path, "db2_ldap_auth", args(env, verify_user="bob", verify_password=BOB_PW))
    assert not r.get("failed") and r["verified"]["authid"] == "BOB", r
    assert run_db2(db2, "test -e /tmp/pwned2")[0] == 1
    for piece in (BOB_PW, "!touch /tmp/pwned2", "B0b !id"):
        assert piece not in proc.stdout + proc.stderr + json.dumps(r), piece
    # ... and a wrong one fails without showing any of it.
    proc, r = run_module(tmp_path, "db2_ldap_auth", args(env, verify_user="bob", verify_password="N0pe !id --x"))
    assert r["failed"] and "SQL30082N" in r["msg"], r
    for piece in ("N0pe !id --x", "N0pe", "--x"):
        assert piece not in proc.stdout + proc.stderr + json.dumps(r), piece
