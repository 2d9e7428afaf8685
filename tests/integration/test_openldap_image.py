"""The OpenLDAP test image (tests/images/openldap): osixia/openldap-style env contract, the
Docker cookbook's recipe 4 bootstrap, access rules, TLS, restarts and slappasswd.

Everything runs against real containers on the local daemon; clients are python-ldap on the
host talking to the ports published on 127.0.0.1.
"""
from __future__ import annotations

import io
import subprocess
import tarfile
import time
from pathlib import Path

import ldap
import ldap.modlist
import pytest

from conftest import wait_for_log

READY = "openldap-test: slapd ready"
BOOTSTRAP_DIR = "/container/service/slapd/assets/config/bootstrap/ldif"
BOOTSTRAP_MOUNT = f"{BOOTSTRAP_DIR}/50-bootstrap.ldif"
CERTS_DIR = "/container/service/slapd/assets/certs"
CA_PATH = f"{CERTS_DIR}/ca.crt"
PORTS = {"389/tcp": ("127.0.0.1", None), "636/tcp": ("127.0.0.1", None)}
TLS_ERRORS = (ldap.CONNECT_ERROR, ldap.SERVER_DOWN)

BASE = "dc=example,dc=org"
ADMIN = f"cn=admin,{BASE}"
USERS = f"ou=Users,{BASE}"
GROUPS = f"ou=Groups,{BASE}"
DB2INST1 = f"cn=db2inst1,{USERS}"

# Recipe 4 of the cookbook, verbatim apart from the blank line that ends each file.
COOKBOOK_OU_LDIF = """\
# Define Organizational Units
dn: ou=Users,dc=example,dc=org
objectClass: top
objectClass: organizationalUnit
ou: Users

dn: ou=Groups,dc=example,dc=org
objectClass: top
objectClass: organizationalUnit
ou: Groups

"""
COOKBOOK_USERS_LDIF = """\
# db2 users
dn: cn=db2inst1,ou=Users,dc=example,dc=org
uid: db2inst1
cn: db2inst1
sn: db2inst1
objectClass: top
objectClass: posixAccount
objectClass: inetOrgPerson
uidNumber: 1000
gidNumber: 1000
loginShell: /bin/bash
homeDirectory: /database/config/db2inst1
userPassword: {SSHA}mUi1kby2pqmqM6a7XY/85lPwqGk7HeIo

"""
COOKBOOK_GROUPS_LDIF = """\
# db2 groups
dn: cn=db2iadm1,ou=Groups,dc=example,dc=org
objectClass: groupOfUniqueNames
cn: db2iadm1
description: Db2 SYSADM group
uniqueMember: cn=db2inst1,ou=Users,dc=example,dc=org
uniqueMember: cn=idbjorh,ou=Users,dc=example,dc=org

dn: cn=db2fadm1,ou=Groups,dc=example,dc=org
objectClass: groupOfUniqueNames
cn: db2fadm1
description: Db2 Fenced users group
uniqueMember: cn=db2fenc1,ou=Users,dc=example,dc=org

"""
COOKBOOK_DB2INST1_HASH = b"{SSHA}mUi1kby2pqmqM6a7XY/85lPwqGk7HeIo"
COOKBOOK_READONLY_ENV = {
    "LDAP_READONLY_USER": "true",
    "LDAP_READONLY_USER_USERNAME": "ldapquery",
    "LDAP_READONLY_USER_PASSWORD": "ldap4db2",
}
READONLY = f"cn=ldapquery,{BASE}"
# Creating additional LDAP users (2|3): the LDIF before slappasswd appends userPassword.
COOKBOOK_USER_LDIF = """\
dn:          cn=rbobby,ou=Users,dc=example,dc=org
uid:         rbobby
cn:          rbobby
cn:          Ricky Bobby
sn:          rbobby
objectClass: top
objectClass: inetOrgPerson
"""


