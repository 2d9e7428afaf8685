"""Role db2_ldap through playbooks/ldap.yml, end to end: our OpenLDAP image run by
db2_ldap_server on a user-defined network, OUs/users/groups seeded, the read-only query user,
the Db2 stand-in configured with db2_ldap_auth; then real logins, groups, a rerun that changes
nothing, bad input, and state=absent."""
from __future__ import annotations

import re
import socket
import sys
import uuid

import docker
import ldap
import ldap.modlist
import pytest
import yaml

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, images_locked, run_db2, wait_for_log
from playbook import REPO, run_playbook

BASE = "dc=example,dc=org"
ADMIN_PW = "Adm-4ldap-Z"
QUERY_PW = "Qry-4db2-Z9"
STARTED = "ADM7513W  Database manager has started."
GROUPS = "select groupname from table(sysproc.auth_list_groups_for_authid('ALICE')) as t order by 1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def fleet(standin_images, openldap_image, docker_client, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ldaprole")
    suffix = uuid.uuid4().hex[:8]
    with images_locked("standin"):
        db2 = docker_client.containers.create(
            standin_images["11.1.4.4"], name="db2ops-t-roledb2-" + suffix,
            environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB", "ARCHIVE_LOGS": "false"})
    names = {"db2": db2.name, "ldap": "db2ops-t-roleldap-" + suffix, "network": "db2ops-t-rolenet-" + suffix}
    try:
        db2.start()
        wait_for_log(db2, "(*) Setup has completed.")
        port = free_port()
        inventory = tmp / "hosts.yml"
        inventory.write_text(yaml.safe_dump({"db2_containers": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "hosts": {db2.name: {"db2_container": db2.name}}}}))
        ldap_vars = {
            "db2_ldap_image": openldap_image, "db2_ldap_env_style": "ours",
            "db2_ldap_server_name": names["ldap"], "db2_ldap_network": names["network"],
            "db2_ldap_published_port": f"127.0.0.1:{port}", "db2_ldap_server_uri": f"ldap://127.0.0.1:{port}",
            "db2_ldap_ca_file": str(tmp / "ca.pem"),
            "db2_ldap_admin_password": ADMIN_PW, "db2_ldap_readonly_password": QUERY_PW,
            "db2_ldap_users": [
                {"uid": "alice", "uid_number": 2001, "gid_number": 2000, "password": "alice-Secret1"},
                {"uid": "bob", "uid_number": 2002, "gid_number": 2000, "password": "bob-Secret1"}],
            "db2_ldap_groups": [
                {"name": "db2iadm1", "description": "Db2 SYSADM group", "members": ["alice"]},
                {"name": "readers", "members": ["alice", "bob"]}],
            "db2_ldap_verify_user": "alice", "db2_ldap_verify_password": "alice-Secret1",
        }
        vars_file = tmp / "ldap-vars.yml"
        vars_file.write_text(yaml.safe_dump(ldap_vars))
        yield {"db2": db2, "names": names, "inventory": str(inventory), "vars": vars_file, "tmp": tmp,
               "uri": f"ldap://127.0.0.1:{port}", "ca": str(tmp / "ca.pem")}
    finally:
        for name in (names["ldap"], names["db2"]):
            try:
                docker_client.containers.get(name).remove(force=True, v=True)
            except docker.errors.NotFound:
                pass
        try:
            docker_client.networks.get(names["network"]).remove()
        except docker.errors.NotFound:
            pass


def play(fleet, *extra_args, **extra_vars):
    return run_playbook(REPO / "playbooks" / "ldap.yml", inventory=fleet["inventory"], extra_vars=extra_vars or None,
                        args=("-e", "@" + str(fleet["vars"]), *extra_args))


def recap(proc):
    match = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert match, proc.stdout + proc.stderr
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


def starts(db2):
    return run_db2(db2, "cat ~/sqllib/db2dump/DIAG0000/db2diag.log")[1].count(STARTED)


def connect(db2, user, password):
    return run_db2(db2, f"db2 connect to testdb user {user} using '{password}'; rc=$?; db2 terminate >/dev/null; exit $rc")


def bind(fleet, dn, password):
    conn = ldap.initialize(fleet["uri"])
    conn.set_option(ldap.OPT_X_TLS_CACERTFILE, fleet["ca"])
    conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
    conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    conn.start_tls_s()
    conn.simple_bind_s(dn, password)
    return conn


