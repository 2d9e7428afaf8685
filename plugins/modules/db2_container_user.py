#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_container_user
short_description: Manage OS users (and their passwords) inside a running Db2 container
version_added: 0.1.0
description:
  - The cookbook's "add users manually to each container" (C(useradd -M -N) then C(passwd)) as an
    idempotent task. Db2 authenticates C(connect ... user U using P) against these OS users.
  - The password is hashed (SHA-512 crypt, random salt) where the module runs and sent to
    C(chpasswd -e) on the standard input of a C(docker exec), so it never appears in a command line,
    the container's environment or a log. The plaintext never enters the container.
  - Idempotent password handling re-hashes O(password) with the salt of the hash stored in the
    container's C(/etc/shadow) and compares; nothing is written when they match.
  - If a later command fails after an earlier one changed the container (C(useradd) done, C(chpasswd)
    failed), the task fails with C(changed=true) and says what was done and what was not.
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.docker
  - db2ops.docker.attributes
  - db2ops.docker.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - Shows uid, gid, shell, groups and whether a password is set or changed, never the hash.
options:
  container:
    description:
      - Name or id of a running Db2 container.
    type: str
    required: true
  name:
    description:
      - User name, 1-30 characters C(a-z0-9_-), not starting with C(SYS), C(IBM) or C(SQL).
      - The instance owner, C(db2fenc1) and C(root) are refused, and so is any existing system account of the
        container (uid below 1000, like C(daemon), or the owner of the instance's C(sqllib/adm/.fenced));
        such users are never changed or removed.
    type: str
    required: true
  state:
    description:
      - V(absent) removes the user (C(userdel), the home directory is kept).
    type: str
    choices: [present, absent]
    default: present
  uid:
    description:
      - User id, 1000-60000 (lower ids are system accounts); fails if another user of the container has it.
    type: int
  gid:
    description:
      - Primary group id. Without it a new user gets the default group (C(useradd -N)).
    type: int
  groups:
    description:
      - Supplementary groups, for example C(db2iadm1) for SYSADM. They must exist in the container.
      - When given, the user's supplementary groups become exactly these (see O(append)).
    type: list
    elements: str
  append:
    description:
      - Add O(groups) to the user's groups instead of replacing them.
    type: bool
    default: false
  shell:
    description:
      - Login shell; new users get C(/bin/bash).
    type: str
  password:
    description:
      - The password. Hashed with SHA-512 crypt and a random salt before it is sent.
    type: str
  update_password:
    description:
      - V(always) sets O(password) whenever it does not match the stored hash; V(on_create) only for a new user.
    type: str
    choices: [always, on_create]
    default: always
notes:
  - B(Users made in a container are lost when the container is re-created), for example by a
    fix pack upgrade (C(db2ops.docker.db2_container_upgrade) re-creates it from a new image), because
    C(/etc/passwd) and C(/etc/shadow) are not on the C(/database) storage. Put users that must last
    into the image with the O(db2ops.docker.db2_image#module:users) option of M(db2ops.docker.db2_image), or
    authenticate against LDAP (cookbook recipe 4), or run this module again after each re-creation.
  - SHA-512 crypt is implemented in the collection (the C(crypt) module is gone in Python 3.13 and
    passlib is not needed).
seealso:
  - module: db2ops.docker.db2_image
"""

EXAMPLES = r"""
- name: An application user who can connect to TESTDB
  db2ops.docker.db2_container_user:
    container: db2server
    name: appuser
    uid: 2001
    groups: [db2iadm1]
    password: "{{ vault_appuser_password }}"

- name: Create with an initial password, never reset it afterwards
  db2ops.docker.db2_container_user:
    container: db2server
    name: reporter
    password: "{{ initial_password }}"
    update_password: on_create

- name: Remove a user
  db2ops.docker.db2_container_user:
    container: db2server
    name: olduser
    state: absent
"""

RETURN = r"""
container:
  description: Container name.
  returned: always
  type: str
name:
  description: User name.
  returned: always
  type: str
user:
  description: The user afterwards (predicted in check mode); null when absent.
  returned: always
  type: dict
  sample: {exists: true, uid: 2001, gid: 100, shell: /bin/bash, groups: [db2iadm1], password_set: true}
commands:
  description: Commands run in the container (or that would run), as root. C(chpasswd -e) gets the hash on stdin.
  returned: always
  type: list
  elements: str
  sample: ["useradd -M -N -s /bin/bash -u 2001 -G db2iadm1 appuser", "chpasswd -e"]
"""

from ansible_collections.db2ops.docker.plugins.module_utils._db2.users import ContainerUserManager, PartialChange
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    CONTAINER_NAME,
    DockerModuleClient,
    DockerOperationError,
    docker_module,
    failure_note,
)
from ansible_collections.db2ops.docker.plugins.module_utils._image.build import SHELL_RULE, USER_NAME_RULE


def main():
    module = docker_module(
        dict(
            container=dict(type="str", required=True),
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            uid=dict(type="int"),
            gid=dict(type="int"),
            groups=dict(type="list", elements="str"),
            append=dict(type="bool", default=False),
            shell=dict(type="str"),
            password=dict(type="str", no_log=True),
            update_password=dict(type="str", choices=["always", "on_create"], default="always", no_log=False),
        ),
        rules={"container": CONTAINER_NAME, "name": USER_NAME_RULE, "groups": USER_NAME_RULE, "shell": SHELL_RULE},
        not_empty=("container", "name", "password"))
    docker = DockerModuleClient(module)
    try:
        result = ContainerUserManager(docker.api, module.params, module.check_mode).run()
    except PartialChange as exc:
        docker.fail("%s." % exc, changed=True)
    except DockerOperationError as exc:
        docker.fail("%s. %s" % (exc, failure_note(exc)))
    finally:
        docker.close()
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
