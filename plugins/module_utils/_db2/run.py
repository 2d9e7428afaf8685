# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cookbook's first step as a state: a Db2 container started, stopped or absent.

A database container is never re-created behind the DBA's back: when the running container differs
from what the task asks (image, storage, environment, ports, ...), the difference is reported as
`drift` and nothing is changed; a new image goes through db2_container_upgrade, which backs up,
carries everything over and can roll back.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re

from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionRecorder
from ansible_collections.db2ops.docker.plugins.module_utils.actions import MASK
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import (
    DEFAULT_STORAGE_DIR,
    container_summary,
    containers_on_storage,
    storage_mount,
    wait_until_ready,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    DockerOperationError,
    env_dict,
    is_secret_env_name,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.containers import get_container
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import CONTAINER_NAME, InputError, require_match

PASSWORD_ENV = "%s_PASSWORD"
_INSTANCE = r"[a-z][a-z0-9]{0,7}"  # IBM: instance names are at most 8 characters
_DATABASE = r"[A-Za-z@#$][A-Za-z0-9@#$_]{0,7}"
_VOLUME = r"[a-zA-Z0-9][a-zA-Z0-9_.-]*"
# The IP is a dotted quad (or [IPv6]): `[0-9.]+` also took the host port of `50000:50000` for an IP.
_PORT = re.compile(r"(?:(?P<ip>\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(?:(?P<host>\d{1,5})?:)?(?P<container>\d{1,5})(?:/(?P<proto>tcp|udp))?")
_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# Env entries the module owns; the `env` option may not set them a second time.
_OWNED_ENV = ("LICENSE", "DB2INSTANCE", "DBNAME", "TEXT_SEARCH")


def parse_port(spec, option="ports"):
    """`[ip:][host:]container[/proto]` -> (container key, (ip, host port) or host port or None)."""
    match = _PORT.fullmatch(spec or "")
    if not match:
        raise InputError(option, "must be [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp], as for docker run -p")
    for key in ("host", "container"):
        if match.group(key) and not 0 < int(match.group(key)) < 65536:
            raise InputError(option, "has a port outside 1-65535")
    key = "%s/%s" % (int(match.group("container")), match.group("proto") or "tcp")
    host = match.group("host") or ""
    return key, (match.group("ip").strip("[]"), host) if match.group("ip") else host


class Db2ContainerRun:
    """One run of db2_container: plan, then (outside check mode) act."""

    def __init__(self, api, params, check_mode=False):
        self.api = api
        self.p = params
        self.check_mode = check_mode
        self.actions = ActionRecorder(check_mode)
        self.result = dict(changed=False, drift=[], container=None)

    # -- what the task asks ---------------------------------------------------------------

    def check_input(self):
        p = self.p
        require_match(CONTAINER_NAME, p["name"], "name", "a container name (letters, digits, _ . -)")
        require_match(_INSTANCE, p["instance"], "instance", "an instance name (1-8 lower-case letters and digits)")
        if p.get("database"):
            require_match(_DATABASE, p["database"], "database", "a Db2 database name (1-8 characters)")
        if p.get("storage") and not p["storage"].startswith("/"):
            require_match(_VOLUME, p["storage"], "storage", "an absolute host path or a volume name")
        elif p.get("storage") and ("/../" in p["storage"] + "/" or "//" in p["storage"]):
            raise InputError("storage", "must be a normalised absolute path")
        for name in p.get("env") or {}:
            require_match(_ENV_NAME, name, "env key", "an environment variable name")
            if name.upper() in _OWNED_ENV or name.upper() == PASSWORD_ENV % p["instance"].upper():
                raise InputError("env", "sets %s, which has an option of its own" % name)
        for spec in p.get("ports") or []:
            parse_port(spec)
        if p.get("hostname"):
            require_match(r"[A-Za-z0-9][A-Za-z0-9.-]{0,62}", p["hostname"], "hostname", "a host name")

    def environment(self):
        """The container's env as the task asks for it (cookbook's env-list)."""
        p = self.p
        env = {"DB2INSTANCE": p["instance"]}
        if p["accept_license"]:
            env["LICENSE"] = "accept"
        if p.get("password"):
            env[PASSWORD_ENV % p["instance"].upper()] = p["password"]
        if p.get("database"):
            env["DBNAME"] = p["database"]
        if p.get("text_search") is not None:
            env["TEXT_SEARCH"] = "true" if p["text_search"] else "false"
        env.update(dict((k, str(v)) for k, v in (p.get("env") or {}).items()))
        return env

    def port_bindings(self):
        bindings = {}
        for spec in self.p.get("ports") or []:
            key, host = parse_port(spec)
            bindings.setdefault(key, []).append(host)
        return bindings

    def storage_bind(self):
        return "%s:%s" % (self.p["storage"], DEFAULT_STORAGE_DIR)

    def run_command(self):
        """The `docker run` this amounts to, secrets masked: what the DBA would have typed."""
        p = self.p
        words = ["docker run -d --name", p["name"]]
        if p.get("hostname"):
            words += ["-h", p["hostname"]]
        if p["privileged"]:
            words.append("--privileged=true")
        words += ["--restart", p["restart_policy"]]
        if p.get("network"):
            words += ["--network", p["network"]]
        for spec in p.get("ports") or []:
            words += ["-p", spec]
        for name, value in sorted(self.environment().items()):
            words += ["-e", "%s=%s" % (name, MASK if is_secret_env_name(name) else value)]
        words += ["-v", self.storage_bind(), p["image"]]
        return " ".join(words)

    # -- what is there --------------------------------------------------------------------

    def drift(self, inspect):
        """What the existing container has that the task does not ask for (secrets by name only)."""
        p, config, host = self.p, inspect.get("Config") or {}, inspect.get("HostConfig") or {}
        found = []
        if p.get("image") and config.get("Image") != p["image"]:
            found.append("image is %s, the task asks for %s (use db2ops.docker.db2_container_upgrade)"
                         % (config.get("Image"), p["image"]))
        mount = storage_mount(inspect) or {}
        have = mount.get("source") if mount.get("type") == "bind" else mount.get("name")
        if p.get("storage") and have != p["storage"].rstrip("/"):
            found.append("storage is %s, the task asks for %s" % (have, p["storage"]))
        env = env_dict(config.get("Env"))
        for name, value in sorted(self.environment().items()):
            if env.get(name) != value:
                shown = "" if is_secret_env_name(name) else " (%s, the task asks for %s)" % (env.get(name), value)
                found.append("environment %s differs%s" % (name, shown))
        if p.get("ports") is not None:
            have_ports = dict((k, sorted(_binding(b) for b in v or []))
                              for k, v in (host.get("PortBindings") or {}).items())
            want_ports = dict((k, sorted(_binding(b) for b in v)) for k, v in self.port_bindings().items())
            if have_ports != want_ports:
                found.append("ports are %s, the task asks for %s" % (have_ports, want_ports))
        if p.get("hostname") and config.get("Hostname") != p["hostname"]:
            found.append("hostname is %s, the task asks for %s" % (config.get("Hostname"), p["hostname"]))
        if bool(host.get("Privileged")) != p["privileged"]:
            found.append("privileged is %s, the task asks for %s" % (bool(host.get("Privileged")), p["privileged"]))
        policy = (host.get("RestartPolicy") or {}).get("Name") or "no"
        if policy != p["restart_policy"]:
            found.append("restart policy is %s, the task asks for %s" % (policy, p["restart_policy"]))
        if p.get("network") and p["network"] not in ((inspect.get("NetworkSettings") or {}).get("Networks") or {}):
            found.append("not on network %s" % p["network"])
        return found

    # -- the run ----------------------------------------------------------------------------

    def run(self):
        self.check_input()
        inspect = get_container(self.api, self.p["name"])
        state = self.p["state"]
        if state == "absent":
            return self._absent(inspect)
        if state == "stopped":
            return self._stopped(inspect)
        if inspect is None:
            return self._create()
        self.result["drift"] = self.drift(inspect)
        if not (inspect.get("State") or {}).get("Running"):
            self._start(inspect)
        return self._finish(inspect["Id"])

    def _create(self):
        p = self.p
        missing = [name for name in ("image", "storage") if not p.get(name)]
        if missing:
            raise InputError(" and ".join(missing), "is needed to create container %s" % p["name"])
        if not p["accept_license"]:
            raise InputError("accept_license", "must be true to create a Db2 container: IBM's images refuse to "
                             "start without LICENSE=accept")
        if not p.get("password"):
            raise InputError("password", "is needed to create a Db2 container (the instance owner's password)")
        mount = dict(type="bind", source=p["storage"].rstrip("/")) if p["storage"].startswith("/") \
            else dict(type="volume", name=p["storage"])
        users = containers_on_storage(self.api, mount)
        if users:
            raise DockerOperationError(
                "storage %s is already used by container(s) %s: two Db2 instances must never share one storage"
                % (p["storage"], ", ".join("%s (%s)" % (u["name"], u["state"]) for u in users)))
        self.result["changed"] = True
        self.result["diff"] = dict(before=dict(state="absent"), after=dict(state="started", image=p["image"]))
        created = self.actions.do(self.run_command(), self._create_and_start)
        if self.check_mode:
            self.result["commands"] = self.actions.commands
            return self.result
        self._wait(created["Id"])
        return self._finish(created["Id"])

    def _create_and_start(self):
        p = self.p
        host_config = self.api.create_host_config(
            binds=[self.storage_bind()], port_bindings=self.port_bindings() or None, privileged=p["privileged"],
            restart_policy={"Name": p["restart_policy"]} if p["restart_policy"] != "no" else None,
            network_mode=p.get("network") or None)
        environment = ["%s=%s" % item for item in sorted(self.environment().items())]
        created = self.api.create_container(
            p["image"], name=p["name"], hostname=p.get("hostname") or None, environment=environment,
            host_config=host_config, labels=p.get("labels") or {}, detach=True,
            ports=[tuple(k.split("/")) for k in self.port_bindings()] or None)
        self.api.start(created["Id"])
        return created

    def _start(self, inspect):
        self.result["changed"] = True
        self.actions.do("docker start %s" % self.p["name"], self.api.start, inspect["Id"])
        if not self.check_mode:
            self._wait(inspect["Id"])

    def _wait(self, container_id):
        wait_until_ready(self.api, container_id, timeout=self.p["ready_timeout"])

    def _stopped(self, inspect):
        if inspect is None:
            raise DockerOperationError("container %s does not exist" % self.p["name"])
        if (inspect.get("State") or {}).get("Running"):
            self.result["changed"] = True
            self.actions.do("docker stop --time %d %s" % (self.p["stop_timeout"], self.p["name"]),
                            self.api.stop, inspect["Id"], timeout=self.p["stop_timeout"])
        return self._finish(inspect["Id"])

    def _absent(self, inspect):
        if inspect is not None:
            self.result["changed"] = True
            # Never -v: the storage (bind, named or anonymous volume) holds the databases.
            self.actions.do("docker rm -f %s" % self.p["name"], self.api.remove_container, inspect["Id"],
                            force=True, v=False)
        self.result["commands"] = self.actions.commands
        return self.result

    def _finish(self, container_id):
        self.result["commands"] = self.actions.commands
        self.result["container"] = container_summary(self.api.inspect_container(container_id))
        return self.result


def _binding(binding):
    """A port binding from inspect or from parse_port() as `ip:port` text, for comparison."""
    if isinstance(binding, dict):
        return "%s:%s" % (binding.get("HostIp") or "", binding.get("HostPort") or "")
    if isinstance(binding, tuple):
        return "%s:%s" % binding
    return ":%s" % (binding or "")
