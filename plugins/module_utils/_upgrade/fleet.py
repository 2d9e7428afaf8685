# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Db2 fleet across Docker daemons: what the inventory plugin asks each daemon, and how a
container becomes an inventory host (name, groups, the variables the roles read).

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
from fnmatch import fnmatchcase

from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionFailed
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import (
    container_name,
    describe_containers,
    find_db2_containers,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    DEFAULT_DOCKER_HOST,
    DockerOperationError,
    connect,
    docker_suboptions,
    insecure_warnings,
    resolve_connection,
)

# One `docker_hosts` entry: the modules' connection options (names, types, aliases) plus a name for the daemon.
DAEMON_SPEC = dict(docker_suboptions(), alias=dict(type="str"))
DAEMON_KEYS = tuple(DAEMON_SPEC)
DAEMON_ALIASES = {alias: name for name, option in DAEMON_SPEC.items() for alias in option.get("aliases", ())}
PATH_KEYS = tuple(name for name, option in DAEMON_SPEC.items() if option["type"] == "path")
# Bump when the shape of the cached data changes: an older cache then counts as a miss.
CACHE_FORMAT = 1


class FleetError(ActionFailed):
    """A problem with the inventory source, explained in one line."""


def safe_name(text):
    """A group-name fragment: letters, digits and `_` only, lower-case (`11.1.4.4` -> `11_1_4_4`)."""
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", str(text))).strip("_").lower()


def default_alias(host):
    """A short name for a daemon: the host of a tcp:// URL, `local` for the default socket."""
    if host == DEFAULT_DOCKER_HOST:
        return "local"
    match = re.match(r"^(?:tcp|https)://\[?([^\]/]+?)\]?(?::\d+)?/?$", host)
    if match:
        return match.group(1)
    return os.path.splitext(os.path.basename(host.rstrip("/")))[0] or host


def daemon_entries(raw, base_dir=None, environ=None):
    """Validate the `docker_hosts` option; return [{alias, conn}] with connection settings resolved.

    Relative certificate paths are taken relative to base_dir (the inventory file's directory).
    """
    if not isinstance(raw, list) or not raw:
        raise FleetError("docker_hosts must be a non-empty list of Docker daemons, each a mapping with docker_host")
    entries, aliases = [], {}
    for index, item in enumerate(raw):
        if isinstance(item, dict):  # an alias (docker_url, tls_verify, ca_cert, ...) means what it means in a module
            item = {DAEMON_ALIASES.get(key, key): value for key, value in item.items()}
        if not isinstance(item, dict) or not item.get("docker_host"):
            raise FleetError("docker_hosts[%d] must be a mapping with docker_host (got %r)" % (index, item))
        unknown = sorted(set(item) - set(DAEMON_KEYS))
        if unknown:
            raise FleetError("docker_hosts[%d] (%s): unknown key %s; known keys: %s"
                             % (index, item["docker_host"], ", ".join(unknown), ", ".join(DAEMON_KEYS)))
        if bool(item.get("client_cert")) != bool(item.get("client_key")):
            raise FleetError("docker_hosts[%d] (%s): client_cert and client_key go together"
                             % (index, item["docker_host"]))
        # validate_certs stays unset unless given: the entry's value, then DOCKER_TLS_VERIFY, then on.
        params = dict(timeout=DAEMON_SPEC["timeout"]["default"])
        params.update((k, v) for k, v in item.items() if v is not None)
        for key in PATH_KEYS:
            if params.get(key):
                path = os.path.expanduser(os.path.expandvars(str(params[key])))
                params[key] = path if os.path.isabs(path) or not base_dir else os.path.join(base_dir, path)
        try:
            conn = resolve_connection(params, environ)
        except DockerOperationError as exc:
            raise FleetError("docker_hosts[%d]: %s" % (index, exc))
        alias = str(item.get("alias") or default_alias(conn["host"]))
        if not safe_name(alias):
            raise FleetError("docker_hosts[%d]: alias %r has no letters or digits" % (index, alias))
        if alias in aliases:
            raise FleetError("docker_hosts[%d] (%s) and docker_hosts[%d] have the same alias %r: give each an alias"
                             % (index, conn["host"], aliases[alias], alias))
        aliases[alias] = index
        entries.append(dict(alias=alias, conn=conn, warnings=insecure_warnings(conn)))
    return entries


