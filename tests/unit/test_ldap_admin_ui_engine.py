"""_ldap/admin_ui.py (db2_ldap_admin_ui) against the fake daemon: create on the directory's network,
keep, start, re-create on a changed configuration, remove; certificates copied as files; readiness
by the login page; check mode changes nothing; failures say what happened and what ran."""
import io
import tarfile

import pytest
from docker.errors import APIError
from fake_docker import FakeDocker

from ansible_collections.db2ops.docker.plugins.module_utils._ldap import admin_ui
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.admin_ui import AdminUiError, run_task

IMAGE = "osixia/phpldapadmin:0.9.0"
CERT = "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEY\n-----END PRIVATE KEY-----\n"
CREATE = ("create and start container pla from %s on network ldapnet, pointed at ldap-host, published on "
          "127.0.0.1:6443:443" % IMAGE)


@pytest.fixture
def daemon():
    fake = FakeDocker()
    fake.add_image(IMAGE)
    fake.probes = []
    fake.on_exec(r"^php -r ", lambda c, cmd, stdin, user: fake.probes.append(cmd) or (0, ""))
    yield fake
    assert fake.unexpected == []


def params(**extra):
    p = dict((name, spec.get("default")) for name, spec in admin_ui.ADMIN_UI_OPTIONS.items())
    p.update(name="pla", network="ldapnet", ldap_host="ldap-host", ready_timeout=0)
    p.update(extra)
    return p


def run(daemon, check_mode=False, **extra):
    return run_task(daemon, params(**extra), check_mode)  # (changed, facts, diff)


def files_of(container):
    (path, data), = container["_archives"]
    assert path == "/"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return dict((m.name, tar.extractfile(m).read().decode()) for m in tar.getmembers() if m.isfile())


def test_check_mode_plans_and_changes_nothing(daemon):
    changed, facts, diff = run(daemon, check_mode=True)
    assert changed and facts["commands"] == ["create network ldapnet (bridge)", CREATE]
    assert facts["url"] == "https://127.0.0.1:6443/" and "container_id" not in facts
    assert diff["before"] == {} and diff["after"]["published"] == "127.0.0.1:6443:443"
    assert daemon.names() == [] and daemon.networks == {} and daemon.calls == []


def test_create_then_nothing_to_do(daemon):
    changed, facts, _diff = run(daemon)
    assert changed and facts["commands"] == ["create network ldapnet (bridge)", CREATE]
    assert daemon.networks["ldapnet"]["Labels"] == {"db2ops.network": "ldap"}
    container = daemon.container("pla")
    assert container["State"]["Running"] and facts["container_id"] == container["Id"]
    assert "PHPLDAPADMIN_LDAP_HOSTS=ldap-host" in container["Config"]["Env"]
    assert container["HostConfig"]["PortBindings"] == {"443/tcp": [{"HostIp": "127.0.0.1", "HostPort": 6443}]}
    assert list(container["NetworkSettings"]["Networks"]) == ["ldapnet"]
    assert facts["url"] == "https://127.0.0.1:6443/" and facts["ldap_host"] == "ldap-host"
    assert daemon.probes and "https://127.0.0.1:443/" in daemon.probes[-1], "ready = the page answers inside"

    changed, again, diff = run(daemon)
    assert changed is False and again["commands"] == [] and diff["before"] == diff["after"]


def test_certificates_go_in_as_files_and_never_in_the_configuration(daemon, tmp_path):
    (tmp_path / "c.pem").write_text(CERT)
    (tmp_path / "k.pem").write_text(KEY)
    changed, _facts, diff = run(daemon, certificate=str(tmp_path / "c.pem"), private_key=str(tmp_path / "k.pem"))
    container = daemon.container("pla")
    files = files_of(container)
    certs = admin_ui.CERTS_DIR.lstrip("/")
    assert files[certs + "/phpldapadmin.crt"] == CERT and files[certs + "/phpldapadmin.key"] == KEY
    assert files[certs + "/ca.crt"] == CERT, "without ca_certificate the certificate stands in for Apache"
    assert changed and "TOPSECRETKEY" not in str(container["Config"]) and "TOPSECRETKEY" not in str(diff)

    # A renewed certificate re-creates the container.
    (tmp_path / "c.pem").write_text(CERT.replace("cert", "renewed"))
    changed, facts, _diff = run(daemon, certificate=str(tmp_path / "c.pem"), private_key=str(tmp_path / "k.pem"))
    assert changed and facts["commands"] == ["remove container pla (its configuration differs)", CREATE]


