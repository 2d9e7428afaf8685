"""Pure logic of module_utils/_ldap/: escaping, DN normalisation, password hashes, and the
batch planner against a small real schema (python-ldap parses it, as it parses the server's)."""
import base64
import hashlib

import ldap
import pytest

from ansible_collections.db2ops.docker.plugins.module_utils.actions import MASK
from ansible_collections.db2ops.docker.plugins.module_utils._ldap import (
    connection as ldap_connection,
    directory as ldap_directory,
    dn as ldap_dn,
    passwords as ldap_passwords,
    schema as ldap_schema,
    sync as ldap_sync,
)

PARENT = "ou=Users,dc=example,dc=org"

# Definitions as slapd publishes them (core, cosine, nis, inetorgperson), trimmed to what we use.
SCHEMA = ldap_schema.Schema({
    "attributeTypes": [s.encode() for s in (
        "( 2.5.4.0 NAME 'objectClass' EQUALITY objectIdentifierMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )",
        "( 2.5.4.41 NAME 'name' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch "
        "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )",
        "( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )",
        "( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )",
        "( 2.5.4.13 NAME 'description' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{1024} )",
        "( 2.5.4.35 NAME 'userPassword' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40{128} )",
        "( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) EQUALITY caseIgnoreMatch "
        "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256} )",
        "( 0.9.2342.19200300.100.1.3 NAME ( 'mail' 'rfc822Mailbox' ) EQUALITY caseIgnoreIA5Match "
        "SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )",
        "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
        "( 1.3.6.1.1.1.1.1 NAME 'gidNumber' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
        "( 1.3.6.1.1.1.1.3 NAME 'homeDirectory' EQUALITY caseExactIA5Match "
        "SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )",
        "( 1.3.6.1.1.1.1.4 NAME 'loginShell' EQUALITY caseExactIA5Match "
        "SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )",
        "( 1.3.6.1.1.1.1.12 NAME 'memberUid' EQUALITY caseExactIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )",
        "( 2.5.4.50 NAME 'uniqueMember' EQUALITY uniqueMemberMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.34 )",
    )],
    "objectClasses": [s.encode() for s in (
        "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
        "( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ description ) )",
        "( 2.5.6.7 NAME 'organizationalPerson' SUP person STRUCTURAL )",
        "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP organizationalPerson STRUCTURAL MAY ( mail $ uid ) )",
        "( 1.3.6.1.1.1.2.0 NAME 'posixAccount' SUP top AUXILIARY MUST ( cn $ uid $ uidNumber $ gidNumber $ "
        "homeDirectory ) MAY ( userPassword $ loginShell $ description ) )",
        "( 1.3.6.1.1.1.2.2 NAME 'posixGroup' SUP top STRUCTURAL MUST ( cn $ gidNumber ) "
        "MAY ( userPassword $ memberUid $ description ) )",
        "( 2.5.6.17 NAME 'groupOfUniqueNames' SUP top STRUCTURAL MUST ( uniqueMember $ cn ) MAY description )",
    )],
})


def user_params(**kw):
    params = dict((name, None) for name in ldap_directory.USER_OPTIONS)
    params.update(ldap_directory.USER_DEFAULTS, users=None, rdn_attribute="cn", password_hash="ssha")
    params.update(kw)
    return params


def plan_users(existing, **kw):
    wanted = ldap_directory.user_wanted(user_params(**kw), PARENT)
    assert ldap_sync.validate_wanted(wanted, SCHEMA) == []
    return ldap_sync.plan_changes(wanted, ldap_sync.index_existing(existing, SCHEMA), SCHEMA)


def stored(dn, password=None, **attrs):
    raw = {k: [str(v).encode() for v in (vals if isinstance(vals, list) else [vals])] for k, vals in attrs.items()}
    if password:
        raw["userPassword"] = [password.encode()]
    return (dn, raw)


DB2INST1 = dict(objectClass=["top", "posixAccount", "inetOrgPerson"], uid="db2inst1", cn="db2inst1",
                sn="db2inst1", uidNumber=1000, gidNumber=1000, homeDirectory="/database/config/db2inst1",
                loginShell="/bin/bash")