# --- helpers -------------------------------------------------------------------------------
def start(containers, image, name, *, env=None, volumes=None, command=None, **kwargs):
    container = containers.run(
        image, name, environment=env or {}, volumes=volumes or {}, ports=PORTS,
        command=command, **kwargs,
    )
    wait_for_log(container, READY)
    return container


def wait_for_count(container, needle: str, count: int, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        logs = container.logs().decode("utf-8", "replace")
        if logs.count(needle) >= count:
            return logs
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not seen {count} times:\n{logs}")
        time.sleep(0.2)


def url(container, port: int = 389) -> str:
    container.reload()
    host_port = container.ports[f"{port}/tcp"][0]["HostPort"]
    return f"{'ldaps' if port == 636 else 'ldap'}://127.0.0.1:{host_port}"


def connect(uri: str, ca_file: Path | None = None):
    conn = ldap.initialize(uri)
    conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 10)
    conn.set_option(ldap.OPT_TIMEOUT, 30)
    conn.set_option(ldap.OPT_REFERRALS, 0)
    if ca_file is not None:
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, str(ca_file))
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # must come last
    return conn


def bind(container, dn: str, password: str):
    conn = connect(url(container))
    conn.simple_bind_s(dn, password)
    return conn


def read_file(container, path: str) -> bytes:
    stream = container.get_archive(path)[0]
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.next()
        return tar.extractfile(member).read()


def put_file(container, path: str, data: bytes) -> None:
    directory, name = path.rsplit("/", 1)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    assert container.put_archive(directory, buf.getvalue())


def exec_ok(container, cmd) -> str:
    result = container.exec_run(cmd)
    output = result.output.decode("utf-8", "replace")
    assert result.exit_code == 0, f"{cmd!r} failed ({result.exit_code}):\n{output}"
    return output


def copy_ca(container, tmp_path: Path, name: str = "ca.crt") -> Path:
    path = tmp_path / name
    path.write_bytes(read_file(container, CA_PATH))
    return path


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, crt = directory / f"{name}.key", directory / f"{name}.crt"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", str(key),
            "-out", str(crt), "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return crt, key


def entries(conn, base: str, filterstr: str = "(objectClass=*)", attrs=None, scope=ldap.SCOPE_SUBTREE):
    try:
        return dict(conn.search_s(base, scope, filterstr, attrs))
    except ldap.NO_SUCH_OBJECT:
        return {}


@pytest.fixture
def cookbook_ldif(tmp_path) -> Path:
    """`cat ou.ldif users.ldif groups.ldif > db2.ldif`, as in the cookbook."""
    parts = {"ou.ldif": COOKBOOK_OU_LDIF, "users.ldif": COOKBOOK_USERS_LDIF,
             "groups.ldif": COOKBOOK_GROUPS_LDIF}
    for name, text in parts.items():
        (tmp_path / name).write_text(text)
    db2 = tmp_path / "db2.ldif"
    db2.write_bytes(b"".join((tmp_path / name).read_bytes() for name in parts))
    return db2


def start_cookbook(containers, image, name, ldif: Path, **kwargs):
    """The cookbook's `docker run` of recipe 4 (plus published ports)."""
    volumes = {str(ldif): {"bind": BOOTSTRAP_MOUNT, "mode": "rw"}} | kwargs.pop("volumes", {})
    return start(containers, image, name, env=COOKBOOK_READONLY_ENV, volumes=volumes,
                 command=["--copy-service"], hostname="ldap-service", **kwargs)


