# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""LDAP access for db2ops.docker: one verified TLS connection from the shared options, DN and
filter escaping, DN and value normalisation, {SSHA} hashing and local verification, paged
searches, and a bulk engine that turns the entries a task wants into the fewest writes.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
import socket
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.db2ops.docker.plugins.module_utils.inputs import fail_on_bad_params

try:
    import ldap
    import ldap.dn
    import ldap.filter
    import ldap.schema
    import ldapurl
    from ldap.controls import SimplePagedResultsControl

    HAS_LDAP = True
    LDAP_IMPORT_ERROR = None
except ImportError:  # reported through missing_required_lib() when a module starts
    HAS_LDAP = False
    LDAP_IMPORT_ERROR = traceback.format_exc()

MASK = "********"
PAGE_SIZE = 500  # slapd's default size limit for non-root binds is 500 entries per page

# The connection contract shared by every LDAP module; documented in doc_fragments/ldap.py.
# The env names are the ones OpenLDAP's own client tools read, so `ldapsearch` and the
# modules agree in one shell.
LDAP_COMMON_ARGS = dict(
    server_uri=dict(type="str", default="ldap://localhost", fallback=(env_fallback, ["LDAPURI"])),
    start_tls=dict(type="bool"),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path", fallback=(env_fallback, ["LDAPTLS_CACERT"])),
    bind_dn=dict(type="str", fallback=(env_fallback, ["LDAPBINDDN"])),
    bind_pw=dict(type="str", default="", no_log=True),
    timeout=dict(type="int", default=30),
)


class LdapError(Exception):
    """An LDAP problem explained in one line for the user (no traceback needed)."""


class PartialWrite(LdapError):
    """A write failed after others had succeeded (LDAP has no transactions)."""

    def __init__(self, message, done=0):
        super(PartialWrite, self).__init__(message)
        self.done = done


def ldap_argument_spec(extra=None):
    spec = dict(LDAP_COMMON_ARGS)
    spec.update(extra or {})
    return spec


def bulk_module(**kwargs):
    """AnsibleModule for the batch modules, which log their invocation in compact form.

    AnsibleModule writes every argument to syslog after masking each no_log value in it: for a
    batch of 1,000 users with passwords that is 1,000 replacements over the whole batch text,
    half a second of a one-second idempotent rerun. The compact record names the batch size and
    every other argument, masked the same way.
    """
    module = AnsibleModule(no_log=True, **kwargs)
    # Every string (uids, DNs, attribute values, passwords) through the one input gate before
    # anything is logged or sent: no control characters or NUL, no 10,000-character values.
    fail_on_bad_params(module)
    module.no_log = False  # from here on, log as any module does
    logged = remove_values(compact_args(module.params), module.no_log_values)
    module.log("Invoked with %s" % " ".join("%s=%s" % (key, logged[key]) for key in sorted(logged)))
    return module


# ---------------------------------------------------------------------------------------------
# Escaping, DNs and values

_ATTR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
# Attribute types whose DN values compare case-insensitively (caseIgnoreMatch in RFC 4519).
_CASE_IGNORE_DN_TYPES = frozenset(("cn", "uid", "ou", "dc", "o", "l", "st", "c", "sn", "mail", "givenname"))
_DN_TYPE_ALIASES = {"commonname": "cn", "userid": "uid", "organizationalunitname": "ou",
                    "domaincomponent": "dc", "organizationname": "o", "surname": "sn"}


def check_text(what, value):
    """A value we will send: text without NUL (which would end a C string in the server)."""
    if not isinstance(value, str):
        raise LdapError("%s must be text, got %r" % (what, value))
    if "\x00" in value:
        raise LdapError("%s contains a NUL character, which LDAP values cannot hold" % what)
    return value


def check_attribute_name(name):
    if not isinstance(name, str) or not _ATTR_NAME.match(name):
        raise LdapError("%r is not an LDAP attribute name (letters, digits and '-', starting with a letter)" % (name,))
    return name


def parse_dn(dn, what="DN"):
    """The DN as python-ldap's list of RDNs; LdapError naming `what` when it is not a DN."""
    check_text(what, dn)
    try:
        parsed = ldap.dn.str2dn(dn)
    except ldap.DECODING_ERROR:
        raise LdapError("%s %r is not a valid DN" % (what, dn))
    if not parsed:
        raise LdapError("%s must not be empty" % what)
    return parsed


def build_dn(rdn_attribute, rdn_value, parent_dn):
    """`rdn_attribute=rdn_value,parent_dn` with the value escaped (`,`, `+`, `=`, `#`, spaces...)."""
    check_text(rdn_attribute, rdn_value)
    return ldap.dn.dn2str([[(rdn_attribute, rdn_value, ldap.AVA_STRING)]] + parse_dn(parent_dn, "parent DN"))


def join_dn(relative, base, relative_option="relative DN", base_option="base_dn"):
    """`ou=Users` under `dc=example,dc=org`; an empty relative part means the base itself.
    Errors name the options the two parts come from."""
    base_rdns = parse_dn(base, base_option)
    if not relative:
        return ldap.dn.dn2str(base_rdns)
    return ldap.dn.dn2str(parse_dn(relative, relative_option) + base_rdns)


def _fold_dn_value(attr_type, value):
    if attr_type in _CASE_IGNORE_DN_TYPES:
        return " ".join(value.split()).casefold()
    return value


@functools.lru_cache(maxsize=65536)  # a batch compares each DN several times
def normalize_dn(dn):
    """A canonical string for comparing DNs: attribute types lower-cased (aliases resolved),
    case-ignore values folded and spaces collapsed, multi-valued RDNs sorted."""
    rdns = []
    for rdn in parse_dn(dn):
        avas = []
        for attr_type, value, _flags in rdn:
            attr_type = attr_type.lower()
            attr_type = _DN_TYPE_ALIASES.get(attr_type, attr_type)
            avas.append((attr_type, _fold_dn_value(attr_type, value)))
        rdns.append([(t, v, ldap.AVA_STRING) for t, v in sorted(avas)])
    return ldap.dn.dn2str(rdns)


def is_under(dn, base):
    """Whether dn is base or below it (normalised comparison)."""
    ndn, nbase = normalize_dn(dn), normalize_dn(base)
    return ndn == nbase or ndn.endswith("," + nbase)


def eq_filter(attr, value):
    """`(attr=value)` with `*`, `(`, `)`, `\\` and NUL escaped in the value."""
    return "(%s=%s)" % (check_attribute_name(attr), ldap.filter.escape_filter_chars(value))


def or_filter(terms):
    terms = list(dict.fromkeys(terms))  # the same term twice adds nothing
    if len(terms) == 1:
        return terms[0]
    return "(|%s)" % "".join(terms)