DB2INST1_ARGS = dict(uid="db2inst1", uid_number=1000, gid_number=1000, home_directory="/database/config/db2inst1",
                     login_shell="/bin/bash")


# --- escaping ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value, escaped", [
    ("a*b(c)\\d", "a*b(c)\\\\d"),
    ("a,b=c+d", "a\\,b\\=c\\+d"),
    ("#hash", "\\#hash"),
    (" lead", "\\ lead"),
    ('q"<>;', 'q\\"\\<\\>\\;'),
])
def test_build_dn_escapes_the_value_and_it_parses_back(value, escaped):
    dn = ldap_dn.build_dn("cn", value, PARENT)
    assert dn == "cn=%s,%s" % (escaped, PARENT)
    assert ldap.dn.str2dn(dn)[0][0][1] == value
    assert ldap.dn.str2dn(dn)[1:] == ldap.dn.str2dn(PARENT)  # no extra RDN smuggled in


def test_filters_escape_every_special_character():
    assert ldap_dn.eq_filter("uid", "*)(uid=*") == "(uid=\\2a\\29\\28uid=\\2a)"
    assert ldap_dn.eq_filter("uid", "a\\b") == "(uid=a\\5cb)"
    assert ldap_dn.or_filter(["(uid=a)", "(uid=b)", "(uid=a)"]) == "(|(uid=a)(uid=b))"
    assert ldap_dn.or_filter(["(uid=a)"]) == "(uid=a)"
    with pytest.raises(ldap_dn.LdapError, match="not an LDAP attribute name"):
        ldap_dn.eq_filter("uid)(x", "a")


def test_nul_and_edge_spaces_are_refused():
    with pytest.raises(ldap_dn.LdapError, match="NUL"):
        ldap_dn.build_dn("cn", "a\x00b", PARENT)
    with pytest.raises(ldap_dn.LdapError, match="NUL"):
        ldap_directory.user_wanted(user_params(uid="ok", uid_number=1, gid_number=1, password="a\x00"), PARENT)
    with pytest.raises(ldap_dn.LdapError, match="leading or trailing spaces"):
        ldap_directory.user_wanted(user_params(uid=" lead", uid_number=1, gid_number=1), PARENT)
    with pytest.raises(ldap_dn.LdapError, match="not a valid DN"):
        ldap_dn.join_dn("ou=Users", "dc=example,,dc=org")


# --- DN normalisation -------------------------------------------------------------------------
def test_normalize_dn_ignores_case_spaces_aliases_and_ava_order():
    same = ["CN=DB2INST1, OU=users,DC=Example,dc=ORG", "commonName=db2inst1,ou=Users,dc=example,dc=org",
            "cn=db2inst1,ou=Users,dc=example,dc=org"]
    assert len({ldap_dn.normalize_dn(dn) for dn in same}) == 1
    assert ldap_dn.normalize_dn("cn=a+uid=b,dc=x") == ldap_dn.normalize_dn("uid=B+cn=A,dc=x")
    assert ldap_dn.normalize_dn("cn=a,dc=x") != ldap_dn.normalize_dn("cn=b,dc=x")
    assert ldap_dn.normalize_dn("cn=a\\,b,dc=x") != ldap_dn.normalize_dn("cn=a,cn=b,dc=x")
    assert ldap_dn.is_under("cn=a,OU=Users,dc=example,dc=org", PARENT)
    assert not ldap_dn.is_under("cn=a,ou=Groups,dc=example,dc=org", PARENT)