# --- tests ---------------------------------------------------------------------------------
def test_domain_organisation_and_passwords(openldap_image, containers, unique_name):
    env = {
        "LDAP_DOMAIN": "db2ops.test",
        "LDAP_ORGANISATION": "Db2 Ops & Söhne",
        "LDAP_ADMIN_PASSWORD": "Adm|n&Pa$$ 1",
        "LDAP_CONFIG_PASSWORD": "c0nfig-pw",
    }
    c = start(containers, openldap_image, unique_name, env=env)
    base, admin = "dc=db2ops,dc=test", "cn=admin,dc=db2ops,dc=test"

    conn = bind(c, admin, env["LDAP_ADMIN_PASSWORD"])
    assert conn.whoami_s() == f"dn:{admin}"
    found = entries(conn, base, scope=ldap.SCOPE_BASE)
    assert set(found[base]["objectClass"]) >= {b"dcObject", b"organization"}
    assert found[base]["o"] == ["Db2 Ops & Söhne".encode()]
    assert found[base]["dc"] == [b"db2ops"]
    admin_entry = entries(conn, admin, scope=ldap.SCOPE_BASE)[admin]
    assert admin_entry["userPassword"][0].startswith(b"{SSHA}")

    with pytest.raises(ldap.INVALID_CREDENTIALS):
        bind(c, admin, "admin")
    with pytest.raises(ldap.INVALID_CREDENTIALS):  # no read-only user unless asked for
        bind(c, f"cn=readonly,{base}", "readonly")

    config = bind(c, "cn=admin,cn=config", "c0nfig-pw")
    frontend = entries(config, "olcDatabase={-1}frontend,cn=config", scope=ldap.SCOPE_BASE)
    assert frontend["olcDatabase={-1}frontend,cn=config"]["olcPasswordHash"] == [b"{SSHA}"]
    found = entries(config, "cn=schema,cn=config", "(cn=*)", ["cn"], ldap.SCOPE_ONELEVEL)
    schemas = b" ".join(v["cn"][0] for v in found.values())
    for schema in (b"core", b"cosine", b"nis", b"inetorgperson"):
        assert b"}" + schema in schemas
    assert "olcDatabase={1}mdb,cn=config" in entries(config, "cn=config", "(olcSuffix=*)")

    anonymous = connect(url(c))
    anonymous.simple_bind_s("", "")
    assert entries(anonymous, base) == {}  # like osixia: anonymous only binds


def test_cookbook_bootstrap_is_loaded(openldap_image, containers, unique_name, cookbook_ldif):
    before = cookbook_ldif.read_bytes()
    c = start_cookbook(containers, openldap_image, unique_name, cookbook_ldif)
    logs = c.logs().decode()
    assert f"bootstrap: applying {BOOTSTRAP_MOUNT}" in logs
    assert cookbook_ldif.read_bytes() == before  # the mounted file is never rewritten

    conn = bind(c, ADMIN, "admin")  # cookbook default admin password
    assert set(entries(conn, BASE, "(objectClass=organizationalUnit)")) == {USERS, GROUPS}
    user = entries(conn, DB2INST1, scope=ldap.SCOPE_BASE, attrs=["*", "memberOf"])[DB2INST1]
    assert set(user["objectClass"]) >= {b"posixAccount", b"inetOrgPerson"}
    assert user["uidNumber"] == [b"1000"] and user["homeDirectory"] == [b"/database/config/db2inst1"]
    assert user["userPassword"] == [COOKBOOK_DB2INST1_HASH]  # the admin reads hashes
    assert user["memberOf"] == [f"cn=db2iadm1,{GROUPS}".encode()]  # osixia's memberof overlay
    groups = entries(conn, GROUPS, "(objectClass=groupOfUniqueNames)")
    assert set(groups) == {f"cn=db2iadm1,{GROUPS}", f"cn=db2fadm1,{GROUPS}"}
    assert set(groups[f"cn=db2iadm1,{GROUPS}"]["uniqueMember"]) == {
        DB2INST1.encode(), f"cn=idbjorh,{USERS}".encode()}

    # --copy-service: the service tree (with the generated certificates) is also where osixia
    # keeps it then.
    assert read_file(c, "/container/run/service/slapd/assets/certs/ca.crt") == read_file(c, CA_PATH)


