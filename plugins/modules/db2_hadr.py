#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_hadr
short_description: Make a Db2 database the primary or the standby of an HADR pair, or take it out
version_added: 0.2.0
description:
  - Sets up IBM Db2 HADR (high availability disaster recovery) for one database of a running Db2
    container, in IBM's order, one side per task. Run it with O(role=standby) on the standby's container
    first, then with O(role=primary) on the primary's container.
  - O(role=standby) on a STANDARD database (or with O(reinitialize)) initialises the standby from the
    primary named in O(primary) - C(BACKUP DATABASE ... ONLINE) in the primary's container into
    O(backup_path), the image streamed into this container (no copy on the controller), C(DEACTIVATE),
    C(RESTORE ... TAKEN AT ... WITHOUT PROMPTING) without roll-forward, the HADR database configuration
    with C(LOGINDEXBUILD ON), C(START HADR ... AS STANDBY). The copy in this container is removed; the
    primary's backup image is kept, since it is a real backup of the database.
  - O(role=standby) on a standby converges its configuration (deactivate, update, start as standby -
    new HADR values only apply at the next HADR start) and starts it when inactive. On a primary whose
    HADR does not run (an old primary after a forced takeover) it reintegrates it with
    C(START HADR ... AS STANDBY); a primary whose HADR runs is refused.
  - O(role=primary) on a STANDARD database needs archive logging (C(LOGARCHMETH1)); it sets the
    configuration and runs C(START HADR ... AS PRIMARY), which waits up to O(hadr_timeout) for the
    standby (or does not wait with O(force_start)). On a primary it converges the configuration without
    deactivating it (RV(restart_required)) and activates it when inactive. On a standby it takes over per
    O(takeover).
  - O(state=absent) stops HADR (C(STOP HADR)); a standby is deactivated first and stays in rollforward
    pending as a STANDARD database.
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.db2_target
  - db2ops.docker.docker
  - db2ops.docker.attributes
  - db2ops.docker.attributes.actiongroup_docker
attributes:
  check_mode:
    support: full
    details:
      - Returns the commands that would run as RV(commands); no database, file or container is changed.
  diff_mode:
    support: full
    details:
      - The role and HADR configuration before and after.
