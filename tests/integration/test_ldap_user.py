"""db2_ldap_user against a real slapd, through ansible-playbook: the life cycle of users,
passwords checked by binding, check mode and diff, escaping, and bad input that must leave
the directory exactly as it was."""
from __future__ import annotations

import ldap
import ldap.modlist
import pytest
from ansible_collections.db2ops.docker.plugins.module_utils._ldap import connection as ldap_connection

from ldap_server import BASE, READONLY, READONLY_PW
# The fixtures, used as test arguments:
from ldap_server import ous, slapd  # noqa: F401 pylint: disable=unused-import
from playbook import run_module


def users_args(slapd, users_ou, **extra):
    return slapd.args(**{"users_ou": users_ou.split(",")[0], "gid_number": 1000, "login_shell": "/bin/bash", **extra})


def three_users():
    return [
        {"uid": "db2inst1", "uid_number": 1000, "home_directory": "/database/config/db2inst1", "password": "pw-inst1"},
        {"uid": "rbobby", "cn": ["Ricky Bobby"], "uid_number": 1001, "password": "pw-ricky"},
        {"uid": "cnorris", "uid_number": 1002, "attributes": {"mail": "cnorris@example.org"}},
    ]


def dn(uid, users_ou):
    return f"cn={uid},{users_ou}"


def test_create_rerun_password_change_on_create_and_absent(slapd, ous, tmp_path):
    users_ou, _groups = ous
    proc, r = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, users=three_users()))
    assert r["changed"] and not r.get("failed"), r
    assert sorted(r["created"]) == sorted(dn(u, users_ou) for u in ("db2inst1", "rbobby", "cnorris"))
    entry = slapd.entry(dn("rbobby", users_ou))
    assert entry["uid"] == ["rbobby"] and set(entry["cn"]) == {"rbobby", "Ricky Bobby"}
    assert set(entry["objectClass"]) == {"top", "posixAccount", "inetOrgPerson"}
    assert entry["uidNumber"] == ["1001"] and entry["loginShell"] == ["/bin/bash"]
    assert entry["userPassword"][0].startswith("{SSHA}")
    assert slapd.entry(dn("cnorris", users_ou))["mail"] == ["cnorris@example.org"]
    assert "userPassword" not in slapd.entry(dn("cnorris", users_ou))
    assert slapd.can_bind(dn("db2inst1", users_ou), "pw-inst1")  # a login with the given password
    assert not slapd.can_bind(dn("db2inst1", users_ou), "wrong")
    for secret in ("pw-inst1", "pw-ricky"):
        assert secret not in proc.stdout + proc.stderr + str(r)

    before = slapd.tree(users_ou)
    _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, users=three_users()))
    assert r["changed"] is False and r["operations"] == [], r
    assert slapd.tree(users_ou) == before  # not even a fresh salt

    users = three_users()
    users[1]["password"] = "new-ricky"
    _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, users=users))
    assert r["changed"] and r["updated"] == [dn("rbobby", users_ou)] and r["created"] == []
    assert r["operations"] == [{"op": "modify", "dn": dn("rbobby", users_ou), "changes": [["replace", "userPassword"]]}]
    assert slapd.can_bind(dn("rbobby", users_ou), "new-ricky")
    after = slapd.tree(users_ou)
    assert {k: v for k, v in after.items() if k != dn("rbobby", users_ou)} == \
        {k: v for k, v in before.items() if k != dn("rbobby", users_ou)}

    users[1]["password"] = "ignored-because-on-create"
    args = users_args(slapd, users_ou, users=users, update_password="on_create")
    _proc, r = run_module(tmp_path, "db2_ldap_user", args)
    assert r["changed"] is False, r
    assert slapd.can_bind(dn("rbobby", users_ou), "new-ricky")

    _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(
        slapd, users_ou, users=[{"uid": "rbobby", "state": "absent"}, {"uid": "never-was", "state": "absent"}]))
    assert r["changed"] and r["removed"] == [dn("rbobby", users_ou)]
    assert slapd.entry(dn("rbobby", users_ou)) is None and slapd.entry(dn("cnorris", users_ou)) is not None
    _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, uid="rbobby", state="absent"))
    assert r["changed"] is False


def test_check_mode_writes_nothing_and_predicts_the_run(slapd, ous, tmp_path):
    users_ou, _groups = ous
    before = slapd.tree(users_ou)
    _proc, check = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, users=three_users()),
                              check=True, diff=True)
    assert check["changed"] and len(check["created"]) == 3
    assert slapd.tree(users_ou) == before
    after = check["diff"]["after"][dn("db2inst1", users_ou)]
    assert after["homeDirectory"] == ["/database/config/db2inst1"] and after["userPassword"] == "******** (new)"

    _proc, real = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, users=three_users()))
    assert real["created"] == check["created"] and real["operations"] == check["operations"]

    _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(
        slapd, users_ou, uid="cnorris", uid_number=1002, login_shell="/bin/ksh", password="pw-c",
        attributes={"mail": []}), check=True, diff=True)
    target = dn("cnorris", users_ou)
    assert r["changed"] and r["updated"] == [target]
    assert r["diff"]["before"][target] == {"loginShell": ["/bin/bash"], "mail": ["cnorris@example.org"]}
    assert r["diff"]["after"][target] == {"loginShell": ["/bin/ksh"], "userPassword": "******** (new)"}
    assert slapd.entry(target)["loginShell"] == ["/bin/bash"]  # check mode: unchanged
    assert "pw-c" not in str(r)


