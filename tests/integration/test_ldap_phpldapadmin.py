"""Cookbook recipe 4, "Creating additional LDAP users" with phpLDAPadmin, end to end in a real
browser: role db2_ldap (playbooks/ldap.yml) runs our OpenLDAP image and, asked to, phpLDAPadmin
(our Debian-built test image) on the same user-defined network, over HTTPS with a certificate
made for the test. Headless Chromium logs in as the admin (a wrong password is refused first),
sees ou=Users and ou=Groups in the tree (screenshot kept), creates a user through the web form as
the cookbook does; python-ldap reads the entry back and binds as the user, and the user logs in
to the Db2 stand-in through IBM's LDAP plug-in."""
from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

import docker
import ldap
import pytest
import yaml

from browser import CHROMIUM
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, images_locked, run_db2, wait_for_log
from daemons import free_port, make_tls_material
from phpldapadmin import PhpLdapAdmin, build_image
from playbook import REPO, run_playbook

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup-system.sh)")

BASE = "dc=example,dc=org"
ADMIN = f"cn=admin,{BASE}"
ADMIN_PW = "Adm-4pla-Z7"
QUERY_PW = "Qry-4pla-Z9"
NEW_USER_PW = "Rb-mypassword-1"
# Screenshots are kept here (and in pytest's own tmp dir); CI can collect the directory.
ARTIFACTS = Path(os.environ.get("DB2OPS_TEST_ARTIFACTS", REPO / "tests" / "output" / "artifacts"))


@pytest.fixture(scope="module")
def deployed(standin_images, openldap_image, docker_client, tmp_path_factory):
    """The role's run with phpLDAPadmin on: names, the page's URL and the test's certificate."""
    pla_image = build_image()
    tmp = tmp_path_factory.mktemp("pla-role")
    suffix = uuid.uuid4().hex[:8]
    with images_locked("standin"):
        db2 = docker_client.containers.create(
            standin_images["11.1.4.4"], name="db2ops-t-pladb2-" + suffix,
            environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB", "ARCHIVE_LOGS": "false"})
    names = {"ldap": "db2ops-t-plaldap-" + suffix, "ui": "db2ops-t-plaui-" + suffix,
             "network": "db2ops-t-planet-" + suffix}
    try:
        db2.start()
        wait_for_log(db2, "(*) Setup has completed.")
        ldap_port, ui_port = free_port(), free_port()
        tls = make_tls_material(tmp / "tls")
        inventory = tmp / "hosts.yml"
        inventory.write_text(yaml.safe_dump({"db2_containers": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "hosts": {db2.name: {"db2_container": db2.name}}}}))
        ldap_vars = {
            "db2_ldap_image": openldap_image, "db2_ldap_env_style": "ours",
            "db2_ldap_server_name": names["ldap"], "db2_ldap_network": names["network"],
            "db2_ldap_published_port": f"127.0.0.1:{ldap_port}", "db2_ldap_server_uri": f"ldap://127.0.0.1:{ldap_port}",
            "db2_ldap_ca_file": str(tmp / "ldap-ca.pem"),
            "db2_ldap_admin_password": ADMIN_PW, "db2_ldap_readonly_password": QUERY_PW,
            "db2_ldap_phpldapadmin": True, "db2_ldap_phpldapadmin_name": names["ui"],
            "db2_ldap_phpldapadmin_image": pla_image, "db2_ldap_phpldapadmin_port": ui_port,
            "db2_ldap_phpldapadmin_certificate": tls["server"], "db2_ldap_phpldapadmin_private_key": tls["server_key"],
        }
        vars_file = tmp / "ldap-vars.yml"
        vars_file.write_text(yaml.safe_dump(ldap_vars))
        proc = run_playbook(REPO / "playbooks" / "ldap.yml", inventory=str(inventory), args=("-e", "@" + str(vars_file)))
        yield {"db2": db2, "names": names, "proc": proc, "url": f"https://127.0.0.1:{ui_port}/", "tls": tls,
               "ldap_uri": f"ldap://127.0.0.1:{ldap_port}", "ldap_ca": str(tmp / "ldap-ca.pem")}
    finally:
        for name in (names["ui"], names["ldap"], db2.name):
            try:
                docker_client.containers.get(name).remove(force=True, v=True)
            except docker.errors.NotFound:
                pass
        try:
            docker_client.networks.get(names["network"]).remove()
        except docker.errors.NotFound:
            pass