def rdn_filter(dn):
    """A filter matching the entry's own RDN (every AVA of it)."""
    avas = [eq_filter(t, v) for t, v, _f in parse_dn(dn)[0]]
    return avas[0] if len(avas) == 1 else "(&%s)" % "".join(avas)


def _collapse(value):
    return " ".join(value.split())


def _integer(value):
    try:
        return str(int(value))
    except ValueError:
        return value


def _safe_normalize_dn(value):
    try:
        return normalize_dn(value)
    except LdapError:
        return value


def _unique_member(value):
    dn, _sep, uid = value.partition("#'")  # nameAndOptionalUID: `dn#'0101'B`
    try:
        return normalize_dn(dn) + ("#'" + uid if uid else "")
    except LdapError:
        return value


# Value normalisers for the server's EQUALITY matching rules (RFC 4517/4518), so values that
# the server considers equal never cause a write.
_NORMALISERS = {
    "caseignorematch": lambda v: _collapse(v).casefold(),
    "caseignoreia5match": lambda v: _collapse(v).casefold(),
    "caseignorelistmatch": lambda v: _collapse(v).casefold(),
    "caseexactmatch": _collapse,
    "caseexactia5match": _collapse,
    "numericstringmatch": lambda v: "".join(v.split()),
    "telephonenumbermatch": lambda v: "".join(v.replace("-", " ").split()).casefold(),
    "objectidentifiermatch": lambda v: v.strip().casefold(),
    "integermatch": _integer,
    "booleanmatch": lambda v: v.strip().upper(),
    "distinguishednamematch": _safe_normalize_dn,
    "uniquemembermatch": _unique_member,
}


def _exact(value):
    return value


def normaliser_for(equality):
    """The function that maps values to their comparison form under an EQUALITY rule."""
    return _NORMALISERS.get((equality or "").lower(), _exact)


# ---------------------------------------------------------------------------------------------
# Passwords

# scheme -> (hashlib algorithm, salted); slapd's own {SSHA}/{SHA} and contrib pw-sha2 schemes.
_HASH_SCHEMES = {
    "SSHA": ("sha1", True), "SHA": ("sha1", False),
    "SSHA256": ("sha256", True), "SHA256": ("sha256", False),
    "SSHA384": ("sha384", True), "SHA384": ("sha384", False),
    "SSHA512": ("sha512", True), "SHA512": ("sha512", False),
}
PASSWORD_HASHES = ["ssha", "ssha256", "ssha384", "ssha512"]
_STORED_SCHEME = re.compile(rb"^\{([A-Za-z0-9._-]+)\}(.*)$", re.S)


def hash_password(password, scheme="ssha", salt=None):
    """`{SSHA}base64(sha1(password + salt) + salt)`, as slappasswd makes it (8 random salt bytes)."""
    algorithm, salted = _HASH_SCHEMES[scheme.upper()]
    if not salted:
        raise ValueError("refusing to write unsalted %s hashes" % scheme)
    salt = os.urandom(8) if salt is None else salt
    digest = hashlib.new(algorithm, password.encode("utf-8") + salt).digest()
    return "{%s}%s" % (scheme.upper(), base64.b64encode(digest + salt).decode("ascii"))


def verify_password(password, stored):
    """Whether `password` matches a stored userPassword value (bytes).

    True/False for the SHA family (salted or not) and cleartext; None for schemes that cannot
    be checked here ({CRYPT}, {PBKDF2}, {ARGON2}, ...), so the caller can decide.
    """
    candidate = password.encode("utf-8")
    match = _STORED_SCHEME.match(stored)
    if not match:
        return hmac.compare_digest(candidate, stored)
    scheme = match.group(1).decode("ascii").upper()
    if scheme not in _HASH_SCHEMES:
        return None
    algorithm, salted = _HASH_SCHEMES[scheme]
    try:
        raw = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return False
    size = hashlib.new(algorithm).digest_size
    digest, salt = raw[:size], raw[size:]
    if len(digest) != size or (salt and not salted):
        return False
    return hmac.compare_digest(hashlib.new(algorithm, candidate + salt).digest(), digest)


# ---------------------------------------------------------------------------------------------
# Connection

def resolve_connection(params):
    """The module's connection options as settings for connect(), plus warnings to show.

    ldap:// uses StartTLS unless start_tls=false; ldaps:// is TLS from the first byte; ldapi://
    is a local socket. Certificates are verified unless validate_certs=false.
    """
    uri = (params.get("server_uri") or "").strip()
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme not in ("ldap", "ldaps", "ldapi"):
        raise LdapError("server_uri %r must start with ldap://, ldaps:// or ldapi://" % uri)
    start_tls = params.get("start_tls")
    warnings = []
    if scheme == "ldaps":
        if start_tls:
            raise LdapError("start_tls=true cannot be used with %s: ldaps:// is already TLS" % uri)
        tls = "ldaps"
    elif scheme == "ldapi":
        tls = "starttls" if start_tls else "none"
    elif start_tls is False:
        tls = "none"
        warnings.append("start_tls=false: the bind password and user passwords cross the network to %s "
                        "unencrypted. Use StartTLS or ldaps://." % uri)
    else:
        tls = "starttls"
    verify = params.get("validate_certs", True)
    if tls != "none" and not verify:
        warnings.append("validate_certs=false: the certificate of %s is not checked, so anyone in the path "
                        "can read the bind password." % uri)
    ca_path = params.get("ca_path")
    if tls != "none" and ca_path and not os.path.isfile(ca_path):
        raise LdapError("ca_path %s does not exist or is not a file" % ca_path)
    bind_dn = params.get("bind_dn")
    if not bind_dn:
        raise LdapError("bind_dn is required (or the LDAPBINDDN environment variable)")
    parse_dn(bind_dn, "bind_dn")
    if not params.get("bind_pw"):  # a DN with an empty password is an unauthenticated bind
        raise LdapError("bind_pw is empty: give the password of bind_dn")
    return dict(uri=uri, tls=tls, verify=bool(verify), ca_path=ca_path if tls != "none" else None,
                bind_dn=bind_dn, bind_pw=params.get("bind_pw") or "", timeout=params.get("timeout") or 30), warnings


