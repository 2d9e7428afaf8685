# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How a module reaches one Db2 database (module_utils/_db2/sql.py DB2_CONNECTION_ARGS).
    DOCUMENTATION = r"""
options:
  transport:
    description:
      - How to reach Db2.
      - V(docker_exec) runs the Db2 command line processor inside O(container) as the instance owner,
        statements on the standard input of one C(docker exec) (no C(-it), nothing secret in argv).
        It needs the Docker connection options.
      - V(ibm_db) connects with the ibm_db driver to the database's port on O(db_host); every value is a
        bound parameter. It cannot run C(db2set) or C(ACTIVATE DATABASE), which need the server itself.
    type: str
    choices: [docker_exec, ibm_db]
    default: docker_exec
  container:
    description:
      - Name or id of the running Db2 container. Required with O(transport=docker_exec).
    type: str
  database:
    description:
      - The database (name or alias, 1 to 8 characters).
    type: str
    required: true
  exec_timeout:
    description:
      - Seconds one C(docker exec) may take.
    type: int
    default: 300
  db_host:
    description:
      - Host name or address of the Db2 server. Required with O(transport=ibm_db).
    type: str
  db_port:
    description:
      - Port of the Db2 server (the SSL port when O(db_ssl=true), 50001 in IBM's images).
    type: int
    default: 50001
  db_user:
    description:
      - User to connect as with O(transport=ibm_db).
    type: str
  db_password:
    description:
      - Password of O(db_user). Never logged nor returned.
    type: str
  db_ssl:
    description:
      - Use SSL/TLS (C(SECURITY=SSL)) for O(transport=ibm_db). Set V(false) only for a server you reach
        over a trusted network.
    type: bool
    default: true
  db_ssl_ca:
    description:
      - CA or server certificate (C(.arm)/PEM) that signed the server's certificate (C(SSLServerCertificate)).
    type: path
requirements:
  - ibm_db >= 3.0 on the host that runs the module, for O(transport=ibm_db)
notes:
  - The collection's tests prove the ibm_db path with IBM's driver against the DRDA server of its Db2
    stand-in image (same results as O(transport=docker_exec)) and with a fake driver that checks the exact
    calls and bound parameters.
"""
