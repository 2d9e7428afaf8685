# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The LDAP connection shared by every LDAP module (module_utils/_ldap/ LDAP_COMMON_ARGS).
    DOCUMENTATION = r"""
options:
  server_uri:
    description:
      - The LDAP server, as C(ldap://host:389) (StartTLS, see O(start_tls)), C(ldaps://host:636)
        (TLS from the first byte) or C(ldapi:///) (local socket).
      - If not set, the E(LDAPURI) environment variable is used (as by OpenLDAP's C(ldapsearch)),
        then C(ldap://localhost).
    type: str
    default: ldap://localhost
  start_tls:
    description:
      - Upgrade an C(ldap://) connection with StartTLS before binding.
      - When not set, StartTLS is used for C(ldap://) and not for C(ldapi://). Set V(false) only
        for a server on a trusted network, since the bind password and user passwords then cross it
        unencrypted, and the module warns.
      - V(true) with C(ldaps://) is an error (that connection is TLS already).
    type: bool
  validate_certs:
    description:
      - Verify the server certificate (against O(ca_path)) and that the host name of
        O(server_uri) is in it.
      - V(false) makes the connection open to interception; the module warns.
    type: bool
    default: true
  ca_path:
    description:
      - CA certificate (PEM) that signed the server certificate, for example the C(ca.crt) of an
        osixia/openldap container.
      - If not set, the E(LDAPTLS_CACERT) environment variable is used, then the CA configured
        for libldap (C(TLS_CACERT) in C(ldap.conf)).
      - The TLS settings apply to this module's connection only, never to other connections in
        the same process.
    type: path
  bind_dn:
    description:
      - DN to bind as (simple bind), for example C(cn=admin,dc=example,dc=org).
      - Required; if not set, the E(LDAPBINDDN) environment variable is used.
      - To keep passwords idempotent without binding as each user, this DN needs read access
        to C(userPassword) (the admin DN of osixia/openldap has it).
    type: str
  bind_pw:
    description:
      - Password of O(bind_dn). Keep it in Ansible Vault; it is never logged or returned.
      - Required in practice. An empty one is refused before connecting (a DN with an empty password is
        an unauthenticated bind).
    type: str
    default: ''
  timeout:
    description:
      - Seconds to wait for the connection and for each answer of the server.
    type: int
    default: 30
requirements:
  - python-ldap >= 3.3 on the host that runs the module
notes:
  - The connection options can be set once for every LDAP module of the collection with
    C(module_defaults) and the action group C(group/db2ops.docker.ldap). The Docker modules are
    not in it (their connection is set with C(group/db2ops.docker.docker), whose O(ca_path),
    O(validate_certs) and O(timeout) are those of the Docker daemon).
  - Referrals are not chased; a search or write that meets one fails and names it.
  - Every string option is checked before the server is contacted. NUL, newlines and other control
    characters, and values longer than 4,096 characters, fail the task with one line that names the
    option (never its value), and nothing is written. Other characters (C(;), quotes, C($(...)),
    C({{ }}), non-ASCII) are data. They are stored literally and escaped in DNs and search filters.
    Empty attribute values and non-ASCII values of ASCII-only (IA5String) attributes such as
    C(homeDirectory) are refused, naming the option.
  - If the server stops answering half way through a batch, the task fails with C(changed=true) and
    says after how many writes it stopped; rerun it when the server is back, it continues from there.
"""