options:
  database:
    description: The database (its name or alias in the container).
    type: str
    required: true
  state:
    description: V(present) puts the database in a pair with O(role); V(absent) stops HADR on it.
    type: str
    choices: [present, absent]
    default: present
  role:
    description: The role the database has after the task. Required with O(state=present).
    type: str
    choices: [primary, standby]
  local_host:
    description:
      - C(HADR_LOCAL_HOST) - the host name or IP address the other side reaches this container at.
      - Required with O(state=present).
    type: str
  local_svc:
    description:
      - C(HADR_LOCAL_SVC) - this side's HADR port (1024-65535) or service name; not the client port.
      - Required with O(state=present).
    type: str
  remote_host:
    description: C(HADR_REMOTE_HOST) - host name or IP address of the other side. Required with O(state=present).
    type: str
  remote_svc:
    description: C(HADR_REMOTE_SVC) - the other side's HADR port or service name. Required with O(state=present).
    type: str
  remote_inst:
    description: C(HADR_REMOTE_INST) - the other side's instance; by default this container's instance owner.
    type: str
  syncmode:
    description: C(HADR_SYNCMODE).
    type: str
    choices: [SYNC, NEARSYNC, ASYNC, SUPERASYNC]
    default: NEARSYNC
  hadr_timeout:
    description:
      - C(HADR_TIMEOUT) in seconds; the same on both sides. Named so because O(timeout) is the Docker
        connection's timeout.
    type: int
    default: 120
  peer_window:
    description: C(HADR_PEER_WINDOW) in seconds; the same on both sides.
    type: int
    default: 0
  target_list:
    description: C(HADR_TARGET_LIST) entries, each C(host:port) (C([IPv6]:port) for an IPv6 address).
    type: list
    elements: str
    default: []
  primary:
    description:
      - O(role=standby) only. The primary's container, to initialise the standby from when the database is
        not a standby yet (or with O(reinitialize)). The Docker options mean the same as this module's
        own; no environment variable applies to them.
    type: dict
    suboptions:
      container:
        description: The primary's Db2 container.
        type: str
        required: true
      docker_host:
        description: The primary's Docker daemon, C(unix://...) or C(tcp://host:2376).
        type: str
        required: true
        aliases: [docker_url]
      tls:
        description: Use TLS; by default on for C(tcp://) hosts.
        type: bool
      validate_certs:
        description: Verify the daemon's certificate against O(primary.ca_path); verified when not set.
        type: bool
        aliases: [tls_verify]
      ca_path:
        description: CA certificate of the primary's daemon.
        type: path
        aliases: [ca_cert, tls_ca_cert]
      client_cert:
        description: Client certificate for the primary's daemon.
        type: path
        aliases: [tls_client_cert, cert_path]
      client_key:
        description: Key of O(primary.client_cert).
        type: path
        aliases: [tls_client_key, key_path]
      timeout:
        description: Seconds to wait for one answer of the primary's daemon.
        type: int
        default: 600
  backup_path:
    description:
      - Where the online backup of the primary is written in the primary's container (and kept), and
        copied to in this container (and removed after the restore).
    type: str
    default: /database/hadr_init
  reinitialize:
    description:
      - Rebuild the standby from a new backup of the primary even when it is a standby already (after a
        forced takeover whose logs diverged).
    type: bool
    default: false
  force_start:
    description: C(START HADR ... AS PRIMARY BY FORCE) - do not wait for the standby to connect.
    type: bool
    default: false
  takeover:
    description:
      - What O(role=primary) does on a database that is the standby now. V(never) fails and changes nothing;
        V(peer) runs C(TAKEOVER HADR) (needs PEER state; SQL1770N reason 1 otherwise); V(force) adds
        C(BY FORCE) (the old primary is not asked, so committed work it did not ship is lost);
        V(force_peer_window) adds C(BY FORCE PEER WINDOW ONLY).
    type: str
    choices: [never, peer, force, force_peer_window]
    default: never
  exec_timeout:
    description:
      - Seconds one C(docker exec) may take; a backup, a restore, and a start that waits O(hadr_timeout) each
        run in one.
    type: int
    default: 1800
notes:
  - The database is read and changed with the CLP and C(db2pd) as the instance owner inside the container.
  - C(ROLLFORWARD) is never run on a standby; after O(state=absent) a former standby is a STANDARD database in
    rollforward pending.
seealso:
  - module: db2ops.docker.db2_backup
  - name: IBM Db2 - Initializing high availability disaster recovery (HADR)
    description: The setup order this module follows.
    link: https://www.ibm.com/docs/en/db2/11.5?topic=hadr-initializing-high-availability-disaster-recovery
"""

EXAMPLES = r"""
- name: The standby first, initialised from the primary on another Docker host
  db2ops.docker.db2_hadr:
    docker_host: tcp://db2b.example.com:2376
    ca_path: /etc/db2ops/ca.pem
    client_cert: /etc/db2ops/cert.pem
    client_key: /etc/db2ops/key.pem
    container: db2b
    database: TESTDB
    role: standby
    local_host: db2b.example.com
    local_svc: "4000"
    remote_host: db2a.example.com
    remote_svc: "4000"
    primary:
      container: db2a
      docker_host: tcp://db2a.example.com:2376
      ca_path: /etc/db2ops/ca.pem
      client_cert: /etc/db2ops/cert.pem
      client_key: /etc/db2ops/key.pem

- name: Then the primary
  db2ops.docker.db2_hadr:
    container: db2a
    database: TESTDB
    role: primary
    local_host: db2a.example.com
    local_svc: "4000"
    remote_host: db2b.example.com
    remote_svc: "4000"

- name: Swap roles - take over on the standby (in PEER state)
  db2ops.docker.db2_hadr:
    docker_host: tcp://db2b.example.com:2376
    container: db2b
    database: TESTDB
    role: primary
    takeover: peer
    local_host: db2b.example.com
    local_svc: "4000"
    remote_host: db2a.example.com
    remote_svc: "4000"

- name: Take the database out of its pair
  db2ops.docker.db2_hadr:
    container: db2a
    database: TESTDB
    state: absent
"""

RETURN = r"""
database:
  description: The database, upper case.
  returned: always
  type: str
  sample: TESTDB
role:
  description: Its HADR role after the task (in check mode, the role it would have).
  returned: always
  type: str
  sample: STANDBY
status:
  description:
    - Its HADR status after the task, as M(db2ops.docker.db2_hadr_info) returns it (role, active, hadr_running,
      state, connect_status, log gaps, configuration, ...). In check mode the status before.
      After a failure that changed something, where the database stands then.
  returned: always, and on a failure after a change
  type: dict
commands:
  description:
    - The commands run, or that would run in check mode, in order; those run in the primary's container
      start with its name. Empty when nothing had to change.
  returned: always
  type: list
  elements: str
backup:
  description: The timestamp of the primary's online backup that initialised the standby; null otherwise.
  returned: always
  type: str
  sample: "20261201063000"
restart_required:
  description:
    - True when a changed HADR parameter of a serving primary takes effect only when HADR is stopped and
      started again (the module does not deactivate a serving primary).
  returned: always
  type: bool
msg:
  description: What was done, and notes (a kept backup, a database left in rollforward pending).
  returned: always
  type: str
diff:
  description: The role and configuration before and after (with C(--diff)).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.db2ops.docker.plugins.module_utils._db2.hadr_setup import (
    DEFAULT_BACKUP_PATH,
    HOST_RULE,
    INSTANCE_RULE,
    PATH_RULE,
    SVC_RULE,
    TARGET_RULE,
    check_options,
    run_task,
)
from ansible_collections.db2ops.docker.plugins.module_utils._db2.module import DATABASE_RULE, Db2Target, db2_target_module
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    CONTAINER_NAME,
    DOCKER_HOST,
    DOCKER_REQUIRED_TOGETHER,
    docker_suboptions,
)


