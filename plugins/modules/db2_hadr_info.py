#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_hadr_info
short_description: Report the HADR role, state, log gap and peer window of Db2 databases in a container
version_added: 0.1.0
description:
  - Reads the HADR (high availability disaster recovery) status of one database, or of every cataloged
    database, of a running Db2 container, as IBM's tools show it, in a single C(docker exec) as the
    instance owner.
  - The role (V(STANDARD), V(PRIMARY), V(STANDBY)) and the HADR configuration come from the database
    configuration (C(GET DB CFG)); the state, connection, log positions, log gap and peer window come from
    C(db2pd -alldbs -hadr), IBM's field names (C(HADR_STATE), C(HADR_LOG_GAP) in bytes, ...) turned into keys.
  - A database that is not active has its role and configuration from the database configuration, C(active)
    false and no state (C(db2pd) shows only active databases).
  - A standby database refuses connections (SQL1776N); nothing here connects to a database, so a standby
    is read like a primary.
  - To wait for a pair to reach peer state, repeat the task with C(until)/C(retries) (see the examples).
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.db2_target
  - db2ops.docker.docker
  - db2ops.docker.attributes
  - db2ops.docker.attributes.info_module
  - db2ops.docker.attributes.actiongroup_docker
options:
  database:
    description:
      - The database to report, 1-8 letters, digits and C(@), C(#), C($), C(_); case does not matter.
      - The task fails naming it when the container has no such database (Db2's SQL1013N); nothing is changed.
      - When omitted, every database of the system database directory is reported.
    type: str
  exec_timeout:
    description:
      - Seconds the C(docker exec) that reads the status may take.
    type: int
    default: 120
notes:
  - IBM prints C(db2pd) time stamps in local time with the epoch seconds in brackets, for example
    C(04-07-2024 06:35:52.000000 (1720100152)); they are returned as printed.
seealso:
  - module: db2ops.docker.db2_hadr
  - module: db2ops.docker.db2_container_info
  - name: IBM Db2 HADR wiki, monitoring
    description: What the C(db2pd -hadr) fields this module reports mean.
    link: https://ibm.github.io/db2-hadr-wiki/hadrMonitoring.html
"""

EXAMPLES = r"""
- name: HADR status of TESTDB
  db2ops.docker.db2_hadr_info:
    container: db2primary
    database: TESTDB
  register: pair

- name: Show role, state and log gap
  ansible.builtin.debug:
    msg: "{{ pair.hadr.role }} in {{ pair.hadr.state }}, {{ pair.hadr.log_gap_bytes }} bytes behind"

- name: Wait until the pair is in peer state (at most 5 minutes)
  db2ops.docker.db2_hadr_info:
    container: db2standby
    database: TESTDB
  register: pair
  until: pair.hadr.state == 'PEER'
  retries: 60
  delay: 5

- name: Every database of a container on a remote Docker host
  db2ops.docker.db2_hadr_info:
    docker_host: tcp://db2host2.example.com:2376
    ca_path: /etc/db2ops/ca.pem
    client_cert: /etc/db2ops/cert.pem
    client_key: /etc/db2ops/key.pem
    container: db2server
  register: all_databases

- name: The databases in a pair
  ansible.builtin.debug:
    msg: "{{ all_databases.databases | rejectattr('role', 'eq', 'STANDARD') | map(attribute='database') | list }}"
"""

RETURN = r"""
databases:
  description: One entry per database (the one named in O(database), or every cataloged one), sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    database:
      description: The database, upper-case.
      type: str
      sample: TESTDB
    role:
      description:
        - The HADR role in the database configuration, V(STANDARD) (not in a pair), V(PRIMARY) or V(STANDBY).
        - It stays when HADR is stopped by a deactivate; C(hadr_running) tells whether it runs.
      type: str
      sample: PRIMARY
    active:
      description: Whether the database is active.
      type: bool
    hadr_running:
      description: Whether HADR runs on the database (C(db2pd) shows it a role).
      type: bool
    state:
      description:
        - C(HADR_STATE) (V(PEER), V(REMOTE_CATCHUP_PENDING), V(REMOTE_CATCHUP), V(LOCAL_CATCHUP),
          V(DISCONNECTED_PEER), V(DISCONNECTED)); null when HADR does not run (standard or inactive database).
      type: str
      sample: PEER
    connect_status:
      description: C(HADR_CONNECT_STATUS) (V(CONNECTED), V(CONGESTED), V(DISCONNECTED)); null when HADR does not run.
      type: str
      sample: CONNECTED
    syncmode:
      description: C(HADR_SYNCMODE), from C(db2pd) when HADR runs, else from the database configuration.
      type: str
      sample: NEARSYNC
    log_gap_bytes:
      description: C(HADR_LOG_GAP) in bytes, how far the standby's received log is behind the primary's; null when HADR does not run.
      type: int
      sample: 0
    replay_gap_bytes:
      description: C(STANDBY_RECV_REPLAY_GAP) in bytes, received log the standby has not replayed yet; null when not shown.
      type: int
      sample: 0
    peer_window_seconds:
      description: C(PEER_WINDOW) in seconds, or C(HADR_PEER_WINDOW) of the database configuration when HADR does not run.
      type: int
      sample: 0
    peer_window_end:
      description: C(PEER_WINDOW_END) as C(db2pd) prints it; null when it prints none or NULL.
      type: str
      sample: 04-07-2024 06:35:52.000000 (1720100152)
    timeout_seconds:
      description: C(HADR_TIMEOUT) in seconds, or C(HADR_TIMEOUT) of the database configuration when HADR does not run.
      type: int
      sample: 120
    primary_host:
      description: C(PRIMARY_MEMBER_HOST); null when HADR does not run.
      type: str
      sample: db2primary
    standby_host:
      description: C(STANDBY_MEMBER_HOST); null when HADR does not run.
      type: str
      sample: db2standby
    primary_log_position:
      description: C(PRIMARY_LOG_FILE,PAGE,POS) as printed; null when HADR does not run.
      type: str
      sample: S0000001.LOG, 0, 48912046
    standby_log_position:
      description: C(STANDBY_LOG_FILE,PAGE,POS) as printed; null when HADR does not run.
      type: str
      sample: S0000001.LOG, 0, 48912046
    last_takeover_time:
      description: C(HADR_LAST_TAKEOVER_TIME) as printed; null when there was none (NULL) or it is not shown.
      type: str
    reads_on_standby:
      description: C(READS_ON_STANDBY_ENABLED) is V(Y); null when HADR does not run.
      type: bool
    rollforward_pending:
      description: The database configuration's C(Rollforward pending) is not V(NO) (a standby is).
      type: bool
    configuration:
      description:
        - The HADR parameters of the database configuration, by the option names of M(db2ops.docker.db2_hadr);
          null for what is not set.
      type: dict
      sample: {local_host: db2primary, local_svc: "4000", remote_host: db2standby, remote_svc: "4000",
               remote_inst: db2inst1, syncmode: NEARSYNC, timeout: "120", peer_window: "0", target_list: null}
hadr:
  description: The entry of O(database) in RV(databases).
  returned: when O(database) is set
  type: dict
  sample: {database: TESTDB, role: STANDBY, active: true, hadr_running: true, state: PEER, connect_status: CONNECTED,
           log_gap_bytes: 0}
"""

from ansible_collections.db2ops.docker.plugins.module_utils._db2.hadr import HadrReadError, hadr_info
from ansible_collections.db2ops.docker.plugins.module_utils._db2.module import DATABASE_RULE, Db2Target, db2_target_module
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DockerOperationError


def main():
    module = db2_target_module(dict(database=dict(type="str")), exec_timeout=120, rules={"database": DATABASE_RULE})
    target = Db2Target(module)
    try:
        target.open()
        result = hadr_info(target.clp, module.params["database"], "container %s" % module.params["container"])
    except (HadrReadError, DockerOperationError) as exc:
        target.fail_on(exc)
    finally:
        target.close()
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
