"""db2_ldap_group against a real slapd, through ansible-playbook: the cookbook's groups with
members by uid and DN, exact and append membership, posixGroup, and members that do not exist."""
from __future__ import annotations

import ldap

from ldap_server import BASE
# The fixtures, used as test arguments:
from ldap_server import ous, slapd  # noqa: F401 pylint: disable=unused-import
from playbook import run_module


def seed_users(slapd, users_ou, tmp_path, *uids):
    users = [{"uid": uid, "uid_number": 1000 + i} for i, uid in enumerate(uids)]
    _proc, r = run_module(tmp_path, "db2_ldap_user", slapd.args(users_ou=users_ou.split(",")[0], gid_number=1000,
                                                                users=users))
    assert r["changed"], r


def group_args(slapd, ous, **extra):
    users_ou, groups_ou = ous
    return slapd.args(**{"groups_ou": groups_ou.split(",")[0], "members_base": users_ou, **extra})


def members_of(dns):
    return sorted(ldap.dn.dn2str(ldap.dn.str2dn(v)).lower() for v in dns)


def members(slapd, dn, attr="uniqueMember"):
    return members_of((slapd.entry(dn) or {}).get(attr, []))


def test_cookbook_groups_exact_then_append(slapd, ous, tmp_path):
    users_ou, groups_ou = ous
    seed_users(slapd, users_ou, tmp_path, "db2inst1", "idbjorh", "db2fenc1", "rbobby")
    groups = [
        {"name": "db2iadm1", "description": "Db2 SYSADM group", "members": ["db2inst1", f"CN=IDBJORH,{users_ou}"]},
        {"name": "db2fadm1", "description": "Db2 Fenced users group", "members": ["db2fenc1"]},
    ]
    _proc, r = run_module(tmp_path, "db2_ldap_group", group_args(slapd, ous, groups=groups), diff=True)
    assert r["changed"] and len(r["created"]) == 2, r
    iadm = f"cn=db2iadm1,{groups_ou}"
    entry = slapd.entry(iadm)
    assert entry["objectClass"] == ["top", "groupOfUniqueNames"] and entry["description"] == ["Db2 SYSADM group"]
    assert members(slapd, iadm) == [f"cn=db2inst1,{users_ou}".lower(), f"cn=idbjorh,{users_ou}".lower()]
    # The memberof overlay of the image sees the membership, as the Db2 group plug-in would.
    conn = slapd.connection()
    found = conn.search_s(f"cn=db2inst1,{users_ou}", ldap.SCOPE_BASE, attrlist=["memberOf"])
    assert found[0][1]["memberOf"] == [iadm.encode()]

    before = slapd.tree(groups_ou)
    _proc, r = run_module(tmp_path, "db2_ldap_group", group_args(slapd, ous, groups=groups))
    assert r["changed"] is False, r
    assert slapd.tree(groups_ou) == before

    _proc, r = run_module(tmp_path, "db2_ldap_group", group_args(slapd, ous, name="db2iadm1", members=["rbobby"],
                                                                 members_mode="append"), diff=True)
    assert r["updated"] == [iadm] and r["operations"][0]["changes"] == [["add", "uniqueMember"]], r
    assert len(members(slapd, iadm)) == 3

    _proc, r = run_module(tmp_path, "db2_ldap_group", group_args(slapd, ous, name="db2iadm1",
                                                                 members=["rbobby", "db2inst1"]), check=True, diff=True)
    assert r["changed"] and len(r["diff"]["before"][iadm]["uniqueMember"]) == 3
    assert members_of(r["diff"]["after"][iadm]["uniqueMember"]) == [f"cn=db2inst1,{users_ou}".lower(),
                                                                    f"cn=rbobby,{users_ou}".lower()]
    assert len(members(slapd, iadm)) == 3  # check mode wrote nothing
    _proc, r = run_module(tmp_path, "db2_ldap_group", group_args(slapd, ous, name="db2iadm1",
                                                                 members=["rbobby", "db2inst1"]))
    assert r["operations"][0]["changes"] == [["delete", "uniqueMember"]], r
    assert members(slapd, iadm) == [f"cn=db2inst1,{users_ou}".lower(), f"cn=rbobby,{users_ou}".lower()]

    _proc, r = run_module(tmp_path, "db2_ldap_group", group_args(slapd, ous, name="db2fadm1", state="absent"))
    assert r["removed"] == [f"cn=db2fadm1,{groups_ou}"] and slapd.entry(f"cn=db2fadm1,{groups_ou}") is None


def test_posix_group_and_group_of_names(slapd, ous, tmp_path):
    users_ou, groups_ou = ous
    seed_users(slapd, users_ou, tmp_path, "alice", "bob")
    groups = [{"name": "db2users", "object_class": "posixGroup", "gid_number": 5000,
               "members": ["alice", f"cn=bob,{users_ou}"]},
              {"name": "empty", "object_class": "posixGroup", "gid_number": 5001, "members": []},
              {"name": "names", "object_class": "groupOfNames", "members": ["bob"]}]
    _proc, r = run_module(tmp_path, "db2_ldap_group", group_args(slapd, ous, groups=groups))
    assert r["changed"] and len(r["created"]) == 3, r
    posix = slapd.entry(f"cn=db2users,{groups_ou}")
    assert posix["memberUid"] == ["alice", "bob"] and posix["gidNumber"] == ["5000"]
    assert "memberUid" not in slapd.entry(f"cn=empty,{groups_ou}")
    assert members(slapd, f"cn=names,{groups_ou}", "member") == [f"cn=bob,{users_ou}".lower()]
    _proc, r = run_module(tmp_path, "db2_ldap_group", group_args(slapd, ous, groups=groups))
    assert r["changed"] is False, r


def test_missing_members_and_bad_groups_change_nothing(slapd, ous, tmp_path):
    users_ou, groups_ou = ous
    seed_users(slapd, users_ou, tmp_path, "db2inst1")
    before = slapd.tree(BASE)
    cases = [
        ([{"name": "g1", "members": ["db2inst1"]}, {"name": "g2", "members": ["ghost", f"cn=nobody,{users_ou}"]}],
         ["no entry with uid 'ghost'", f"member cn=nobody,{users_ou} does not exist"]),
        ([{"name": "g1", "members": []}], ["needs at least one member"]),
        ([{"name": "g1", "members": ["db2inst1"]}, {"name": "G1", "members": ["db2inst1"]}], ["appears twice"]),
        ([{"name": "p", "object_class": "posixGroup", "members": ["db2inst1"]}],
         ["cannot be created without gidNumber (option gid_number)"]),
        ([{"name": "g1", "members": ["db2inst1"], "attributes": {"uidNumber": 5}}], ["uidNumber", "not allowed"]),
        ([{"name": "g*)(cn=*", "members": ["*"]}], ["no entry with uid '*'"]),
    ]
    for groups, messages in cases:
        _proc, r = run_module(tmp_path, "db2_ldap_group", group_args(slapd, ous, groups=groups))
        assert r.get("failed") and "Nothing was changed" in r["msg"], r
        for message in messages:
            assert message in r["msg"], (message, r["msg"])
        assert slapd.tree(BASE) == before, groups
