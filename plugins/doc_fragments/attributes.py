# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
"""

    # One action group per connection (meta/runtime.yml): a module is in the group of its connection options.
    ACTIONGROUP_DOCKER = r"""
options: {}
attributes:
  action_group:
    description:
      - Use C(group/db2ops.docker.docker) in C(module_defaults) to set the Docker connection options
        (O(docker_host), O(tls), O(validate_certs), O(ca_path), O(client_cert), O(client_key), O(timeout))
        for this module.
    support: full
    membership:
      - db2ops.docker.docker
"""

    ACTIONGROUP_LDAP = r"""
options: {}
attributes:
  action_group:
    description:
      - Use C(group/db2ops.docker.ldap) in C(module_defaults) to set the LDAP connection options
        (O(server_uri), O(start_tls), O(validate_certs), O(ca_path), O(bind_dn), O(bind_pw), O(timeout))
        for this module.
    support: full
    membership:
      - db2ops.docker.ldap
"""
