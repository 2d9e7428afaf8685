"""The phpLDAPadmin test image (tests/images/phpldapadmin): osixia/phpldapadmin's environment,
HTTPS with the user's certificate or a self-signed one, plain HTTP when asked, a clean stop,
and the pages in a headless Chromium (login, tree, refused password).

Real containers on the local daemon: slapd (tests/images/openldap) and phpLDAPadmin on the
slapd's user-defined network, the page published on 127.0.0.1.
"""
from __future__ import annotations

import ssl
import urllib.error
import uuid
from pathlib import Path

import pytest

from browser import CHROMIUM
from daemons import make_tls_material
from ldap_server import ADMIN, ADMIN_PW, BASE
from ldap_server import ous, slapd  # noqa: F401 pylint: disable=unused-import
from phpldapadmin import CERTS_DIR, PhpLdapAdmin, build_image, cert_mounts, fetch, wait_ready

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup-system.sh)")


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls_material(tmp_path_factory.mktemp("pla-tls"), server_ips=("127.0.0.1",),
                             server_names=("localhost",))


@pytest.fixture
def run_pla(docker_client, slapd):
    """Start phpLDAPadmin on the slapd's network, pointed at the slapd by name; removed afterwards."""
    image = build_image()
    made = []

    def start(environment=None, volumes=None, port=443):
        container = docker_client.containers.run(
            image, detach=True, name="db2ops-t-pla-" + uuid.uuid4().hex[:8], network=slapd.network.name,
            environment={"PHPLDAPADMIN_LDAP_HOSTS": slapd.container.name, **(environment or {})},
            volumes=volumes or {}, ports={f"{port}/tcp": ("127.0.0.1", None)})
        made.append(container)
        wait_ready(container)
        container.reload()
        return container, int(container.ports[f"{port}/tcp"][0]["HostPort"])

    yield start
    for container in made:
        container.remove(force=True)


def test_https_serves_the_given_certificate(run_pla, tls):
    _container, port = run_pla(volumes=cert_mounts(tls))
    status, page = fetch(f"https://127.0.0.1:{port}/", ca_file=tls["ca"])  # verified: our CA, our name
    assert status == 200 and "phpLDAPadmin" in page
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(f"https://127.0.0.1:{port}/", ca_file=tls["other-ca"])


def test_https_without_certificate_makes_a_self_signed_one(run_pla):
    container, port = run_pla()
    assert "making a self-signed certificate" in container.logs().decode()
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    made = container.exec_run(["cat", f"{CERTS_DIR}/phpldapadmin.crt"]).output.decode()
    assert ssl.PEM_cert_to_DER_cert(pem) == ssl.PEM_cert_to_DER_cert(made)


def test_http_when_https_is_false(run_pla):
    _container, port = run_pla(environment={"PHPLDAPADMIN_HTTPS": "false"}, port=80)
    status, page = fetch(f"http://127.0.0.1:{port}/")
    assert status == 200 and "phpLDAPadmin" in page


def test_docker_stop_exits_cleanly(run_pla):
    container, _port = run_pla()
    container.stop(timeout=20)
    container.reload()
    assert container.attrs["State"]["ExitCode"] == 0
    assert "apache exited with status 0" in container.logs().decode()


@needs_chromium
def test_login_shows_the_tree_and_a_wrong_password_is_refused(run_pla, tls, slapd, ous, tmp_path):
    users, groups = ous
    _container, port = run_pla(volumes=cert_mounts(tls))
    with PhpLdapAdmin(f"https://127.0.0.1:{port}/", tmp_path, Path(tls["server"]).read_bytes()) as ui:
        refused = ui.login(ADMIN, "not-" + ADMIN_PW)
        assert not ui.logged_in() and "Invalid credentials" in refused, refused[-800:]
        answer = ui.login(ADMIN, ADMIN_PW)
        assert ui.logged_in() and "Successfully logged into server" in answer, answer[-800:]
        tree = ui.expand_tree(BASE, users.split(",")[0])
        assert users.split(",")[0] in tree and groups.split(",")[0] in tree
        shot = ui.page.screenshot(tmp_path / "tree.png")
        assert shot.stat().st_size > 10000
