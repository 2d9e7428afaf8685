#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_ldap_auth
short_description: Make a Db2 instance in a container authenticate users through LDAP
version_added: 0.1.0
description:
  - Configures IBM's LDAP security plug-ins for the Db2 instance of a running container, as the
    cookbook's recipe 4 does by hand. Writes C(~/sqllib/cfg/IBMLDAPSecurity.ini) (or the file
    named by E(DB2LDAPSecurityConfig) in the container) from the options, mode C(0600), owned by
    the instance owner; sets C(SRVCON_PW_PLUGIN IBMLDAPauthserver) and C(GROUP_PLUGIN IBMLDAPgroups)
    (optionally C(CLNT_PW_PLUGIN), C(AUTHENTICATION), C(SRVCON_AUTH)) in the dbm cfg; then restarts
    the instance, because the plug-ins read both only at C(db2start).
  - Every value is checked before anything is written (required keys, the plug-in's length limits,
    booleans, DNs and attribute names, no C(;) which the plug-in reads as a comment). The file
    travels on the standard input of a C(docker exec), so C(SEARCH_PW) is never in a process
    list, the container's environment, the result or the log.
  - The restart is C(db2stop force) then C(db2start) inside the container, not a container restart
    (which would re-run IBM's whole instance setup). It happens only when the ini or the dbm cfg
    changed, or when the configuration in effect is not the configured one (a restart still
    pending). The module records a fingerprint of what the last C(db2start) it ran loaded in
    C(.db2ops_ldap_applied) next to the ini; an instance configured by hand is therefore restarted
    once on the first run.
  - C(db2stop force) ends every connection to the instance. Plan the task in a maintenance window.
  - If C(db2start) refuses the new configuration (C(SQL1365N)), the previous ini and dbm cfg are put
    back and the instance is started again, and the task fails with the reason from C(db2diag.log).
    The instance is never left stopped.
  - With O(verify_user), the task proves the result with C(CONNECT TO db USER u USING p) and
    returns the authorization ID and the groups Db2 sees for it; it fails if the login fails.
  - O(state=absent) goes back to operating system authentication. It clears the LDAP plug-in
    parameters (only those naming IBM's LDAP plug-ins), removes the ini and restarts.
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.docker
  - db2ops.docker.attributes
  - db2ops.docker.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
    details:
      - The plan is returned in RV(commands). The proof login runs only if nothing would change.
  diff_mode:
    support: full
    details:
      - The ini before and after (C(SEARCH_PW) and C(SSL_PW) shown as C(********)) and the dbm cfg values.
requirements:
  - docker (Python Docker SDK)
  - python-ldap (DN checks)
options:
  container:
    description: Name of the running Db2 container.
    type: str
    required: true
  state:
    description: V(present) configures LDAP authentication, V(absent) returns to operating system authentication.
    type: str
    choices: [present, absent]
    default: present
  ldap_host:
    description:
      - C(LDAP_HOST) - LDAP servers as C(host) or C(host:port), tried in turn. The port defaults to 389,
        or 636 with O(enable_ssl).
      - On a user-defined Docker network (see O(network)) the host is the LDAP container's name.
      - Required with O(state=present).
    type: list
    elements: str
  enable_ssl:
    description: C(ENABLE_SSL) - talk to the LDAP server over TLS (C(ldaps)).
    type: bool
    default: false
  ssl_keyfile:
    description:
      - C(SSL_KEYFILE) - path, inside the container, of the GSKit key database that holds the CA
        certificate of the LDAP server.
    type: str
  ssl_pw:
    description: C(SSL_PW) - password of the key database.
    type: str
  user_objectclass:
    description: C(USER_OBJECTCLASS) - object class of user entries.
    type: str
    default: inetOrgPerson
  user_basedn:
    description: C(USER_BASEDN) - where users are searched, for example C(ou=Users,dc=example,dc=org).
    type: str
  userid_attribute:
    description: C(USERID_ATTRIBUTE) - attribute that holds the login name.
    type: str
    default: uid
  authid_attribute:
    description: C(AUTHID_ATTRIBUTE) - attribute whose value becomes the Db2 authorization ID.
    type: str
    default: uid
  group_objectclass:
    description: C(GROUP_OBJECTCLASS) - object class of group entries.
    type: str
    default: groupOfUniqueNames
  group_basedn:
    description: C(GROUP_BASEDN) - where groups are searched.
    type: str
  groupname_attribute:
    description: C(GROUPNAME_ATTRIBUTE) - attribute that holds the group name.
    type: str
    default: cn
  group_lookup_method:
    description:
      - C(GROUP_LOOKUP_METHOD) - V(SEARCH_BY_DN) finds groups whose O(group_lookup_attribute) holds the
        user's DN, V(USER_ATTRIBUTE) reads group DNs from the user's O(group_lookup_attribute)
        (for example C(memberOf)).
    type: str
    choices: [SEARCH_BY_DN, USER_ATTRIBUTE]
    default: SEARCH_BY_DN
  group_lookup_attribute:
    description: C(GROUP_LOOKUP_ATTRIBUTE) - C(uniqueMember), C(member) or C(memberOf).
    type: str
    default: uniqueMember
  nested_groups:
    description: C(NESTED_GROUPS) - follow groups of groups.
    type: bool
    default: false
  search_dn:
    description: C(SEARCH_DN) - DN the plug-in binds as to search, for example a read-only query user. Anonymous if unset.
    type: str
  search_pw:
    description: C(SEARCH_PW) - password of O(search_dn).
    type: str
  group_plugin:
    description: Set C(GROUP_PLUGIN IBMLDAPgroups), so Db2 takes group membership from LDAP.
    type: bool
    default: true
  client_plugin:
    description: Set C(CLNT_PW_PLUGIN IBMLDAPauthclient) too (for C(AUTHENTICATION CLIENT) setups).
    type: bool
    default: false
  authentication:
    description: C(AUTHENTICATION) of the dbm cfg; unchanged when not set.
    type: str
    choices: [SERVER, SERVER_ENCRYPT, SERVER_ENCRYPT_AES, CLIENT, DATA_ENCRYPT, DATA_ENCRYPT_CMP]
  srvcon_auth:
    description: C(SRVCON_AUTH) of the dbm cfg; unchanged when not set.
    type: str
    choices: [SERVER, SERVER_ENCRYPT, SERVER_ENCRYPT_AES, CLIENT, DATA_ENCRYPT, DATA_ENCRYPT_CMP]
  restart:
    description:
      - Restart the instance when the configuration changed or a restart is pending. With V(false) the
        task only writes and reports RV(restart_pending).
    type: bool
    default: true
  network:
    description:
      - A user-defined Docker network to connect the Db2 container to first (live, without a restart),
        so that O(ldap_host) can be the LDAP container's name. The cookbook's C(--link) does the same
        job but is a legacy Docker feature.
    type: str
  network_aliases:
    description: Extra names of the Db2 container on O(network).
    type: list
    elements: str
  verify_user:
    description:
      - An LDAP user to log in as after the configuration; the task fails if the login fails.
      - 1-128 letters, digits, C(_), C(@), C(#), C($), C(.) or C(-), not starting with C(.) or C(-)
        (it goes into a CLP statement, where C(;) or C(!) would be syntax). Checked before anything is done.
    type: str
  verify_password:
    description:
      - Password of O(verify_user). Sent in double quotes when it holds anything but letters, digits and
        C(_.@#$%&*+=,:/?~^-), so blanks, C(!) and C(--) stay part of it.
      - A password with a double quote or C(;) (which IBM does not support in passwords), or with leading or
        trailing blanks, is refused before anything is done. It never appears in the result or the log.
    type: str
  verify_database:
    description: Database to connect to for the proof login.
    type: str
    default: TESTDB
  exec_timeout:
    description: Seconds each step inside the container (reading, restart, login) may take.
    type: int
    default: 600
notes:
  - The real plug-in reads the CA from a GSKit key database (C(.kdb)) made with C(gsk8capicmd_64);
    this module writes the ini only and does not create key databases.
seealso:
  - module: db2ops.docker.db2_ldap_server
  - module: db2ops.docker.db2_ldap_user
  - module: db2ops.docker.db2_ldap_group
"""

EXAMPLES = r"""
- name: Db2 logins through the OpenLDAP container (cookbook recipe 4)
  db2ops.docker.db2_ldap_auth:
    container: db2server
    network: db2-ldap
    ldap_host: [ldap-service:389]
    user_basedn: ou=Users,dc=example,dc=org
    group_basedn: ou=Groups,dc=example,dc=org
    search_dn: cn=ldapquery,dc=example,dc=org
    search_pw: "{{ vault_ldapquery_password }}"
    verify_user: db2inst1
    verify_password: "{{ vault_db2inst1_ldap_password }}"
    verify_database: TESTDB
  register: auth

- name: Groups Db2 sees for the proof user
  ansible.builtin.debug:
    var: auth.verified.groups

- name: Back to operating system authentication
  db2ops.docker.db2_ldap_auth:
    container: db2server
    state: absent
"""

RETURN = r"""
commands:
  description: What was done (or would be done in check mode), in order; no secrets.
  returned: always
  type: list
  elements: str
  sample: ["write /database/config/db2inst1/sqllib/cfg/IBMLDAPSecurity.ini (mode 0600)",
           "UPDATE DBM CFG USING GROUP_PLUGIN IBMLDAPgroups SRVCON_PW_PLUGIN IBMLDAPauthserver",
           "db2stop force; db2start"]
ini_path:
  description: The ini file inside the container.
  returned: success
  type: str
dbm_cfg_changes:
  description: dbm cfg parameters changed, with their new values (empty = cleared).
  returned: success
  type: dict
restarted:
  description: Whether the instance was restarted.
  returned: when restarted
  type: bool
restart_pending:
  description: The configuration differs from the one in effect and O(restart=false) kept the instance running.
  returned: success
  type: bool
verified:
  description: The proof login (O(verify_user)) - user, authorization ID and the groups Db2 lists for it.
  returned: when verify_user is set and the login ran
  type: dict
  sample: {user: alice, authid: ALICE, groups: [DB2IADM1, READERS]}
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Error
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import instance_owner, open_running_db2
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    DockerModuleClient,
    DockerOperationError,
    docker_module,
)
from ansible_collections.db2ops.docker.plugins.module_utils._ldap._lib import HAS_LDAP, LDAP_IMPORT_ERROR
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.db2_auth import (
    AUTH_TYPES,
    check_task_inputs,
    run_task,
)
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.ibm_ini import INI_OPTIONS, LdapAuthError


def main():
    options = dict(INI_OPTIONS)
    options.update(
        container=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        group_plugin=dict(type="bool", default=True),
        client_plugin=dict(type="bool", default=False),
        authentication=dict(type="str", choices=AUTH_TYPES),
        srvcon_auth=dict(type="str", choices=AUTH_TYPES),
        restart=dict(type="bool", default=True),
        network=dict(type="str"),
        network_aliases=dict(type="list", elements="str"),
        verify_user=dict(type="str"),
        verify_password=dict(type="str", no_log=True),
        verify_database=dict(type="str", default="TESTDB"),
        exec_timeout=dict(type="int", default=600),
    )
    module = docker_module(options, required_together=[["verify_user", "verify_password"]],
                           required_if=[["state", "present", ["ldap_host"]]], check=check_task_inputs)
    if not HAS_LDAP:
        module.fail_json(msg=missing_required_lib("python-ldap"), exception=LDAP_IMPORT_ERROR)
    docker = DockerModuleClient(module)
    try:
        inspect = open_running_db2(docker.api, module.params["container"])
        changed, result = run_task(docker.api, inspect, instance_owner(inspect), module.params,
                                   module.check_mode, module.warn)
    except (LdapAuthError, Db2Error, DockerOperationError) as exc:
        docker.fail_on(exc)
    finally:
        docker.close()
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
