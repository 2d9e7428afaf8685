# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database manager configuration as `db2 get dbm cfg` prints it, and the authentication
plug-ins it names (IBM's LDAP ones among them).

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re

SERVER_PLUGIN, CLIENT_PLUGIN, GROUP_PLUGIN = "IBMLDAPauthserver", "IBMLDAPauthclient", "IBMLDAPgroups"
LDAP_PLUGINS = (SERVER_PLUGIN, CLIENT_PLUGIN, GROUP_PLUGIN)
PLUGIN_PARAMS = ("SRVCON_PW_PLUGIN", "CLNT_PW_PLUGIN", "GROUP_PLUGIN")

_CFG_LINE = re.compile(r"\(([A-Z0-9_]+)\)\s*=\s*(.*)$")


def parse_dbm_cfg(text):
    """{PARAM: value} of `db2 get dbm cfg` output (values stripped)."""
    found = {}
    for line in text.splitlines():
        match = _CFG_LINE.search(line)
        if match:
            found[match.group(1)] = match.group(2).strip()
        elif "Current member resolved DIAGPATH" in line and "=" in line:
            found["RESOLVED_DIAGPATH"] = line.split("=", 1)[1].strip()
    return found


def uses_ldap(dbm):
    return any(dbm.get(p) in LDAP_PLUGINS for p in PLUGIN_PARAMS)


def auth_facts(dbm_output):
    """The authentication plug-ins of the instance (dbm cfg), and whether they are IBM's LDAP ones."""
    dbm = parse_dbm_cfg(dbm_output)
    if "SRVCON_PW_PLUGIN" not in dbm:
        return dict(ldap=None, authentication=None,
                    error="cannot read the dbm cfg: %s" % " ".join(dbm_output.split())[-200:])
    facts = dict((p.lower(), dbm.get(p) or None) for p in PLUGIN_PARAMS)
    facts.update(ldap=uses_ldap(dbm), authentication=dbm.get("AUTHENTICATION"), error=None)
    return facts
