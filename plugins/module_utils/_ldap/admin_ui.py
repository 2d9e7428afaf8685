# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A phpLDAPadmin container next to the directory (cookbook recipe 4: "Creating additional LDAP
users"): on the directory's user-defined network, pointed at it by its network alias, published
on one chosen port, HTTPS by default. One environment for osixia/phpldapadmin and our test image
(PHPLDAPADMIN_*); the certificate and key are copied into the created container as files, never
passed in the environment or argv. phpLDAPadmin binds as whoever logs in, so it needs no secret.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import time

from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    APIError,
    DockerOperationError,
    NotFound,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.containers import ensure_network, get_container
from ansible_collections.db2ops.docker.plugins.module_utils._docker.exec import exec_in_container
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.server import (
    DOCKER_NAME,
    HOST_NAME,
    IMAGE_REF,
    tar_files,
)
from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionFailed, ActionRecorder
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import InputError, require_match

CONFIG_LABEL = "db2ops.ldap_admin_ui.config"
CERTS_DIR = "/container/service/phpldapadmin/assets/apache2/certs"
# osixia's default file names; the test image reads the same variables.
CERT_FILES = dict(certificate="phpldapadmin.crt", private_key="phpldapadmin.key", ca_certificate="ca.crt")
CERT_ENV = dict(certificate="PHPLDAPADMIN_HTTPS_CRT_FILENAME", private_key="PHPLDAPADMIN_HTTPS_KEY_FILENAME",
                ca_certificate="PHPLDAPADMIN_HTTPS_CA_CRT_FILENAME")
MAX_PEM = 64 * 1024

ADMIN_UI_OPTIONS = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    image=dict(type="str", default="osixia/phpldapadmin:0.9.0"),
    network=dict(type="str", required=True),
    ldap_host=dict(type="str", required=True),
    port=dict(type="int", default=6443),
    bind_address=dict(type="str", default="127.0.0.1"),
    https=dict(type="bool", default=True),
    certificate=dict(type="path"),
    private_key=dict(type="path", no_log=False),
    ca_certificate=dict(type="path"),
    ready_timeout=dict(type="int", default=120),
)
REQUIRED_TOGETHER = [["certificate", "private_key"]]

_RULES = (
    ("name", DOCKER_NAME, "a Docker container name (letters, digits, _ . -)"),
    ("network", DOCKER_NAME, "a Docker network name (letters, digits, _ . -)"),
    ("ldap_host", HOST_NAME, "the directory's host name or network alias"),
    ("image", IMAGE_REF, "an image reference (name[:tag][@digest])"),
    ("bind_address", r"(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}", "an IPv4 address"),
)


class AdminUiError(ActionFailed):
    pass


def check_inputs(params):
    """InputError (one line, naming the option, not the value) before Docker is asked anything."""
    for option, pattern, what in _RULES:
        if params.get(option) is not None:
            require_match(pattern, params[option], option, what)
    if not 1 <= params["port"] <= 65535:
        raise InputError("port", "must be a TCP port from 1 to 65535")
    for option in CERT_FILES:
        path = params.get(option)
        if path is None:
            continue
        if not params["https"]:
            raise InputError(option, "is for HTTPS; it cannot be used with https=false")
        if not os.path.isabs(path):
            raise InputError(option, "must be an absolute path")
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise InputError(option, "must name a readable file on the host the module runs on")
        if os.path.getsize(path) > MAX_PEM:
            raise InputError(option, "must be a PEM file of at most %d bytes" % MAX_PEM)
    if params.get("ca_certificate") and not params.get("certificate"):
        raise InputError("ca_certificate", "needs certificate and private_key")


def read_pem(params):
    """{option: text} of the PEM files given; each must hold what its option says."""
    found = {}
    for option in CERT_FILES:
        if params.get(option):
            with open(params[option], "rb") as handle:
                data = handle.read()
            marker = b"PRIVATE KEY-----" if option == "private_key" else b"-----BEGIN CERTIFICATE-----"
            if marker not in data:
                what = "private key" if option == "private_key" else "certificate"
                raise InputError(option, "must be a PEM %s" % what)
            found[option] = data.decode("ascii", "replace")
    return found


def environment(params):
    env = {"PHPLDAPADMIN_LDAP_HOSTS": params["ldap_host"], "PHPLDAPADMIN_HTTPS": "true" if params["https"] else "false"}
    if params["https"]:
        env.update((CERT_ENV[option], name) for option, name in CERT_FILES.items())
    return env


def container_port(params):
    return 443 if params["https"] else 80


def wanted_config(params, env, pem):
    """What the running container must match (shown as the diff); no key material, only the
    certificates' hashes, so a renewed certificate re-creates the container."""
    return dict(image=params["image"], env=env, network=params["network"],
                published="%s:%d:%d" % (params["bind_address"], params["port"], container_port(params)),
                certificates=dict((option, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16])
                                  for option, text in sorted(pem.items()) if option != "private_key"))


def current_config(container):
    if container is None:
        return {}
    label = (container["Config"].get("Labels") or {}).get(CONFIG_LABEL)
    try:
        return json.loads(label) if label else {"unknown": "container %s was not made by this module" % container["Name"]}
    except ValueError:
        return {"unknown": "unreadable label %s" % CONFIG_LABEL}


