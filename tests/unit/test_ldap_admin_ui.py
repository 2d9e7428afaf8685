"""module_utils/_ldap/admin_ui.py: the phpLDAPadmin container's rules and osixia environment."""
import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._ldap import admin_ui
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import InputError


def params(**extra):
    p = dict((name, spec.get("default")) for name, spec in admin_ui.ADMIN_UI_OPTIONS.items())
    p.update(name="phpldapadmin-service", network="db2-ldap", ldap_host="ldap-host")
    p.update(extra)
    return p


def test_the_cookbook_values_pass_and_speak_osixias_environment():
    admin_ui.check_inputs(params())
    assert admin_ui.environment(params()) == {
        "PHPLDAPADMIN_LDAP_HOSTS": "ldap-host", "PHPLDAPADMIN_HTTPS": "true",
        "PHPLDAPADMIN_HTTPS_CRT_FILENAME": "phpldapadmin.crt", "PHPLDAPADMIN_HTTPS_KEY_FILENAME": "phpldapadmin.key",
        "PHPLDAPADMIN_HTTPS_CA_CRT_FILENAME": "ca.crt"}
    assert admin_ui.environment(params(https=False)) == {"PHPLDAPADMIN_LDAP_HOSTS": "ldap-host",
                                                         "PHPLDAPADMIN_HTTPS": "false"}
    assert admin_ui.page_url(params(bind_address="0.0.0.0", port=8443)) == "https://localhost:8443/"


def test_the_configuration_label_holds_no_key(tmp_path):
    pem = {"certificate": "-----BEGIN CERTIFICATE-----\nAAA\n", "private_key": "-----BEGIN PRIVATE KEY-----\nK\n"}
    wanted = admin_ui.wanted_config(params(), admin_ui.environment(params()), pem)
    assert "PRIVATE" not in str(wanted) and "K\n" not in str(wanted)
    assert list(wanted["certificates"]) == ["certificate"]


@pytest.mark.parametrize("option, value", [
    ("name", "pla service"), ("network", "net;id"), ("ldap_host", "ldap-host,evil"), ("ldap_host", "ldap\n"),
    ("image", "x:1 --privileged"), ("bind_address", "256.1.1.1"), ("bind_address", "::"), ("port", 0),
    ("port", 65536), ("certificate", "cert.pem"), ("ca_certificate", "/no/such/ca.pem"),
])
def test_values_outside_their_rule_are_refused_naming_the_option(option, value):
    with pytest.raises(InputError) as err:
        admin_ui.check_inputs(params(**{option: value}))
    message = str(err.value)
    assert option in message and "nothing was changed" in message and "\n" not in message


def test_certificate_files_are_checked(tmp_path):
    cert = tmp_path / "c.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(InputError, match="https=false"):
        admin_ui.check_inputs(params(https=False, certificate=str(cert), private_key=str(cert)))
    with pytest.raises(InputError, match="private_key must be a PEM private key"):
        admin_ui.read_pem(params(certificate=str(cert), private_key=str(cert)))
    with pytest.raises(InputError, match="ca_certificate needs certificate"):
        admin_ui.check_inputs(params(ca_certificate=str(cert)))


def test_a_certificate_file_larger_than_a_pem_is_refused(tmp_path):
    big = tmp_path / "big.pem"
    big.write_text("-----BEGIN CERTIFICATE-----\n" + "A" * admin_ui.MAX_PEM)
    with pytest.raises(InputError, match="certificate must be a PEM file of at most 65536 bytes"):
        admin_ui.check_inputs(params(certificate=str(big), private_key=str(big)))
