"""db2_ldap_directory against a real slapd: users and groups seeded in one task, planned together
before any write (members may be users of the same task), and refused whole on bad input."""
from __future__ import annotations

from ldap_server import BASE
# The fixtures, used as test arguments:
from ldap_server import ous, slapd  # noqa: F401 pylint: disable=unused-import
from playbook import run_module


def directory_args(slapd, ous, **extra):
    users_ou, groups_ou = ous
    return slapd.args(users_ou=users_ou.split(",")[0], groups_ou=groups_ou.split(",")[0], members_base=users_ou,
                      **extra)


def cookbook(users_ou):
    users = [{"uid": "db2inst1", "uid_number": 1000, "gid_number": 1000, "password": "pw-inst1",
              "home_directory": "/database/config/db2inst1"},
             {"uid": "db2fenc1", "uid_number": 1001, "gid_number": 1001},
             {"uid": "idbjorh", "uid_number": 1002, "gid_number": 1000, "password": "pw-idb"}]
    groups = [{"name": "db2iadm1", "description": "Db2 SYSADM group",
               "members": ["db2inst1", f"cn=idbjorh,{users_ou}"]},
              {"name": "db2fadm1", "members": ["db2fenc1"]},
              {"name": "db2users", "object_class": "posixGroup", "gid_number": 5000, "members": ["idbjorh"]}]
    return users, groups


def test_users_and_groups_in_one_task_check_run_rerun(slapd, ous, tmp_path):
    users_ou, groups_ou = ous
    users, groups = cookbook(users_ou)
    before = slapd.tree(BASE)
    _proc, plan = run_module(tmp_path, "db2_ldap_directory", directory_args(slapd, ous, users=users, groups=groups),
                             check=True, diff=True)
    assert plan["changed"] and not plan.get("failed"), plan
    assert slapd.tree(BASE) == before, "check mode writes nothing, though the members do not exist yet"
    expected = [f"cn={u['uid']},{users_ou}" for u in users] + [f"cn={g['name']},{groups_ou}" for g in groups]
    assert plan["created"] == expected

    proc, r = run_module(tmp_path, "db2_ldap_directory", directory_args(slapd, ous, users=users, groups=groups))
    assert r["changed"] and r["created"] == expected, r
    assert [op["op"] for op in r["operations"]] == ["add"] * 6
    assert slapd.entry(f"cn=db2iadm1,{groups_ou}")["uniqueMember"] == [f"cn=db2inst1,{users_ou}",
                                                                       f"cn=idbjorh,{users_ou}"]
    assert slapd.entry(f"cn=db2users,{groups_ou}")["memberUid"] == ["idbjorh"]
    assert slapd.can_bind(f"cn=idbjorh,{users_ou}", "pw-idb")
    assert "pw-inst1" not in proc.stdout + proc.stderr + str(r)

    after = slapd.tree(BASE)
    _proc, r = run_module(tmp_path, "db2_ldap_directory", directory_args(slapd, ous, users=users, groups=groups))
    assert r["changed"] is False and r["operations"] == [], r
    assert slapd.tree(BASE) == after


def test_a_bad_group_refuses_the_users_too(slapd, ous, tmp_path):
    users_ou, _groups_ou = ous
    users, groups = cookbook(users_ou)
    before = slapd.tree(BASE)
    cases = [
        (users, groups + [{"name": "ghosts", "members": ["nobody"]}], "no entry with uid 'nobody'"),
        # A user the task removes cannot be a member the same task adds.
        ([dict(users[1], state="absent")] + users[:1], groups[:1] + [{"name": "fenced", "members": ["db2fenc1"]}],
         "no entry with uid 'db2fenc1'"),
        (users + [{"uid": "twin", "uid_number": 1000}], groups, "uid_number 1000 appears twice"),
    ]
    for user_list, group_list, message in cases:
        _proc, r = run_module(tmp_path, "db2_ldap_directory", directory_args(slapd, ous, users=user_list,
                                                                             groups=group_list))
        assert r.get("failed") and message in r["msg"] and "Nothing was changed" in r["msg"], (message, r.get("msg"))
        assert slapd.tree(BASE) == before, message