def test_readonly_user_searches_but_cannot_write(openldap_image, containers, unique_name,
                                                 cookbook_ldif):
    c = start_cookbook(containers, openldap_image, unique_name, cookbook_ldif)
    ro = bind(c, READONLY, "ldap4db2")
    assert ro.whoami_s() == f"dn:{READONLY}"

    # What the Db2 LDAP plug-in does with SEARCH_DN: find the user, then its groups.
    users = entries(ro, USERS, "(&(objectClass=inetOrgPerson)(uid=db2inst1))")
    assert list(users) == [DB2INST1]
    assert users[DB2INST1]["uid"] == [b"db2inst1"]
    assert "userPassword" not in users[DB2INST1]  # as in osixia: hashes stay hidden
    groups = entries(ro, GROUPS, f"(&(objectClass=groupOfUniqueNames)(uniqueMember={DB2INST1}))")
    assert list(groups) == [f"cn=db2iadm1,{GROUPS}"]
    assert len(entries(ro, BASE)) == 8  # base, admin, ldapquery, 2 ous, 1 user, 2 groups

    new = ldap.modlist.addModlist({"objectClass": [b"top", b"inetOrgPerson"],
                                   "cn": [b"intruder"], "sn": [b"intruder"]})
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        ro.add_s(f"cn=intruder,{USERS}", new)
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        ro.modify_s(f"cn=db2iadm1,{GROUPS}", [(ldap.MOD_ADD, "uniqueMember", [READONLY.encode()])])
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        ro.modify_s(DB2INST1, [(ldap.MOD_REPLACE, "userPassword", [b"{SSHA}x"])])
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        ro.delete_s(f"cn=db2fadm1,{GROUPS}")

    anonymous = connect(url(c))
    assert entries(anonymous, DB2INST1, scope=ldap.SCOPE_BASE, attrs=["userPassword"]) == {}


def test_bootstrap_placeholders_order_and_custom_dir(openldap_image, containers, unique_name,
                                                     tmp_path):
    files = {
        # Top-level files in name order, then custom/ (even though "10" sorts before "50").
        "50-bootstrap.ldif": "dn: ou=People,{{ LDAP_BASE_DN }}\nobjectClass: organizationalUnit\n"
                             "ou: People\n",
        "60-modify.ldif": "dn: ou=People,{{ LDAP_BASE_DN }}\nchangetype: modify\n"
                          "add: description\ndescription: people of {{ LDAP_DOMAIN }}\n-\n",
        "custom/10-user.ldif": "dn: uid=jdoe,ou=People,{{ LDAP_BASE_DN }}\n"
                               "objectClass: inetOrgPerson\nuid: jdoe\ncn: J Doe\nsn: Doe\n"
                               "mail: jdoe@{{ LDAP_DOMAIN }}\n"
                               "seeAlso: cn={{ LDAP_READONLY_USER_USERNAME }},{{ LDAP_BASE_DN }}\n",
        "README.txt": "not an LDIF: ignored\n",
    }
    volumes = {}
    for rel, text in files.items():
        path = tmp_path / rel.replace("/", "_")
        path.write_text(text)
        volumes[str(path)] = {"bind": f"{BOOTSTRAP_DIR}/{rel}", "mode": "rw"}
    env = {"LDAP_DOMAIN": "corp.example.net", "LDAP_READONLY_USER": "true"}
    c = start(containers, openldap_image, unique_name, env=env, volumes=volumes)
    base = "dc=corp,dc=example,dc=net"

    logs = c.logs().decode()
    applied = [line.split("applying ", 1)[1] for line in logs.splitlines() if "applying " in line]
    assert applied == [f"{BOOTSTRAP_DIR}/50-bootstrap.ldif", f"{BOOTSTRAP_DIR}/60-modify.ldif",
                       f"{BOOTSTRAP_DIR}/custom/10-user.ldif"]
    conn = bind(c, f"cn=admin,{base}", "admin")
    people = entries(conn, f"ou=People,{base}")
    assert people[f"ou=People,{base}"]["description"] == [b"people of corp.example.net"]
    jdoe = people[f"uid=jdoe,ou=People,{base}"]
    assert jdoe["mail"] == [b"jdoe@corp.example.net"]
    assert jdoe["seeAlso"] == [f"cn=readonly,{base}".encode()]
    for rel, text in files.items():  # sources untouched
        assert (tmp_path / rel.replace("/", "_")).read_text() == text


