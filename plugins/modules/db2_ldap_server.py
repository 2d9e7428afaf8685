#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_ldap_server
short_description: Run an OpenLDAP container for Db2 authentication on a user-defined network
version_added: 0.1.0
description:
  - Runs the OpenLDAP server of the cookbook's recipe 4 as a container on a user-defined Docker
    network (created if missing), so Db2 containers on that network reach it by name. The cookbook's
    C(--link ldap-service:ldap-host) does the same with a legacy Docker feature.
  - One set of options (O(domain) or O(base_dn), O(organisation), O(admin_password), a read-only query
    user) is mapped to the environment of the image's style (O(env_style)). Passwords never appear in
    the container's environment. They are copied into the created container as files, mode C(0400), and
    named by the images' C(*_PASSWORD_FILE) variables.
  - O(bootstrap_ldif) files are copied into the image's bootstrap directory before the first start.
  - Values that become Docker names, host names, file names or setup environment of the image follow
    strict rules, checked before Docker is asked anything. These are O(name), O(network), O(hostname),
    O(aliases), O(domain), O(readonly_user), O(published_ports), O(image) and the O(bootstrap_ldif)
    names. No option may hold NUL or control characters (except the LDIF content) or 4,096+ characters.
    A bad value fails the task with one line naming the option, and nothing is changed.
  - The task ends when a bind as the admin works. It binds inside the container with C(ldapwhoami),
    with the password on standard input.
  - Idempotent. The container carries a label with a hash of its configuration (image, environment, network,
    ports, LDIF; passwords excluded). A container whose label differs is stopped, removed and created
    again on the same volumes, so its directory (users, groups, passwords) is kept (O(recreate_data)).
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
    support: none
requirements:
  - docker (Python Docker SDK)
  - python-ldap (DN checks)
options:
  name:
    description: Container name, also its host name on O(network) unless O(hostname) is set.
    type: str
    required: true
  state:
    description: V(absent) removes the container and its volumes, so the directory is gone (the network stays).
    type: str
    choices: [present, absent]
    default: present
  image:
    description: The OpenLDAP image. It must be on the Docker host already (the module does not pull).
    type: str
    default: osixia/openldap:1.5.0
  env_style:
    description:
      - How the image is configured. V(osixia) for C(osixia/openldap) (C(LDAP_DOMAIN), C(LDAP_BASE_DN),
        C(LDAP_ORGANISATION), C(LDAP_ADMIN_PASSWORD_FILE), C(LDAP_READONLY_USER*), C(LDAP_TLS),
        LDIF in C(.../bootstrap/ldif/custom), ports 389/636).
      - V(ours) for the collection's test image C(db2ops/openldap:test). It is osixia-compatible and adds
        C(LDAP_TLS_SUBJECT_ALT_NAMES).
      - V(bitnami) for C(bitnami/openldap) (C(LDAP_ROOT), C(LDAP_ADMIN_USERNAME=admin),
        C(LDAP_ADMIN_PASSWORD_FILE), C(LDAP_CUSTOM_LDIF_DIR=/ldifs), C(LDAP_SKIP_DEFAULT_TREE=yes), ports
        1389/1636, runs as uid 1001). It has no read-only user, and its TLS needs your own certificates,
        so O(ldap_tls=false) is required. This mapping follows Bitnami's documentation and was not run here.
    type: str
    choices: [osixia, ours, bitnami]
    default: osixia
  domain:
    description: DNS domain; the base DN is made from it (C(example.org) gives C(dc=example,dc=org)).
    type: str
    default: example.org
  base_dn:
    description: Base DN, when not the one derived from O(domain).
    type: str
  organisation:
    description: Organisation name of the base entry.
    type: str
    default: Example Inc.
  admin_password:
    description: Password of C(cn=admin,<base DN>). Required with O(state=present). Used at the first start only.
    type: str
  readonly_user:
    description: Name of a read-only query user C(cn=<name>,<base DN>), for the Db2 plug-in's C(SEARCH_DN).
    type: str
  readonly_password:
    description: Its password.
    type: str
  ldap_tls:
    description:
      - StartTLS on the LDAP port and LDAPS (the image generates a CA and server certificate).
      - O(tls) is the Docker connection's option, as in every other Docker module.
    type: bool
    default: true
  tls_subject_alt_names:
    description: Extra names for the generated server certificate (O(env_style=ours) only).
    type: list
    elements: str
    default: []
  network:
    description: User-defined bridge network to run on; created when missing.
    type: str
    required: true
  hostname:
    description: Host name of the container; defaults to O(name).
    type: str
  aliases:
    description: More names of the container on O(network), for example the cookbook's C(ldap-host).
    type: list
    elements: str
    default: []
  published_ports:
    description: Ports to publish on the Docker host, as C([ip:]host_port:container_port), for example C(127.0.0.1:1389:389).
    type: list
    elements: str
    default: []
  bootstrap_ldif:
    description: LDIF files applied by the image at its first start.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: File name, for example C(50-ous.ldif).
        type: str
        required: true
      content:
        description: The LDIF.
        type: str
        required: true
  ready_timeout:
    description: Seconds to wait until the admin bind works.
    type: int
    default: 120
  recreate_data:
    description:
      - What happens to the directory when the container is re-created because its configuration differs
        (another image, ports, network, environment, LDIF).
      - V(keep) puts the new container on the old one's volumes (C(/var/lib/ldap), C(/etc/ldap/slapd.d)), so
        users, groups and passwords stay. The images read O(domain), O(base_dn), O(organisation), the
        passwords, the read-only user and O(bootstrap_ldif) only when the volumes are empty, so a change of
        those takes effect only with V(wipe). Another base DN (O(domain), O(base_dn)) with V(keep) fails
        the task before anything is changed.
      - V(wipe) removes the old container with its volumes; the new one sets up an empty directory. Use it
        only when the directory's content may be lost.
    type: str
    choices: [keep, wipe]
    default: keep