def test_cookbook_hash_from_slappasswd_is_recognised(slapd, ous, tmp_path):
    users_ou, _groups = ous
    conn = slapd.connection()
    conn.add_s(dn("rbobby", users_ou), ldap.modlist.addModlist({
        "objectClass": [b"top", b"inetOrgPerson"], "uid": [b"rbobby"], "cn": [b"rbobby", b"Ricky Bobby"],
        "sn": [b"rbobby"], "userPassword": [slapd.slappasswd("-s", "mypassword").encode()]}))
    before = slapd.tree(users_ou)
    args = slapd.args(users_ou=users_ou.split(",")[0], uid="rbobby", cn=["Ricky Bobby"], object_classes=["inetOrgPerson"],
                      password="mypassword")
    _proc, r = run_module(tmp_path, "db2_ldap_user", args)
    assert r["changed"] is False, r
    assert slapd.tree(users_ou) == before


@pytest.mark.parametrize("uid", ["a*b", "p(ar)en", "back\\slash", "com,ma", "eq=ual", "pl+us", "#hash", "qu\"ote;<>"])
def test_special_characters_are_escaped(slapd, ous, tmp_path, uid):
    users_ou, _groups = ous
    # A decoy whose uid is what an unescaped filter/DN would match or create.
    decoy = f"cn=decoy,{users_ou}"
    slapd.connection().add_s(decoy, ldap.modlist.addModlist({
        "objectClass": [b"inetOrgPerson"], "cn": [b"decoy"], "sn": [b"d"], "uid": [b"decoy"]}))
    _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, uid=uid, uid_number=2000,
                                                                password="pw"))
    assert r["changed"] and not r.get("failed"), r
    created, = r["created"]
    assert ldap.dn.str2dn(created)[0] == [("cn", uid, 1)] and ldap.dn.str2dn(created)[1:] == ldap.dn.str2dn(users_ou)
    entry = slapd.entry(created)
    assert entry["uid"] == [uid] and uid in entry["cn"]
    assert slapd.can_bind(created, "pw")
    _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, uid=uid, uid_number=2000,
                                                                password="pw"))
    assert r["changed"] is False, r
    _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, uid=uid, state="absent"))
    assert [ldap.dn.str2dn(removed) for removed in r["removed"]] == [ldap.dn.str2dn(created)]
    assert set(slapd.tree(users_ou)) == {users_ou, decoy}


def test_nul_and_edge_spaces_are_refused(slapd, ous, tmp_path):
    users_ou, _groups = ous
    for uid, message in (("nul\u0000x", "NUL"), (" lead", "leading or trailing spaces")):
        _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, uid=uid, uid_number=1))
        assert r["failed"] and message in r["msg"] and "nothing was changed" in r["msg"].lower(), r
    assert set(slapd.tree(users_ou)) == {users_ou}


def test_ldaps_and_plain_ldap(slapd, ous, tmp_path):
    users_ou, _groups = ous
    args = users_args(slapd, users_ou, uid="viatls", uid_number=3000, server_uri=slapd.ldaps_uri)
    _proc, r = run_module(tmp_path, "db2_ldap_user", args)
    assert r["changed"] and not r.get("warnings"), r
    args = users_args(slapd, users_ou, uid="plain", uid_number=3001, start_tls=False)
    _proc, r = run_module(tmp_path, "db2_ldap_user", args)
    assert r["changed"] and any("unencrypted" in w for w in r["warnings"]), r


@pytest.mark.parametrize("override, message", [
    ({"bind_pw": "wrong"}, "Invalid credentials"),
    ({"server_uri": "ldap://127.0.0.1:1"}, "Cannot reach the LDAP server at ldap://127.0.0.1:1"),
    ({"ca_path": "WRONG_CA"}, "the server certificate could not be verified"),
    ({"server_uri": "LDAPS", "ca_path": "WRONG_CA"}, "the server certificate could not be verified"),
    ({"base_dn": "dc=nowhere,dc=org"}, "does not exist"),
    ({"bind_dn": READONLY, "bind_pw": READONLY_PW}, "insufficient access"),
])
def test_connection_and_access_errors_change_nothing(slapd, ous, tmp_path, override, message):
    users_ou, _groups = ous
    if override.get("ca_path") == "WRONG_CA":
        other = tmp_path / "other-ca.crt"  # a valid CA, just not the one that signed slapd's certificate
        other.write_bytes(_other_ca(tmp_path))
        override = dict(override, ca_path=str(other))
    if override.get("server_uri") == "LDAPS":
        override = dict(override, server_uri=slapd.ldaps_uri)
    before = slapd.tree(BASE)
    args = dict(users_args(slapd, users_ou, users=three_users()), **override)
    proc, r = run_module(tmp_path, "db2_ldap_user", args)
    assert r["failed"] and message in r["msg"] and "Nothing was changed" in r["msg"], r["msg"]
    assert "\n" not in r["msg"]
    assert slapd.tree(BASE) == before
    assert "pw-inst1" not in proc.stdout + proc.stderr