def connect(conn):
    """A bound LDAPObject. TLS settings belong to this connection only (OPT_X_TLS_NEWCTX), never
    to the process, so two connections with different CAs in one Python do not interfere."""
    try:
        lconn = ldap.initialize(conn["uri"])
    except ldap.LDAPError as exc:
        raise LdapError("server_uri %r is not a valid LDAP URI: %s" % (conn["uri"], error_text(exc)))
    lconn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
    lconn.set_option(ldap.OPT_REFERRALS, 0)  # answers must come from this server, see describe_error
    lconn.set_option(ldap.OPT_NETWORK_TIMEOUT, conn["timeout"])
    lconn.set_option(ldap.OPT_TIMEOUT, conn["timeout"])
    if conn["tls"] != "none":
        lconn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND if conn["verify"] else ldap.OPT_X_TLS_NEVER)
        if conn["ca_path"]:
            lconn.set_option(ldap.OPT_X_TLS_CACERTFILE, conn["ca_path"])
        lconn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # last: builds this connection's TLS context
    stage = "connect"
    try:
        if conn["tls"] == "starttls":
            stage = "starttls"
            lconn.start_tls_s()
        stage = "bind"
        lconn.simple_bind_s(conn["bind_dn"], conn["bind_pw"])
    except ldap.LDAPError as exc:
        raise LdapError(describe_connect_error(conn, stage, exc))
    return lconn


def error_text(exc):
    """`desc: info` of a python-ldap exception, on one line."""
    data = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    desc, info = data.get("desc") or str(exc), data.get("info") or ""
    text = "%s: %s" % (desc, info) if info and info not in desc else desc
    return " ".join(str(text).split())


def _is_tls_failure(exc):
    data = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    info = ("%s %s" % (data.get("info", ""), data.get("desc", ""))).lower()
    return any(word in info for word in ("certificate", "tls", "ssl", "handshake", "issuer", "x509"))


def _tcp_answers(uri, timeout):
    """Whether something accepts TCP connections at the host:port of an ldaps:// URI."""
    parsed = ldapurl.LDAPUrl(uri)
    host, _sep, port = parsed.hostport.rpartition(":") if ":" in parsed.hostport else (parsed.hostport, "", "636")
    try:
        socket.create_connection((host.strip("[]") or "localhost", int(port or 636)), timeout=timeout).close()
        return True
    except (OSError, ValueError):
        return False


def describe_connect_error(conn, stage, exc):
    uri, ca = conn["uri"], conn["ca_path"] or "the system/libldap default CA"
    if isinstance(exc, ldap.INVALID_CREDENTIALS):
        return "Invalid credentials: %s rejected bind_dn %s with bind_pw" % (uri, conn["bind_dn"])
    if isinstance(exc, ldap.INVALID_DN_SYNTAX):
        return "%s rejected bind_dn %s as an invalid DN" % (uri, conn["bind_dn"])
    if conn["tls"] == "ldaps" and isinstance(exc, ldap.SERVER_DOWN) and _tcp_answers(uri, conn["timeout"]):
        exc = ldap.CONNECT_ERROR(*exc.args)  # libldap hides a failed handshake behind "Can't contact"
    if isinstance(exc, ldap.SERVER_DOWN) and not _is_tls_failure(exc):
        return "Cannot reach the LDAP server at %s (%s): check host, port and that slapd runs" % (uri, error_text(exc))
    if stage == "starttls" and isinstance(exc, ldap.PROTOCOL_ERROR):
        return "%s does not offer StartTLS (%s); use ldaps:// or, on a trusted network only, start_tls=false" % (
            uri, error_text(exc))
    if stage == "starttls" or (conn["tls"] == "ldaps" and stage == "bind" and _is_tls_failure(exc)) or (
            isinstance(exc, ldap.CONNECT_ERROR) and conn["tls"] != "none"):
        return ("TLS with %s failed (%s): the server certificate could not be verified against %s, or the "
                "host name in server_uri is not in it; set ca_path to the CA that signed the server "
                "certificate" % (uri, error_text(exc), ca))
    if isinstance(exc, ldap.TIMEOUT):
        return "The LDAP server at %s did not answer within %ss" % (uri, conn["timeout"])
    if isinstance(exc, ldap.CONFIDENTIALITY_REQUIRED):
        return "%s requires TLS for the bind: do not set start_tls=false" % uri
    return "Cannot bind to %s as %s: %s" % (uri, conn["bind_dn"], error_text(exc))


def describe_error(exc, doing):
    """One line for an error of an operation on an open connection."""
    if isinstance(exc, ldap.REFERRAL):
        return ("%s: the server answered with a referral (%s); referrals are not chased, point server_uri "
                "at the server that holds this part of the tree" % (doing, error_text(exc)))
    if isinstance(exc, ldap.NO_SUCH_OBJECT):
        matched = (exc.args[0] or {}).get("matched") if exc.args and isinstance(exc.args[0], dict) else None
        return "%s: no such entry%s" % (doing, " (the server has %s, nothing below it on that path)" % matched
                                        if matched else " (not even the base of that path exists)")
    if isinstance(exc, ldap.INSUFFICIENT_ACCESS):
        return "%s: insufficient access for bind_dn (%s)" % (doing, error_text(exc))
    return "%s: %s" % (doing, error_text(exc))


def paged_search(lconn, base, filterstr, attrs, scope=None, page_size=PAGE_SIZE):
    """Every (dn, attributes) of one search, read page by page (RFC 2696).

    Raises ldap.NO_SUCH_OBJECT when base does not exist; LdapError for search references,
    because an answer that leaves part of the tree out cannot be diffed.
    """
    scope = ldap.SCOPE_SUBTREE if scope is None else scope
    control = SimplePagedResultsControl(True, size=page_size, cookie="")
    found = []
    while True:
        msgid = lconn.search_ext(base, scope, filterstr, attrs, serverctrls=[control])
        _rtype, data, _msgid, controls = lconn.result3(msgid)
        for dn, entry in data:
            if dn is None:
                raise LdapError("the search of %s returned a referral to %s; referrals are not chased"
                                % (base, ", ".join(str(u) for u in entry)))
            found.append((dn, entry))
        cookie = next((c.cookie for c in controls if c.controlType == SimplePagedResultsControl.controlType), None)
        if not cookie:
            return found
        control.cookie = cookie


# A large batch reads its whole subtree with a plain filter when that subtree is at most this
# many times the number of filter terms: slapd tests each candidate entry against every term of
# an OR filter, so 3,000 terms (1,000 users) cost it more than reading a few thousand entries.
PLAIN_READ_MIN_TERMS = 100
PLAIN_READ_FACTOR = 3


def search_any(lconn, base, terms, attrs, scope=None):
    """Entries under base matching any of the filter terms (callers must accept a superset)."""
    if len(terms) >= PLAIN_READ_MIN_TERMS and subtree_within(lconn, base, PLAIN_READ_FACTOR * len(terms), scope):
        return paged_search(lconn, base, "(objectClass=*)", attrs, scope)
    return paged_search(lconn, base, or_filter(terms), attrs, scope)


