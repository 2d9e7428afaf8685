"""_ldap/server.py (db2_ldap_server) against the fake daemon: create, keep, re-create with the
volumes kept or wiped, remove; readiness by an admin bind; check mode changes nothing."""
import io
import tarfile

import pytest
from docker.errors import APIError
from fake_docker import FakeDocker

from ansible_collections.db2ops.docker.plugins.module_utils._ldap.server import (
    CONFIG_LABEL,
    LdapServerError,
    run_task,
)

IMAGE = "osixia/openldap:1.5.0"


@pytest.fixture
def daemon():
    fake = FakeDocker()
    fake.add_image(IMAGE)
    fake.binds = []
    fake.on_exec(r"^ldapwhoami ", lambda c, cmd, stdin, user: fake.binds.append((cmd, stdin)) or (0, "dn:cn=admin"))
    fake.on_exec(r"TLS_CACERT", (0, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
    yield fake
    assert fake.unexpected == []


def params(**extra):
    p = dict(name="ldap", state="present", image=IMAGE, env_style="osixia", domain="example.org", base_dn=None,
             organisation="Example Inc.", admin_password="adminpw", readonly_user=None, readonly_password=None,
             ldap_tls=True, tls_subject_alt_names=[], network="ldapnet", hostname=None, aliases=["ldap-host"],
             published_ports=["127.0.0.1:1389:389"], bootstrap_ldif=[dict(name="10-ou.ldif", content="dn: ou=x\n")],
             ready_timeout=2, recreate_data="keep")
    p.update(extra)
    return p


def run(daemon, check_mode=False, **extra):
    return run_task(daemon, params(**extra), check_mode)


def secrets_of(container):
    (path, data), = container["_archives"]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return dict((m.name, (m.mode, tar.extractfile(m).read().decode() if m.isfile() else None))
                    for m in tar.getmembers())


def test_create_then_nothing_to_do(daemon):
    changed, plan = run(daemon, check_mode=True)
    assert changed and plan["commands"] == ["create network ldapnet (bridge)",
                                            "create and start container ldap from %s on network ldapnet" % IMAGE]
    assert daemon.names() == [] and daemon.networks == {}

    changed, facts = run(daemon)
    assert changed and facts["commands"] == plan["commands"]
    container = daemon.container("ldap")
    assert container["State"]["Running"] and container["Config"]["Labels"][CONFIG_LABEL]
    assert "adminpw" not in str(container["Config"]), "the password goes in a file, not the environment"
    files = secrets_of(container)
    assert files["db2ops-secrets/admin"] == (0o400, "adminpw")
    assert files["container/service/slapd/assets/config/bootstrap/ldif/custom/10-ou.ldif"][1] == "dn: ou=x\n"
    assert daemon.binds[-1][1] == "adminpw", "the bind password went on stdin"
    assert facts["base_dn"] == "dc=example,dc=org" and facts["ca_cert"].startswith("-----BEGIN CERTIFICATE")

    changed, again = run(daemon)
    assert changed is False and again["commands"] == []


def test_a_stopped_server_is_started(daemon):
    run(daemon)
    daemon.stop("ldap")
    changed, facts = run(daemon)
    assert changed and facts["commands"] == ["start container ldap"]


def test_a_changed_configuration_recreates_on_the_kept_volumes(daemon):
    run(daemon)
    old = daemon.container("ldap")
    old["Mounts"] = [{"Type": "volume", "Name": "ldapdata", "Destination": "/var/lib/ldap"}]
    daemon.volumes.add("ldapdata")
    changed, facts = run(daemon, published_ports=["127.0.0.1:1390:389"])
    assert facts["commands"] == ["stop and remove container ldap, keeping its volumes (its configuration differs)",
                                 "create and start container ldap from %s on network ldapnet on the kept volumes" % IMAGE]
    new = daemon.container("ldap")
    assert new["Id"] != old["Id"] and new["HostConfig"]["Binds"] == ["ldapdata:/var/lib/ldap"]
    assert "ldapdata" in daemon.volumes


def test_another_base_dn_on_kept_volumes_is_refused(daemon):
    run(daemon)
    before = daemon.snapshot()
    with pytest.raises(LdapServerError) as err:
        run(daemon, domain="other.org")
    assert "has base DN dc=example,dc=org and the task asks for dc=other,dc=org" in str(err.value)
    assert err.value.changed is False and daemon.snapshot() == before


def test_wipe_and_absent_remove_the_volumes(daemon):
    run(daemon)
    daemon.container("ldap")["Mounts"] = [{"Type": "volume", "Name": "ldapdata", "Destination": "/var/lib/ldap"},
                                          {"Type": "volume", "Name": "gone", "Destination": "/etc/ldap"}]
    daemon.volumes.add("ldapdata")
    changed, facts = run(daemon, domain="other.org", recreate_data="wipe")
    assert "recreate_data=wipe" in facts["commands"][0] and daemon.volumes == set()
    changed, result = run(daemon, check_mode=True, state="absent")
    assert changed and daemon.names() == ["ldap"]
    changed, result = run(daemon, state="absent")
    assert changed and result["commands"] == ["remove container ldap and its volumes"] and daemon.names() == []
    assert run(daemon, state="absent") == (False, {"commands": []})


def test_readonly_user_and_bitnami_style(daemon):
    changed, facts = run(daemon, readonly_user="reader", readonly_password="readpw", env_style="ours",
                         tls_subject_alt_names=["ldap.example.org"])
    assert facts["readonly_dn"] == "cn=reader,dc=example,dc=org"
    assert secrets_of(daemon.container("ldap"))["db2ops-secrets/readonly"][1] == "readpw"
    env = daemon.container("ldap")["Config"]["Env"]
    assert "LDAP_TLS_SUBJECT_ALT_NAMES=ldap.example.org" in env
    changed, facts = run(daemon, name="ldap2", env_style="bitnami", ldap_tls=False, base_dn="dc=corp")
    assert facts["ldap_host"] == "ldap2:1389" and "LDAP_ROOT=dc=corp" in daemon.container("ldap2")["Config"]["Env"]


@pytest.mark.parametrize("extra, words", [
    (dict(admin_password=None), "admin_password is required"),
    (dict(published_ports=["1389"]), "is not [ip:]host_port:container_port"),
    (dict(readonly_user="reader"), "readonly_user needs readonly_password"),
    (dict(env_style="bitnami", readonly_user="r", readonly_password="p"), "not available with env_style=bitnami"),
    (dict(env_style="bitnami"), "needs your own certificate files"),
    (dict(domain="."), "gives no base DN"),
    (dict(image="osixia/openldap:9.9"), "is not on the Docker host"),
])
def test_refusals(daemon, extra, words):
    with pytest.raises(LdapServerError) as err:
        run(daemon, **extra)
    assert words in str(err.value)
    assert daemon.names() == []


def test_a_server_that_stops_or_rejects_the_password(daemon):
    daemon.images[IMAGE]["_start"] = "exit"
    with pytest.raises(LdapServerError, match="container ldap stopped"):
        run(daemon)
    daemon.images[IMAGE]["_start"] = "ready"
    daemon.on_exec(r"^ldapwhoami ", (49, "ldap_bind: Invalid credentials (49)"))
    with pytest.raises(LdapServerError) as err:
        run(daemon, name="ldap2")
    assert "rejects admin_password" in str(err.value) and err.value.changed is True
    assert "create and start container ldap2" in err.value.commands[-1]


def test_a_server_that_never_answers_times_out(daemon, monkeypatch):
    daemon.on_exec(r"^ldapwhoami ", (255, "ldap_sasl_bind(SIMPLE): Can't contact LDAP server (-1)"))
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    with pytest.raises(LdapServerError, match="no bind as cn=admin,dc=example,dc=org worked in ldap within 0.01s"):
        run(daemon, ready_timeout=0.01)


def test_docker_errors_carry_the_commands(daemon):
    daemon.fail("create_network")
    with pytest.raises(APIError) as err:  # the SDK's error passes through, marked
        run(daemon)
    assert err.value.commands == ["create network ldapnet (bridge)"] and err.value.changed is True
