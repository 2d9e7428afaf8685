"""module_defaults through the two action groups (issue 12), in one real playbook: Docker options under
group/db2ops.docker.docker reach a Docker module, LDAP options under group/db2ops.docker.ldap reach
db2_ldap_user, and neither makes the other's modules fail with "Unsupported parameters" (with the one
old `db2` group, Docker options broke every LDAP module)."""
from __future__ import annotations

import json
import os
import uuid

from ldap_server import ADMIN, ADMIN_PW, BASE
# The fixtures, used as test arguments:
from ldap_server import ous, slapd  # noqa: F401 pylint: disable=unused-import
from playbook import run_playbook

DOCKER_SOCKET = "/var/run/docker.sock"


def play(name, docker_defaults, ldap_defaults, users_ou, uid, out):
    """A Docker module and an LDAP module under both groups; each result saved to out/<task>.json."""
    tasks = [
        {"name": "docker", "db2ops.docker.db2_container_info": {"name": ["db2ops-t-groups-nomatch-*"]},
         "register": "r_docker", "ignore_errors": True},
        {"name": "ldap", "db2ops.docker.db2_ldap_user": {
            "base_dn": BASE, "users_ou": users_ou.split(",")[0], "uid": uid, "uid_number": 3001,
            "gid_number": 1000, "password": "pw-groups-1"},
         "register": "r_ldap", "ignore_errors": True},
    ]
    tasks += [{"name": "save " + key, "ansible.builtin.copy": {"content": "{{ r_%s | to_json }}" % key,
                                                               "dest": f"{out}/{name}-{key}.json"}}
              for key in ("docker", "ldap")]
    return {"name": name, "hosts": "localhost", "gather_facts": False, "connection": "local",
            "module_defaults": {"group/db2ops.docker.docker": docker_defaults,
                                "group/db2ops.docker.ldap": ldap_defaults},
            "tasks": tasks}


def test_each_group_reaches_its_modules_and_only_them(slapd, ous, tmp_path):
    users_ou, _groups = ous
    uid = "grp" + uuid.uuid4().hex[:6]
    # A socket path that only works when the group's docker_host reaches the module (the default
    # would be /var/run/docker.sock), and one that does not exist.
    os.symlink(DOCKER_SOCKET, tmp_path / "docker.sock")
    missing = tmp_path / "no-such-docker.sock"
    ldap_defaults = {"server_uri": slapd.uri, "ca_path": str(slapd.ca_path), "bind_dn": ADMIN, "bind_pw": ADMIN_PW,
                     "timeout": 20}
    book = tmp_path / "groups.json"
    book.write_text(json.dumps([
        # ca_path, validate_certs and timeout are in both groups: each module takes its own group's.
        play("working", {"docker_host": f"unix://{tmp_path}/docker.sock", "timeout": 30, "validate_certs": True},
             ldap_defaults, users_ou, uid, tmp_path),
        play("missing", {"docker_host": f"unix://{missing}"}, ldap_defaults, users_ou, uid, tmp_path),
    ]))

    proc = run_playbook(book, inventory="localhost,")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Unsupported parameters" not in proc.stdout + proc.stderr
    results = {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("*-*.json") if p.stem != "groups"}

    assert not results["working-docker"].get("failed"), results["working-docker"]
    assert results["working-docker"]["containers"] == []
    # The LDAP connection reached db2_ldap_user: the user is on the server, its password binds.
    assert results["working-ldap"]["changed"] and not results["working-ldap"].get("failed"), results["working-ldap"]
    assert slapd.entry(f"cn={uid},{users_ou}")["uidNumber"] == ["3001"]
    assert slapd.can_bind(f"cn={uid},{users_ou}", "pw-groups-1")

    # The Docker module used the group's docker_host (the missing socket, named in its one-line error) ...
    docker = results["missing-docker"]
    assert docker["failed"] and str(missing) in docker["msg"] and "Nothing was changed" in docker["msg"], docker
    # ... while the LDAP module beside it, under the same Docker defaults, ran as before (nothing to change).
    assert results["missing-ldap"]["changed"] is False and not results["missing-ldap"].get("failed"), \
        results["missing-ldap"]
    assert "pw-groups-1" not in proc.stdout + proc.stderr + json.dumps(results)
