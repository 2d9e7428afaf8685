# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The Docker connection shared by every module (module_utils/_docker/client.py DOCKER_COMMON_ARGS).
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - The Docker daemon to talk to, as C(unix:///path/to/docker.sock) or C(tcp://host:2376).
      - C(http://host:2375) is plain HTTP and is only accepted with O(tls=false); C(https://) only with TLS.
      - A bare C(host) or C(host:port), as in the cookbook's C(DOCKER_HOST=192.168.174.12), means C(tcp://).
      - If not set, the E(DOCKER_HOST) environment variable is used, then C(unix:///var/run/docker.sock).
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  tls:
    description:
      - Use TLS to talk to a C(tcp://) daemon.
      - When not set, TLS is on for every C(tcp://) host, off for local sockets. Set V(false) only to
        talk to a daemon on plain TCP (port 2375), which lets anyone on the network control the host;
        the module then warns.
      - If not set, the E(DOCKER_TLS) environment variable is used.
    type: bool
  validate_certs:
    description:
      - Verify the daemon's certificate against O(ca_path) (and its host name) when TLS is used.
      - When not set, the E(DOCKER_TLS_VERIFY) environment variable decides (C(0), C(false), C(no) or C(off)
        turn verification off, any other non-empty value on); when that is unset or empty, certificates are verified.
      - A value set in the task always wins over the environment.
      - With verification off the module warns on every run.
    type: bool
    aliases: [tls_verify]
  ca_path:
    description:
      - CA certificate that signed the daemon's certificate.
      - Defaults to C(ca.pem) in E(DOCKER_CERT_PATH) when that variable is set.
    type: path
    aliases: [ca_cert, tls_ca_cert]
  client_cert:
    description:
      - Client certificate presented to a daemon started with C(--tlsverify).
      - Defaults to C(cert.pem) in E(DOCKER_CERT_PATH) when that variable is set.
    type: path
    aliases: [tls_client_cert, cert_path]
  client_key:
    description:
      - Private key of O(client_cert).
      - Defaults to C(key.pem) in E(DOCKER_CERT_PATH) when that variable is set.
    type: path
    aliases: [tls_client_key, key_path]
  timeout:
    description:
      - Seconds to wait for one answer of the Docker daemon.
      - If not set, the E(DOCKER_TIMEOUT) environment variable is used, then 60.
    type: int
    default: 60
requirements:
  - docker (Docker SDK for Python) >= 7.0.0 on the host that runs the module
notes:
  - The connection options can be set once for every Docker module of the collection with
    C(module_defaults) and the action group C(group/db2ops.docker.docker). The LDAP modules
    (C(db2_ldap_user), C(db2_ldap_group), C(db2_ldap_directory)) are not in it; their connection is
    set with C(group/db2ops.docker.ldap), whose O(ca_path), O(validate_certs) and O(timeout) are
    those of the LDAP server.
"""