def test_values_compare_by_the_schema_matching_rule():
    assert SCHEMA.normaliser("cn")("Ricky  Bobby ") == SCHEMA.normaliser("cn")("ricky bobby")  # SUP name
    assert SCHEMA.normaliser("uidNumber")("0100") == "100"
    assert SCHEMA.normaliser("loginShell")("/bin/Bash") != SCHEMA.normaliser("loginShell")("/bin/bash")
    assert SCHEMA.normaliser("uniqueMember")("CN=A,dc=X") == SCHEMA.normaliser("uniqueMember")("cn=a,dc=x")
    assert SCHEMA.normaliser("objectClass")("InetOrgPerson") == "inetorgperson"
    assert SCHEMA.attribute_name("surname") == "sn" and SCHEMA.attribute_name("nope") is None


# --- passwords ----------------------------------------------------------------------------------
# slappasswd output (OpenLDAP 2.5, the test image; SHA-2 with -o module-load=pw-sha2.la).
SLAPPASSWD = [
    ("mypassword", "{SSHA}2HyGhWn9PxGUuXsrDuh582PXfx/8JDCP"),  # the cookbook's
    ("mypassword", "{SSHA}pKha+YXVIyByE7lIq0n5Z1SkZSd2iI7u"),
    ("mypassword", "{SHA}kd/Z3bQZiv/FwZTNjObTOP3kcOI="),
    ("mypassword", "{SSHA256}njbWzeq3tDcwTmXmDeAvU6qO0qsrBj2zNOEUNS+hz7+ilwWiMZPBlQ=="),
    ("mypassword", "{SSHA384}VU6E9xzSfoVxFCqorr39lMyDIDIug375OAabMHaHQzCKFCaDc1fkEZwZZbf/KYKumgqdIm3wp90="),
    ("pässwörd with spaces", "{SSHA512}IbhCovIfSYnxr7QNd+X6C+VnWNC45X+lUmR3hdcxPKw5j3amASkkf/4j7oxIuIQNlJly9vyq"
                             "Rk8BydZRaNm3pWA9/3uXkBZr"),
]


@pytest.mark.parametrize("password, hashed", SLAPPASSWD)
def test_verify_slappasswd_hashes(password, hashed):
    assert ldap_passwords.verify_password(password, hashed.encode()) is True
    assert ldap_passwords.verify_password(password + "x", hashed.encode()) is False
    assert ldap_passwords.verify_password(password, hashed.lower().encode()) is False  # scheme case-insensitive, data not


def test_verify_cleartext_unknown_and_garbage():
    assert ldap_passwords.verify_password("secret", b"secret") is True
    assert ldap_passwords.verify_password("secret", b"Secret") is False
    assert ldap_passwords.verify_password("mypassword", b"{CRYPT}E19nitdOGuq4YBQS.ck4794w") is None
    assert ldap_passwords.verify_password("mypassword", b"{ssha}2HyGhWn9PxGUuXsrDuh582PXfx/8JDCP") is True
    assert ldap_passwords.verify_password("x", b"{SSHA}not base64!") is False
    assert ldap_passwords.verify_password("x", b"{SHA}" + base64.b64encode(b"short")) is False


@pytest.mark.parametrize("scheme, algorithm", [("ssha", "sha1"), ("ssha256", "sha256"), ("ssha512", "sha512")])
def test_hash_password_is_salted_and_verifies(scheme, algorithm):
    one, two = ldap_passwords.hash_password("pw", scheme), ldap_passwords.hash_password("pw", scheme)
    assert one != two and one.startswith("{%s}" % scheme.upper())
    raw = base64.b64decode(one.split("}", 1)[1])
    digest, salt = raw[:hashlib.new(algorithm).digest_size], raw[hashlib.new(algorithm).digest_size:]
    assert len(salt) == 8 and hashlib.new(algorithm, b"pw" + salt).digest() == digest
    assert ldap_passwords.verify_password("pw", one.encode()) is True
    assert ldap_passwords.hash_password("mypassword", "ssha", salt=base64.b64decode("2HyGhWn9PxGUuXsrDuh582PXfx/8JDCP")[20:]) == \
        "{SSHA}2HyGhWn9PxGUuXsrDuh582PXfx/8JDCP"


# --- connection options -------------------------------------------------------------------------
def conn_params(**kw):
    params = dict(server_uri="ldap://h", start_tls=None, validate_certs=True, ca_path=None,
                  bind_dn="cn=admin,dc=x", bind_pw="pw", timeout=5)
    params.update(kw)
    return params


