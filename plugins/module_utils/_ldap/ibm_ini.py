# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IBMLDAPSecurity.ini, the file IBM's LDAP plug-ins read: its keys and limits (IBMLDAPutils.h),
the module options that fill it, rendering, and masking its two passwords.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re

from ansible_collections.db2ops.docker.plugins.module_utils.actions import MASK, ActionFailed
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.dn import LdapError, check_attribute_name, parse_dn


# The keys the module writes, in the order of IBM's IBMLDAPSecurity.ini.sample, with the kind
# of value each holds. Limits from IBMLDAPutils.h (facts 5): host 500, DN 1024, attribute 128,
# password 256, file name 1024 bytes; a line holds at most 1092 bytes.
INI_KEYS = (
    ("LDAP_HOST", "host"), ("ENABLE_SSL", "bool"), ("SSL_KEYFILE", "file"), ("SSL_PW", "password"),
    ("USER_OBJECTCLASS", "attribute"), ("USER_BASEDN", "dn"), ("USERID_ATTRIBUTE", "attribute"),
    ("AUTHID_ATTRIBUTE", "attribute"), ("GROUP_OBJECTCLASS", "attribute"), ("GROUP_BASEDN", "dn"),
    ("GROUPNAME_ATTRIBUTE", "attribute"), ("GROUP_LOOKUP_METHOD", "method"),
    ("GROUP_LOOKUP_ATTRIBUTE", "attribute"), ("NESTED_GROUPS", "bool"), ("SEARCH_DN", "dn"),
    ("SEARCH_PW", "password"),
)
SECRET_KEYS = ("SSL_PW", "SEARCH_PW")
LIMITS = dict(host=500, dn=1024, attribute=128, password=256, file=1024)
MAX_LINE = 1092
REQUIRED = ("LDAP_HOST", "USER_OBJECTCLASS", "USERID_ATTRIBUTE", "AUTHID_ATTRIBUTE")
REQUIRED_FOR_GROUPS = ("GROUP_OBJECTCLASS", "GROUPNAME_ATTRIBUTE", "GROUP_LOOKUP_METHOD", "GROUP_LOOKUP_ATTRIBUTE")
HEADER = "; Written by db2ops.docker.db2_ldap_auth: edits are replaced on its next run.\n"
# The module's options for the ini are the keys in lower case.
INI_OPTIONS = dict(
    ldap_host=dict(type="list", elements="str"),
    enable_ssl=dict(type="bool", default=False),
    ssl_keyfile=dict(type="str", no_log=False),  # a path, not a secret
    ssl_pw=dict(type="str", no_log=True),
    user_objectclass=dict(type="str", default="inetOrgPerson"),
    user_basedn=dict(type="str"),
    userid_attribute=dict(type="str", default="uid"),
    authid_attribute=dict(type="str", default="uid"),
    group_objectclass=dict(type="str", default="groupOfUniqueNames"),
    group_basedn=dict(type="str"),
    groupname_attribute=dict(type="str", default="cn"),
    group_lookup_method=dict(type="str", default="SEARCH_BY_DN", choices=["SEARCH_BY_DN", "USER_ATTRIBUTE"]),
    group_lookup_attribute=dict(type="str", default="uniqueMember"),
    nested_groups=dict(type="bool", default=False),
    search_dn=dict(type="str"),
    search_pw=dict(type="str", no_log=True),
)
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:(\d{1,5}))?$")


class LdapAuthError(ActionFailed):
    """A problem explained in one line; `changed` says whether something was already written."""


def _check_value(key, kind, value):
    """Problems with one value, as text (empty list when it is fine)."""
    problems = []
    if "\x00" in value or "\n" in value or "\r" in value:
        return ["%s must be one line of text without NUL" % key]
    if ";" in value:  # the plug-in starts a comment at any `;`, the rest would be lost
        problems.append("%s contains ';', which IBMLDAPSecurity.ini reads as the start of a comment" % key)
    if value != value.strip():
        problems.append("%s has leading or trailing spaces, which the plug-in strips" % key)
    if kind in LIMITS and len(value.encode("utf-8")) > LIMITS[kind]:
        problems.append("%s is %d bytes long; the plug-in takes at most %d" % (key, len(value.encode("utf-8")), LIMITS[kind]))
    if kind == "attribute":
        try:
            check_attribute_name(value)
        except LdapError as exc:
            problems.append("%s: %s" % (key, exc))
    elif kind == "dn":
        try:
            parse_dn(value, key)
        except LdapError as exc:
            problems.append(str(exc))
    elif kind == "host":
        for host in value.split():
            match = _HOST.match(host)
            if not match or (match.group(3) and not 0 < int(match.group(3)) < 65536):
                problems.append("LDAP_HOST entry %r is not host[:port]" % host)
    return problems


def ini_values(params, groups=True):
    """[(KEY, value)] for the ini from the module options; LdapAuthError listing every problem."""
    values, problems = [], []
    for key, kind in INI_KEYS:
        value = params.get(key.lower())
        if key == "LDAP_HOST":
            value = " ".join(value) if value else None
        if value is None or value == "":
            continue
        if kind == "bool":
            value = "TRUE" if value else "FALSE"
        value = str(value)
        problems += _check_value(key, kind, value)
        if len(("%s = %s" % (key, value)).encode("utf-8")) > MAX_LINE:
            problems.append("the %s line would be longer than the %d bytes the plug-in reads" % (key, MAX_LINE))
        values.append((key, value))
    given = dict(values)
    for key in REQUIRED + (REQUIRED_FOR_GROUPS if groups else ()):
        if key not in given:
            problems.append("%s is required%s" % (key.lower(), " with group_plugin=true" if key in REQUIRED_FOR_GROUPS else ""))
    if ("SSL_PW" in given) != ("SSL_KEYFILE" in given):
        problems.append("ssl_keyfile and ssl_pw go together (the key database and its password)")
    if ("SEARCH_PW" in given) and "SEARCH_DN" not in given:
        problems.append("search_pw needs search_dn")
    if problems:
        raise LdapAuthError("invalid IBMLDAPSecurity.ini settings: %s" % "; ".join(problems))
    return values


def render_ini(values):
    return HEADER + "".join("%s = %s\n" % (key, value) for key, value in values)


def mask_ini(text):
    """The ini with the values of SEARCH_PW and SSL_PW replaced by ********."""
    if text is None:
        return None
    out = []
    for line in text.splitlines(True):
        key = line.split("=", 1)[0].strip().upper()
        if key in SECRET_KEYS and "=" in line:
            line = "%s = %s\n" % (line.split("=", 1)[0].strip(), MASK)
        out.append(line)
    return "".join(out)
