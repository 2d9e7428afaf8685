#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_ldap_directory
short_description: Seed the users and groups of a Db2 LDAP directory in one task
version_added: 0.1.0
description:
  - The cookbook's LDIF load as one declarative task. Users (as M(db2ops.docker.db2_ldap_user) makes them) and
    groups (as M(db2ops.docker.db2_ldap_group)) over one connection, one bind and one schema read.
  - The whole task is validated and planned before the first write, both lists together; a group member may be a
    user of the same task that does not exist yet (also in check mode). Then the users are written, then the groups.
  - Use this module to seed or keep in line a whole directory from a vars file; use the two other modules to change
    one user or one group, or to set options for every item of a list at once.
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.ldap
  - db2ops.docker.ldap_entries.users
  - db2ops.docker.ldap_entries.groups
  - db2ops.docker.attributes
  - db2ops.docker.attributes.actiongroup_ldap
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - Shows, per DN, the attributes that change; passwords are masked.
options:
  base_dn:
    description:
      - Base DN of the directory, for example C(dc=example,dc=org).
    type: str
    required: true
  users_ou:
    description:
      - Where the users live, relative to O(base_dn). It must exist.
    type: str
    default: ou=Users
  groups_ou:
    description:
      - Where the groups live, relative to O(base_dn). It must exist.
    type: str
    default: ou=Groups
  members_base:
    description:
      - Subtree searched for group members given by uid. Defaults to O(base_dn).
    type: str
  rdn_attribute:
    description:
      - Attribute naming the user entries, V(cn) as in the cookbook (C(cn=db2inst1,ou=Users,...)) or V(uid).
    type: str
    choices: [cn, uid]
    default: cn
  password_hash:
    description:
      - Scheme for new password hashes. V(ssha) is what C(slappasswd) makes and every OpenLDAP
        verifies; the SHA-2 schemes need the C(pw-sha2) module loaded in slapd.
    type: str
    choices: [ssha, ssha256, ssha384, ssha512]
    default: ssha
  users:
    description:
      - The users, each as one user of M(db2ops.docker.db2_ldap_user) (see there for the meaning of each option).
        Unset options take that module's defaults (V([posixAccount, inetOrgPerson]) object classes, passwords
        updated V(always), state V(present)).
      - Omit to manage groups only.
  groups:
    description:
      - The groups, each as one group of M(db2ops.docker.db2_ldap_group) (see there for the meaning of each option).
        Unset options take that module's defaults (V(groupOfUniqueNames), members V(exact), state V(present)); members
        may be users of this task.
      - Omit to manage users only.
seealso:
  - module: db2ops.docker.db2_ldap_user
  - module: db2ops.docker.db2_ldap_group
"""

EXAMPLES = r"""
- name: The cookbook's directory, from a vars file
  db2ops.docker.db2_ldap_directory:
    server_uri: ldap://ldap-host:389
    ca_path: /etc/db2ops/ldap-ca.crt
    bind_dn: cn=admin,dc=example,dc=org
    bind_pw: "{{ ldap_admin_password }}"
    base_dn: dc=example,dc=org
    users:
      - uid: db2inst1
        uid_number: 1000
        gid_number: 1000
        home_directory: /database/config/db2inst1
        password: "{{ db2inst1_password }}"
      - uid: db2fenc1
        uid_number: 1001
        gid_number: 1001
    groups:
      - name: db2iadm1
        description: Db2 SYSADM group
        members: [db2inst1]
      - name: db2fadm1
        description: Db2 Fenced users group
        members: [db2fenc1]
"""

RETURN = r"""
created:
  description: DNs added (or that would be, in check mode), users first.
  returned: always
  type: list
  elements: str
  sample: [cn=db2inst1,ou=Users,dc=example,dc=org, cn=db2iadm1,ou=Groups,dc=example,dc=org]
updated:
  description: DNs modified.
  returned: always
  type: list
  elements: str
removed:
  description: DNs deleted.
  returned: always
  type: list
  elements: str
commands:
  description:
    - The LDAP operations sent, or that would be sent in check mode, one line each (LDIF change type, DN,
      attribute names; never values).
  returned: always
  type: list
  elements: str
  sample: ["modify cn=db2inst1,ou=Users,dc=example,dc=org: replace loginShell"]
operations:
  description: The LDAP operations sent (or that would be), in order, with attribute names but no values.
  returned: always
  type: list
  elements: dict
  sample: [{op: add, dn: "cn=db2inst1,ou=Users,dc=example,dc=org", attributes: [objectClass, uid, cn]}]
writes_applied:
  description:
    - When a write failed after others went through (the server stopped half way, say), how many were applied.
      The task then fails with C(changed=true); a rerun plans from what the server holds and continues.
  returned: when a write failed after other writes
  type: int
  sample: 150
"""


from ansible_collections.db2ops.docker.plugins.module_utils._ldap.connection import (
    LdapModuleClient,
    bulk_module,
    ldap_argument_spec,
)
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.directory import (
    GROUP_OPTIONS,
    USER_OPTIONS,
    sync_directory,
)
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.dn import LdapError
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.passwords import PASSWORD_HASHES


def main():
    module = bulk_module(
        argument_spec=ldap_argument_spec(dict(
            base_dn=dict(type="str", required=True),
            users_ou=dict(type="str", default="ou=Users"),
            groups_ou=dict(type="str", default="ou=Groups"),
            members_base=dict(type="str"),
            rdn_attribute=dict(type="str", choices=["cn", "uid"], default="cn"),
            password_hash=dict(type="str", choices=PASSWORD_HASHES, default="ssha", no_log=False),
            users=dict(type="list", elements="dict", options=dict(USER_OPTIONS, uid=dict(type="str", required=True))),
            groups=dict(type="list", elements="dict", options=dict(GROUP_OPTIONS, name=dict(type="str", required=True))),
        )),
        required_one_of=[["users", "groups"]],
        supports_check_mode=True,
    )
    client = LdapModuleClient(module)
    try:
        plan = sync_directory(client.lconn, module.params, client.schema(), module.check_mode)
    except LdapError as exc:
        client.fail_on(exc)
    client.exit_with(plan, "entries")


if __name__ == "__main__":
    main()
