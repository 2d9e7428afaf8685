#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_container_info
short_description: Find Db2 containers on a Docker host and report their Db2 level, storage and databases
version_added: 0.1.0
description:
  - Lists the containers of IBM Db2 images (C(ibmcom/db2), C(icr.io/db2_community/db2),
    C(store/ibmcorp/db2_developer_c) and images built from them) on one Docker host.
  - For each, reports the image and image id, state, host name, published ports, environment with
    secrets masked, the mount behind C(/database), and, for running containers, the C(db2level)
    facts (version, fix pack, code release, level identifier, install path), the active and
    cataloged databases, and the HADR role and state of databases in a pair.
  - The Db2 facts of a container come from a single C(docker exec) as the instance owner (one more for
    the HADR roles, see O(gather_hadr)), and all containers are asked in parallel.
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - db2ops.docker.docker
  - db2ops.docker.attributes
  - db2ops.docker.attributes.info_module
  - db2ops.docker.attributes.actiongroup_docker
options:
  name:
    description:
      - Container names to report. A name without C(*), C(?) or C([) must exist, be a Db2 container
        and be running (unless O(all=true)), otherwise the task fails naming the cause.
      - Names with glob characters only filter, like O(label) and O(image).
      - When empty, every Db2 container on the host is considered.
    type: list
    elements: str
    default: []
  label:
    description:
      - Only containers carrying all these labels, each C(key) or C(key=value).
    type: list
    elements: str
    default: []
  image:
    description:
      - Only containers whose image name matches one of these glob patterns, for example
        C(icr.io/db2_community/db2:*).
    type: list
    elements: str
    default: []
  all:
    description:
      - Also list stopped containers (without Db2 facts, which need a running instance).
    type: bool
    default: false
  gather_db2:
    description:
      - Ask each running container for its C(db2level) and databases. V(false) reports Docker facts only.
    type: bool
    default: true
  backup_path:
    description:
      - Also list the Db2 backup images in this directory of each running container (in the same
        C(docker exec)), as M(db2ops.docker.db2_backup) writes them, for example C(/database/backup).
      - Not set, backups are not listed.
    type: str
  gather_hadr:
    description:
      - Also read the HADR role of each database of each running container (one more C(docker exec) per
        container that has databases; C(GET DB CFG) of each database and C(db2pd -alldbs -hadr)), returned in
        RV(containers[].hadr). Needs O(gather_db2=true).
      - The read costs about as much as the other Db2 facts together (measured on the test stand-in, a
        container with two databases, 0.45 s without it and 0.95 s with it); V(false) skips it.
    type: bool
    default: true
  gather_auth:
    description:
      - Also read the authentication plug-ins from the dbm cfg of each running instance, to tell whether
        logins go through IBM's LDAP plug-ins (M(db2ops.docker.db2_ldap_auth)).
    type: bool
    default: false
  parallel:
    description:
      - How many containers are asked at the same time.
    type: int
    default: 8
  exec_timeout:
    description:
      - Seconds one container may take to answer.
    type: int
    default: 120
notes:
  - Values of environment variables whose names look like secrets (C(*PASSWORD*), C(*_PW), C(*SECRET*),
    C(*TOKEN*), C(*_KEY)) are returned as C(********).
seealso:
  - name: Docker Cookbook, recipe 1
    description: The manual steps this module replaces (C(docker exec ... db2level), C(docker inspect | grep bind)).
    link: https://www.xtivia.com
"""

EXAMPLES = r"""
- name: Every Db2 container on the local Docker host
  db2ops.docker.db2_container_info:
  register: db2

- name: Show each container's level
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.db2level.level }} on {{ item.storage.source }}"
  loop: "{{ db2.containers }}"
  loop_control:
    label: "{{ item.name }}"

- name: One container on a remote daemon over TLS; fails if it is missing or stopped
  db2ops.docker.db2_container_info:
    docker_host: tcp://db2host1.example.com:2376
    ca_path: /etc/db2ops/ca.pem
    client_cert: /etc/db2ops/cert.pem
    client_key: /etc/db2ops/key.pem
    name: [db2server]

