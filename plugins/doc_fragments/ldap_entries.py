# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The item lists of the bulk LDAP modules (module_utils/_ldap/ USER_OPTIONS and GROUP_OPTIONS).
    # Each module adds its own description of the list: what an unset item option means there.
    DOCUMENTATION = r"""
options: {}
"""

    USERS = r"""
options:
  users:
    type: list
    elements: dict
    suboptions:
      uid:
        description: Login name.
        type: str
        required: true
      cn:
        description: Common names.
        type: list
        elements: str
      sn:
        description: Surname.
        type: str
      uid_number:
        description: Numeric user id.
        type: int
      gid_number:
        description: Numeric primary group id.
        type: int
      home_directory:
        description: Home directory.
        type: str
      login_shell:
        description: Login shell.
        type: str
      object_classes:
        description: Object classes.
        type: list
        elements: str
      attributes:
        description: More attributes.
        type: dict
      password:
        description: Cleartext password, hashed before it is sent; never logged or returned.
        type: str
      update_password:
        description: When to set the password.
        type: str
        choices: [always, on_create]
      state:
        description: Whether the user exists.
        type: str
        choices: [present, absent]
"""

    GROUPS = r"""
options:
  groups:
    type: list
    elements: dict
    suboptions:
      name:
        description: Group name (C(cn)).
        type: str
        required: true
      description:
        description: Description.
        type: str
      object_class:
        description: Kind of group.
        type: str
        choices: [groupOfUniqueNames, groupOfNames, posixGroup]
      gid_number:
        description: Numeric group id.
        type: int
      members:
        description: Members by uid or DN.
        type: list
        elements: str
      members_mode:
        description: Exact or append.
        type: str
        choices: [exact, append]
      attributes:
        description: More attributes.
        type: dict
      state:
        description: Whether the group exists.
        type: str
        choices: [present, absent]
"""
