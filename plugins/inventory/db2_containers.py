# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: db2_containers
short_description: One inventory host per Db2 container across many Docker daemons
version_added: 0.1.0
description:
  - Asks each Docker daemon of O(docker_hosts) for its Db2 containers (IBM's Db2 images and images built
    from them) and makes one inventory host per container, with the variables the collection's roles
    read (C(db2_container), C(db2ops_docker_host) and the TLS files C(db2ops_docker_ca_path),
    C(db2ops_docker_client_cert), C(db2ops_docker_client_key)), so that
    C(playbooks/upgrade.yml) and the other playbooks run against the live fleet.
  - Each running container is asked for its C(db2level) and databases in one C(docker exec), all
    containers of a daemon in parallel, as M(db2ops.docker.db2_container_info) does.
  - "Every host joins the group O(parent_group) and, below it, one group per Db2 level
    (C(db2_level_11_1_4_4)), per Db2 version (C(db2_version_11_1)), per image
    (C(db2_image_icr_io_db2_community_db2_11_5_9_0)) and per Docker host (C(docker_host_<alias>))."
  - "Host variables besides those the roles read: C(db2ops_docker_alias), C(db2_container_id), C(db2_image),
    C(db2_image_id), C(db2_state), C(db2_instance), C(db2_storage) (the host path or volume behind
    C(/database)), C(db2_level) (for example C(11.1.4.4)), C(db2_version), C(db2_db2level) (every
    C(db2level) fact), C(db2_databases), C(db2_active_databases), C(db2_labels), and
    C(db2_facts_error) (why the Db2 facts of a running container could not be read, else null)."
  - The configuration file name must end in C(db2_containers.yml) or C(db2_containers.yaml).
author:
  - db2ops.docker developers (@db2ops)
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
requirements:
  - docker (Docker SDK for Python) >= 7.0.0 on the controller