def subtree_within(lconn, base, limit, scope=None):
    """Whether base's subtree holds at most `limit` entries (asked with a size limit, no attributes)."""
    scope = ldap.SCOPE_SUBTREE if scope is None else scope
    try:
        msgid = lconn.search_ext(base, scope, "(objectClass=*)", ["1.1"], sizelimit=limit)
        _rtype, data, _msgid, _controls = lconn.result3(msgid)
    except (ldap.SIZELIMIT_EXCEEDED, ldap.ADMINLIMIT_EXCEEDED):
        return False
    return all(dn is not None for dn, _entry in data)  # a referral: let the filtered search report it


# ---------------------------------------------------------------------------------------------
# Schema

INTEGER_SYNTAX = "1.3.6.1.4.1.1466.115.121.1.27"
IA5_SYNTAX = "1.3.6.1.4.1.1466.115.121.1.26"


class Schema:
    """What the server's subschema says about attribute and object class names."""

    def __init__(self, subschema_entry):
        self._schema = ldap.schema.SubSchema(subschema_entry, check_uniqueness=0)
        self._normalisers = {}
        self._allowed = {}  # a batch's entries share a few object class sets: resolve each once

    def _attribute(self, name):
        return self._schema.get_obj(ldap.schema.AttributeType, name)

    def attribute_name(self, name):
        """The schema's primary name for an attribute (or alias), None when unknown."""
        found = self._attribute(name)
        return found.names[0] if found is not None and found.names else None

    def object_class_name(self, name):
        found = self._schema.get_obj(ldap.schema.ObjectClass, name)
        return found.names[0] if found is not None and found.names else None

    def _inherited(self, name, field):
        seen = set()
        found = self._attribute(name)
        while found is not None and found.oid not in seen:
            seen.add(found.oid)
            if getattr(found, field):
                return getattr(found, field)
            found = self._attribute(found.sup[0]) if found.sup else None
        return None

    def equality(self, name):
        return self._inherited(name, "equality")

    def syntax(self, name):
        return self._inherited(name, "syntax")

    def single_value(self, name):
        found = self._attribute(name)
        return bool(found is not None and found.single_value)

    def allowed(self, object_classes):
        """(must, may) primary attribute names for these object classes, superclasses included."""
        key = tuple(sorted(object_classes))
        if key not in self._allowed:
            must, may = self._schema.attribute_types(list(key), raise_keyerror=0)
            self._allowed[key] = ({self._schema.get_obj(ldap.schema.AttributeType, oid).names[0] for oid in must},
                                  {self._schema.get_obj(ldap.schema.AttributeType, oid).names[0] for oid in may})
        return self._allowed[key]

    def normaliser(self, name):
        if name not in self._normalisers:
            self._normalisers[name] = normaliser_for(self.equality(name))
        return self._normalisers[name]


def compact_args(params, limit=100):
    """Module arguments to echo back, with big entry lists summarised.

    Ansible echoes every argument and masks each no_log value in every returned string: for a
    batch of a thousand users (or ten groups of a hundred members) that is a large result and most
    of a rerun's time. A list of entries is echoed only while it holds at most `limit` values.
    """
    return dict((key, "%d entries (not echoed)" % len(value) if isinstance(value, list) and value
                 and isinstance(value[0], dict) and _values_in(value) > limit else value)
                for key, value in params.items())


def _values_in(data):
    if isinstance(data, dict):
        return sum(_values_in(v) for v in data.values())
    if isinstance(data, (list, tuple)):
        return sum(_values_in(v) for v in data)
    return 1


def read_schema(lconn):
    """The server's schema, read once (root DSE → subschemaSubentry → its definitions)."""
    dn = lconn.search_subschemasubentry_s("")
    if not dn:
        raise LdapError("the server does not publish its schema (no subschemaSubentry in the root DSE)")
    entry = lconn.read_subschemasubentry_s(dn, attrs=["attributeTypes", "objectClasses"])
    return Schema(entry)


# ---------------------------------------------------------------------------------------------
# The bulk engine: validate everything, search once, plan, then write only what differs

class Wanted:
    """One entry as a task wants it.

    attrs: attribute name -> values; modes: attribute name -> `replace` (the default: the values
    become exactly these), `exact` or `append` (per-value adds/deletes, for member lists and
    objectClass). password is cleartext from the task (hashed before writing).
    """

    __slots__ = ("dn", "label", "state", "attrs", "modes", "password", "update_password", "password_hash",
                 "option_names", "must_missing")

    def __init__(self, dn, label, state="present", attrs=None, modes=None, password=None,
                 update_password="always", password_hash="ssha", option_names=None):
        self.dn = dn
        self.label = label
        self.state = state
        self.attrs = attrs or {}
        self.modes = modes or {}
        self.password = password
        self.update_password = update_password
        self.password_hash = password_hash
        self.option_names = option_names or {}  # attribute -> the module option that sets it
        self.must_missing = []  # required attributes this task does not give (set by validate_wanted)

    def describe(self, attr):
        option = self.option_names.get(attr)
        return "%s (option %s)" % (attr, option) if option else attr


def validate_wanted(wanted, schema):
    """Every problem of the batch against the server schema, as a list of one-line messages.

    Attribute names become the schema's primary names (so `surname` and `sn` are one attribute).
    """
    problems = []
    for entry in wanted:
        if entry.state != "present":
            continue
        prefix = "%s (%s)" % (entry.label, entry.dn)
        attrs, modes = {}, {}
        for name, values in entry.attrs.items():
            primary = schema.attribute_name(name)
            if primary is None:
                problems.append("%s: attribute %s is not in the server schema" % (prefix, entry.describe(name)))
                continue
            attrs[primary], modes[primary] = values, entry.modes.get(name, "replace")
            if primary != name and name in entry.option_names:
                entry.option_names[primary] = entry.option_names[name]
        classes = []
        for name in attrs.get("objectClass", []):
            primary = schema.object_class_name(name)
            if primary is None:
                problems.append("%s: object class %s (option object_classes) is not in the server schema" % (prefix, name))
            else:
                classes.append(primary)
        if "objectClass" in attrs:
            attrs["objectClass"] = classes
        entry.attrs, entry.modes = attrs, modes
        must, may = schema.allowed(classes)
        for name, values in attrs.items():
            if name == "objectClass":
                continue
            if schema.syntax(name) == IA5_SYNTAX and any(not value.isascii() for value in values):
                problems.append("%s: attribute %s takes ASCII text only (IA5String)" % (prefix, entry.describe(name)))
            if any(value == "" for value in values):  # no LDAP syntax we write holds an empty string
                problems.append("%s: attribute %s has an empty value, which LDAP cannot store; leave the option "
                                "unset or give an empty list" % (prefix, entry.describe(name)))
            if name not in must and name not in may:
                problems.append("%s: attribute %s is not allowed by the object classes %s"
                                % (prefix, entry.describe(name), ", ".join(classes)))
            if len(values) > 1 and schema.single_value(name):
                problems.append("%s: attribute %s takes one value, got %d" % (prefix, entry.describe(name), len(values)))
            if schema.syntax(name) == INTEGER_SYNTAX:
                for value in values:
                    if not re.match(r"^-?\d+$", value.strip()):
                        problems.append("%s: attribute %s needs an integer, got %r" % (prefix, entry.describe(name), value))
        given = {name for name, values in attrs.items() if values}
        if entry.password is not None:
            given.add("userPassword")
        # Fatal only for a new entry or one this task would empty them on (decided in plan_changes).
        entry.must_missing = sorted(must - given - {"objectClass"})
    return problems


