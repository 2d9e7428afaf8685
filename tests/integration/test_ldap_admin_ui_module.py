"""db2_ldap_admin_ui: phpLDAPadmin (our test image, osixia's environment) on the slapd's
user-defined network, pointed at it by name; check mode and diff, create, rerun unchanged,
the user's certificate served over HTTPS, re-created on a change, bad input refused with
nothing changed, state=absent."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import docker
import pytest

from daemons import free_port, make_tls_material
from ldap_server import slapd  # noqa: F401 pylint: disable=unused-import
from phpldapadmin import build_image, fetch
from playbook import run_module


@pytest.fixture
def ui(docker_client, slapd, tmp_path):
    """Module arguments for a phpLDAPadmin next to the slapd, and its TLS files; removed afterwards."""
    image = build_image()
    tls = make_tls_material(tmp_path / "tls")
    args = {"name": "db2ops-t-ui-" + uuid.uuid4().hex[:8], "image": image, "network": slapd.network.name,
            "ldap_host": slapd.container.name, "port": free_port(),
            "certificate": tls["server"], "private_key": tls["server_key"], "ca_certificate": tls["ca"]}
    yield args, tls
    try:
        docker_client.containers.get(args["name"]).remove(force=True)
    except docker.errors.NotFound:
        pass


def container_or_none(client, name):
    try:
        return client.containers.get(name)
    except docker.errors.NotFound:
        return None


def test_check_mode_create_rerun_change_and_absent(ui, docker_client, tmp_path):
    args, tls = ui
    proc, r = run_module(tmp_path, "db2_ldap_admin_ui", args, check=True, diff=True)
    assert r["changed"] and not r.get("failed"), proc.stdout
    assert r["diff"]["before"] == {} and r["diff"]["after"]["env"]["PHPLDAPADMIN_LDAP_HOSTS"] == args["ldap_host"]
    assert container_or_none(docker_client, args["name"]) is None  # check mode changed nothing

    proc, r = run_module(tmp_path, "db2_ldap_admin_ui", args, diff=True)
    assert r["changed"] and not r.get("failed"), proc.stdout
    assert r["url"] == f"https://127.0.0.1:{args['port']}/"
    container = docker_client.containers.get(args["name"])
    env = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert env["PHPLDAPADMIN_LDAP_HOSTS"] == args["ldap_host"] and env["PHPLDAPADMIN_HTTPS"] == "true"
    assert "PRIVATE KEY" not in json.dumps(container.attrs)  # the key is a file, not config
    assert args["network"] in container.attrs["NetworkSettings"]["Networks"]
    binding = {"HostIp": "127.0.0.1", "HostPort": str(args["port"])}
    assert container.attrs["HostConfig"]["PortBindings"]["443/tcp"] == [binding]
    key_mode = container.exec_run(["stat", "-c", "%a", "/container/service/phpldapadmin/assets/apache2/certs/"
                                   "phpldapadmin.key"]).output.decode().strip()
    assert key_mode == "400"
    status, page = fetch(r["url"], ca_file=tls["ca"])  # verified against the test CA: the user's certificate
    assert status == 200 and "phpLDAPadmin" in page

    proc, r = run_module(tmp_path, "db2_ldap_admin_ui", args, diff=True)
    assert not r["changed"] and r["commands"] == [] and r["diff"]["before"] == r["diff"]["after"], proc.stdout
    assert docker_client.containers.get(args["name"]).id == container.id

    # Plain HTTP on another port: the configuration differs, the container is made again.
    changed = {**args, "https": False, "port": free_port()}
    for option in ("certificate", "private_key", "ca_certificate"):
        changed.pop(option)
    proc, r = run_module(tmp_path, "db2_ldap_admin_ui", changed, check=True, diff=True)
    assert r["changed"] and r["diff"]["before"]["env"]["PHPLDAPADMIN_HTTPS"] == "true"
    assert r["diff"]["after"]["env"]["PHPLDAPADMIN_HTTPS"] == "false"
    assert docker_client.containers.get(args["name"]).id == container.id
    proc, r = run_module(tmp_path, "db2_ldap_admin_ui", changed)
    assert r["changed"] and r["url"] == f"http://127.0.0.1:{changed['port']}/", proc.stdout
    assert docker_client.containers.get(args["name"]).id != container.id
    assert fetch(r["url"])[0] == 200

    proc, r = run_module(tmp_path, "db2_ldap_admin_ui", {**changed, "state": "absent"})
    assert r["changed"] and container_or_none(docker_client, args["name"]) is None, proc.stdout
    assert docker_client.networks.get(args["network"])  # the directory's network stays


# Through a real playbook (the one line reaches the user); the nine hostile values per option run
# in process in test_bad_input_ldap.py.
BAD = [
    ("name", "pla\n"), ("ldap_host", "ldap-host --x"), ("bind_address", "0.0.0.0:80"), ("port", 0),
    ("port", 70000), ("certificate", "/nonexistent/cert.pem"),
]


@pytest.mark.parametrize("option, value", BAD)
def test_bad_input_is_refused_in_one_line_naming_the_option(ui, docker_client, tmp_path, option, value):
    args, _tls = ui
    proc, r = run_module(tmp_path, "db2_ldap_admin_ui", {**args, option: value})
    assert r.get("failed") and not r["changed"], proc.stdout
    msg = r["msg"]
    assert "\n" not in msg and option in msg and "nothing was changed" in msg.lower(), msg
    if option not in ("port",):
        assert str(value) not in msg
    assert container_or_none(docker_client, args["name"]) is None


def test_a_key_that_is_no_key_is_refused_before_anything_changes(ui, docker_client, tmp_path):
    args, tls = ui
    proc, r = run_module(tmp_path, "db2_ldap_admin_ui", {**args, "private_key": tls["server"]})
    assert r.get("failed") and not r["changed"] and "private_key" in r["msg"], proc.stdout
    assert "BEGIN" not in r["msg"] and container_or_none(docker_client, args["name"]) is None
    for option in ("certificate", "private_key"):
        half = {**args}
        half.pop(option)
        proc, r = run_module(tmp_path, "db2_ldap_admin_ui", half)
        assert r.get("failed") and "certificate" in r["msg"] and "private_key" in r["msg"], proc.stdout
    assert container_or_none(docker_client, args["name"]) is None
    assert Path(tls["server_key"]).read_text() not in proc.stdout
