#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_ldap_admin_ui
short_description: Run phpLDAPadmin next to the LDAP directory, on its user-defined network
version_added: 0.1.0
description:
  - Runs phpLDAPadmin, the web page the cookbook's recipe 4 uses to create additional LDAP users, as a
    container on the directory's user-defined Docker network (created if missing). It reaches the
    directory by its name or network alias (O(ldap_host)), for example the C(ldap-host) alias given to
    M(db2ops.docker.db2_ldap_server).
  - The page is published on one host port (O(port), on O(bind_address)), over HTTPS by default. With
    O(certificate) and O(private_key) the page uses your certificate; without them the image makes a
    self-signed one at start. The files are read on the host the module runs on and copied into the
    created container (the key with mode C(0400)); they are never in its environment or command line.
  - One environment serves C(osixia/phpldapadmin) and the collection's test image
    C(db2ops/phpldapadmin:test). These are C(PHPLDAPADMIN_LDAP_HOSTS), C(PHPLDAPADMIN_HTTPS) and
    C(PHPLDAPADMIN_HTTPS_CRT_FILENAME), C(PHPLDAPADMIN_HTTPS_KEY_FILENAME), C(PHPLDAPADMIN_HTTPS_CA_CRT_FILENAME)
    for files in C(/container/service/phpldapadmin/assets/apache2/certs).
  - phpLDAPadmin binds to the directory as whoever logs in on the page (for example
    C(cn=admin,dc=example,dc=org) and its password, typed into the login form), so the container holds no
    password.
  - O(name), O(network), O(ldap_host), O(image), O(bind_address), O(port) and the certificate paths are
    checked before Docker is asked anything; a bad value fails the task with one line naming the option,
    and nothing is changed.
  - Idempotent. The container carries a label with its configuration (image, environment, network,
    published port, hashes of the certificates). A container whose label differs is removed and created
    again; phpLDAPadmin keeps no data in it.
  - The task ends when the login page answers inside the container (fetched with the image's PHP command
    line; an image without one counts as ready once it runs).
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
      - The diff shows the container's configuration before and after (the label's content).
requirements:
  - docker (Python Docker SDK)
options:
  name:
    description: Container name, also its host name.
    type: str
    required: true
  state:
    description: V(absent) removes the container (the network stays).
    type: str
    choices: [present, absent]
    default: present
  image:
    description:
      - The phpLDAPadmin image. It must be on the Docker host already (the module does not pull).
      - C(osixia/phpldapadmin) and C(db2ops/phpldapadmin:test) (built by C(tests/images/build.sh phpldapadmin))
        read the same environment.
    type: str
    default: osixia/phpldapadmin:0.9.0
  network:
    description: The directory's user-defined bridge network; created when missing.
    type: str
    required: true
  ldap_host:
    description: Name or network alias of the directory on O(network) (C(PHPLDAPADMIN_LDAP_HOSTS)).
    type: str
    required: true
  port:
    description: Host port the page is published on.
    type: int
    default: 6443
  bind_address:
    description:
      - Host address the page is published on. The default keeps it on the Docker host itself (reach it
        through an SSH tunnel); V(0.0.0.0) publishes it on every interface.
    type: str
    default: 127.0.0.1
  https:
    description: Serve the page over HTTPS (container port 443). V(false) serves plain HTTP (container port 80).
    type: bool
    default: true
  certificate:
    description:
      - PEM server certificate for the page, on the host the module runs on. Give it with O(private_key).
      - Without it the image makes a self-signed certificate at start.
    type: path
  private_key:
    description: PEM private key of O(certificate), on the host the module runs on.
    type: path
  ca_certificate:
    description:
      - PEM CA certificate for C(PHPLDAPADMIN_HTTPS_CA_CRT_FILENAME) (Apache's C(SSLCACertificateFile)).
      - Without it O(certificate) is copied in its place, since osixia's Apache site names a CA file.
    type: path
  ready_timeout:
    description: Seconds to wait until the login page answers.
    type: int
    default: 120
seealso:
  - module: db2ops.docker.db2_ldap_server
  - module: db2ops.docker.db2_ldap_user
"""

EXAMPLES = r"""
- name: phpLDAPadmin for the cookbook's ldap-service (alias ldap-host), HTTPS on port 6443 of the Docker host
  db2ops.docker.db2_ldap_admin_ui:
    name: phpldapadmin-service
    image: osixia/phpldapadmin:0.9.0
    network: db2-ldap
    ldap_host: ldap-host
    port: 6443
    certificate: /etc/ssl/db2ops/phpldapadmin.crt
    private_key: /etc/ssl/db2ops/phpldapadmin.key
  register: pla

- name: Where to log in (Login DN cn=admin,dc=example,dc=org and the admin password)
  ansible.builtin.debug:
    msg: "{{ pla.url }}"
"""

RETURN = r"""
commands:
  description: What was done (or would be done in check mode).
  returned: always
  type: list
  elements: str
url:
  description: The page as seen from the Docker host, for example C(https://127.0.0.1:6443/).
  returned: success with O(state=present)
  type: str
container_id:
  description: Id of the container.
  returned: success with O(state=present), not in check mode
  type: str
ldap_host:
  description: The directory the page talks to.
  returned: success with O(state=present), not in check mode
  type: str
ip_address:
  description: Address of the container on O(network).
  returned: success with O(state=present), not in check mode
  type: str
"""

from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    APIError,
    DockerModuleClient,
    DockerOperationError,
    docker_module,
)
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.admin_ui import (
    ADMIN_UI_OPTIONS,
    REQUIRED_TOGETHER,
    AdminUiError,
    check_inputs,
    run_task,
)
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import InputError


def main():
    module = docker_module(ADMIN_UI_OPTIONS, required_together=REQUIRED_TOGETHER, check=check_inputs)
    docker = DockerModuleClient(module)
    try:
        changed, result, diff = run_task(docker.api, module.params, module.check_mode)
    except InputError as exc:
        docker.fail(str(exc), changed=False)
    except (AdminUiError, DockerOperationError, APIError) as exc:
        docker.fail_on(exc)
    finally:
        docker.close()
    if module._diff:
        result["diff"] = diff
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
