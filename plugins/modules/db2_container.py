#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db2_container
short_description: Run a Db2 container as the cookbook does, and wait until Db2 answers
version_added: 0.1.0
description:
  - The cookbook's first step, C(docker run -h db2server --privileged=true -p 50000:50000 --env-file env-list
    -v <storage>:/database <image>), as a state. V(started) creates the container when it is missing and
    waits until Db2 is ready, with the same readiness as M(db2ops.docker.db2_container_upgrade) (C(Setup has
    completed.) in the log, then every cataloged database answers C(SELECT 1)); a stopped container is
    started and waited for.
  - The instance owner's password goes to the Docker daemon in the container's environment through the
    Engine API, never in a command line; results and C(commands) show it masked.
  - A container that already exists is never re-created. Where it differs from what the task asks (image,
    storage, environment, ports, host name, privileged mode, restart policy, network), the differences are
    returned in RV(drift) and warned about, and nothing is changed. A new image is a job for
    M(db2ops.docker.db2_container_upgrade) (backup, everything carried over, rollback).
  - A new container on a storage that another container (running or stopped) already mounts is refused
    before anything is created; two Db2 instances must never share one storage.
  - V(absent) removes the container, never its storage (bind mount, named or anonymous volume).
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
      - Returns the C(docker run), C(docker start), C(docker stop) or C(docker rm) it would run; changes nothing.
  diff_mode:
    support: partial
    details:
      - Shows the state before and after when a container is created.
options:
  name:
    description: Container name.
    type: str
    required: true
  state:
    description:
      - V(started) creates (when missing) or starts the container and waits until Db2 answers.
      - V(stopped) stops a running container. V(absent) removes it, keeping its storage.
    type: str
    choices: [started, stopped, absent]
    default: started
  image:
    description:
      - The Db2 image, for example C(icr.io/db2_community/db2:11.5.9.0). Needed to create the container.
    type: str
  storage:
    description:
      - What is mounted on C(/database), the instance and its databases; an absolute host path (bind mount,
        as the cookbook's C(-v /home/db2fs:/database)) or a volume name. Needed to create the container.
    type: str
  accept_license:
    description: C(LICENSE=accept). IBM's images refuse to start without it; needed to create the container.
    type: bool
    default: false
  instance:
    description: The instance name and owner, C(DB2INSTANCE).
    type: str
    default: db2inst1
  password:
    description:
      - The instance owner's password, C(DB2INST1_PASSWORD) (the variable is named after O(instance)).
        Needed to create the container. Compared with the existing container's without being shown.
    type: str
  database:
    description: C(DBNAME), a database the image creates at its first start.
    type: str
  text_search:
    description: C(TEXT_SEARCH=true|false), Db2 Text Search in the container; unset leaves the image's default.
    type: bool
  env:
    description:
      - More environment, as in the cookbook's C(env-list) (for example C(ARCHIVE_LOGS), C(AUTOCONFIG)).
        Values of names that look secret are masked in results. The variables that have options of their
        own are refused here.
    type: dict
  ports:
    description:
      - Published ports, as C(docker run -p) takes them, for example C(50000:50000) or C(127.0.0.1:50000:50000).
    type: list
    elements: str
  hostname:
    description: Host name in the container (C(-h)); the cookbook uses C(db2server).
    type: str
  privileged:
    description:
      - C(--privileged=true). IBM documents its Db2 images as needing it; the test stand-in does not.
    type: bool
    default: true
  restart_policy:
    description: C(--restart).
    type: str
    choices: ["no", always, unless-stopped, on-failure]
    default: unless-stopped
  network:
    description: A user-defined network to attach the container to (C(--network)).
    type: str
  labels:
    description: Container labels, set when the container is created.
    type: dict
  ready_timeout:
    description: Seconds Db2 may take to be ready after a start (IBM's images take about 90 s).
    type: int
    default: 900
  stop_timeout:
    description: Seconds C(docker stop) waits before killing the container (V(stopped)).
    type: int
    default: 120
seealso:
  - module: db2ops.docker.db2_container_upgrade
  - module: db2ops.docker.db2_container_info
"""

EXAMPLES = r"""
- name: The cookbook's Db2 container, ready for work
  db2ops.docker.db2_container:
    name: db2server
    image: icr.io/db2_community/db2:11.5.9.0
    storage: /home/db2fs
    accept_license: true
    password: "{{ vault_db2inst1_password }}"
    database: TESTDB
    hostname: db2server
    ports: ["50000:50000"]
    text_search: false

- name: Stop it for maintenance of the host
  db2ops.docker.db2_container:
    name: db2server
    state: stopped
"""

RETURN = r"""
container:
  description: The container afterwards, as M(db2ops.docker.db2_container_info) describes it (secrets masked); null when absent.
  returned: always
  type: dict
  sample: {name: db2server, running: true, image: "icr.io/db2_community/db2:11.5.9.0",
           storage: {type: bind, source: /home/db2fs, destination: /database}}
drift:
  description: How an existing container differs from what the task asks; nothing is changed for it.
  returned: always
  type: list
  elements: str
  sample: ["image is icr.io/db2_community/db2:11.5.8.0, the task asks for icr.io/db2_community/db2:11.5.9.0
            (use db2ops.docker.db2_container_upgrade)"]
commands:
  description: The Docker commands run, or that would run in check mode (the password masked).
  returned: always
  type: list
  elements: str
  sample: ["docker run -d --name db2server -h db2server --privileged=true --restart unless-stopped -p 50000:50000
            -e DB2INST1_PASSWORD=******** -e DB2INSTANCE=db2inst1 -e LICENSE=accept -v /home/db2fs:/database
            icr.io/db2_community/db2:11.5.9.0"]
"""

from ansible_collections.db2ops.docker.plugins.module_utils._db2.run import Db2ContainerRun
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    APIError,
    DockerModuleClient,
    DockerOperationError,
    docker_module,
)
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import InputError


def main():
    module = docker_module(
        dict(
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["started", "stopped", "absent"], default="started"),
            image=dict(type="str"),
            storage=dict(type="str"),
            accept_license=dict(type="bool", default=False),
            instance=dict(type="str", default="db2inst1"),
            password=dict(type="str", no_log=True),
            database=dict(type="str"),
            text_search=dict(type="bool"),
            env=dict(type="dict"),
            ports=dict(type="list", elements="str"),
            hostname=dict(type="str"),
            privileged=dict(type="bool", default=True),
            restart_policy=dict(type="str", choices=["no", "always", "unless-stopped", "on-failure"],
                                default="unless-stopped"),
            network=dict(type="str"),
            labels=dict(type="dict"),
            ready_timeout=dict(type="int", default=900),
            stop_timeout=dict(type="int", default=120),
        ))
    docker = DockerModuleClient(module)  # also refuses timeouts <= 0 (docker.check_timeouts)
    run = Db2ContainerRun(docker.api, module.params, module.check_mode)
    try:
        result = run.run()
    except InputError as exc:
        docker.fail(str(exc), changed=False, commands=run.actions.commands)
    except (DockerOperationError, APIError) as exc:
        why = getattr(exc, "explanation", None) or str(exc)
        if run.result["changed"] and not module.check_mode:
            docker.fail("%s; container %s was created or started and is left as it is for inspection"
                        % (why, module.params["name"]), changed=True, commands=run.actions.commands)
        docker.fail("%s. Nothing was changed." % why, changed=False, commands=run.actions.commands)
    finally:
        docker.close()
    for item in result["drift"]:
        module.warn("container %s: %s" % (module.params["name"], item))
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
