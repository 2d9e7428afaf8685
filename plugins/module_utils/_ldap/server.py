# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An OpenLDAP container for Db2 authentication on a user-defined Docker network: one set of
options mapped to the environment of osixia/openldap, bitnami/openldap or our test image,
passwords handed over as files (never in the environment), bootstrap LDIF copied in before
the first start, readiness proven by a bind, and idempotence by a label with the hash of the
configuration.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import hashlib
import io
import json
import tarfile
import time

from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionFailed, ActionRecorder
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    APIError,
    DockerOperationError,
    NotFound,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.containers import ensure_network, get_container
from ansible_collections.db2ops.docker.plugins.module_utils._docker.exec import exec_in_container
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import require_match
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.dn import LdapError, parse_dn

CONFIG_LABEL = "db2ops.ldap_server.config"
SECRETS_DIR = "/db2ops-secrets"

# Per style: where bootstrap LDIF goes, the ports inside the container, the user slapd runs as
# (for reading the password files) and the admin DN. osixia: github.com/osixia/docker-openldap
# README; bitnami: github.com/bitnami/containers bitnami/openldap README (LDAP_ROOT,
# LDAP_ADMIN_USERNAME, LDAP_CUSTOM_LDIF_DIR, ports 1389/1636, non-root uid 1001).
STYLES = dict(
    osixia=dict(ldif_dir="/container/service/slapd/assets/config/bootstrap/ldif/custom", port=389, ldaps_port=636,
                secret_owner=0),
    ours=dict(ldif_dir="/container/service/slapd/assets/config/bootstrap/ldif/custom", port=389, ldaps_port=636,
              secret_owner=0),
    bitnami=dict(ldif_dir="/ldifs", port=1389, ldaps_port=1636, secret_owner=1001),
)

SERVER_OPTIONS = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    image=dict(type="str", default="osixia/openldap:1.5.0"),
    env_style=dict(type="str", default="osixia", choices=["osixia", "ours", "bitnami"]),
    domain=dict(type="str", default="example.org"),
    base_dn=dict(type="str"),
    organisation=dict(type="str", default="Example Inc."),
    admin_password=dict(type="str", no_log=True),
    readonly_user=dict(type="str"),
    readonly_password=dict(type="str", no_log=True),
    # Not `tls`: that is the Docker connection's option (DOCKER_COMMON_ARGS), which this module takes too.
    ldap_tls=dict(type="bool", default=True),
    tls_subject_alt_names=dict(type="list", elements="str", default=[]),
    network=dict(type="str", required=True),
    hostname=dict(type="str"),
    aliases=dict(type="list", elements="str", default=[]),
    published_ports=dict(type="list", elements="str", default=[]),
    bootstrap_ldif=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True), content=dict(type="str", required=True))),
    ready_timeout=dict(type="int", default=120),
    recreate_data=dict(type="str", default="keep", choices=["keep", "wipe"]),
)


class LdapServerError(ActionFailed):
    pass


# Values that become Docker object names, host names, file names in the image, or environment
# that the image's setup scripts put into LDIF: full-match rules, checked before Docker is asked.
# DOCKER_NAME, HOST_NAME and IMAGE_REF also serve the phpLDAPadmin container (admin_ui.py).
DOCKER_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}"
HOST_NAME = r"[A-Za-z0-9]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9_-]{0,62}))*"
IMAGE_REF = (r"([A-Za-z0-9.-]+(:\d{1,5})?/)?[a-z0-9]+([._/-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
             r"(@sha256:[0-9a-f]{64})?")