def fingerprint(entries, options):
    """What decides the content of the inventory: a cache written for anything else is a miss."""
    data = [CACHE_FORMAT, [(e["alias"], e["conn"]) for e in entries], options]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()


def container_record(summary):
    """What the inventory keeps of db2_container_info's description of one container (JSON-safe)."""
    level = summary.get("db2level") or {}
    storage = summary.get("storage") or {}
    return dict(
        name=summary["name"], id=summary["id"], image=summary["image"], image_id=summary["image_id"],
        state=summary["state"], running=summary["running"], instance=summary["instance"],
        storage=storage.get("source") or storage.get("name"), labels=summary.get("labels") or {},
        db2level=level or None, level=level.get("level"), version=level.get("version"),
        databases=summary.get("databases") or [], active_databases=summary.get("active_databases") or [],
        error=summary.get("error"),
    )


def scan_daemon(conn, names=(), labels=(), images=(), include_stopped=False, gather_db2=True, parallel=8,
                exec_timeout=120):
    """The Db2 containers of one daemon as records. Raises DockerOperationError."""
    api = connect(conn)
    try:
        # Names only filter here: a name that exists on one daemon is missing on the others.
        found = [i for i in find_db2_containers(api, [], list(labels), list(images), include_stopped)
                 if not names or any(fnmatchcase(container_name(i), n) for n in names)]
        return [container_record(s) for s in describe_containers(api, found, gather_db2, parallel, exec_timeout)]
    finally:
        api.close()


def scan(entries, on_unreachable="error", warn=None, **filters):
    """Ask every daemon; returns (daemons, skipped) where daemons = [{alias, host, containers}].

    An unreachable daemon is an error naming it, or, with on_unreachable=skip, a warning.
    """
    daemons, skipped = [], []
    for entry in entries:
        conn = entry["conn"]
        try:
            containers = scan_daemon(conn, **filters)
        except Exception as exc:  # unreachable, TLS refused, or the daemon failed mid-way
            message = "Docker host %s (%s): %s" % (entry["alias"], conn["host"], exc)
            if on_unreachable != "skip":
                raise FleetError(message)
            skipped.append(message)
            if warn:
                warn(message + "; its containers are left out of the inventory")
            continue
        daemons.append(dict(alias=entry["alias"], host=conn["host"], containers=containers))
    return daemons, skipped


def host_name(template, record, alias):
    """The inventory host name of a container from a template like `{container}@{alias}`."""
    try:
        return template.format(container=record["name"], alias=alias, id=record["id"], short_id=record["id"][:12])
    except (KeyError, IndexError, ValueError) as exc:
        raise FleetError("host_name %r: %s (fields: container, alias, id, short_id)" % (template, exc))


def host_vars(record, alias, conn):
    """The variables of one inventory host: what the roles read, then the container's facts."""
    result = dict(db2_container=record["name"], db2ops_docker_host=conn["host"])
    if conn["tls"]:
        result["db2ops_docker_validate_certs"] = conn["verify"]
        for key in PATH_KEYS:
            if conn.get(key):
                result["db2ops_docker_" + key] = conn[key]
    result.update(
        db2ops_docker_alias=alias,
        db2_container_id=record["id"], db2_image=record["image"], db2_image_id=record["image_id"],
        db2_state=record["state"], db2_instance=record["instance"], db2_storage=record["storage"],
        db2_level=record["level"], db2_version=record["version"], db2_db2level=record["db2level"],
        db2_databases=record["databases"], db2_active_databases=record["active_databases"],
        db2_labels=record["labels"], db2_facts_error=record["error"],
    )
    return result


def host_groups(record, alias):
    """The groups a container joins: its Db2 level and version, its image, its Docker host."""
    groups = []
    if record["level"]:
        groups.append("db2_level_" + safe_name(record["level"]))
        groups.append("db2_version_" + safe_name(".".join(record["version"].split(".")[:2])))
    if record["image"]:
        groups.append("db2_image_" + safe_name(record["image"]))
    groups.append("docker_host_" + safe_name(alias))
    return groups