def test_a_stopped_container_is_started(daemon):
    run(daemon)
    daemon.stop("pla")
    changed, facts, _diff = run(daemon)
    assert changed and facts["commands"] == ["start container pla"] and daemon.container("pla")["State"]["Running"]


def test_a_changed_or_foreign_configuration_recreates_the_container(daemon):
    run(daemon)
    first = daemon.container("pla")["Id"]
    changed, facts, diff = run(daemon, https=False, port=8080)
    assert changed and facts["commands"] == [
        "remove container pla (its configuration differs)",
        "create and start container pla from %s on network ldapnet, pointed at ldap-host, published on "
        "127.0.0.1:8080:80" % IMAGE]
    assert diff["before"]["published"] == "127.0.0.1:6443:443" and facts["url"] == "http://127.0.0.1:8080/"
    assert daemon.container("pla")["Id"] != first

    daemon.remove_container("pla", force=True)
    daemon.create_container(IMAGE, name="pla")  # someone else's container by that name
    changed, facts, diff = run(daemon, check_mode=True)
    assert changed and "was not made by this module" in diff["before"]["unknown"]
    assert facts["commands"] == ["remove container pla (its configuration differs)", CREATE]
    daemon.container("pla")["Config"]["Labels"][admin_ui.CONFIG_LABEL] = "{broken"
    assert "unreadable label" in run(daemon, check_mode=True)[2]["before"]["unknown"]


def test_absent_removes_the_container_and_then_has_nothing_to_do(daemon):
    run(daemon)
    assert run(daemon, check_mode=True, state="absent")[1]["commands"] == ["remove container pla"]
    assert daemon.names() == ["pla"]
    changed, facts, _diff = run(daemon, state="absent")
    assert changed and facts["commands"] == ["remove container pla"] and daemon.names() == []
    assert run(daemon, state="absent")[:2] == (False, {"commands": []})


def test_a_missing_image_is_named_and_the_network_made_before_is_reported(daemon):
    with pytest.raises(AdminUiError) as err:
        run(daemon, image="local/pla:1")
    assert str(err.value) == "image local/pla:1 is not on the Docker host; pull or build it first"
    assert err.value.changed and err.value.commands[0] == "create network ldapnet (bridge)"
    assert daemon.names() == []


def test_a_container_that_stops_reports_its_exit_code_and_last_log_lines(daemon):
    daemon.add_image("local/pla:broken", start="exit")
    with pytest.raises(AdminUiError) as err:
        run(daemon, image="local/pla:broken")
    assert "container pla stopped (exit code 1): (*) Updating the instance failed" in str(err.value)
    assert err.value.changed


def test_a_page_that_never_answers_fails_after_ready_timeout(daemon):
    daemon.on_exec(r"^php -r ", (1, "", "PHP Warning: connection refused"))
    with pytest.raises(AdminUiError) as err:
        run(daemon)
    assert "the page of pla did not answer on https://127.0.0.1:443/ within 0s: PHP Warning: connection refused" \
        == str(err.value)
    daemon.on_exec(r"^php -r ", (127, "", "php: not found"))  # no PHP CLI in the image: running is enough
    daemon.remove_container("pla", force=True)
    assert run(daemon)[0]


def test_a_docker_error_carries_what_ran_before_it(daemon):
    daemon.fail("create_container")
    with pytest.raises(APIError) as err:
        run(daemon)
    assert err.value.commands == ["create network ldapnet (bridge)", CREATE] and err.value.changed
    assert daemon.names() == []


def test_a_probe_the_daemon_refuses_is_tried_again_until_the_page_answers(daemon):
    daemon.fail("exec_create")  # e.g. the container is still starting
    changed, facts, _diff = run(daemon, ready_timeout=30)
    assert changed and facts["container_id"] and len(daemon.probes) == 1
