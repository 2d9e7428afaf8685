"""db2_ldap_server re-creating its container (another port, another image) keeps the directory
by default, wipes it only with recreate_data=wipe, and state=absent leaves no volume behind."""
from __future__ import annotations

import json
import socket
import uuid

import docker
import ldap
import ldap.modlist
import pytest

from playbook import run_module

BASE = "dc=example,dc=org"
ADMIN_PW = "Adm-keep-7x"
USER_DN = f"cn=keeper,{BASE}"
USER_PW = "Keeper-pw-3"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bind(port, dn, password):
    conn = ldap.initialize(f"ldap://127.0.0.1:{port}")
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 10)
    conn.simple_bind_s(dn, password)
    return conn


def user_can_bind(port):
    try:
        bind(port, USER_DN, USER_PW).unbind_s()
        return True
    except ldap.INVALID_CREDENTIALS:  # no such entry binds as invalid credentials too
        return False


@pytest.fixture
def server(openldap_image, docker_client):
    suffix = uuid.uuid4().hex[:8]
    names = {"name": "db2ops-t-srvldap-" + suffix, "network": "db2ops-t-srvnet-" + suffix}
    yield names
    try:
        docker_client.containers.get(names["name"]).remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
    try:
        docker_client.networks.get(names["network"]).remove()
    except docker.errors.NotFound:
        pass


def test_recreate_keeps_the_directory_unless_told_to_wipe(server, openldap_image, docker_client, tmp_path):
    def run(port, **extra):
        return run_module(tmp_path, "db2_ldap_server", {
            **server, "image": openldap_image, "env_style": "ours", "ldap_tls": False, "admin_password": ADMIN_PW,
            "published_ports": [f"127.0.0.1:{port}:389"], **extra})

    port = free_port()
    _proc, r = run(port)
    assert r["changed"] and not r.get("failed"), r
    conn = bind(port, f"cn=admin,{BASE}", ADMIN_PW)
    conn.add_s(USER_DN, ldap.modlist.addModlist({"objectClass": [b"inetOrgPerson"], "cn": [b"keeper"],
                                                 "sn": [b"Keeper"], "userPassword": [USER_PW.encode()]}))
    conn.unbind_s()
    first = docker_client.containers.get(server["name"])

    # Another published port: a new container on the same volumes, the user is still there.
    port = free_port()
    _proc, r = run(port)
    assert r["changed"] and not r.get("failed"), r
    assert any("keeping its volumes" in c for c in r["commands"]), r["commands"]
    second = docker_client.containers.get(server["name"])
    assert second.id != first.id
    assert user_can_bind(port)
    volumes = [m["Name"] for m in second.attrs["Mounts"] if m["Type"] == "volume"]
    assert sorted(volumes) == sorted(m["Name"] for m in first.attrs["Mounts"] if m["Type"] == "volume")

    # Another base DN cannot be put on the kept directory: refused before anything is touched.
    _proc, r = run(port, domain="other.example", base_dn="dc=other,dc=example")
    assert r["failed"] and not r["changed"] and "recreate_data=wipe" in r["msg"] and "\n" not in r["msg"], r
    assert docker_client.containers.get(server["name"]).id == second.id and user_can_bind(port)

    # Unchanged rerun: nothing to do.
    _proc, r = run(port)
    assert not r["changed"] and r["commands"] == [], r

    # Check mode with wipe says so and does nothing.
    port2 = free_port()
    _proc, r = run_module(tmp_path, "db2_ldap_server", {
        **server, "image": openldap_image, "env_style": "ours", "ldap_tls": False, "admin_password": ADMIN_PW,
        "published_ports": [f"127.0.0.1:{port2}:389"], "recreate_data": "wipe"}, check=True)
    assert r["changed"] and any("recreate_data=wipe" in c for c in r["commands"]), r
    assert docker_client.containers.get(server["name"]).id == second.id and user_can_bind(port)

    # Only the explicit opt-in wipes it, and the old volumes go with it.
    _proc, r = run(port2, recreate_data="wipe")
    assert r["changed"] and not r.get("failed"), r
    assert not user_can_bind(port2)
    bind(port2, f"cn=admin,{BASE}", ADMIN_PW).unbind_s()
    left = {v.name for v in docker_client.volumes.list()}
    assert not set(volumes) & left, "the wiped directory's volumes are removed"
    assert ADMIN_PW not in json.dumps(r)

    # state=absent: the container and its volumes, none left behind.
    third = [m["Name"] for m in docker_client.containers.get(server["name"]).attrs["Mounts"] if m["Type"] == "volume"]
    _proc, r = run_module(tmp_path, "db2_ldap_server", {**server, "state": "absent"})
    assert r["changed"] and not r.get("failed"), r
    assert not set(third) & {v.name for v in docker_client.volumes.list()}