def search_terms(entry, unique_attrs):
    terms = [rdn_filter(entry.dn)]
    for attr in unique_attrs:
        terms.extend(eq_filter(attr, value) for value in entry.attrs.get(attr, []))
    return terms


def index_existing(found, schema):
    """Search results as {normalised DN: (dn, {primary attribute name: [text values]}, [password bytes])}."""
    existing = {}
    for dn, raw in found:
        attrs, passwords = {}, []
        for name, values in raw.items():
            primary = schema.attribute_name(name) or name
            if primary == "userPassword":
                passwords = list(values)
            else:
                attrs[primary] = [v.decode("utf-8", "replace") for v in values]
        existing[normalize_dn(dn)] = (dn, attrs, passwords)
    return existing


def check_unique(wanted, existing, unique_attrs, schema):
    """Problems where two entries would share a unique value (uid, uidNumber, ...) after the
    batch: within the batch, or between the batch and what the search found."""
    final = {ndn: (dn, attrs) for ndn, (dn, attrs, _pw) in existing.items()}
    labels = {}
    for entry in wanted:
        ndn = normalize_dn(entry.dn)
        if entry.state != "present":
            final.pop(ndn, None)
            continue
        have = final.get(ndn, (entry.dn, {}))[1]
        merged = dict(have)
        merged.update({a: v for a, v in entry.attrs.items() if a in unique_attrs})
        final[ndn] = (entry.dn, merged)
        labels[ndn] = entry.label
    problems = []
    for attr in unique_attrs:
        norm = schema.normaliser(attr)
        holders = {}
        for ndn, (dn, attrs) in final.items():
            for value in attrs.get(attr, []):
                holders.setdefault(norm(value), []).append(ndn)
        for value, ndns in holders.items():
            if len(ndns) > 1 and any(ndn in labels for ndn in ndns):
                names = ["%s (%s)" % (labels[n], final[n][0]) if n in labels else final[n][0] for n in ndns]
                problems.append("%s %s would be shared by %s" % (attr, value, " and ".join(names)))
    return problems


class Plan:
    """The writes a batch needs, in order, with what they change (passwords masked)."""

    def __init__(self):
        self.ops = []  # (kind, dn, payload): add -> modlist, modify -> modlist, delete -> None
        self.created, self.updated, self.removed = [], [], []
        self.before, self.after = {}, {}
        self.unverified = []  # DNs whose stored password could not be checked

    @property
    def changed(self):
        return bool(self.ops)

    def operations(self):
        """The LDAP operations, without values (those are in the diff)."""
        result = []
        for kind, dn, payload in self.ops:
            item = dict(op=kind, dn=dn)
            if kind == "add":
                item["attributes"] = [name for name, _values in payload]
            elif kind == "modify":
                item["changes"] = [[_MOD_NAMES[mod], name] for mod, name, _values in payload]
            result.append(item)
        return result

    def result(self):
        return dict(changed=self.changed, created=self.created, updated=self.updated, removed=self.removed,
                    operations=self.operations())

    def diff(self):
        return dict(before=self.before, after=self.after)

    def extend(self, other):
        """Append another plan's writes (run after this plan's)."""
        self.ops += other.ops
        self.created += other.created
        self.updated += other.updated
        self.removed += other.removed
        self.before.update(other.before)
        self.after.update(other.after)
        self.unverified += other.unverified


_MOD_NAMES = {0: "add", 1: "delete", 2: "replace"}  # ldap.MOD_ADD, MOD_DELETE, MOD_REPLACE


def _encode(values):
    return [v.encode("utf-8") for v in values]


def _masked(attrs, password_changed=False, password_kept=False):
    shown = {name: list(values) for name, values in attrs.items() if values}
    if password_changed:
        shown["userPassword"] = MASK + " (new)"
    elif password_kept:
        shown["userPassword"] = MASK
    return shown


def plan_changes(wanted, existing, schema, hasher=hash_password):
    """The Plan for a validated batch against the indexed search result. Pure: no I/O.

    Raises LdapError when an entry would lose an attribute its object classes require.
    """
    plan = Plan()
    adds, modifies, deletes = [], [], []
    problems = []
    for entry in wanted:
        ndn = normalize_dn(entry.dn)
        found = existing.get(ndn)
        if entry.state != "present":
            if found:
                dn, attrs, passwords = found
                deletes.append(("delete", dn, None))
                plan.removed.append(dn)
                plan.before[dn] = _masked(attrs, password_kept=bool(passwords))
            continue
        if found is None:
            if entry.must_missing:
                problems.append("%s (%s): cannot be created without %s" % (
                    entry.label, entry.dn, ", ".join(entry.describe(a) for a in entry.must_missing)))
                continue
            attrs = {name: values for name, values in entry.attrs.items() if values}
            modlist = [(name, _encode(values)) for name, values in attrs.items()]
            if entry.password is not None:
                modlist.append(("userPassword", [hasher(entry.password, entry.password_hash).encode("ascii")]))
            adds.append(("add", entry.dn, modlist))
            plan.created.append(entry.dn)
            plan.after[entry.dn] = _masked(attrs, password_changed=entry.password is not None)
            continue
        dn, have_attrs, passwords = found
        mods, before, after = [], {}, {}
        for name, want in entry.attrs.items():
            have = have_attrs.get(name, [])
            norm = schema.normaliser(name)
            have_n = dict((norm(v), v) for v in have)
            want_n = dict((norm(v), v) for v in want)
            mode = entry.modes.get(name, "replace")
            if mode == "replace":
                if set(have_n) != set(want_n):
                    mods.append((ldap.MOD_REPLACE, name, _encode(want) or None))
                    before[name], after[name] = have, want
            else:
                if name == "objectClass":  # implied by every class; entries made without it stay so
                    want_n.pop("top", None)
                added = [v for k, v in want_n.items() if k not in have_n]
                removed = [v for k, v in have_n.items() if k not in want_n] if mode == "exact" else []
                if added:
                    mods.append((ldap.MOD_ADD, name, _encode(added)))
                if removed:
                    mods.append((ldap.MOD_DELETE, name, _encode(removed)))
                if added or removed:
                    before[name] = have
                    after[name] = [v for k, v in have_n.items() if k in want_n or mode == "append"] + added
            if name in before and not after[name] and name in entry.must_missing:
                problems.append("%s (%s): %s would be left empty, but the object classes require it"
                                % (entry.label, dn, entry.describe(name)))
        password_changed = False
        if entry.password is not None and entry.update_password == "always":
            verdicts = [verify_password(entry.password, stored) for stored in passwords]
            if True not in verdicts:
                if None in verdicts:
                    plan.unverified.append(dn)
                mods.append((ldap.MOD_REPLACE, "userPassword",
                             [hasher(entry.password, entry.password_hash).encode("ascii")]))
                password_changed = True
        if mods:
            modifies.append(("modify", dn, mods))
            plan.updated.append(dn)
            plan.before[dn] = _masked(before, password_kept=password_changed and bool(passwords))
            plan.after[dn] = _masked(after, password_changed=password_changed)
    if problems:
        raise LdapError("; ".join(problems))
    # Deletes first, so a value freed by a removed entry can be taken by an added one.
    plan.ops = deletes + modifies + adds
    return plan