def test_starttls_by_default_and_plain_only_with_a_warning():
    conn, warnings = ldap_connection.resolve_connection(conn_params())
    assert conn["tls"] == "starttls" and conn["verify"] and warnings == []
    conn, warnings = ldap_connection.resolve_connection(conn_params(start_tls=False))
    assert conn["tls"] == "none" and "unencrypted" in warnings[0]
    conn, warnings = ldap_connection.resolve_connection(conn_params(server_uri="ldaps://h:636", validate_certs=False))
    assert conn["tls"] == "ldaps" and "not checked" in warnings[0]
    with pytest.raises(ldap_dn.LdapError, match="already TLS"):
        ldap_connection.resolve_connection(conn_params(server_uri="ldaps://h", start_tls=True))
    with pytest.raises(ldap_dn.LdapError, match="must start with"):
        ldap_connection.resolve_connection(conn_params(server_uri="http://h"))
    with pytest.raises(ldap_dn.LdapError, match="bind_dn is required"):
        ldap_connection.resolve_connection(conn_params(bind_dn=None))
    with pytest.raises(ldap_dn.LdapError, match="does not exist"):
        ldap_connection.resolve_connection(conn_params(ca_path="/nonexistent/ca.crt"))


# --- planning -------------------------------------------------------------------------------------
DN = "cn=db2inst1," + PARENT


def test_new_user_is_one_add_with_a_hashed_password_and_masked_diff():
    plan = plan_users([], password="pw1", **DB2INST1_ARGS)
    assert plan.created == [DN] and plan.updated == [] and plan.changed
    (kind, dn, modlist), = plan.ops
    attrs = dict(modlist)
    assert kind == "add" and attrs["uid"] == [b"db2inst1"] and attrs["cn"] == [b"db2inst1"]
    assert attrs["objectClass"] == [b"top", b"posixAccount", b"inetOrgPerson"]
    assert ldap_passwords.verify_password("pw1", attrs["userPassword"][0]) is True
    assert plan.after[DN]["userPassword"] == MASK + " (new)"
    assert "pw1" not in repr(plan.result()) + repr(plan.diff())


def test_unchanged_entry_is_no_write_even_with_other_case_and_number_forms():
    other_forms = {**DB2INST1, "cn": "DB2Inst1", "uidNumber": "01000", "objectClass": ["inetOrgPerson", "posixAccount"]}
    existing = [stored("CN=DB2INST1,ou=users,dc=example,dc=org", "{SSHA}2HyGhWn9PxGUuXsrDuh582PXfx/8JDCP", **other_forms)]
    plan = plan_users(existing, password="mypassword", **DB2INST1_ARGS)
    assert not plan.changed and plan.ops == []


def test_entries_the_batch_does_not_name_are_left_alone():
    """A large batch reads its whole subtree (search_any): what it did not ask for is no concern of it."""
    existing = [stored(DN, "{SSHA}2HyGhWn9PxGUuXsrDuh582PXfx/8JDCP", **DB2INST1), stored(PARENT, objectClass="organizationalUnit"),
                stored("cn=other," + PARENT, **{**DB2INST1, "uid": "other", "cn": "other", "uidNumber": 1001})]
    plan = plan_users(existing, password="mypassword", **DB2INST1_ARGS)
    assert not plan.changed and plan.ops == []


def test_only_the_changed_attributes_and_password_are_modified():
    existing = [stored(DN, "{SSHA}2HyGhWn9PxGUuXsrDuh582PXfx/8JDCP", **DB2INST1)]
    args = {**DB2INST1_ARGS, "login_shell": "/bin/ksh"}
    plan = plan_users(existing, password="new-pw", **args)
    (kind, dn, mods), = plan.ops
    assert kind == "modify" and plan.updated == [DN]
    assert [(op, name) for op, name, _v in mods] == [(ldap.MOD_REPLACE, "loginShell"), (ldap.MOD_REPLACE, "userPassword")]
    assert ldap_passwords.verify_password("new-pw", mods[1][2][0]) is True
    assert plan.before[DN] == {"loginShell": ["/bin/bash"], "userPassword": MASK}
    assert plan.after[DN] == {"loginShell": ["/bin/ksh"], "userPassword": MASK + " (new)"}
    # The one `commands` list every module returns: names the attributes, never a value.
    assert plan.result()["commands"] == ["modify %s: replace loginShell, replace userPassword" % DN]
    assert "new-pw" not in repr(plan.result())