def test_role_end_to_end_rerun_readonly_and_absent(fleet, docker_client):
    db2 = fleet["db2"]
    before = starts(db2)
    proc = play(fleet, "-v")
    assert proc.returncode == 0 and recap(proc)["failed"] == 0, proc.stdout + proc.stderr
    output = proc.stdout + proc.stderr
    for secret in (ADMIN_PW, QUERY_PW, "alice-Secret1", "bob-Secret1"):
        assert secret not in output
    ldap_container = docker_client.containers.get(fleet["names"]["ldap"])
    assert all(ADMIN_PW not in e and QUERY_PW not in e for e in ldap_container.attrs["Config"]["Env"])
    assert fleet["names"]["network"] in ldap_container.attrs["NetworkSettings"]["Networks"]
    db2.reload()
    assert fleet["names"]["network"] in db2.attrs["NetworkSettings"]["Networks"]  # no legacy link
    assert not db2.attrs["HostConfig"].get("Links")
    assert starts(db2) == before + 1

    # An LDAP user logs in to Db2; a wrong password fails; Db2 sees the LDAP groups.
    code, out = connect(db2, "alice", "alice-Secret1")
    assert code == 0 and "SQL authorization ID   = ALICE" in out, out
    code, out = connect(db2, "bob", "wrong")
    assert code == 4 and 'SQL30082N  Security processing failed with reason "24"' in out
    code, out = run_db2(db2, f"db2 connect to testdb user alice using alice-Secret1 >/dev/null && db2 -x \"{GROUPS}\"")
    assert (code, out.split()) == (0, ["DB2IADM1", "READERS"])

    # The read-only query user searches but cannot write.
    conn = bind(fleet, f"cn=ldapquery,{BASE}", QUERY_PW)
    found = conn.search_s(f"ou=Users,{BASE}", ldap.SCOPE_SUBTREE, "(uid=alice)", ["uid"])
    assert [dn for dn, _a in found] == [f"cn=alice,ou=Users,{BASE}"]
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        conn.add_s(f"cn=mallory,ou=Users,{BASE}", ldap.modlist.addModlist(
            {"objectClass": [b"inetOrgPerson"], "cn": [b"mallory"], "sn": [b"m"]}))
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        conn.modify_s(f"cn=alice,ou=Users,{BASE}", [(ldap.MOD_REPLACE, "sn", [b"x"])])
    conn.unbind_s()

    # Rerun: nothing changes, no restart, no new container; the proof login is shown without -v.
    proc = play(fleet)
    assert proc.returncode == 0 and recap(proc)["changed"] == 0, proc.stdout
    assert "alice logged in to TESTDB as ALICE, groups DB2IADM1, READERS" in " ".join(proc.stdout.split()), proc.stdout
    assert starts(db2) == before + 1
    assert docker_client.containers.get(fleet["names"]["ldap"]).id == ldap_container.id

    # Bad input: a wrong admin password fails clearly and changes nothing.
    ini_before = run_db2(db2, "cat ~/sqllib/cfg/IBMLDAPSecurity.ini")[1]
    proc = play(fleet, db2_ldap_admin_password="not-the-password")
    assert proc.returncode != 0 and "rejects admin_password" in proc.stdout, proc.stdout
    assert "not-the-password" not in proc.stdout + proc.stderr
    assert run_db2(db2, "cat ~/sqllib/cfg/IBMLDAPSecurity.ini")[1] == ini_before and starts(db2) == before + 1
    # A base DN that is not in the directory: the seeding says so, Db2 is not touched.
    proc = play(fleet, db2_ldap_server=False, db2_ldap_base_dn="dc=nowhere,dc=org", db2_ldap_admin_dn=f"cn=admin,{BASE}")
    assert proc.returncode != 0 and "no such entry" in proc.stdout, proc.stdout
    assert run_db2(db2, "cat ~/sqllib/cfg/IBMLDAPSecurity.ini")[1] == ini_before and starts(db2) == before + 1

    # state=absent: operating system authentication again.
    proc = play(fleet, db2_ldap_state="absent", db2_ldap_verify_user="")
    assert proc.returncode == 0 and recap(proc)["changed"] == 1, proc.stdout
    assert connect(db2, "db2inst1", BASE_DB2_ENV["DB2INST1_PASSWORD"])[0] == 0
    assert connect(db2, "alice", "alice-Secret1")[0] == 4
    assert run_db2(db2, "test -e ~/sqllib/cfg/IBMLDAPSecurity.ini")[0] == 1