def apply_plan(lconn, plan):
    """Run the planned writes in order. On a failure, say how far it got (LDAP has no transactions)."""
    for done, (kind, dn, payload) in enumerate(plan.ops):
        try:
            if kind == "add":
                lconn.add_s(dn, payload)
            elif kind == "modify":
                lconn.modify_s(dn, payload)
            else:
                lconn.delete_s(dn)
        except ldap.LDAPError as exc:
            message = describe_error(exc, "%s of %s failed" % (kind, dn))
            if not done:
                raise LdapError(message)
            last_kind, last_dn, _payload = plan.ops[done - 1]
            # A rerun plans from what the server holds, so it picks up exactly where this stopped.
            raise PartialWrite("%s, after %d of %d writes (the last one applied: %s %s); the rest were not sent. "
                               "Rerun the task when the server answers again: it continues from there"
                               % (message, done, len(plan.ops), last_kind, last_dn), done=done)


def sync_entries(lconn, wanted, search_base, unique_attrs, check_mode, schema):
    """Validate the whole batch, read the affected entries with one paged search, plan, and
    (unless check_mode) write. Returns the Plan. Raises LdapError before any write on bad input."""
    problems = validate_wanted(wanted, schema)
    if problems:
        raise LdapError("; ".join(problems))
    attrs = {"objectClass"}
    for entry in wanted:
        attrs.update(entry.attrs)
        if entry.password is not None and entry.update_password == "always":
            attrs.add("userPassword")
    attrs.update(unique_attrs)
    terms = [term for entry in wanted for term in search_terms(entry, unique_attrs)]
    try:
        found = search_any(lconn, search_base, terms, sorted(attrs)) if terms else []
    except ldap.NO_SUCH_OBJECT as exc:
        if any(entry.state == "present" for entry in wanted):
            raise LdapError("%s; create it first" % describe_error(exc, "the parent entry %s does not exist" % search_base))
        found = []  # nothing can be there to remove
    except ldap.LDAPError as exc:
        raise LdapError(describe_error(exc, "searching %s" % search_base))
    existing = index_existing(found, schema)
    problems = check_unique(wanted, existing, unique_attrs, schema)
    if problems:
        raise LdapError("; ".join(problems))
    plan = plan_changes(wanted, existing, schema)
    if not check_mode:
        apply_plan(lconn, plan)
    return plan


# ---------------------------------------------------------------------------------------------
# What a module holds

class LdapModuleClient:
    """The AnsibleModule, a bound connection, the schema on demand, and one-line failures."""

    def __init__(self, module):
        self.module = module
        self.lconn = None
        if not HAS_LDAP:
            module.fail_json(msg=missing_required_lib("python-ldap"), exception=LDAP_IMPORT_ERROR)
        try:
            self.conn, warnings = resolve_connection(module.params)
            for warning in warnings:
                module.warn(warning)
            self.lconn = connect(self.conn)
        except LdapError as exc:
            self.fail("%s. Nothing was changed." % exc)

    def schema(self):
        try:
            return read_schema(self.lconn)
        except ldap.LDAPError as exc:
            raise LdapError(describe_error(exc, "reading the server schema"))

    def fail(self, msg, **kwargs):
        self.close()
        self.module.fail_json(msg=msg, **kwargs)

    def fail_on(self, exc):
        if isinstance(exc, PartialWrite):  # some writes went through: the directory did change
            self.fail("%s." % exc, changed=True, writes_applied=exc.done)
        self.fail("%s. Nothing was changed." % exc, changed=False)

    def exit_with(self, plan, what):
        """End the module with the plan's result (and diff when asked for)."""
        self.close()
        if plan.unverified:
            self.module.warn("The stored passwords of %d %s use a scheme this module cannot verify ({CRYPT}, "
                             "{PBKDF2}, ...), so they were replaced: %s"
                             % (len(plan.unverified), what, ", ".join(plan.unverified[:5])))
        result = plan.result()
        if self.module._diff:
            result["diff"] = plan.diff()
        result["invocation"] = dict(module_args=compact_args(self.module.params))
        self.module.exit_json(**result)

    def close(self):
        if self.lconn is not None:
            try:
                self.lconn.unbind_s()
            except ldap.LDAPError:
                pass
            self.lconn = None


# ---------------------------------------------------------------------------------------------
# Users and groups: module options -> Wanted entries

# Options of one user; the same names at the top level of db2_ldap_user describe one user.
USER_OPTIONS = dict(
    uid=dict(type="str"),
    cn=dict(type="list", elements="str"),
    sn=dict(type="str"),
    uid_number=dict(type="int"),
    gid_number=dict(type="int"),
    home_directory=dict(type="str"),
    login_shell=dict(type="str"),
    object_classes=dict(type="list", elements="str"),
    attributes=dict(type="dict"),
    password=dict(type="str", no_log=True),
    update_password=dict(type="str", choices=["always", "on_create"], no_log=False),
    state=dict(type="str", choices=["present", "absent"]),
)
# Item options that take the top-level value when an item leaves them unset.
USER_SHARED = ("gid_number", "login_shell", "object_classes", "update_password", "state")
USER_DEFAULTS = dict(object_classes=["posixAccount", "inetOrgPerson"], update_password="always", state="present")
_USER_ATTRS = dict(uid="uid", cn="cn", sn="sn", uid_number="uidNumber", gid_number="gidNumber",
                   home_directory="homeDirectory", login_shell="loginShell")