def test_on_create_never_touches_an_existing_password_and_unknown_schemes_are_replaced():
    existing = [stored(DN, "{SSHA}2HyGhWn9PxGUuXsrDuh582PXfx/8JDCP", **DB2INST1)]
    assert not plan_users(existing, password="other", update_password="on_create", **DB2INST1_ARGS).changed
    existing = [stored(DN, "{CRYPT}E19nitdOGuq4YBQS.ck4794w", **DB2INST1)]
    plan = plan_users(existing, password="mypassword", **DB2INST1_ARGS)
    assert plan.unverified == [DN] and plan.updated == [DN]


def test_absent_deletes_existing_and_ignores_missing():
    plan = plan_users([stored(DN, **DB2INST1)], users=[{"uid": "db2inst1", "state": "absent"},
                                                       {"uid": "gone", "state": "absent"}])
    assert plan.ops == [("delete", DN, None)] and plan.removed == [DN]
    assert plan.result()["commands"] == ["delete %s" % DN]


def test_extra_attributes_replace_and_empty_list_removes():
    existing = [stored(DN, **dict(DB2INST1, mail="A@Example.org", description="old"))]
    plan = plan_users(existing, attributes={"mail": "a@example.org", "description": []}, **DB2INST1_ARGS)
    (kind, dn, mods), = plan.ops
    assert mods == [(ldap.MOD_REPLACE, "description", None)]  # mail equal under caseIgnoreIA5Match


def test_batch_validation_collects_every_problem():
    wanted = ldap_directory.user_wanted(user_params(users=[
        {"uid": "a", "uid_number": 1, "gid_number": 1, "attributes": {"noSuchAttr": "x"}},
        {"uid": "b", "gid_number": 1},  # no uidNumber: posixAccount requires it
        {"uid": "c", "uid_number": 3, "gid_number": 1, "object_classes": ["posixAccount", "nonsenseClass"]},
        {"uid": "d", "uid_number": 4, "gid_number": 1, "attributes": {"memberUid": "x"}},  # not allowed
    ]), PARENT)
    problems = ldap_sync.validate_wanted(wanted, SCHEMA)
    assert any("noSuchAttr" in p and "not in the server schema" in p for p in problems)
    assert any("nonsenseClass" in p for p in problems)
    assert any("memberUid" in p and "not allowed" in p for p in problems)
    with pytest.raises(ldap_dn.LdapError, match=r"user 'b'.*cannot be created without uidNumber \(option uid_number\)"):
        ldap_sync.plan_changes(wanted[1:2], {}, SCHEMA)


def test_duplicates_in_the_batch_and_with_the_directory():
    with pytest.raises(ldap_dn.LdapError, match="user .DB2INST1. appears twice"):
        ldap_directory.user_wanted(
            user_params(users=[{"uid": "db2inst1", "uid_number": 1}, {"uid": "DB2INST1", "uid_number": 2}]), PARENT)
    with pytest.raises(ldap_dn.LdapError, match="uid_number 7 appears twice"):
        ldap_directory.user_wanted(user_params(users=[{"uid": "a", "uid_number": 7}, {"uid": "b", "uid_number": 7}]), PARENT)
    wanted = ldap_directory.user_wanted(user_params(uid="newbie", uid_number=1000, gid_number=1), PARENT)
    ldap_sync.validate_wanted(wanted, SCHEMA)
    problems = ldap_sync.check_unique(wanted, ldap_sync.index_existing([stored(DN, **DB2INST1)], SCHEMA), ("uid", "uidNumber"), SCHEMA)
    assert problems == ["uidNumber 1000 would be shared by %s and user 'newbie' (cn=newbie,%s)" % (DN, PARENT)]
    # A user removed in the same batch frees its number.
    wanted = ldap_directory.user_wanted(user_params(users=[{"uid": "newbie", "uid_number": 1000, "gid_number": 1},
                                                           {"uid": "db2inst1", "state": "absent"}]), PARENT)
    assert ldap_sync.check_unique(wanted, ldap_sync.index_existing([stored(DN, **DB2INST1)], SCHEMA), ("uid", "uidNumber"), SCHEMA) == []