def page_url(params):
    host = "localhost" if params["bind_address"] == "0.0.0.0" else params["bind_address"]
    return "%s://%s:%d/" % ("https" if params["https"] else "http", host, params["port"])


# Ready = the login page answers inside the container (both images run PHP; its CLI fetches it).
_PROBE = ('$c = stream_context_create(["ssl" => ["verify_peer" => false, "verify_peer_name" => false]]);'
          '$p = @file_get_contents($argv[1], false, $c);'
          'exit($p !== false && strpos($p, "phpLDAPadmin") !== false ? 0 : 1);')


class AdminUi:
    def __init__(self, api, params, check_mode):
        self.api, self.p, self.check_mode = api, params, check_mode
        self.actions = ActionRecorder(check_mode)
        self.diff = dict(before={}, after={})

    def run(self):
        p = self.p
        current = get_container(self.api, p["name"])
        self.diff["before"] = current_config(current)
        if p["state"] == "absent":
            if current is not None:
                self._do("remove container %s" % p["name"],
                         lambda: self.api.remove_container(current["Id"], force=True))
            return {}
        pem = read_pem(p)
        env = environment(p)
        wanted = wanted_config(p, env, pem)
        self.diff["after"] = wanted
        ensure_network(self.api, self.p["network"], self._do, labels={"db2ops.network": "ldap"})
        if current is not None and self.diff["before"] == wanted:
            if not current["State"].get("Running"):
                self._do("start container %s" % p["name"], lambda: self.api.start(current["Id"]))
        else:
            if current is not None:
                # phpLDAPadmin keeps nothing in the container: re-creating it loses no data.
                self._do("remove container %s (its configuration differs)" % p["name"],
                         lambda: self.api.remove_container(current["Id"], force=True))
            self._do("create and start container %s from %s on network %s, pointed at %s, published on %s"
                     % (p["name"], p["image"], p["network"], p["ldap_host"], wanted["published"]),
                     lambda: self._create(env, pem, wanted))
        if self.check_mode:
            return dict(url=page_url(p))
        container = get_container(self.api, p["name"])
        self._wait_ready(container["Id"])
        networks = container["NetworkSettings"]["Networks"]
        return dict(container_id=container["Id"], url=page_url(p), ldap_host=p["ldap_host"],
                    ip_address=(networks.get(p["network"]) or {}).get("IPAddress"))

    def _do(self, what, action):
        self.actions.do(what, action)

    def _create(self, env, pem, wanted):
        p = self.p
        port = "%d/tcp" % container_port(p)
        host_config = self.api.create_host_config(port_bindings={port: (p["bind_address"], p["port"])},
                                                  restart_policy={"Name": "unless-stopped"})
        networking = self.api.create_networking_config({p["network"]: self.api.create_endpoint_config()})
        try:
            created = self.api.create_container(
                p["image"], name=p["name"], hostname=p["name"], environment=env, ports=[port],
                host_config=host_config, networking_config=networking,
                labels={CONFIG_LABEL: json.dumps(wanted, sort_keys=True)})
        except NotFound:
            raise AdminUiError("image %s is not on the Docker host; pull or build it first" % p["image"])
        if pem:
            # osixia's Apache site names a CA file (SSLCACertificateFile); a missing file would stop
            # Apache: with no ca_certificate, the certificate stands in (no client certificate is asked).
            pem = dict({"ca_certificate": pem["certificate"]}, **pem)
            files = dict(("%s/%s" % (CERTS_DIR, CERT_FILES[option]), text) for option, text in pem.items())
            self.api.put_archive(created["Id"], "/", tar_files(files, 0))
        self.api.start(created["Id"])

    def _wait_ready(self, container_id):
        url = "%s://127.0.0.1:%d/" % ("https" if self.p["https"] else "http", container_port(self.p))
        deadline = time.monotonic() + self.p["ready_timeout"]
        last = ""
        while True:
            state = self.api.inspect_container(container_id)["State"]
            if not state.get("Running"):
                logs = self.api.logs(container_id, tail=5).decode("utf-8", "replace")
                raise AdminUiError("container %s stopped (exit code %s): %s"
                                   % (self.p["name"], state.get("ExitCode"), " | ".join(logs.split("\n")[-5:])))
            try:
                result = exec_in_container(self.api, container_id, ["php", "-r", _PROBE, url], timeout=30)
                if result.rc == 0:
                    return
                if result.rc in (126, 127):  # an image without PHP's CLI: running is all we can see
                    return
                last = (result.stdout + result.stderr).strip()
            except (DockerOperationError, APIError) as exc:
                last = str(exc)
            if time.monotonic() > deadline:
                raise AdminUiError("the page of %s did not answer on %s within %ss: %s"
                                   % (self.p["name"], url, self.p["ready_timeout"], last[-300:]))
            time.sleep(0.5)


def run_task(api, params, check_mode):
    """(changed, result, diff); errors carry `changed` and `commands` (what ran before them)."""
    task = AdminUi(api, params, check_mode)
    try:
        facts = task.run()
    except ActionFailed as exc:
        raise task.actions.fail(exc)
    except APIError as exc:
        exc.commands, exc.changed = task.actions.commands, task.actions.done > 0
        raise
    return task.actions.changed, dict(facts, commands=task.actions.commands), task.diff
