"""Hostile input for the LDAP modules: each string option, each of nine values, against one real
slapd. The modules run in this process (patch_module_args; no playbook per case, so the table
stays cheap) and are read back with python-ldap.

Per case either a one-line error that names the option, says nothing was changed and leaves the
directory exactly as it was, or, where the value is data (a `;`, quotes, `$(...)`, `{{ }}` or
non-ASCII in a uid, cn or description), the value stored literally, read back equal, escaped in
the DN and in filters (a rerun finds it and changes nothing). No password ever appears in the
output.
"""
from __future__ import annotations

import json
import uuid

import docker
import ldap.dn
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.db2ops.docker.plugins.modules import (
    db2_ldap_admin_ui,
    db2_ldap_auth,
    db2_ldap_directory,
    db2_ldap_group,
    db2_ldap_server,
    db2_ldap_user,
)

from ldap_server import BASE
# The fixtures, used as test arguments:
from ldap_server import ous, slapd  # noqa: F401 pylint: disable=unused-import

HOSTILE = {
    "empty": "",
    "newline": "a\nb",
    "nul": "a\x00b",
    "semicolon": "a;b",
    "quotes": "a'b\"c",
    "subshell": "$(touch /tmp/db2ops-pwned)",
    "template": "{{ lookup('pipe', 'id') }}",
    "huge": "x" * 10000,
    "non_ascii": "Zürich ✓",
}
TEXT = {"semicolon", "quotes", "subshell", "template", "non_ascii"}  # data where the value is free text
USER_PW = "Pw-bad-input-9"
MODULES = {"user": db2_ldap_user, "group": db2_ldap_group, "directory": db2_ldap_directory,
           "server": db2_ldap_server, "auth": db2_ldap_auth, "ui": db2_ldap_admin_ui}


def set_path(args, path, value):
    """args with `value` at `path` (`users.0.uid`, `attributes.description`); index = length appends."""
    node, keys = args, path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if isinstance(node, list):
        node[int(last):int(last) + 1] = [value]
    else:
        node[last] = value
    return args


def user_base(slapd, ous_):
    return slapd.args(users_ou=ous_[0].split(",")[0], uid="baduser", uid_number=7001, gid_number=7000,
                      password=USER_PW, cn=["Bad User"], sn="User", attributes={"description": "ok"},
                      object_classes=["posixAccount", "inetOrgPerson"])


def group_base(slapd, ous_):
    return slapd.args(groups_ou=ous_[1].split(",")[0], name="badgroup", object_class="posixGroup", gid_number=7100,
                      members=[], description="ok", members_base=ous_[0])


def directory_base(slapd, ous_):
    return slapd.args(users_ou=ous_[0].split(",")[0], groups_ou=ous_[1].split(",")[0], members_base=ous_[0],
                      users=[{"uid": "diruser", "uid_number": 7201, "gid_number": 7000, "password": USER_PW}],
                      groups=[{"name": "dirgroup", "members": ["diruser"]}])


# (module, option path, base args, values that are data, how data is checked: an attribute that
# must hold the value, "rdn" (also the entry's naming value), "password" (the user can bind with
# it) or None (created, found again)). Values not listed as data must give a one-line error.
LDAP_CASES = [
    ("user", "uid", user_base, TEXT - {"non_ascii"}, "rdn:uid"),  # its default home is IA5String: ASCII only
    ("user", "cn.0", user_base, TEXT, "cn"),
    ("user", "sn", user_base, TEXT, "sn"),
    ("user", "attributes.description", user_base, TEXT, "description"),
    ("user", "password", user_base, TEXT, "password"),
    ("user", "home_directory", user_base, TEXT - {"non_ascii"}, "homeDirectory"),  # IA5String: ASCII only
    ("user", "login_shell", user_base, TEXT - {"non_ascii"}, "loginShell"),
    ("user", "base_dn", user_base, set(), None),
    ("user", "users_ou", user_base, set(), None),  # "" (the base itself) is documented: its own test below
    ("user", "bind_dn", user_base, set(), None),
    ("user", "bind_pw", user_base, set(), None),
    ("user", "server_uri", user_base, set(), None),
    ("user", "object_classes.0", user_base, set(), None),
    ("group", "name", group_base, TEXT, "rdn:cn"),
    ("group", "description", group_base, TEXT, "description"),
    ("group", "members.0", group_base, set(), None),  # no such user: refused
    ("group", "members_base", group_base, {"empty"}, None),  # "": defaults to base_dn (documented)
    ("group", "groups_ou", group_base, set(), None),
    ("directory", "users.0.uid", directory_base, set(), None),  # its group names "diruser": refused
    ("directory", "users.0.password", directory_base, TEXT, "password"),
    ("directory", "groups.0.name", directory_base, TEXT, "rdn:cn"),
    ("directory", "groups.0.members.0", directory_base, set(), None),
]
SKIP = {("users_ou", "empty"), ("groups_ou", "empty")}
SECRET_OPTIONS = {"password", "bind_pw", "users.0.password"}