GROUP_OPTIONS = dict(
    name=dict(type="str"),
    description=dict(type="str"),
    object_class=dict(type="str", choices=["groupOfUniqueNames", "groupOfNames", "posixGroup"]),
    gid_number=dict(type="int"),
    members=dict(type="list", elements="str"),
    members_mode=dict(type="str", choices=["exact", "append"]),
    attributes=dict(type="dict"),
    state=dict(type="str", choices=["present", "absent"]),
)
GROUP_SHARED = ("object_class", "members_mode", "state")
GROUP_DEFAULTS = dict(object_class="groupOfUniqueNames", members_mode="exact", state="present")
MEMBER_ATTRIBUTE = dict(groupOfUniqueNames="uniqueMember", groupOfNames="member", posixGroup="memberUid")
_RESERVED = {"objectclass", "userpassword"}


def top_level_options(options, defaults):
    """The item options as top-level options: one entry, and the defaults for every item."""
    spec = dict((name, dict(option)) for name, option in options.items())
    for name, default in defaults.items():
        spec[name]["default"] = default
    return spec


def batch_items(params, options, shared, key, list_name):
    """The items of a task: its list option, or the top-level options as a single item.

    Shared options left unset in an item take the top-level value (or its default);
    `attributes` of the top level and of an item are merged (the item wins)."""
    items = params.get(list_name)
    if items is None:
        if not params.get(key):
            raise LdapError("give %s (one entry) or %s (a list)" % (key, list_name))
        items = [dict((name, params.get(name)) for name in options)]
    else:
        stray = [name for name in options if name not in shared and name != "attributes" and params.get(name) is not None]
        if stray:
            raise LdapError("%s describe one entry and cannot be combined with %s; put them in the items"
                            % (", ".join(stray), list_name))
    merged = []
    for item in items:
        one = dict((name, item.get(name)) for name in options)
        for name in shared:
            if one.get(name) is None:
                one[name] = params.get(name)
        one["attributes"] = dict(params.get("attributes") or {}, **(item.get("attributes") or {}))
        if not one.get(key):
            raise LdapError("every item of %s needs %s" % (list_name, key))
        merged.append(one)
    return merged


def check_name(what, value):
    """An entry's naming value (uid, group name): text, no NUL, no edge spaces (LDAP ignores them)."""
    check_text(what, value)
    if value != value.strip() or not value:
        raise LdapError("%s %r has leading or trailing spaces, which LDAP matching ignores; remove them" % (what, value))
    return value


def _extra_attributes(what, attributes, managed, attrs, option_names):
    for name, value in (attributes or {}).items():
        check_attribute_name(name)
        if name.lower() in _RESERVED or name.lower() in managed:
            raise LdapError("%s: set %s with its own option, not in attributes" % (what, name))
        values = value if isinstance(value, list) else ([] if value is None else [value])
        text = []
        for one in values:
            if isinstance(one, bool):
                one = "TRUE" if one else "FALSE"  # LDAP Boolean syntax
            text.append(check_text("%s: attribute %s" % (what, name), str(one)))
        attrs[name] = text
        option_names[name] = "attributes.%s" % name


def _duplicates(pairs):
    """LdapError when two items of the batch share a key; pairs are (comparison key, label)."""
    seen = {}
    problems = []
    for index, (key, label) in enumerate(pairs):
        if key in seen:
            problems.append("%s appears twice in the batch (items %d and %d)" % (label, seen[key] + 1, index + 1))
        seen.setdefault(key, index)
    if problems:
        raise LdapError("; ".join(problems))


def user_wanted(params, parent_dn):
    """Wanted entries for db2_ldap_user; LdapError on input that cannot be right whatever the server."""
    items = batch_items(params, USER_OPTIONS, USER_SHARED, "uid", "users")
    rdn_attribute = params["rdn_attribute"]
    wanted = []
    for item in items:
        uid = check_name("uid", item["uid"])
        what = "user %r" % uid
        dn = build_dn(rdn_attribute, uid, parent_dn)
        if item["state"] == "absent":
            wanted.append(Wanted(dn, what, state="absent"))
            continue
        classes = ["top"] + [c for c in item["object_classes"] if c.lower() != "top"]
        lower_classes = {c.lower() for c in classes}
        cn = list(item["cn"] or [uid])
        if rdn_attribute == "cn" and uid.casefold() not in {c.casefold() for c in cn}:
            cn.insert(0, uid)  # the RDN value must be one of the entry's values
        values = dict(uid=uid, cn=cn, sn=item["sn"], uid_number=item["uid_number"], gid_number=item["gid_number"],
                      home_directory=item["home_directory"], login_shell=item["login_shell"])
        if values["sn"] is None and lower_classes & {"person", "organizationalperson", "inetorgperson"}:
            values["sn"] = uid  # as the cookbook: sn is required by person, uid is the natural value
        home_default = values["home_directory"] is None and "posixaccount" in lower_classes
        if home_default:
            values["home_directory"] = "/home/%s" % uid
        attrs = {"objectClass": classes}
        option_names = dict((attr, option) for option, attr in _USER_ATTRS.items())
        if home_default:
            option_names["homeDirectory"] = "home_directory, /home/<uid> by default"
        for option, attr in _USER_ATTRS.items():
            value = values[option]
            if value is None:
                continue
            attrs[attr] = [check_text("%s: %s" % (what, option), str(v)) for v in (value if isinstance(value, list) else [value])]
        _extra_attributes(what, item["attributes"], {a.lower() for a in _USER_ATTRS.values()}, attrs, option_names)
        if item["password"] is not None:
            check_text("%s: password" % what, item["password"])
            if not item["password"]:  # a simple bind with an empty password is an anonymous bind
                raise LdapError("%s: password is empty; leave it unset to keep the stored one" % what)
        wanted.append(Wanted(dn, what, attrs=attrs, modes={"objectClass": "append"}, password=item["password"],
                             update_password=item["update_password"], password_hash=params["password_hash"],
                             option_names=option_names))
    _duplicates([(normalize_dn(w.dn), w.label) for w in wanted])
    _duplicates([(int(w.attrs["uidNumber"][0]), "uid_number %s" % w.attrs["uidNumber"][0])
                 for w in wanted if w.attrs.get("uidNumber")])
    return wanted


def group_items(params):
    items = batch_items(params, GROUP_OPTIONS, GROUP_SHARED, "name", "groups")
    for item in items:
        check_name("group name", item["name"])
        for member in item["members"] or []:
            check_text("group %r: member" % item["name"], member)
    return items