notes:
  - Data lives in the container's volumes. It survives restarts and, by default, a re-creation
    (O(recreate_data=keep)); O(state=absent) removes the volumes.
seealso:
  - module: db2ops.docker.db2_ldap_auth
  - module: db2ops.docker.db2_ldap_user
"""

EXAMPLES = r"""
- name: The cookbook's ldap-service, on a network shared with the Db2 containers
  db2ops.docker.db2_ldap_server:
    name: ldap-service
    image: osixia/openldap:1.5.0
    network: db2-ldap
    aliases: [ldap-host]
    admin_password: "{{ vault_ldap_admin_password }}"
    readonly_user: ldapquery
    readonly_password: "{{ vault_ldapquery_password }}"
    published_ports: ["127.0.0.1:1389:389"]
  register: ldap

- name: Save the generated CA for StartTLS from the controller
  ansible.builtin.copy:
    content: "{{ ldap.ca_cert }}"
    dest: /etc/db2ops/ldap-ca.pem
    mode: "0644"
"""

RETURN = r"""
commands:
  description: What was done (or would be done in check mode).
  returned: always
  type: list
  elements: str
container_id:
  description: Id of the container.
  returned: success and not check mode
  type: str
base_dn:
  description: The directory's base DN.
  returned: success and not check mode
  type: str
admin_dn:
  description: DN of the admin.
  returned: success and not check mode
  type: str
readonly_dn:
  description: DN of the read-only user, or null.
  returned: success and not check mode
  type: str
ldap_host:
  description: C(name:port) for C(LDAP_HOST) of Db2 containers on the same network.
  returned: success and not check mode
  type: str
ip_address:
  description: Address of the container on O(network).
  returned: success and not check mode
  type: str
ca_cert:
  description: PEM of the CA that signed the server certificate (C(TLS_CACERT) in the container), or null.
  returned: success and not check mode
  type: str
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    APIError,
    DockerModuleClient,
    DockerOperationError,
    docker_module,
)
from ansible_collections.db2ops.docker.plugins.module_utils._ldap._lib import HAS_LDAP, LDAP_IMPORT_ERROR
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.dn import LdapError
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.server import (
    SERVER_OPTIONS,
    LdapServerError,
    check_inputs,
    run_task,
)


def main():
    module = docker_module(SERVER_OPTIONS, multiline=("bootstrap_ldif.content",), check=check_inputs)
    if not HAS_LDAP:
        module.fail_json(msg=missing_required_lib("python-ldap"), exception=LDAP_IMPORT_ERROR)
    docker = DockerModuleClient(module)
    try:
        changed, result = run_task(docker.api, module.params, module.check_mode)
    except (LdapServerError, LdapError, DockerOperationError, APIError) as exc:
        docker.fail_on(exc)
    finally:
        docker.close()
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