def normal(dn):
    return ldap.dn.dn2str(ldap.dn.str2dn(dn))  # the server writes `;` as `\\3B`, we as `\\;`


def run(module, args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit):
        MODULES[module].main()
    return json.loads(capsys.readouterr().out)


def expand(cases):
    return [(c, name) for c in cases for name in HOSTILE if (c[1], name) not in SKIP]


def case_ids(cases):
    return ["%s-%s-%s" % (c[0], c[1], name) for c, name in expand(cases)]


def assert_one_line_error(r, option, value, secret):
    assert r.get("failed") and not r.get("changed"), r
    message = r["msg"]
    assert "\n" not in message and "nothing was changed" in message.lower(), message
    words = [w for w in option.split(".") if not w.isdigit()]
    aliases = {"name": "group", "members": "member", "uid": "uid", "home_directory": "home_directory",
               "login_shell": "login_shell"}
    names = {words[-1], words[-1].rstrip("s"), aliases.get(words[-1], words[-1])}
    assert any(name in message for name in names), (option, message)
    if secret and value:
        assert value not in json.dumps(r), "the secret is in the output"


@pytest.mark.parametrize("case, name", expand(LDAP_CASES), ids=case_ids(LDAP_CASES))
def test_ldap_module_options(slapd, ous, capsys, case, name):  # noqa: F811
    module, option, base, data, check = case
    value = HOSTILE[name]
    secret = option in SECRET_OPTIONS
    args = set_path(base(slapd, ous), option, value)
    before = slapd.tree(BASE)
    r = run(module, args, capsys)
    assert USER_PW not in json.dumps(r), r
    if secret and value:
        assert value not in json.dumps(r), r
    if name not in data:
        assert_one_line_error(r, option, value, secret)
        assert slapd.tree(BASE) == before, "the directory changed"
        return
    # Data: stored literally, read back equal, found again by the rerun (escaped in DN and filter).
    assert not r.get("failed") and r["changed"], r
    created = [dn for dn in slapd.tree(BASE) if dn not in before]
    assert created and {normal(dn) for dn in created} == {normal(dn) for dn in r["created"]}, r
    if check == "password":
        user_dn = next(dn for dn in created if dn.startswith(("cn=baduser,", "cn=diruser,")))
        assert slapd.can_bind(user_dn, value)
    elif check and check.startswith("rdn:"):
        attribute = check[4:]
        named = [dn for dn in created if ldap.dn.str2dn(dn)[0][0][1] == value]
        assert len(named) == 1, created  # the DN holds the value, escaped
        assert value in slapd.entry(named[0])[attribute]
    elif check:
        assert any(value in slapd.entry(dn).get(check, []) for dn in created), (check, created)
    r = run(module, args, capsys)
    assert not r.get("failed") and r["changed"] is False, r


def test_empty_users_ou_means_the_base_itself_as_documented(slapd, ous, capsys):  # noqa: F811
    """users_ou "" is the base DN itself (documented); the user lands there and is found again."""
    base = ous[0]
    args = slapd.args(base_dn=base, users_ou="", uid="atbase", uid_number=7301, gid_number=7000)
    r = run("user", args, capsys)
    assert r["changed"] and r["created"] == [f"cn=atbase,{base}"], r
    assert run("user", args, capsys)["changed"] is False