def member_kind(member, base_dn):
    """`dn` for a DN under base_dn, `uid` for anything else (so a uid may contain `=` or `,`)."""
    try:
        return "dn" if is_under(member, base_dn) and normalize_dn(member) != normalize_dn(base_dn) else "uid"
    except LdapError:
        return "uid"


def member_terms(items, base_dn):
    """The filter terms of the one search that resolves every member of every group."""
    terms = []
    for item in items:
        for member in item["members"] or []:
            terms.append(rdn_filter(member) if member_kind(member, base_dn) == "dn" else eq_filter("uid", member))
    return list(dict.fromkeys(terms))


def resolve_members(items, found, base_dn):
    """{(group name, member as given): (dn, uid)} from the member search; LdapError naming every
    member that does not exist or is ambiguous."""
    by_dn, by_uid = {}, {}
    for dn, attrs in found:
        uids = [v.decode("utf-8", "replace") for v in attrs.get("uid", [])]
        by_dn[normalize_dn(dn)] = (dn, uids[0] if uids else None)
        for uid in uids:
            by_uid.setdefault(uid.casefold(), []).append((dn, uid))  # uid is caseIgnoreMatch
    resolved, problems = {}, []
    for item in items:
        for member in item["members"] or []:
            if member_kind(member, base_dn) == "dn":
                hit = by_dn.get(normalize_dn(member))
                if hit is None:
                    problems.append("group %r: member %s does not exist" % (item["name"], member))
                    continue
            else:
                hits = by_uid.get(" ".join(member.split()).casefold(), [])
                if not hits:
                    hint = " (a DN outside %s is taken as a uid)" % base_dn if "=" in member else ""
                    problems.append("group %r: members: no entry with uid %r under %s%s"
                                    % (item["name"], member, base_dn, hint))
                    continue
                if len(hits) > 1:
                    problems.append("group %r: members: uid %r is ambiguous (%s); give the DN"
                                    % (item["name"], member, ", ".join(dn for dn, _u in hits)))
                    continue
                hit = hits[0]
            resolved[(item["name"], member)] = hit
    if problems:
        raise LdapError("; ".join(problems))
    return resolved


def find_members(lconn, items, base_dn, planned=None):
    """Resolve every member of every group with one paged search under base_dn.

    planned: {normalised DN: (dn, uid) or None} of a user batch planned in the same task and not
    written yet; its entries count as they will be (None: the entry is being removed).
    """
    terms = member_terms(items, base_dn)
    if not terms:
        return {}
    try:
        found = search_any(lconn, base_dn, terms, ["uid"])
    except ldap.LDAPError as exc:
        raise LdapError(describe_error(exc, "looking up group members under %s" % base_dn))
    if planned:
        entries = dict((normalize_dn(dn), (dn, attrs)) for dn, attrs in found)
        for ndn, entry in planned.items():
            if entry is None:
                entries.pop(ndn, None)
            elif is_under(entry[0], base_dn):
                entries[ndn] = (entry[0], {"uid": [entry[1].encode("utf-8")]})
        found = list(entries.values())
    return resolve_members(items, found, base_dn)


def sync_directory(lconn, params, schema, check_mode):
    """db2_ldap_directory: users, then groups whose members may be those users, all validated and
    planned before the first write, over one connection. Returns the combined Plan."""
    base = params["base_dn"]
    plan, planned = Plan(), {}
    if params["users"] is not None:
        users_parent = join_dn(params["users_ou"], base, "users_ou")
        user_params = dict((name, None) for name in USER_OPTIONS)
        user_params.update(USER_DEFAULTS, users=params["users"], rdn_attribute=params["rdn_attribute"],
                           password_hash=params["password_hash"])
        users = user_wanted(user_params, users_parent)
        plan.extend(sync_entries(lconn, users, users_parent, ("uid", "uidNumber"), True, schema))
        for entry in users:
            planned[normalize_dn(entry.dn)] = (entry.dn, entry.attrs["uid"][0]) if entry.state == "present" else None
    if params["groups"] is not None:
        groups_parent = join_dn(params["groups_ou"], base, "groups_ou")
        group_params = dict((name, None) for name in GROUP_OPTIONS)
        group_params.update(GROUP_DEFAULTS, groups=params["groups"])
        items = group_items(group_params)
        members_base = join_dn("", params["members_base"] or base,
                               base_option="members_base" if params["members_base"] else "base_dn")
        resolved = find_members(lconn, items, members_base, planned)
        plan.extend(sync_entries(lconn, group_wanted(items, groups_parent, resolved), groups_parent,
                                 ("cn", "gidNumber"), True, schema))
    if not check_mode:
        apply_plan(lconn, plan)
    return plan


def group_wanted(items, parent_dn, resolved):
    """Wanted entries for db2_ldap_group from its items and the resolved members."""
    wanted = []
    for item in items:
        name = item["name"]
        what = "group %r" % name
        dn = build_dn("cn", name, parent_dn)
        if item["state"] == "absent":
            wanted.append(Wanted(dn, what, state="absent"))
            continue
        object_class = item["object_class"]
        member_attr = MEMBER_ATTRIBUTE[object_class]
        members = []
        for member in item["members"] or []:
            member_dn, uid = resolved[(name, member)]
            if object_class == "posixGroup":
                if uid is None:
                    raise LdapError("%s: member %s has no uid, which posixGroup's memberUid needs" % (what, member_dn))
                members.append(uid)
            else:
                members.append(member_dn)
        mode = item["members_mode"]
        if object_class != "posixGroup" and mode == "exact" and not members:
            raise LdapError("%s: %s needs at least one member (%s is required by the schema); give members, "
                            "or use object_class=posixGroup for a group that may be empty"
                            % (what, object_class, member_attr))
        attrs = {"objectClass": ["top", object_class], "cn": [name]}
        option_names = {"cn": "name", member_attr: "members", "gidNumber": "gid_number"}
        if item["members"] is not None or mode == "exact":
            attrs[member_attr] = members
        if item["description"] is not None:
            attrs["description"] = [check_text("%s: description" % what, item["description"])]
        if item["gid_number"] is not None:
            attrs["gidNumber"] = [str(item["gid_number"])]
        _extra_attributes(what, item["attributes"], {"cn", "description", "gidnumber", member_attr.lower()},
                          attrs, option_names)
        wanted.append(Wanted(dn, what, attrs=attrs, option_names=option_names,
                             modes={"objectClass": "append", member_attr: mode}))
    _duplicates([(normalize_dn(w.dn), w.label) for w in wanted])
    _duplicates([(int(w.attrs["gidNumber"][0]), "gid_number %s" % w.attrs["gidNumber"][0])
                 for w in wanted if w.attrs.get("gidNumber")])
    return wanted
