# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One verified LDAP connection from the shared options, paged searches, one-line error texts,
and what an LDAP module holds (LdapModuleClient).

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os
import socket

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.db2ops.docker.plugins.module_utils._ldap._lib import HAS_LDAP, LDAP_IMPORT_ERROR, SimplePagedResultsControl, ldap, ldapurl
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.dn import (
    LdapError,
    PartialWrite,
    or_filter,
    parse_dn,
)
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.schema import _values_in, read_schema
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import fail_on_bad_params


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


def compact_args(params, limit=100):
    """Module arguments to echo back, with big entry lists summarised.

    Ansible echoes every argument and masks each no_log value in every returned string: for a
    batch of a thousand users (or ten groups of a hundred members) that is a large result and most
    of a rerun's time. A list of entries is echoed only while it holds at most `limit` values.
    """
    return dict((key, "%d entries (not echoed)" % len(value) if isinstance(value, list) and value
                 and isinstance(value[0], dict) and _values_in(value) > limit else value)
                for key, value in params.items())


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