# db2_ldap_server and db2_ldap_auth: refused before Docker is asked anything. Names that become
# Docker object names, environment for the image's setup scripts, or CLP syntax have rules; free
# text (organisation, DNs) goes through the gate (no control characters, NUL, huge values).
NAME_RULED = set(HOSTILE)
GATE_ONLY = {"newline", "nul", "huge"}
DOCKER_CASES = [
    ("server", "name", NAME_RULED), ("server", "network", NAME_RULED), ("server", "hostname", NAME_RULED),
    ("server", "aliases.0", NAME_RULED), ("server", "domain", NAME_RULED), ("server", "readonly_user", NAME_RULED),
    ("server", "published_ports.0", NAME_RULED), ("server", "image", NAME_RULED),
    ("server", "organisation", GATE_ONLY), ("server", "base_dn", NAME_RULED - {"empty"}),
    ("server", "admin_password", GATE_ONLY), ("server", "bootstrap_ldif.0.name", NAME_RULED),
    ("auth", "verify_user", NAME_RULED), ("auth", "verify_password", GATE_ONLY | {"empty", "semicolon", "quotes"}),
    ("auth", "ldap_host.0", GATE_ONLY), ("auth", "user_basedn", GATE_ONLY), ("auth", "search_dn", GATE_ONLY),
    ("auth", "search_pw", GATE_ONLY), ("auth", "network", GATE_ONLY), ("auth", "container", GATE_ONLY),
    ("auth", "verify_database", NAME_RULED), ("auth", "group_basedn", GATE_ONLY),
    ("ui", "name", NAME_RULED), ("ui", "network", NAME_RULED), ("ui", "ldap_host", NAME_RULED),
    ("ui", "image", NAME_RULED), ("ui", "bind_address", NAME_RULED), ("ui", "certificate", NAME_RULED),
]


def docker_base(module, tag):
    if module == "server":
        return {"name": "db2ops-t-badsrv-" + tag, "network": "db2ops-t-badnet-" + tag, "hostname": "ldap",
                "aliases": ["ldap-host"], "domain": "example.org", "readonly_user": "ldapquery",
                "readonly_password": "Ro-pw-bad-1", "published_ports": ["127.0.0.1:1389:389"],
                "image": "db2ops/openldap:test", "env_style": "ours", "organisation": "Example",
                "base_dn": BASE, "admin_password": "Adm-pw-bad-1",
                "bootstrap_ldif": [{"name": "50-x.ldif", "content": "dn: ou=X,dc=example,dc=org\n"}]}
    if module == "ui":
        return {"name": "db2ops-t-badui-" + tag, "network": "db2ops-t-badnet-" + tag, "ldap_host": "ldap-host",
                "image": "db2ops/phpldapadmin:test", "bind_address": "127.0.0.1", "port": 6443,
                "certificate": "/etc/ssl/certs/ca-certificates.crt", "private_key": "/etc/hostname"}
    return {"container": "db2ops-t-baddb2-" + tag, "ldap_host": ["ldap:389"], "user_basedn": "ou=Users," + BASE,
            "search_dn": "cn=ldapquery," + BASE, "search_pw": "Qry-pw-bad-1", "network": "db2ops-t-badnet-" + tag,
            "verify_user": "alice", "verify_password": "Alice-pw-bad-1"}


@pytest.mark.parametrize("case, name", [(c, n) for c in DOCKER_CASES for n in sorted(c[2])],
                         ids=["%s-%s-%s" % (c[0], c[1], n) for c in DOCKER_CASES for n in sorted(c[2])])
def test_docker_side_options_are_refused_before_anything(docker_client, capsys, case, name):
    module, option, _refused = case
    tag = uuid.uuid4().hex[:8]
    args = set_path(docker_base(module, tag), option, HOSTILE[name])
    r = run(module, args, capsys)
    secret = option in ("admin_password", "verify_password", "search_pw")
    assert_one_line_error(r, option, HOSTILE[name], secret)
    for pw in ("Ro-pw-bad-1", "Adm-pw-bad-1", "Qry-pw-bad-1", "Alice-pw-bad-1"):
        assert pw not in json.dumps(r)
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get("db2ops-t-badnet-" + tag)
    assert not docker_client.containers.list(all=True, filters={"name": tag})


def test_through_ansible_playbook_a_bad_password_is_named_never_shown(slapd, ous, tmp_path):  # noqa: F811
    """One real playbook run: the gate's one line reaches the user, the password (and its pieces)
    appear nowhere in ansible-playbook's output."""
    from playbook import run_module
    password = "Hostile-pw-7\n!touch /tmp/db2ops-pwned"
    before = slapd.tree(BASE)
    args = set_path(directory_base(slapd, ous), "users.0.password", password)
    proc, r = run_module(tmp_path, "db2_ldap_directory", args)
    assert r["failed"] and "users[0].password contains a newline" in r["msg"] and "\n" not in r["msg"], r
    for piece in (password, "Hostile-pw-7", "!touch /tmp/db2ops-pwned"):
        assert piece not in proc.stdout + proc.stderr + json.dumps(r), piece
    assert slapd.tree(BASE) == before