- name: The HADR roles of the databases in a pair
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.hadr }}"
  loop: "{{ db2.containers | selectattr('hadr') | list }}"
  loop_control:
    label: "{{ item.name }}"

- name: With the backup images on the storage and the authentication plug-ins (for a fleet report)
  db2ops.docker.db2_container_info:
    backup_path: /database/backup
    gather_auth: true

- name: Containers of 11.1 images, stopped ones included, by label
  db2ops.docker.db2_container_info:
    image: ["*db2*:11.1.*"]
    label: ["env=prod"]
    all: true
"""

RETURN = r"""
containers:
  description: The matching Db2 containers, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Container name.
      type: str
      sample: db2server
    id:
      description: Container id.
      type: str
    image:
      description: Image name the container was created from.
      type: str
      sample: store/ibmcorp/db2_developer_c:11.1.4.4-x86_64
    image_id:
      description: Image id (C(sha256:...)).
      type: str
    state:
      description: Docker state (C(running), C(exited), ...).
      type: str
      sample: running
    running:
      description: Whether the container runs.
      type: bool
    started_at:
      description: When the container last started (Docker's C(State.StartedAt)).
      type: str
    hostname:
      description: Host name inside the container.
      type: str
      sample: db2server
    instance:
      description: Db2 instance name and owner (C(DB2INSTANCE)).
      type: str
      sample: db2inst1
    storage:
      description: The mount behind C(/database) (C($STORAGE_DIR)); null when there is none.
      type: dict
      sample: {type: bind, source: /home/idbjorh/db2fs, destination: /database, rw: true, name: null}
    env:
      description: Environment, secrets masked.
      type: dict
      sample: {LICENSE: accept, DB2INSTANCE: db2inst1, DB2INST1_PASSWORD: "********"}
    ports:
      description: Published ports.
      type: list
      elements: dict
      sample: [{container_port: 50000, protocol: tcp, host_ip: 0.0.0.0, host_port: "50000"}]
    labels:
      description: Container labels.
      type: dict
    networks:
      description: Names of the networks the container is attached to.
      type: list
      elements: str
    db2level:
      description: Facts from C(db2level); null for stopped containers or with O(gather_db2=false).
      type: dict
      contains:
        level:
          description: Version plus fix pack letter, the form of IBM's image tags.
          type: str
          sample: 11.1.3.3a
        version:
          description: The version token without C(DB2 v).
          type: str
          sample: 11.1.3.3
        fixpack:
          description: Fix pack.
          type: str
          sample: 3a
        code_release:
          description: Code release.
          type: str
          sample: SQL11013
        level_identifier:
          description: Level identifier.
          type: str
          sample: 0204010F
        build:
          description: Build token.
          type: str
          sample: s1804271300
        build_dyn:
          description: Second build token.
          type: str
          sample: DYN1804271300AMD64
        install_path:
          description: Where Db2 is installed in the image.
          type: str
          sample: /opt/ibm/db2/V11.1
        instance:
          description: Instance name as printed by db2level.
          type: str
        bits:
          description: Word size.
          type: int
          sample: 64
    instance_started:
      description: Whether the instance is started (C(db2start)); null when not asked.
      type: bool
    active_databases:
      description: Names of the active databases.
      type: list
      elements: str
      sample: [TESTDB]
    databases:
      description: Names of the databases in the system database directory.
      type: list
      elements: str
      sample: [TESTDB]
    storage_usage:
      description:
        - Space on the storage in KiB, as seen inside the container (C(df) of C(/database)), and what the
          databases under C(/database/data) take (C(du)); empty when not asked.
      type: dict
      sample: {size_kb: 102687672, free_kb: 55123456, data_kb: 183400}
    instance_home:
      description:
        - Home directory of the instance owner inside the container, where C(sqllib) lives; on IBM's
          images it is on the storage, so it is the same for every container on that storage.
      type: str
      sample: /database/config/db2inst1
    backups:
      description:
        - The backup images in O(backup_path), oldest first per database; empty for stopped containers.
      returned: when O(backup_path) is set
      type: list
      elements: dict
      sample: [{database: TESTDB, type: "0", instance: db2inst1, partition: "000", timestamp: "20191106143831",
                sequence: "001", file: /database/backup/TESTDB.0.db2inst1.DBPART000.20191106143831.001, size: 123456}]
    auth:
      description:
        - The authentication plug-ins of the instance; null for stopped containers.
      returned: when O(gather_auth=true)
      type: dict
      contains:
        ldap:
          description: Whether one of IBM's LDAP plug-ins (C(IBMLDAPauthserver), C(IBMLDAPauthclient), C(IBMLDAPgroups)) is configured.
          type: bool
        srvcon_pw_plugin:
          description: C(SRVCON_PW_PLUGIN), null when empty.
          type: str
          sample: IBMLDAPauthserver
        group_plugin:
          description: C(GROUP_PLUGIN), null when empty.
          type: str
        clnt_pw_plugin:
          description: C(CLNT_PW_PLUGIN), null when empty.
          type: str
        authentication:
          description: C(AUTHENTICATION).
          type: str
          sample: SERVER
        error:
          description: Why the dbm cfg could not be read; null when it was.
          type: str
    hadr:
      description:
        - The databases of the container that are in an HADR pair (role not V(STANDARD)), each with its
          C(role) (V(PRIMARY), V(STANDBY)), C(state) (C(HADR_STATE), for example V(PEER); null when HADR does
          not run, as on an inactive database) and C(connect_status) (C(HADR_CONNECT_STATUS)).
        - V({}) when none is; null when not read (stopped container, O(gather_db2=false), O(gather_hadr=false)).
        - M(db2ops.docker.db2_hadr_info) reports log gap, peer window and configuration.
      returned: always
      type: dict
      sample: {TESTDB: {role: PRIMARY, state: PEER, connect_status: CONNECTED}}
    error:
      description: Why the Db2 facts of a running container could not be read; null when they were.
      type: str
"""


from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import SAFE_PATH, BackupInputError, check_path
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import (
    describe_containers,
    find_db2_containers,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    CONTAINER_GLOB,
    IMAGE_GLOB,
    DockerModuleClient,
    DockerOperationError,
    docker_module,
)


PATH_RULE = (SAFE_PATH, "an absolute path of letters, digits and _ . @ + -")


def main():
    module = docker_module(
        dict(
            name=dict(type="list", elements="str", default=[]),
            label=dict(type="list", elements="str", default=[]),
            image=dict(type="list", elements="str", default=[]),
            all=dict(type="bool", default=False),
            gather_db2=dict(type="bool", default=True),
            backup_path=dict(type="str"),
            gather_hadr=dict(type="bool", default=True),
            gather_auth=dict(type="bool", default=False),
            parallel=dict(type="int", default=8),
            exec_timeout=dict(type="int", default=120),
        ),
        rules={"name": CONTAINER_GLOB, "image": IMAGE_GLOB, "backup_path": PATH_RULE}, not_empty=("label",))
    docker = DockerModuleClient(module)
    params = module.params
    try:
        backup_path = check_path(params["backup_path"], "backup_path") if params["backup_path"] else None
        found = find_db2_containers(docker.api, params["name"], params["label"], params["image"], params["all"])
        containers = describe_containers(docker.api, found, params["gather_db2"], params["parallel"],
                                         params["exec_timeout"], backup_path, params["gather_auth"],
                                         gather_hadr=params["gather_hadr"])
    except (BackupInputError, DockerOperationError) as exc:
        docker.fail("%s. Nothing was changed." % exc)
    finally:
        docker.close()
    module.exit_json(changed=False, containers=containers)


if __name__ == "__main__":
    main()