def test_items_inherit_shared_options_and_refuse_stray_top_level_ones():
    wanted = ldap_directory.user_wanted(user_params(login_shell="/bin/bash", gid_number=5, attributes={"description": "x"},
                                                    users=[{"uid": "a", "uid_number": 1, "attributes": {"mail": "m"}},
                                                           {"uid": "b", "uid_number": 2, "login_shell": "/bin/ksh"}]),
                                        PARENT)
    assert wanted[0].attrs["loginShell"] == ["/bin/bash"] and wanted[1].attrs["loginShell"] == ["/bin/ksh"]
    assert wanted[0].attrs["gidNumber"] == ["5"] and wanted[0].attrs["mail"] == ["m"]
    assert wanted[1].attrs["description"] == ["x"]
    with pytest.raises(ldap_dn.LdapError, match="uid_number describe one entry"):
        ldap_directory.user_wanted(user_params(uid_number=3, users=[{"uid": "a"}]), PARENT)
    with pytest.raises(ldap_dn.LdapError, match="own option"):
        ldap_directory.user_wanted(user_params(uid="a", attributes={"userPassword": "x"}), PARENT)


def test_rdn_cn_always_holds_the_uid():
    wanted, = ldap_directory.user_wanted(user_params(uid="rbobby", cn=["Ricky Bobby"], uid_number=1, gid_number=1), PARENT)
    assert wanted.dn == "cn=rbobby," + PARENT and wanted.attrs["cn"] == ["rbobby", "Ricky Bobby"]
    wanted, = ldap_directory.user_wanted(user_params(uid="rbobby", rdn_attribute="uid", cn=["Ricky Bobby"]), PARENT)
    assert wanted.dn == "uid=rbobby," + PARENT and wanted.attrs["cn"] == ["Ricky Bobby"]


# --- groups -------------------------------------------------------------------------------------
GPARENT = "ou=Groups,dc=example,dc=org"


def group_items(**kw):
    params = dict((name, None) for name in ldap_directory.GROUP_OPTIONS)
    params.update(ldap_directory.GROUP_DEFAULTS, groups=None)
    params.update(kw)
    return ldap_directory.group_items(params)


def test_members_resolve_by_uid_and_dn_with_one_filter():
    items = group_items(name="db2iadm1", members=["db2inst1", "CN=idbjorh,ou=Users,dc=example,dc=org", "a=b"])
    assert ldap_dn.or_filter(ldap_directory.member_terms(items, "dc=example,dc=org")) == "(|(uid=db2inst1)(CN=idbjorh)(uid=a=b))"
    # A large batch may read the whole subtree: entries nobody asked for must not matter.
    found = [stored(DN, uid="db2inst1"), stored("cn=idbjorh," + PARENT, uid="idbjorh"), stored("cn=x," + PARENT, uid="a=b"),
             stored("cn=unrelated," + PARENT, uid="unrelated"), stored(PARENT)]
    resolved = ldap_directory.resolve_members(items, found, "dc=example,dc=org")
    assert resolved[("db2iadm1", "db2inst1")] == (DN, "db2inst1")
    assert resolved[("db2iadm1", "CN=idbjorh,ou=Users,dc=example,dc=org")] == ("cn=idbjorh," + PARENT, "idbjorh")
    with pytest.raises(ldap_dn.LdapError, match="no entry with uid 'ghost'.*member cn=nobody"):
        ldap_directory.resolve_members(group_items(name="g", members=["ghost", "cn=nobody," + PARENT]), found, "dc=example,dc=org")
    twice = found + [stored("cn=other," + GPARENT, uid="DB2INST1")]
    with pytest.raises(ldap_dn.LdapError, match="ambiguous"):
        ldap_directory.resolve_members(group_items(name="g", members=["db2inst1"]), twice, "dc=example,dc=org")


