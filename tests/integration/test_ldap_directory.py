"""db2_ldap_directory against a real slapd: users and groups seeded in one task, planned together
before any write (members may be users of the same task), and refused whole on bad input."""
from __future__ import annotations

import json
import time
import uuid

import pytest

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


def test_slapd_stopped_mid_batch_fails_saying_how_far_and_a_rerun_converges(
        docker_client, openldap_image, tmp_path, capsys, monkeypatch):
    """300 users and 10 groups; slapd is stopped after exactly 150 adds (the module runs in this
    process, so the fault hits at a known write). The task fails in one line with how far it got,
    and a rerun once slapd is back creates exactly the rest."""
    import ldap.ldapobject
    from ansible.module_utils.testing import patch_module_args
    from ansible_collections.db2ops.docker.plugins.module_utils._ldap.passwords import verify_password
    from ansible_collections.db2ops.docker.plugins.modules import db2_ldap_directory
    from ldap_server import READY, Slapd, start_slapd

    server = start_slapd(docker_client, tmp_path, "db2ops-t-ldapfault-" + uuid.uuid4().hex[:8])
    try:
        ous = (server.add_ou(f"ou=Users-f,{BASE}"), server.add_ou(f"ou=Groups-f,{BASE}"))
        users_ou, groups_ou = ous
        users = [{"uid": f"u{i:03d}", "uid_number": 3000 + i, "gid_number": 3000, "password": f"pw-{i:03d}-Zq"}
                 for i in range(300)]
        groups = [{"name": f"g{j}", "members": [f"u{i:03d}" for i in range(j, 300, 10)]} for j in range(10)]

        real_add, adds = ldap.ldapobject.SimpleLDAPObject.add_s, []

        def add_then_stop(self, dn, modlist):
            if len(adds) == 150:
                server.container.stop(timeout=10)
            adds.append(dn)
            return real_add(self, dn, modlist)

        monkeypatch.setattr(ldap.ldapobject.SimpleLDAPObject, "add_s", add_then_stop)
        with patch_module_args(directory_args(server, ous, users=users, groups=groups)), pytest.raises(SystemExit):
            db2_ldap_directory.main()
        monkeypatch.undo()
        r = json.loads(capsys.readouterr().out)
        assert r["failed"] and r["changed"] is True and r["writes_applied"] == 150, r
        assert "after 150 of 310 writes" in r["msg"] and f"cn=u149,{users_ou}" in r["msg"], r["msg"]
        assert "Rerun the task" in r["msg"] and "\n" not in r["msg"]
        assert "pw-" not in json.dumps(r)

        server.container.start()
        deadline = time.monotonic() + 60
        while server.container.logs().decode().count(READY) < 2:
            assert time.monotonic() < deadline, "slapd did not come back"
            time.sleep(0.2)
        server = Slapd(server.container, server.ca_path, server.network)  # a new published port
        assert len([dn for dn in server.tree(users_ou) if dn != users_ou]) == 150

        _proc, r = run_module(tmp_path, "db2_ldap_directory", directory_args(server, ous, users=users, groups=groups))
        assert r["changed"] and not r.get("failed"), r
        assert len(r["created"]) == 150 + 10 and r["updated"] == [], r  # exactly the rest, nothing rewritten
        tree = server.tree(users_ou)
        assert sorted(dn for dn in tree if dn != users_ou) == sorted(f"cn={u['uid']},{users_ou}" for u in users)
        for user in users:
            stored = tree[f"cn={user['uid']},{users_ou}"]["userPassword"]
            assert len(stored) == 1 and verify_password(user["password"], stored[0].encode()), user["uid"]
        assert server.can_bind(f"cn=u000,{users_ou}", "pw-000-Zq") and server.can_bind(f"cn=u299,{users_ou}", "pw-299-Zq")
        for j in range(10):
            members = server.entry(f"cn=g{j},{groups_ou}")["uniqueMember"]
            assert sorted(members) == sorted(f"cn=u{i:03d},{users_ou}" for i in range(j, 300, 10))

        _proc, r = run_module(tmp_path, "db2_ldap_directory", directory_args(server, ous, users=users, groups=groups))
        assert r["changed"] is False and r["operations"] == [], r
    finally:
        server.stop()
