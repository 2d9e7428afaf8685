#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_ldap_user
short_description: Manage LDAP users for Db2 authentication, one or a thousand in one task
version_added: 0.1.0
description:
  - Creates, updates and removes user entries (C(posixAccount) + C(inetOrgPerson) by default) for
    Db2's C(IBMLDAPauthserver) plug-in, in the shape of the Docker cookbook
    (C(cn=<uid>,ou=Users,dc=example,dc=org)).
  - One user from the top-level options, or many from O(users), over one connection. The whole
    batch is checked first (duplicates, the server schema, uid and uidNumber clashes with other
    entries, the parent entry); on any problem the task fails naming every problem and nothing is
    written. Then one paged search reads the affected entries and only the needed add, modify and
    delete operations are sent.
  - Values are compared as the server compares them (by its matching rules, so C(cn)
    and C(uid) ignore case, integers and DNs are normalised), so a rerun changes nothing.
  - Passwords are hashed on the controller (O(password_hash)) and checked against the stored hash
    locally, without binding as the user; a password that still matches is not rewritten.
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.ldap
  - db2ops.docker.ldap_entries.users
  - db2ops.docker.attributes
  - db2ops.docker.attributes.actiongroup_ldap
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - Shows, per DN, the attributes that change; passwords appear as C(********).
options:
  base_dn:
    description:
      - Base DN of the directory, for example C(dc=example,dc=org).
    type: str
    required: true
  users_ou:
    description:
      - Where the users live, relative to O(base_dn). The empty string means O(base_dn) itself.
      - The entry must exist (create it with the role or an LDIF); otherwise the task fails.
      - uid and uidNumber clashes are checked in this subtree.
    type: str
    default: ou=Users
  rdn_attribute:
    description:
      - Attribute that names the entry. V(cn) gives the cookbook's C(cn=<uid>,ou=Users,...); the
        uid is then always one of the C(cn) values.
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
  uid:
    description:
      - Login name of the one user this task manages. Use O(users) for several.
      - Any characters are allowed and escaped in DNs and filters (C(*), C(\), C(,), C(=), C(+), C(#)),
        except NUL and leading or trailing spaces (which LDAP matching ignores).
    type: str
  cn:
    description:
      - Common names. Default is the uid; with O(rdn_attribute=cn) the uid is added if missing.
    type: list
    elements: str
  sn:
    description:
      - Surname. Defaults to the uid when an object class needs it (C(person) and subclasses).
    type: str
  uid_number:
    description:
      - Numeric user id (C(uidNumber)), required for a new C(posixAccount). Must be unique.
    type: int
  gid_number:
    description:
      - Numeric primary group id (C(gidNumber)), required for a new C(posixAccount).
    type: int
  home_directory:
    description:
      - Home directory. Defaults to C(/home/<uid>) for a C(posixAccount).
    type: str
  login_shell:
    description:
      - Login shell.
    type: str
  object_classes:
    description:
      - Object classes of the entry. C(top) is added. Classes an existing entry has beyond these are kept.
    type: list
    elements: str
    default: [posixAccount, inetOrgPerson]
  attributes:
    description:
      - More attributes, name to a value or a list of values, for example C(mail) with C(a@example.org).
        Each becomes exactly these values; an empty list removes the attribute.
      - Names are checked against the server schema and the object classes.
      - Attributes that have their own option, C(objectClass) and C(userPassword) cannot be set here.
    type: dict
  password:
    description:
      - Cleartext password. It is hashed on the controller and never logged or returned.
      - If not given, the stored password is left alone.
    type: str
  update_password:
    description:
      - V(always) sets the password when it does not match the stored hash; V(on_create) sets it
        only when the entry is created.
      - Stored values in schemes that cannot be checked here (C({CRYPT}), C({PBKDF2}), ...) count as
        not matching, so with V(always) the password is then rewritten every run, with a warning.
    type: str
    choices: [always, on_create]
    default: always
  state:
    description:
      - V(present) creates or updates the user, V(absent) deletes the entry.
    type: str
    choices: [present, absent]
    default: present
  users:
    description:
      - Several users in one task. Each item takes the options above (O(uid) to O(state)).
      - In an item, unset O(gid_number), O(login_shell), O(object_classes), O(update_password) and
        O(state) take the top-level value; O(attributes) of the top level and the item are merged.
      - Mutually exclusive with O(uid) and the other per-user options at the top level.
notes:
  - Nothing is written unless the whole batch is valid, but LDAP has no transactions. If the server
    refuses a write half way (a case validation cannot foresee, such as an access rule), the
    error says how many writes were applied before it.
seealso:
  - module: db2ops.docker.db2_ldap_group
  - name: Docker Cookbook, recipe 4
    description: The LDIF and C(slappasswd) + C(ldapadd) steps this module replaces.
    link: https://www.xtivia.com
"""

EXAMPLES = r"""
- name: The cookbook's db2inst1, over StartTLS with the container's CA
  db2ops.docker.db2_ldap_user:
    server_uri: ldap://ldap-host:389
    ca_path: /etc/db2ops/ldap-ca.crt
    bind_dn: cn=admin,dc=example,dc=org
    bind_pw: "{{ ldap_admin_password }}"
    base_dn: dc=example,dc=org
    uid: db2inst1
    uid_number: 1000
    gid_number: 1000
    home_directory: /database/config/db2inst1
    login_shell: /bin/bash
    password: "{{ db2inst1_password }}"

- name: Many users in one task; LDAP connection set once for the LDAP modules
  module_defaults:
    group/db2ops.docker.ldap:
      server_uri: ldaps://ldap.example.org
      bind_dn: cn=admin,dc=example,dc=org
      bind_pw: "{{ ldap_admin_password }}"
  db2ops.docker.db2_ldap_user:
    base_dn: dc=example,dc=org
    gid_number: 1000
    login_shell: /bin/bash
    update_password: on_create
    users:
      - {uid: rbobby, cn: [Ricky Bobby], uid_number: 2001, password: "{{ initial_pw }}"}
      - {uid: cnorris, uid_number: 2002, attributes: {mail: cnorris@example.org}}
      - {uid: olduser, state: absent}
"""

RETURN = r"""
created:
  description: DNs of the entries that were added (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [cn=rbobby,ou=Users,dc=example,dc=org]
updated:
  description: DNs of the entries that were modified.
  returned: always
  type: list
  elements: str
removed:
  description: DNs of the entries that were deleted.
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
  sample: [{op: modify, dn: "cn=db2inst1,ou=Users,dc=example,dc=org", changes: [[replace, loginShell]]}]
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
    USER_DEFAULTS,
    USER_OPTIONS,
    top_level_options,
    user_wanted,
)
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.dn import LdapError, join_dn
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.passwords import PASSWORD_HASHES
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.sync import sync_entries


def main():
    item_options = dict(USER_OPTIONS, uid=dict(type="str", required=True))
    module = bulk_module(
        argument_spec=ldap_argument_spec(dict(
            top_level_options(USER_OPTIONS, USER_DEFAULTS),
            base_dn=dict(type="str", required=True),
            users_ou=dict(type="str", default="ou=Users"),
            rdn_attribute=dict(type="str", choices=["cn", "uid"], default="cn"),
            password_hash=dict(type="str", choices=PASSWORD_HASHES, default="ssha", no_log=False),
            users=dict(type="list", elements="dict", options=item_options),
        )),
        mutually_exclusive=[["uid", "users"]],
        required_one_of=[["uid", "users"]],
        supports_check_mode=True,
    )
    client = LdapModuleClient(module)
    try:
        parent = join_dn(module.params["users_ou"], module.params["base_dn"], "users_ou")
        wanted = user_wanted(module.params, parent)
        plan = sync_entries(client.lconn, wanted, parent, ("uid", "uidNumber"), module.check_mode, client.schema())
    except LdapError as exc:
        client.fail_on(exc)
    client.exit_with(plan, "users")


if __name__ == "__main__":
    main()