def test_failing_bootstrap_ldif_stops_the_container(openldap_image, containers, unique_name,
                                                    tmp_path):
    bad = tmp_path / "bad.ldif"
    bad.write_text("dn: cn=orphan,ou=Missing,dc=example,dc=org\nobjectClass: organizationalRole\n"
                   "cn: orphan\n")
    data, config = tmp_path / "ldap-data", tmp_path / "ldap-config"
    data.mkdir()
    config.mkdir()
    volumes = {str(bad): {"bind": BOOTSTRAP_MOUNT, "mode": "ro"},
               str(data): {"bind": "/var/lib/ldap", "mode": "rw"},
               str(config): {"bind": "/etc/ldap/slapd.d", "mode": "rw"}}
    c = containers.run(openldap_image, unique_name + "-1", ports=PORTS, volumes=volumes)
    assert c.wait(timeout=60)["StatusCode"] != 0
    logs = c.logs().decode()
    assert f"bootstrap LDIF {BOOTSTRAP_MOUNT} failed" in logs
    assert READY not in logs
    # No half-bootstrapped volumes are left behind: the next start bootstraps from scratch.
    assert list(data.iterdir()) == [] and list(config.iterdir()) == []

    bad.write_text("dn: ou=Missing,dc=example,dc=org\nobjectClass: organizationalUnit\n"
                   "ou: Missing\n\n" + bad.read_text())
    c = start(containers, openldap_image, unique_name + "-2", volumes=volumes)
    assert "cn=orphan,ou=Missing,dc=example,dc=org" in entries(bind(c, ADMIN, "admin"), BASE)


def test_starttls_and_ldaps_with_generated_ca(openldap_image, containers, unique_name, tmp_path):
    c = start(containers, openldap_image, unique_name)
    ca = copy_ca(c, tmp_path)
    assert ca.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    # Inside the container the ldap tools trust it too (osixia writes the same ldap.conf line).
    assert f"TLS_CACERT {CA_PATH}" in read_file(c, "/etc/ldap/ldap.conf").decode()
    other_ca = make_ca(tmp_path, "unrelated-ca")[0]

    conn = connect(url(c, 389), ca)
    conn.start_tls_s()
    conn.simple_bind_s(ADMIN, "admin")
    assert conn.whoami_s() == f"dn:{ADMIN}"

    conn = connect(url(c, 636), ca)
    conn.simple_bind_s(ADMIN, "admin")
    assert conn.whoami_s() == f"dn:{ADMIN}"

    with pytest.raises(TLS_ERRORS):
        connect(url(c, 389), other_ca).start_tls_s()
    with pytest.raises(TLS_ERRORS):
        connect(url(c, 636), other_ca).simple_bind_s(ADMIN, "admin")

    plain = connect(url(c, 389))  # TLS is offered, not required (LDAP_TLS_ENFORCE=false)
    plain.simple_bind_s(ADMIN, "admin")