_RULES = (
    ("name", DOCKER_NAME, "a Docker container name (letters, digits, _ . -)"),
    ("network", DOCKER_NAME, "a Docker network name (letters, digits, _ . -)"),
    ("hostname", r"[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*", "a host name"),
    ("aliases", HOST_NAME, "a host name"),
    ("domain", r"[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*", "a DNS domain"),
    ("readonly_user", r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", "a user name (letters, digits, _ . -)"),
    ("published_ports", r"(\d{1,3}(\.\d{1,3}){3}:)?\d{1,5}:\d{1,5}", "[ip:]host_port:container_port"),
    ("image", IMAGE_REF, "an image reference (name[:tag][@digest])"),
)


def check_inputs(params):
    """InputError (one line, naming the option, not the value) for a value outside its rule."""
    for option, pattern, what in _RULES:
        value = params.get(option)
        for index, one in enumerate(value if isinstance(value, list) else [value]):
            if one is not None:
                require_match(pattern, one, "%s[%d]" % (option, index) if isinstance(value, list) else option, what)
    for index, item in enumerate(params.get("bootstrap_ldif") or []):
        require_match(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", item.get("name"), "bootstrap_ldif[%d].name" % index,
                      "a file name (letters, digits, _ . -; no directories)")


def base_dn_of(params):
    if params["base_dn"]:
        parse_dn(params["base_dn"], "base_dn")
        return params["base_dn"]
    parts = [p for p in params["domain"].split(".") if p]
    if not parts:
        raise LdapServerError("domain %r gives no base DN" % params["domain"])
    return ",".join("dc=%s" % p for p in parts)


def environment(params):
    """(env without secrets, {file name: secret}) for the image's style."""
    style, base = params["env_style"], base_dn_of(params)
    secrets = {"admin": params["admin_password"]}
    if style == "bitnami":
        if params["readonly_user"]:
            raise LdapServerError("readonly_user is not available with env_style=bitnami (the image has no "
                                  "read-only user); create one with db2_ldap_user and an ACL instead")
        env = {"LDAP_ROOT": base, "LDAP_ADMIN_USERNAME": "admin",
               "LDAP_ADMIN_PASSWORD_FILE": SECRETS_DIR + "/admin", "LDAP_CUSTOM_LDIF_DIR": STYLES[style]["ldif_dir"],
               "LDAP_SKIP_DEFAULT_TREE": "yes", "LDAP_ENABLE_TLS": "no"}
        if params["ldap_tls"]:
            raise LdapServerError("env_style=bitnami needs your own certificate files for TLS; set ldap_tls=false "
                                  "on a private network or use the osixia image")
        return env, secrets
    env = {"LDAP_DOMAIN": params["domain"], "LDAP_BASE_DN": base, "LDAP_ORGANISATION": params["organisation"],
           "LDAP_ADMIN_PASSWORD_FILE": SECRETS_DIR + "/admin", "LDAP_TLS": "true" if params["ldap_tls"] else "false",
           "LDAP_TLS_VERIFY_CLIENT": "try"}
    if params["readonly_user"]:
        if not params["readonly_password"]:
            raise LdapServerError("readonly_user needs readonly_password")
        env.update(LDAP_READONLY_USER="true", LDAP_READONLY_USER_USERNAME=params["readonly_user"],
                   LDAP_READONLY_USER_PASSWORD_FILE=SECRETS_DIR + "/readonly")
        secrets["readonly"] = params["readonly_password"]
    if style == "ours" and params["tls_subject_alt_names"]:
        env["LDAP_TLS_SUBJECT_ALT_NAMES"] = ",".join(params["tls_subject_alt_names"])
    return env, secrets


def parse_port(spec):
    """`[ip:]host_port:container_port` -> ('389/tcp', (ip, host_port))."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts[-2:]):
        raise LdapServerError("published_ports item %r is not [ip:]host_port:container_port" % spec)
    return "%s/tcp" % parts[-1], ((parts[0], int(parts[1])) if len(parts) == 3 else int(parts[0]))


def config_hash(params, env):
    """What the running container must match; passwords are left out (they count at the first
    start only, as in the images, and a hash of them in a label could be brute-forced)."""
    wanted = dict(image=params["image"], env=env, network=params["network"], hostname=params["hostname"],
                  aliases=sorted(params["aliases"]), ports=sorted(params["published_ports"]),
                  ldif=[(i["name"], hashlib.sha256(i["content"].encode("utf-8")).hexdigest())
                        for i in params["bootstrap_ldif"]])
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode("utf-8")).hexdigest()


def tar_files(files, owner):
    """A tar of {path: text}, files 0400 owned by `owner`, directories 0755."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        dirs = sorted({p.rsplit("/", 1)[0] for p in files})
        for directory in dirs:
            info = tarfile.TarInfo(directory.lstrip("/"))
            info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o755, owner, owner
            tar.addfile(info)
        for path, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.uid, info.gid = len(data), 0o400, owner, owner
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class LdapServer:
    def __init__(self, api, params, check_mode):
        self.api, self.p, self.check_mode = api, params, check_mode
        self.actions = ActionRecorder(check_mode)

    def run(self):
        p = self.p
        current = get_container(self.api, p["name"])
        if p["state"] == "absent":
            if current is not None:
                self._do("remove container %s and its volumes" % p["name"], lambda: self._remove(current, wipe=True))
            return {}
        if not p["admin_password"]:
            raise LdapServerError("admin_password is required with state=present")
        for item in p["published_ports"]:
            parse_port(item)
        env, secrets = environment(p)
        digest = config_hash(p, env)
        recreate = current is not None and (current["Config"].get("Labels") or {}).get(CONFIG_LABEL) != digest
        if recreate and p["recreate_data"] == "keep":
            self._check_same_directory(current, env)
        ensure_network(self.api, self.p["network"], self._do, labels={"db2ops.network": "ldap"})
        if current is not None and (current["Config"].get("Labels") or {}).get(CONFIG_LABEL) == digest:
            if not current["State"].get("Running"):
                self._do("start container %s" % p["name"], lambda: self.api.start(current["Id"]))
        else:
            volumes = []
            if current is not None:
                volumes = self._remove_for_recreate(current)
            self._do("create and start container %s from %s on network %s%s"
                     % (p["name"], p["image"], p["network"], " on the kept volumes" if volumes else ""),
                     lambda: self._create(env, secrets, digest, volumes))
        if self.check_mode:
            return {}
        container = get_container(self.api, p["name"])
        self._wait_bind(container["Id"], base_dn_of(p))
        return self._facts(container)

    def _do(self, what, action):
        self.actions.do(what, action)

    def _check_same_directory(self, current, env):
        """The images set a directory up from the environment only into empty volumes: kept volumes
        with another base DN would run a directory that is not the configured one."""
        old = dict(item.split("=", 1) for item in current["Config"].get("Env") or [] if "=" in item)
        for key in ("LDAP_BASE_DN", "LDAP_ROOT"):
            if key in env and key in old and old[key] != env[key]:
                raise LdapServerError(
                    "the directory of %s has base DN %s and the task asks for %s; a re-created container keeps "
                    "the directory (recreate_data=keep), so keep the base DN, or set recreate_data=wipe to start "
                    "an empty one" % (self.p["name"], old[key], env[key]))

    def _remove_for_recreate(self, current):
        """Remove the container whose configuration differs. With recreate_data=keep (the default)
        its volumes stay for the new container: the directory survives an image or port change.
        Returns the binds (`volume:destination`) for the new container."""
        name = self.p["name"]
        if self.p["recreate_data"] == "wipe":
            self._do("remove container %s and its volumes (its configuration differs; recreate_data=wipe)" % name,
                     lambda: self._remove(current, wipe=True))
            return []
        volumes = ["%s:%s" % (m["Name"], m["Destination"]) for m in current.get("Mounts") or []
                   if m.get("Type") == "volume" and m.get("Name")]
        self._do("stop and remove container %s, keeping its volumes (its configuration differs)" % name,
                 lambda: self._remove(current, wipe=False))
        return volumes

    def _remove(self, current, wipe):
        if not wipe and current["State"].get("Running"):
            self.api.stop(current["Id"], timeout=30)  # slapd writes its database cleanly
        self.api.remove_container(current["Id"], force=True, v=wipe)
        if wipe:
            # Volumes a re-created container took over by name are named volumes to Docker, which
            # `v=True` leaves behind; every volume of this container is the directory's.
            for mount in current.get("Mounts") or []:
                if mount.get("Type") == "volume" and mount.get("Name"):
                    try:
                        self.api.remove_volume(mount["Name"])
                    except NotFound:
                        pass

    def _create(self, env, secrets, digest, volumes=()):
        p, style = self.p, STYLES[self.p["env_style"]]
        ports = dict(parse_port(item) for item in p["published_ports"])
        host_config = self.api.create_host_config(port_bindings=ports or None, binds=list(volumes) or None,
                                                  restart_policy={"Name": "unless-stopped"})
        networking = self.api.create_networking_config(
            {p["network"]: self.api.create_endpoint_config(aliases=p["aliases"] or None)})
        try:
            created = self.api.create_container(
                p["image"], name=p["name"], hostname=p["hostname"] or p["name"], environment=env,
                ports=list(ports) or None, host_config=host_config, networking_config=networking,
                labels={CONFIG_LABEL: digest})
        except NotFound:
            raise LdapServerError("image %s is not on the Docker host; pull or build it first" % p["image"])
        files = dict(("%s/%s" % (SECRETS_DIR, name), value) for name, value in secrets.items())
        files.update(("%s/%s" % (style["ldif_dir"], item["name"]), item["content"]) for item in p["bootstrap_ldif"])
        self.api.put_archive(created["Id"], "/", tar_files(files, style["secret_owner"]))
        self.api.start(created["Id"])

    def _wait_bind(self, container_id, base):
        """Ready = the admin can bind (inside the container, password on stdin)."""
        port = STYLES[self.p["env_style"]]["port"]
        admin = "cn=admin," + base
        deadline = time.monotonic() + self.p["ready_timeout"]
        while True:
            state = self.api.inspect_container(container_id)["State"]
            if not state.get("Running"):
                logs = self.api.logs(container_id, tail=5).decode("utf-8", "replace")
                raise LdapServerError("container %s stopped (exit code %s): %s"
                                      % (self.p["name"], state.get("ExitCode"), " | ".join(logs.split("\n")[-5:])))
            try:
                result = exec_in_container(self.api, container_id,
                                           ["ldapwhoami", "-x", "-H", "ldap://127.0.0.1:%d" % port, "-D", admin,
                                            "-y", "/dev/stdin"], stdin=self.p["admin_password"], timeout=30)
                if result.rc == 0:
                    return
                last = (result.stdout + result.stderr).strip()
            except (DockerOperationError, APIError) as exc:
                last = str(exc)
            if "Invalid credentials" in last:
                raise LdapServerError("%s rejects admin_password for %s: the directory was set up with another "
                                      "password (passwords count at the first start only)" % (self.p["name"], admin))
            if time.monotonic() > deadline:
                raise LdapServerError("no bind as %s worked in %s within %ss: %s"
                                      % (admin, self.p["name"], self.p["ready_timeout"], last[-300:]))
            time.sleep(0.5)

    def _facts(self, container):
        networks = container["NetworkSettings"]["Networks"]
        result = exec_in_container(self.api, container["Id"], [
            "/bin/sh", "-c", 'f=$(awk \'$1=="TLS_CACERT"{print $2}\' /etc/ldap/ldap.conf 2>/dev/null); '
                             '[ -n "$f" ] && cat "$f"; true'])
        return dict(container_id=container["Id"], base_dn=base_dn_of(self.p),
                    admin_dn="cn=admin," + base_dn_of(self.p),
                    readonly_dn=("cn=%s,%s" % (self.p["readonly_user"], base_dn_of(self.p)))
                    if self.p["readonly_user"] else None,
                    ldap_host="%s:%d" % (self.p["name"], STYLES[self.p["env_style"]]["port"]),
                    ip_address=(networks.get(self.p["network"]) or {}).get("IPAddress"),
                    ca_cert=result.stdout if "BEGIN CERTIFICATE" in result.stdout else None)


def run_task(api, params, check_mode):
    task = LdapServer(api, params, check_mode)
    try:
        facts = task.run()
    except (LdapServerError, LdapError, DockerOperationError, APIError) as exc:
        # A command that was started counts: a create that failed half way may have left a container.
        exc.commands, exc.changed = task.actions.commands, bool(task.actions.commands) and not check_mode
        raise
    return task.actions.changed, dict(facts, commands=task.actions.commands)