def test_exact_members_are_value_adds_and_deletes_append_only_adds():
    gdn = "cn=db2iadm1," + GPARENT
    existing = ldap_sync.index_existing([stored(gdn, objectClass=["groupOfUniqueNames"], cn="db2iadm1",
                                        uniqueMember=["cn=db2inst1," + PARENT, "cn=old," + PARENT])], SCHEMA)
    for mode, expected in (("exact", [(ldap.MOD_ADD, "uniqueMember", [b"cn=new," + PARENT.encode()]),
                                      (ldap.MOD_DELETE, "uniqueMember", [b"cn=old," + PARENT.encode()])]),
                           ("append", [(ldap.MOD_ADD, "uniqueMember", [b"cn=new," + PARENT.encode()])])):
        items = group_items(name="db2iadm1", members=["a", "b"], members_mode=mode)
        resolved = {("db2iadm1", "a"): ("CN=DB2INST1," + PARENT, "db2inst1"), ("db2iadm1", "b"): ("cn=new," + PARENT, "new")}
        wanted = ldap_directory.group_wanted(items, GPARENT, resolved)
        assert ldap_sync.validate_wanted(wanted, SCHEMA) == []
        plan = ldap_sync.plan_changes(wanted, existing, SCHEMA)
        assert plan.ops == [("modify", gdn, expected)], mode


def test_groups_of_names_need_a_member_posix_groups_use_uids():
    with pytest.raises(ldap_dn.LdapError, match="needs at least one member"):
        ldap_directory.group_wanted(group_items(name="g", members=[]), GPARENT, {})
    items = group_items(name="p", object_class="posixGroup", gid_number=500, members=["x"])
    wanted, = ldap_directory.group_wanted(items, GPARENT, {("p", "x"): ("cn=x," + PARENT, "x")})
    assert wanted.attrs["memberUid"] == ["x"] and wanted.attrs["gidNumber"] == ["500"]
    assert ldap_directory.group_wanted(group_items(name="p", object_class="posixGroup", gid_number=5, members=[]), GPARENT, {})


def test_compact_args_echo_small_batches_and_summarise_big_ones():
    small = [{"uid": "db2inst1", "password": "x"}]
    big_groups = [{"name": "g%d" % g, "members": ["u%d" % i for i in range(100)]} for g in range(10)]
    echoed = ldap_connection.compact_args({"users": small, "groups": big_groups, "base_dn": "dc=example,dc=org", "bind_pw": "pw"})
    assert echoed["users"] == small and echoed["base_dn"] == "dc=example,dc=org" and echoed["bind_pw"] == "pw"
    assert echoed["groups"] == "10 entries (not echoed)"  # ten entries, a thousand values


def test_join_dn_errors_name_the_option_each_part_comes_from():
    with pytest.raises(ldap_dn.LdapError, match="^users_ou .* is not a valid DN$"):
        ldap_dn.join_dn("a;b", "dc=example,dc=org", "users_ou")
    with pytest.raises(ldap_dn.LdapError, match="^members_base "):
        ldap_dn.join_dn("", "$(id)", base_option="members_base")
    assert ldap_dn.join_dn("", "dc=example,dc=org", "users_ou") == "dc=example,dc=org"


def test_an_empty_bind_pw_is_refused_before_connecting():
    with pytest.raises(ldap_dn.LdapError, match="bind_pw is empty"):
        ldap_connection.resolve_connection({"server_uri": "ldap://x", "bind_dn": "cn=admin,dc=example,dc=org", "bind_pw": ""})