def test_tls_from_mounted_certificate_files(openldap_image, containers, unique_name, tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    ca_crt, ca_key = make_ca(tmp_path, "my-ca")
    (certs / "my-ca.pem").write_bytes(ca_crt.read_bytes())
    ext = tmp_path / "ext.cnf"
    ext.write_text("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                   "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(certs / "server-key.pem"),
            "-out", str(tmp_path / "server.csr"), "-subj", "/CN=localhost")
    openssl("x509", "-req", "-in", str(tmp_path / "server.csr"), "-CA", str(ca_crt),
            "-CAkey", str(ca_key), "-CAcreateserial", "-days", "2", "-extfile", str(ext),
            "-out", str(certs / "server.pem"))
    (certs / "server-key.pem").chmod(0o644)  # read-only mount: slapd's user must read it as is
    env = {"LDAP_TLS_CRT_FILENAME": "server.pem", "LDAP_TLS_KEY_FILENAME": "server-key.pem",
           "LDAP_TLS_CA_CRT_FILENAME": "my-ca.pem"}
    c = start(containers, openldap_image, unique_name, env=env,
              volumes={str(certs): {"bind": CERTS_DIR, "mode": "ro"}})

    assert "generating a self-signed CA" not in c.logs().decode()
    conn = connect(url(c, 636), ca_crt)
    conn.simple_bind_s(ADMIN, "admin")
    conn = connect(url(c, 389), ca_crt)
    conn.start_tls_s()
    conn.simple_bind_s(ADMIN, "admin")
    assert conn.whoami_s() == f"dn:{ADMIN}"


def test_tls_disabled(openldap_image, containers, unique_name):
    c = start(containers, openldap_image, unique_name, env={"LDAP_TLS": "false"})
    assert "(ldap:/// ldapi:///)" in c.logs().decode()
    bind(c, ADMIN, "admin")
    with pytest.raises((ldap.PROTOCOL_ERROR, ldap.CONNECT_ERROR, ldap.UNAVAILABLE)):
        conn = connect(url(c, 389))
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_NEVER)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        conn.start_tls_s()
    with pytest.raises(ldap.SERVER_DOWN):  # nothing listens behind the published 636
        conn = connect(url(c, 636))
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_NEVER)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        conn.simple_bind_s(ADMIN, "admin")


def test_tls_enforce_requires_starttls(openldap_image, containers, unique_name, tmp_path):
    c = start(containers, openldap_image, unique_name, env={"LDAP_TLS_ENFORCE": "true"})
    with pytest.raises(ldap.CONFIDENTIALITY_REQUIRED):
        bind(c, ADMIN, "admin")
    conn = connect(url(c, 389), copy_ca(c, tmp_path))
    conn.start_tls_s()
    conn.simple_bind_s(ADMIN, "admin")
    assert conn.whoami_s() == f"dn:{ADMIN}"


def test_restart_keeps_data_and_skips_bootstrap(openldap_image, containers, unique_name,
                                                cookbook_ldif, tmp_path):
    c = start_cookbook(containers, openldap_image, unique_name, cookbook_ldif)
    ca_before = read_file(c, CA_PATH)
    conn = bind(c, ADMIN, "admin")
    conn.delete_s(f"cn=db2fadm1,{GROUPS}")
    conn.add_s(f"cn=later,{USERS}", ldap.modlist.addModlist(
        {"objectClass": [b"inetOrgPerson"], "cn": [b"later"], "sn": [b"later"]}))
    conn.unbind_s()

    c.restart(timeout=30)
    logs = wait_for_count(c, READY, 2)
    assert logs.count("bootstrap: applying") == 1
    assert logs.count("bootstrap: done") == 1
    assert read_file(c, CA_PATH) == ca_before  # clients that trust the CA keep working

    conn = connect(url(c, 389), copy_ca(c, tmp_path))
    conn.start_tls_s()
    conn.simple_bind_s(ADMIN, "admin")
    assert f"cn=later,{USERS}" in entries(conn, USERS)
    assert entries(conn, GROUPS, "(objectClass=groupOfUniqueNames)") == {
        f"cn=db2iadm1,{GROUPS}": entries(conn, f"cn=db2iadm1,{GROUPS}", scope=ldap.SCOPE_BASE)[
            f"cn=db2iadm1,{GROUPS}"]}
    bind(c, READONLY, "ldap4db2")