def main():
    primary_spec = dict(docker_suboptions(timeout=600), container=dict(type="str", required=True))
    module = db2_target_module(dict(
        database=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        role=dict(type="str", choices=["primary", "standby"]),
        local_host=dict(type="str"), local_svc=dict(type="str"),
        remote_host=dict(type="str"), remote_svc=dict(type="str"), remote_inst=dict(type="str"),
        syncmode=dict(type="str", choices=["SYNC", "NEARSYNC", "ASYNC", "SUPERASYNC"], default="NEARSYNC"),
        hadr_timeout=dict(type="int", default=120),
        peer_window=dict(type="int", default=0),
        target_list=dict(type="list", elements="str", default=[]),
        primary=dict(type="dict", options=primary_spec, required_together=DOCKER_REQUIRED_TOGETHER),
        backup_path=dict(type="str", default=DEFAULT_BACKUP_PATH),
        reinitialize=dict(type="bool", default=False),
        force_start=dict(type="bool", default=False),
        takeover=dict(type="str", choices=["never", "peer", "force", "force_peer_window"], default="never"),
    ), exec_timeout=1800, rules={
        "database": DATABASE_RULE, "local_host": HOST_RULE, "remote_host": HOST_RULE, "local_svc": SVC_RULE,
        "remote_svc": SVC_RULE, "remote_inst": INSTANCE_RULE, "backup_path": PATH_RULE, "target_list": TARGET_RULE,
        "primary.container": CONTAINER_NAME, "primary.docker_host": DOCKER_HOST,
    }, check=check_options)
    target = Db2Target(module)
    try:
        result = run_task(target)
    finally:
        target.close()
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
