#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_ldap_group
short_description: Manage LDAP groups and their members for Db2 authorization, in bulk
version_added: 0.1.0
description:
  - Creates, updates and removes group entries for Db2's C(IBMLDAPgroups) plug-in,
    C(groupOfUniqueNames) as in the Docker cookbook (C(cn=db2iadm1,ou=Groups,dc=example,dc=org)
    with C(uniqueMember) DNs), or C(groupOfNames) (C(member)) or C(posixGroup) (C(memberUid) and C(gidNumber)).
  - Members are given by uid or by DN; all members of all groups are resolved with one search, and
    a member that does not exist (or a uid that matches two entries) fails the task before anything
    is written.
  - One group from the top-level options, or many from O(groups), over one connection; the batch
    is validated against the server schema first, then one paged search reads the groups and only
    the needed writes are sent. Membership changes are sent as value adds and deletes, not by
    rewriting the whole member list.
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.ldap
  - db2ops.docker.ldap_entries.groups
  - db2ops.docker.attributes
  - db2ops.docker.attributes.actiongroup_ldap
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - Shows, per DN, the attributes that change.
options:
  base_dn:
    description:
      - Base DN of the directory, for example C(dc=example,dc=org).
    type: str
    required: true
  groups_ou:
    description:
      - Where the groups live, relative to O(base_dn). The empty string means O(base_dn) itself.
      - The entry must exist; otherwise the task fails. Group name and gidNumber clashes are checked in this subtree.
    type: str
    default: ou=Groups
  members_base:
    description:
      - Subtree searched for members. Defaults to O(base_dn).
      - A member that is a DN under this base is taken as a DN, anything else as a uid.
    type: str
  name:
    description:
      - Name (C(cn)) of the one group this task manages. Use O(groups) for several.
    type: str
  description:
    description:
      - Description of the group.
    type: str
  object_class:
    description:
      - Kind of group. V(groupOfUniqueNames) and V(groupOfNames) list member DNs and need at least
        one member (the schema requires it); V(posixGroup) lists uids, needs O(gid_number) and may be empty.
    type: str
    choices: [groupOfUniqueNames, groupOfNames, posixGroup]
    default: groupOfUniqueNames
  gid_number:
    description:
      - Numeric group id (C(gidNumber)), required for a new C(posixGroup). Must be unique.
    type: int
  members:
    description:
      - Members, each a uid (C(db2inst1)) or a DN (C(cn=db2inst1,ou=Users,dc=example,dc=org)).
    type: list
    elements: str
  members_mode:
    description:
      - V(exact) makes the members exactly O(members), removing others; this matches the cookbook,
        whose LDIF lists every member of a group.
      - V(append) only adds the missing ones and never removes a member. Without O(members), the members
        are left alone.
    type: str
    choices: [exact, append]
    default: exact
  attributes:
    description:
      - More attributes, name to a value or a list of values. An empty list removes the attribute.
      - Attributes that have their own option and C(objectClass) cannot be set here.
    type: dict
  state:
    description:
      - V(present) creates or updates the group, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  groups:
    description:
      - Several groups in one task. Each item takes the options above (O(name) to O(state)).
      - In an item, unset O(object_class), O(members_mode) and O(state) take the top-level value;
        O(attributes) of the top level and the item are merged.
      - Mutually exclusive with O(name) and the other per-group options at the top level.
seealso:
  - module: db2ops.docker.db2_ldap_user
"""

EXAMPLES = r"""
- name: The cookbook's Db2 groups
  db2ops.docker.db2_ldap_group:
    server_uri: ldap://ldap-host:389
    ca_path: /etc/db2ops/ldap-ca.crt
    bind_dn: cn=admin,dc=example,dc=org
    bind_pw: "{{ ldap_admin_password }}"
    base_dn: dc=example,dc=org
    groups:
      - name: db2iadm1
        description: Db2 SYSADM group
        members: [db2inst1, "cn=idbjorh,ou=Users,dc=example,dc=org"]
      - name: db2fadm1
        description: Db2 Fenced users group
        members: [db2fenc1]

- name: Add one user to a group, keeping the other members
  db2ops.docker.db2_ldap_group:
    base_dn: dc=example,dc=org
    name: db2iadm1
    members: [rbobby]
    members_mode: append

- name: A POSIX group
  db2ops.docker.db2_ldap_group:
    base_dn: dc=example,dc=org
    name: db2users
    object_class: posixGroup
    gid_number: 5000
    members: [db2inst1, rbobby]
"""

RETURN = r"""
created:
  description: DNs of the groups that were added (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [cn=db2iadm1,ou=Groups,dc=example,dc=org]
updated:
  description: DNs of the groups that were modified.
  returned: always
  type: list
  elements: str
removed:
  description: DNs of the groups that were deleted.
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
  sample: [{op: modify, dn: "cn=db2iadm1,ou=Groups,dc=example,dc=org", changes: [[add, uniqueMember]]}]
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
    GROUP_DEFAULTS,
    GROUP_OPTIONS,
    find_members,
    group_items,
    group_wanted,
    top_level_options,
)
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.dn import LdapError, join_dn
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.sync import sync_entries


def main():
    item_options = dict(GROUP_OPTIONS, name=dict(type="str", required=True))
    module = bulk_module(
        argument_spec=ldap_argument_spec(dict(
            top_level_options(GROUP_OPTIONS, GROUP_DEFAULTS),
            base_dn=dict(type="str", required=True),
            groups_ou=dict(type="str", default="ou=Groups"),
            members_base=dict(type="str"),
            groups=dict(type="list", elements="dict", options=item_options),
        )),
        mutually_exclusive=[["name", "groups"]],
        required_one_of=[["name", "groups"]],
        supports_check_mode=True,
    )
    client = LdapModuleClient(module)
    params = module.params
    try:
        parent = join_dn(params["groups_ou"], params["base_dn"], "groups_ou")
        items = group_items(params)
        resolved = find_members(client.lconn, items, join_dn(
            "", params["members_base"] or params["base_dn"],
            base_option="members_base" if params["members_base"] else "base_dn"))
        wanted = group_wanted(items, parent, resolved)
        plan = sync_entries(client.lconn, wanted, parent, ("cn", "gidNumber"), module.check_mode, client.schema())
    except LdapError as exc:
        client.fail_on(exc)
    client.exit_with(plan, "groups")


if __name__ == "__main__":
    main()