options:
  plugin:
    description: The name of this plugin, so that Ansible picks it for the file.
    type: str
    required: true
    choices: [db2ops.docker.db2_containers]
  docker_hosts:
    description:
      - The Docker daemons to ask, each with its own connection options, those of the collection's modules
        (names, types and aliases). E(DOCKER_HOST), E(DOCKER_TLS) and E(DOCKER_TIMEOUT) do not apply, since
        each entry names its own daemon.
      - Certificate paths relative to the directory of the inventory file are taken from there.
    type: list
    elements: dict
    required: true
    suboptions:
      docker_host:
        description:
          - C(unix:///path/to/docker.sock) or C(tcp://host:2376); a bare C(host) means C(tcp://host:2376).
          - A C(tcp://) daemon is reached with TLS and certificate verification unless O(docker_hosts[].tls=false).
          - C(http://) (plain HTTP) is only accepted with O(docker_hosts[].tls=false).
        type: str
        required: true
        aliases: [docker_url]
      alias:
        description:
          - A short name for the daemon, used in the C(docker_host_<alias>) group, in O(host_name) and in messages.
          - Defaults to the host of a C(tcp://) URL, C(local) for the default socket, the socket's file name otherwise.
        type: str
      tls:
        description: Use TLS; by default on for C(tcp://) daemons, off for sockets.
        type: bool
      validate_certs:
        description:
          - Verify the daemon's certificate against O(docker_hosts[].ca_path).
          - When not set, E(DOCKER_TLS_VERIFY) decides as for the modules (C(0), C(false), C(no), C(off) turn it
            off), else certificates are verified. A value set here wins over the environment.
          - Plain TCP and verification off are reported as warnings.
        type: bool
        aliases: [tls_verify]
      ca_path:
        description: CA certificate that signed the daemon's certificate.
        type: path
        aliases: [ca_cert, tls_ca_cert]
      client_cert:
        description: Client certificate for a daemon started with C(--tlsverify).
        type: path
        aliases: [tls_client_cert, cert_path]
      client_key:
        description: Private key of O(docker_hosts[].client_cert).
        type: path
        aliases: [tls_client_key, key_path]
      timeout:
        description: Seconds to wait for one answer of the daemon.
        type: int
        default: 60
  host_name:
    description:
      - How an inventory host is named, from the fields C({container}), C({alias}) (the daemon's alias),
        C({id}) and C({short_id}).
      - Use C({container}@{alias}) when the same container name may exist on several daemons; two
        containers with the same host name are an error.
    type: str
    default: "{container}"
  parent_group:
    description: The group of every host found, parent of the level, version, image and Docker host groups.
    type: str
    default: db2_containers
  connection:
    description:
      - C(ansible_connection) of every host. The modules run where the connection leads and reach the
        daemon through C(db2ops_docker_host), so V(local) (the controller, or the AWX execution
        environment) is the usual choice.
    type: str
    default: local
  controller_python:
    description:
      - With O(connection=local), set C(ansible_python_interpreter) to the Python running Ansible, which
        has the Docker SDK (it runs this plugin), instead of the interpreter Ansible would discover.
    type: bool
    default: true
  containers:
    description: Only containers whose name matches one of these glob patterns.
    type: list
    elements: str
    default: []
  labels:
    description: Only containers carrying all these labels, each C(key) or C(key=value).
    type: list
    elements: str
    default: []
  images:
    description: Only containers whose image name matches one of these glob patterns.
    type: list
    elements: str
    default: []
  include_stopped:
    description:
      - Also list stopped Db2 containers (without Db2 facts, which need a running instance).
      - The upgrade refuses stopped containers in its pre-flight; a report shows them.
    type: bool
    default: false
  gather_db2:
    description:
      - Ask each running container for C(db2level) and its databases. With V(false) the level and
        version groups are not made and only Docker facts are known.
    type: bool
    default: true
  parallel:
    description: How many containers of one daemon are asked at the same time.
    type: int
    default: 8
  exec_timeout:
    description: Seconds one container may take to answer.
    type: int
    default: 120
  on_unreachable:
    description:
      - What to do when a daemon cannot be reached (down, refused, TLS verification failed).
      - V(error) fails the inventory source with a message naming the daemon.
      - V(skip) warns and leaves that daemon's containers out; such an incomplete inventory is never cached.
    type: str
    choices: [error, skip]
    default: error
notes:
  - The cache (O(cache=true)) holds what the daemons answered, keyed by the file and its options; a
    cache written for other O(docker_hosts) or filters is ignored. C(--flush-cache) asks the daemons again.
  - Values of secret-looking environment variables are never read into the inventory.
  - Every string a daemon reports (labels, names, images, Db2 facts) is marked unsafe, so a label holding
    Jinja2 (C({{ lookup('pipe', ...) }})) is kept as text and never templated on the controller.
seealso:
  - module: db2ops.docker.db2_container_info
"""

EXAMPLES = r"""
# fleet.db2_containers.yml: two daemons, the second over TLS; host names unique across daemons.
plugin: db2ops.docker.db2_containers
docker_hosts:
  - docker_host: unix:///var/run/docker.sock
  - docker_host: tcp://db2host1.example.com:2376
    alias: db2host1
    ca_path: certs/ca.pem
    client_cert: certs/cert.pem
    client_key: certs/key.pem
host_name: "{container}@{alias}"

---
# prod.db2_containers.yml: only labelled containers, groups by label, cached for 10 minutes.
plugin: db2ops.docker.db2_containers
docker_hosts:
  - docker_host: tcp://db2host1.example.com:2376
    ca_path: /etc/db2ops/ca.pem
    client_cert: /etc/db2ops/cert.pem
    client_key: /etc/db2ops/key.pem
  - docker_host: tcp://db2host2.example.com:2376
    ca_path: /etc/db2ops/ca.pem
    client_cert: /etc/db2ops/cert.pem
    client_key: /etc/db2ops/key.pem
labels: [env=prod]
on_unreachable: skip
keyed_groups:
  - key: db2_labels.team | default('none')
    prefix: team
groups:
  needs_11_5: db2_version != '11.5'
compose:
  db2_primary_database: db2_databases | first | default(None)
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /var/tmp/db2ops-inventory
cache_timeout: 600

# Then: ansible-playbook db2ops.docker.upgrade -i prod.db2_containers.yml -e db2_target_image=...
"""

import os
import sys

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import DOCKER_IMPORT_ERROR, HAS_DOCKER
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.fleet import (
    CACHE_FORMAT,
    FleetError,
    daemon_entries,
    fingerprint,
    host_groups,
    host_name,
    host_vars,
    scan,
)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "db2ops.docker.db2_containers"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(
            ("db2_containers.yml", "db2_containers.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            self._parse(path, cache)
        except FleetError as exc:
            raise AnsibleParserError("%s: %s" % (path, to_native(exc)))

    def _filters(self):
        names = ("containers", "labels", "images", "include_stopped", "gather_db2", "parallel", "exec_timeout")
        for key in ("parallel", "exec_timeout"):
            if self.get_option(key) is not None and self.get_option(key) <= 0:
                raise FleetError("option %s must be above 0" % key)
        return dict((key, self.get_option(key)) for key in names)

    def _parse(self, path, cache):
        entries = daemon_entries(self.get_option("docker_hosts"), base_dir=os.path.dirname(os.path.abspath(path)))
        for entry in entries:  # every insecure choice is said, cached or not
            for warning in entry["warnings"]:
                self.display.warning("%s: %s" % (path, warning))
        filters = self._filters()
        source = fingerprint(entries, filters)
        use_cache = self.get_option("cache")
        cache_key = self.get_cache_key(path)
        daemons = None
        if use_cache and cache:
            cached = self._cache.get(cache_key)
            if isinstance(cached, dict) and cached.get("format") == CACHE_FORMAT and cached.get("source") == source:
                daemons = cached["daemons"]
        if daemons is None:
            if not HAS_DOCKER:
                raise FleetError("the Docker SDK for Python (docker) is not installed for %s: %s"
                                 % (sys.executable, DOCKER_IMPORT_ERROR.strip().splitlines()[-1]))
            names = filters.pop("containers")
            daemons, skipped = scan(entries, self.get_option("on_unreachable"), self.display.warning,
                                    names=names, **filters)
            if use_cache and not skipped:
                self._cache[cache_key] = dict(format=CACHE_FORMAT, source=source, daemons=daemons)
        self._populate(daemons, dict((e["alias"], e["conn"]) for e in entries))

    def _populate(self, daemons, conns):
        parent = self.inventory.add_group(self.get_option("parent_group"))
        template = self.get_option("host_name")
        strict = self.get_option("strict")
        connection = self.get_option("connection")
        seen = {}
        for daemon in daemons:
            alias = daemon["alias"]
            for record in daemon["containers"]:
                name = host_name(template, record, alias)
                if name in seen:
                    raise FleetError("containers %s on %s and %s on %s both become inventory host %s: set host_name to "
                                     "\"{container}@{alias}\"" % (record["name"], alias, seen[name][1], seen[name][0],
                                                                  name))
                seen[name] = (alias, record["name"])
                # Everything a daemon reports (labels, names, image tags, Db2 output) is data, never a
                # template: a label like "{{ lookup('pipe', ...) }}" must not run on the controller.
                variables = wrap_var(host_vars(record, alias, conns[alias]))
                variables["ansible_connection"] = connection
                if connection == "local" and self.get_option("controller_python"):
                    variables["ansible_python_interpreter"] = sys.executable
                self.inventory.add_host(name, group=parent)
                for key, value in variables.items():
                    self.inventory.set_variable(name, key, value)
                for group in host_groups(record, alias):
                    self.inventory.add_group(group)
                    self.inventory.add_child(parent, group)
                    self.inventory.add_child(group, name)
                self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
                self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
                self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)
