# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNs, filters and value normalisation for LDAP: escaping, comparison rules and the one error type.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import functools
import re

from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionFailed
from ansible_collections.db2ops.docker.plugins.module_utils._ldap._lib import ldap


class LdapError(ActionFailed):
    """An LDAP problem explained in one line for the user (no traceback needed)."""


class PartialWrite(LdapError):
    """A write failed after others had succeeded (LDAP has no transactions)."""

    def __init__(self, message, done=0):
        super(PartialWrite, self).__init__(message)
        self.done = done


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