def _other_ca(tmp_path):
    import subprocess
    key, crt = tmp_path / "o.key", tmp_path / "o.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", str(key),
                    "-out", str(crt), "-subj", "/CN=other-ca"], check=True, capture_output=True)
    return crt.read_bytes()


def test_bad_batch_is_refused_whole(slapd, ous, tmp_path):
    users_ou, _groups = ous
    run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, uid="existing", uid_number=4000))
    before = slapd.tree(BASE)
    cases = [
        (three_users() + [{"uid": "DB2INST1", "uid_number": 1999}], "appears twice in the batch"),
        (three_users() + [{"uid": "x", "uid_number": 1000}], "uid_number 1000 appears twice"),
        (three_users() + [{"uid": "x", "uid_number": 4000}], "uidNumber 4000 would be shared by"),
        (three_users() + [{"uid": "x", "uid_number": 5, "attributes": {"fooBar": "1"}}],
         "attribute fooBar (option attributes.fooBar) is not in the server schema"),
        (three_users() + [{"uid": "x", "uid_number": 5, "attributes": {"memberUid": "1"}}], "is not allowed"),
        (three_users() + [{"uid": "x", "uid_number": 5, "attributes": {"bad name": "1"}}], "not an LDAP attribute name"),
        (three_users() + [{"uid": "x", "object_classes": ["posixAccount", "inetOrgPerson"]}],
         "cannot be created without uidNumber (option uid_number)"),
    ]
    for users, message in cases:
        _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, users=users))
        assert r.get("failed") and message in r["msg"] and "Nothing was changed" in r["msg"], (message, r.get("msg"))
        assert slapd.tree(BASE) == before, message
    _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou.replace("ou=Users", "ou=Missing"),
                                                                users=three_users()))
    assert r["failed"] and "does not exist" in r["msg"] and "create it first" in r["msg"], r["msg"]
    assert slapd.tree(BASE) == before


@pytest.mark.parametrize("others", [0, 1000], ids=["subtree-read", "filtered-read"])
def test_large_batch_reads_the_directory_either_way_with_the_same_answers(slapd, ous, tmp_path, others):
    """A batch of 110 users (330 filter terms; 110 for their group's members) reads the whole OU
    when it is small and filters when it is much bigger than the batch (ldap.search_any):
    uniqueness, creation, member lookup and the idempotent rerun must not depend on which."""
    users_ou, groups_ou = ous
    conn = slapd.connection()
    for index in range(others):
        conn.add_s(f"cn=other{index},{users_ou}", ldap.modlist.addModlist({
            "objectClass": [b"top", b"posixAccount", b"inetOrgPerson"], "cn": [f"other{index}".encode()],
            "sn": [b"x"], "uid": [f"other{index}".encode()], "uidNumber": [str(9000 + index).encode()],
            "gidNumber": [b"1000"], "homeDirectory": [b"/home/x"]}))
    run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, uid="outsider", uid_number=5000))
    batch = [{"uid": f"bulk{i:03d}", "uid_number": 6000 + i, "password": f"pw-{i}"} for i in range(110)]
    before = slapd.tree(users_ou)
    _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(
        slapd, users_ou, users=batch[:-1] + [{"uid": "bulk109", "uid_number": 5000}]))
    assert r.get("failed") and "uidNumber 5000 would be shared by" in r["msg"], r.get("msg")
    assert slapd.tree(users_ou) == before

    # Which read the module makes (the subtree now holds `others` + 1 + the OU entry).
    assert ldap_connection.subtree_within(conn, users_ou, ldap_connection.PLAIN_READ_FACTOR * 3 * len(batch)) is (others == 0)
    _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, users=batch))
    assert r["changed"] and len(r["created"]) == 110 and r["updated"] == [], r
    _proc, r = run_module(tmp_path, "db2_ldap_user", users_args(slapd, users_ou, users=batch))
    assert r["changed"] is False and r["operations"] == [], r
    assert slapd.can_bind(dn("bulk007", users_ou), "pw-7")

    group = {"name": "bulkgrp", "members": [u["uid"] for u in batch]}
    args = slapd.args(groups_ou=groups_ou.split(",")[0], members_base=users_ou, groups=[group])
    _proc, r = run_module(tmp_path, "db2_ldap_group", args)
    assert r["changed"], r
    assert sorted(slapd.entry(f"cn=bulkgrp,{groups_ou}")["uniqueMember"]) == sorted(dn(u["uid"], users_ou) for u in batch)
    _proc, r = run_module(tmp_path, "db2_ldap_group", args)
    assert r["changed"] is False, r