def test_new_container_on_existing_volumes(openldap_image, containers, unique_name,
                                           cookbook_ldif, tmp_path):
    data, config = tmp_path / "ldap-data", tmp_path / "ldap-config"
    data.mkdir()
    config.mkdir()
    volumes = {str(data): {"bind": "/var/lib/ldap", "mode": "rw"},
               str(config): {"bind": "/etc/ldap/slapd.d", "mode": "rw"}}
    first = start_cookbook(containers, openldap_image, unique_name + "-1", cookbook_ldif,
                           volumes=volumes)
    bind(first, ADMIN, "admin").delete_s(f"cn=db2fadm1,{GROUPS}")
    first.stop(timeout=30)
    first.remove()

    second = start_cookbook(containers, openldap_image, unique_name + "-2", cookbook_ldif,
                            volumes=volumes)
    logs = second.logs().decode()
    assert "existing database and configuration found: no bootstrap" in logs
    assert "bootstrap: applying" not in logs
    conn = connect(url(second, 389), copy_ca(second, tmp_path))  # a fresh CA: new container
    conn.start_tls_s()
    conn.simple_bind_s(ADMIN, "admin")
    assert set(entries(conn, GROUPS, "(objectClass=groupOfUniqueNames)")) == {f"cn=db2iadm1,{GROUPS}"}
    assert DB2INST1 in entries(conn, USERS)
    second.stop(timeout=30)
    second.remove()

    # TLS switched off for a later container on the same volumes: plain LDAP only.
    third = start(containers, openldap_image, unique_name + "-3", env={"LDAP_TLS": "false"},
                  volumes=volumes)
    assert "(ldap:/// ldapi:///)" in third.logs().decode()
    assert DB2INST1 in entries(bind(third, ADMIN, "admin"), USERS)


def test_slappasswd_hashes_bind(openldap_image, containers, unique_name, cookbook_ldif):
    c = start_cookbook(containers, openldap_image, unique_name, cookbook_ldif)

    # Creating additional LDAP users (3|3), as the cookbook does it with docker exec/cp.
    hashed = exec_ok(c, ["slappasswd", "-s", "mypassword"]).strip()
    assert hashed.startswith("{SSHA}")
    user_ldif = COOKBOOK_USER_LDIF + f"userPassword: {hashed}\n"
    put_file(c, "/tmp/user.ldif", user_ldif.encode())
    out = exec_ok(c, ["ldapadd", "-x", "-H", "ldap://localhost:389", "-D", ADMIN, "-w", "admin",
                      "-f", "/tmp/user.ldif"])
    assert f'adding new entry "cn=rbobby,{USERS}"' in out
    rbobby = bind(c, f"cn=rbobby,{USERS}", "mypassword")
    assert rbobby.whoami_s() == f"dn:cn=rbobby,{USERS}"
    with pytest.raises(ldap.INVALID_CREDENTIALS):
        bind(c, f"cn=rbobby,{USERS}", "notmypassword")
    rbobby.passwd_s(f"cn=rbobby,{USERS}", "mypassword", "changed-by-me")  # own password
    bind(c, f"cn=rbobby,{USERS}", "changed-by-me")

    # An existing user gets a slappasswd hash written by the admin, then binds with it.
    hashed = exec_ok(c, ["slappasswd", "-s", "Db2-inst1 pw"]).strip()
    admin = bind(c, ADMIN, "admin")
    admin.modify_s(DB2INST1, [(ldap.MOD_REPLACE, "userPassword", [hashed.encode()])])
    bind(c, DB2INST1, "Db2-inst1 pw")

    # The password-modify extended operation stores {SSHA}, like slappasswd.
    admin.passwd_s(DB2INST1, None, "via-exop")
    stored = entries(admin, DB2INST1, scope=ldap.SCOPE_BASE, attrs=["userPassword"])[DB2INST1]
    assert stored["userPassword"][0].startswith(b"{SSHA}")
    bind(c, DB2INST1, "via-exop")


def test_docker_stop_shuts_slapd_down_cleanly(openldap_image, containers, unique_name):
    c = start(containers, openldap_image, unique_name)
    top = c.top(ps_args="-o pid,ppid,comm")
    comms = {row[-1]: row for row in top["Processes"]}
    assert "slapd" in comms  # slapd runs under the entry point, which is PID 1
    c.stop(timeout=30)
    c.reload()
    assert c.attrs["State"]["ExitCode"] == 0  # SIGTERM forwarded, not SIGKILLed
    assert "openldap-test: slapd exited with status 0" in c.logs().decode()
