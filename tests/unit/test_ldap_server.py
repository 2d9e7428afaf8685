"""module_utils/_ldap/server.py: values that become Docker names, host names, image environment or
file names follow full-match rules (checked before Docker is asked anything)."""
import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._ldap import server as ldap_server
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import InputError


def params(**extra):
    p = dict((name, spec.get("default")) for name, spec in ldap_server.SERVER_OPTIONS.items())
    p.update(name="ldap-service", network="db2-ldap", admin_password="pw", readonly_user="ldapquery",
             aliases=["ldap-host"], published_ports=["127.0.0.1:1389:389"],
             bootstrap_ldif=[{"name": "50-ous.ldif", "content": "dn: ou=X\n"}])
    p.update(extra)
    return p


def test_the_cookbook_values_pass():
    ldap_server.check_inputs(params())
    ldap_server.check_inputs(params(image="registry.example.com:5000/team/openldap:1.5.0", hostname="ldap.example.org"))


@pytest.mark.parametrize("option, value", [
    ("bootstrap_ldif", [{"name": "../../../etc/cron.d/x", "content": "x"}]),
    ("bootstrap_ldif", [{"name": "sub/50.ldif", "content": "x"}]),
    ("name", "ldap service"), ("name", "-x"), ("network", "net;id"), ("hostname", "a_b"),
    ("aliases", ["ok", "$(id)"]), ("domain", "example.org;id"), ("domain", "example..org"),
    ("readonly_user", "ldapquery,cn=admin"), ("published_ports", ["1389:389:tcp"]),
    ("image", "openldap:1.5.0 --privileged"), ("image", "{{ lookup('pipe','id') }}"),
    ("name", "ldap\n"),  # a trailing newline: `$` would have accepted it, fullmatch does not
])
def test_values_outside_their_rule_are_refused_naming_the_option(option, value):
    with pytest.raises(InputError) as err:
        ldap_server.check_inputs(params(**{option: value}))
    message = str(err.value)
    assert option in message and "nothing was changed" in message and "\n" not in message
