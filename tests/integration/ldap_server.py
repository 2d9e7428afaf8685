"""A real slapd (tests/images/openldap) for the LDAP module tests, and helpers to read it back.

One container per test module (started in about 2 s); each test gets its own OUs under the
base, so tests do not see each other's entries and need no restart.
"""
from __future__ import annotations

import io
import tarfile
import uuid
from pathlib import Path

import docker
import ldap
import ldap.modlist
import pytest

from conftest import OPENLDAP_IMAGE, _build_images, wait_for_log

READY = "openldap-test: slapd ready"
CA_IN_CONTAINER = "/container/service/slapd/assets/certs/ca.crt"
BASE = "dc=example,dc=org"
ADMIN = f"cn=admin,{BASE}"
ADMIN_PW = "admin"
READONLY = f"cn=ldapquery,{BASE}"
READONLY_PW = "ldap4db2"


class Slapd:
    def __init__(self, container, ca_path: Path, network):
        container.reload()
        self.network = network
        ports = container.ports
        self.container = container
        self.uri = f"ldap://127.0.0.1:{ports['389/tcp'][0]['HostPort']}"
        self.ldaps_uri = f"ldaps://127.0.0.1:{ports['636/tcp'][0]['HostPort']}"
        self.ca_path = ca_path

    def connection(self, dn=ADMIN, password=ADMIN_PW):
        """A StartTLS connection bound as dn (raises ldap.INVALID_CREDENTIALS on a bad password)."""
        conn = ldap.initialize(self.uri)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 10)
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, str(self.ca_path))
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        conn.start_tls_s()
        conn.simple_bind_s(dn, password)
        return conn

    def args(self, **extra) -> dict:
        """Module arguments: the admin connection over StartTLS, plus extra."""
        return {"server_uri": self.uri, "ca_path": str(self.ca_path), "bind_dn": ADMIN, "bind_pw": ADMIN_PW,
                "base_dn": BASE, **extra}

    def tree(self, base: str, attrs=None) -> dict:
        """{dn: {attr: [text values]}} of the subtree (userPassword as text too); {} if missing."""
        conn = self.connection()
        try:
            found = conn.search_s(base, ldap.SCOPE_SUBTREE, "(objectClass=*)", attrs or ["*"])
        except ldap.NO_SUCH_OBJECT:
            return {}
        finally:
            conn.unbind_s()
        return {dn: {k: [v.decode() for v in vals] for k, vals in entry.items()} for dn, entry in found}

    def entry(self, dn: str) -> dict | None:
        conn = self.connection()
        try:
            found = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["*"])
        except ldap.NO_SUCH_OBJECT:
            return None
        finally:
            conn.unbind_s()
        return {k: [v.decode() for v in vals] for k, vals in found[0][1].items()}

    def add_ou(self, dn: str) -> str:
        conn = self.connection()
        ou = ldap.dn.str2dn(dn)[0][0][1]
        conn.add_s(dn, ldap.modlist.addModlist({"objectClass": [b"top", b"organizationalUnit"], "ou": [ou.encode()]}))
        conn.unbind_s()
        return dn

    def can_bind(self, dn: str, password: str) -> bool:
        try:
            self.connection(dn, password).unbind_s()
            return True
        except ldap.INVALID_CREDENTIALS:
            return False

    def stop(self):
        try:
            self.container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        self.network.remove()

    def slappasswd(self, *args: str) -> str:
        result = self.container.exec_run(["slappasswd", *args])
        assert result.exit_code == 0, result.output
        return result.output.decode().strip()


def start_slapd(client, tmp_dir: Path, name: str):
    """Run the image on a network of its own (named like the container), which also keeps the
    test independent of the default bridge; stop() removes both."""
    network = client.networks.create(name, driver="bridge")
    container = None
    try:
        container = client.containers.create(
            OPENLDAP_IMAGE, name=name, network=name,
            environment={"LDAP_READONLY_USER": "true", "LDAP_READONLY_USER_USERNAME": "ldapquery",
                         "LDAP_READONLY_USER_PASSWORD": READONLY_PW, "LDAP_LOG_LEVEL": "0"},
            ports={"389/tcp": ("127.0.0.1", None), "636/tcp": ("127.0.0.1", None)},
        )
        container.start()
        wait_for_log(container, READY)
        stream, _stat = container.get_archive(CA_IN_CONTAINER)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            ca = tar.extractfile(tar.next()).read()
        ca_path = tmp_dir / "ldap-ca.crt"
        ca_path.write_bytes(ca)
        return Slapd(container, ca_path, network)
    except BaseException:
        if container is not None:
            container.remove(force=True, v=True)
        network.remove()
        raise


@pytest.fixture(scope="module")
def slapd(docker_client, tmp_path_factory):
    _build_images("openldap")
    server = start_slapd(docker_client, tmp_path_factory.mktemp("slapd"), "db2ops-t-ldap-" + uuid.uuid4().hex[:8])
    yield server
    server.stop()


@pytest.fixture
def ous(slapd):
    """Fresh `ou=Users-<id>` and `ou=Groups-<id>` under the base for one test: (users, groups)."""
    tag = uuid.uuid4().hex[:6]
    return (slapd.add_ou(f"ou=Users-{tag},{BASE}"), slapd.add_ou(f"ou=Groups-{tag},{BASE}"))