def ldap_conn(deployed, dn, password):
    conn = ldap.initialize(deployed["ldap_uri"])
    conn.set_option(ldap.OPT_X_TLS_CACERTFILE, deployed["ldap_ca"])
    conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
    conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    conn.start_tls_s()
    conn.simple_bind_s(dn, password)
    return conn


def test_cookbook_user_created_in_phpldapadmin_logs_in_to_db2(deployed, docker_client, tmp_path, request):
    proc = deployed["proc"]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert f"phpLDAPadmin: {deployed['url']}" in " ".join(proc.stdout.split()), proc.stdout[-3000:]
    assert ADMIN_PW not in proc.stdout + proc.stderr
    ui_container = docker_client.containers.get(deployed["names"]["ui"])
    env = "\n".join(ui_container.attrs["Config"]["Env"])
    assert ADMIN_PW not in env and ADMIN_PW not in " ".join(ui_container.attrs["Config"]["Cmd"] or [])
    assert "PHPLDAPADMIN_LDAP_HOSTS=ldap-host" in env  # the directory's network alias
    assert deployed["names"]["network"] in ui_container.attrs["NetworkSettings"]["Networks"]

    cert = Path(deployed["tls"]["server"]).read_bytes()
    with PhpLdapAdmin(deployed["url"], tmp_path, trust_cert=cert) as ui:
        refused = ui.login(ADMIN, "not-" + ADMIN_PW)
        assert not ui.logged_in() and "Invalid credentials" in refused, refused[-800:]

        answer = ui.login(ADMIN, ADMIN_PW)
        assert ui.logged_in() and "Successfully logged into server" in answer, answer[-800:]
        tree = ui.expand_tree(BASE, "ou=Users")
        assert "ou=Users" in tree and "ou=Groups" in tree, tree
        shot = ui.page.screenshot(tmp_path / "phpldapadmin-tree.png")
        assert shot.stat().st_size > 10000
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        kept = shutil.copy(shot, ARTIFACTS / f"{request.node.name}-tree.png")
        print(f"screenshot: {kept}")

        created = ui.create_user(f"ou=Users,{BASE}", cn="rbobby", sn="rbobby", uid="rbobby", password=NEW_USER_PW)
        assert f"cn=rbobby,ou=Users,{BASE} has been created" in created, created[-1500:]

    # python-ldap: the entry is what the cookbook's LDIF makes, and its password binds.
    conn = ldap_conn(deployed, ADMIN, ADMIN_PW)
    (dn, entry), = conn.search_s(f"ou=Users,{BASE}", ldap.SCOPE_ONELEVEL, "(uid=rbobby)")
    conn.unbind_s()
    assert dn == f"cn=rbobby,ou=Users,{BASE}"
    assert b"inetOrgPerson" in entry["objectClass"] and entry["sn"] == [b"rbobby"] and entry["cn"] == [b"rbobby"]
    assert entry["userPassword"][0].startswith(b"{SSHA}")
    ldap_conn(deployed, dn, NEW_USER_PW).unbind_s()
    with pytest.raises(ldap.INVALID_CREDENTIALS):
        ldap_conn(deployed, dn, "wrong-" + NEW_USER_PW)

    # Db2 login of the new user through IBM's LDAP plug-in (configured by the role's run).
    db2 = deployed["db2"]
    code, out = run_db2(db2, f"db2 connect to testdb user rbobby using '{NEW_USER_PW}'; rc=$?; "
                             "db2 terminate >/dev/null; exit $rc")
    assert code == 0 and "SQL authorization ID   = RBOBBY" in out, out
    code, out = run_db2(db2, "db2 connect to testdb user rbobby using wrong-pw; rc=$?; db2 terminate >/dev/null; exit $rc")
    assert code == 4 and "SQL30082N" in out, out
