# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What makes a container a Db2 container, its facts in one exec, and readiness.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import difflib
import time

from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import parse_images
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import (
    Db2Clp,
    active_databases,
    parse_database_blocks,
    parse_db2level,
    parse_messages,
)
from ansible_collections.db2ops.docker.plugins.module_utils._db2.dbm_cfg import auth_facts
from ansible_collections.db2ops.docker.plugins.module_utils._db2.hadr import pair_roles, read_status
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    DockerOperationError,
    env_dict,
    mask_env,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.containers import (
    get_container,
    started_at_epoch,
    wait_for_log,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.exec import split_sections

# IBM's images (ibmcom/db2, icr.io/db2_community/db2, store/ibmcorp/db2_developer_c) start
# /var/db2_setup/lib/setup_db2_instance.sh and keep the instance under $STORAGE_DIR.
DB2_SETUP_DIR = "/var/db2_setup/"
DEFAULT_INSTANCE = "db2inst1"
DEFAULT_STORAGE_DIR = "/database"
SETUP_COMPLETED = r"\(\*\) Setup has completed\."

_SECTION = "@@DB2OPS-FACTS"
_SHELL_FACTS = (
    ("db2level", "db2level"),
    # Free space for backups on the storage, and what the databases take (KiB).
    ("storage", 'df -Pk "${STORAGE_DIR:-/database}" | tail -1; du -sk "${STORAGE_DIR:-/database}/data"'),
    ("home", 'printf "%s\\n" "$HOME"'),  # sqllib lives here (bind files, IBMLDAPSecurity.ini)
)
# Asked in one CLP session (one front-end process), each answer after an ECHOed section header.
_CLP_FACTS = (
    ("active", "LIST ACTIVE DATABASES"),
    ("directory", "LIST DB DIRECTORY"),
)


def facts_script(backup_path=None, auth=False):
    """(shell script, CLP statements for its stdin) of db2_facts(); backup_path must have passed
    backup.check_path()."""
    shell = list(_SHELL_FACTS)
    if backup_path:
        shell.append(("backups", "ls -ln %s 2>/dev/null || true" % backup_path))
    clp = list(_CLP_FACTS)
    if auth:
        clp.append(("dbm", "GET DBM CFG"))
    script = "".join('echo "%s %s"; %s 2>&1; echo "%s rc=$?"; ' % (_SECTION, name, command, _SECTION)
                     for name, command in shell)
    script += 'db2 -t +p +s -f /dev/stdin 2>&1; echo "%s rc=$?"; db2 terminate >/dev/null 2>&1; true' % _SECTION
    statements = "".join("ECHO %s %s;\n%s;\n" % (_SECTION, name, statement) for name, statement in clp)
    return script, statements


class NotDb2Container(DockerOperationError):
    pass


def container_name(inspect):
    return (inspect.get("Name") or "").lstrip("/")


def is_db2_container(inspect):
    """True for containers of IBM's Db2 images (and images built FROM them)."""
    config = inspect.get("Config") or {}
    command = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
    if any(str(part).startswith(DB2_SETUP_DIR) for part in command):
        return True
    env = env_dict(config.get("Env"))
    return "DB2INSTANCE" in env and "LICENSE" in env


def require_db2_container(inspect):
    if not is_db2_container(inspect):
        config = inspect.get("Config") or {}
        raise NotDb2Container(
            "container %s (image %s) is not a Db2 container: its entrypoint is not under %s and it has "
            "no DB2INSTANCE/LICENSE environment" % (container_name(inspect), config.get("Image"), DB2_SETUP_DIR))


def did_you_mean(api, name):
    """`; did you mean X?` for the closest existing container name (a typo), or ''."""
    names = [n.lstrip("/") for entry in api.containers(all=True) for n in entry.get("Names") or []]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    return "; did you mean %s?" % close[0] if close else ""


def open_running_db2(api, name, require_running=True, hint=""):
    """inspect data of a (running) Db2 container; DockerOperationError naming why not otherwise."""
    inspect = get_container(api, name)
    if inspect is None:
        raise DockerOperationError("container %s does not exist%s" % (name, did_you_mean(api, name)))
    require_db2_container(inspect)
    state = inspect.get("State") or {}
    if require_running and not state.get("Running"):
        raise DockerOperationError("container %s is not running (state: %s)%s" % (name, state.get("Status"), hint))
    return inspect


def instance_owner(inspect):
    return env_dict((inspect.get("Config") or {}).get("Env")).get("DB2INSTANCE") or DEFAULT_INSTANCE


def storage_dir(inspect):
    return env_dict((inspect.get("Config") or {}).get("Env")).get("STORAGE_DIR") or DEFAULT_STORAGE_DIR


def storage_mount(inspect):
    """The mount behind /database (or $STORAGE_DIR): type, source, destination, rw; or None."""
    target = storage_dir(inspect)
    for mount in inspect.get("Mounts") or []:
        if mount.get("Destination") == target:
            return dict(type=mount.get("Type"), source=mount.get("Source"), name=mount.get("Name"),
                        destination=target, rw=mount.get("RW", True))
    return None


def published_ports(inspect):
    """Published ports as a list of {container_port, protocol, host_ip, host_port}."""
    ports = ((inspect.get("NetworkSettings") or {}).get("Ports")) or {}
    if not ports:  # a stopped container keeps its wish list in HostConfig only
        ports = ((inspect.get("HostConfig") or {}).get("PortBindings")) or {}
    result = []
    for key in sorted(ports):
        number, _sep, protocol = key.partition("/")
        for binding in ports[key] or []:
            result.append(dict(container_port=int(number), protocol=protocol or "tcp",
                               host_ip=binding.get("HostIp") or "", host_port=binding.get("HostPort") or ""))
    return result


def container_summary(inspect):
    """Docker-side facts of one Db2 container; secrets in env masked."""
    config = inspect.get("Config") or {}
    state = inspect.get("State") or {}
    return dict(
        name=container_name(inspect),
        id=inspect.get("Id"),
        image=config.get("Image"),
        image_id=inspect.get("Image"),
        state=state.get("Status"),
        running=bool(state.get("Running")),
        started_at=state.get("StartedAt"),
        hostname=config.get("Hostname"),
        instance=instance_owner(inspect),
        storage=storage_mount(inspect),
        env=mask_env(config.get("Env")),
        ports=published_ports(inspect),
        labels=config.get("Labels") or {},
        networks=sorted(((inspect.get("NetworkSettings") or {}).get("Networks") or {}).keys()),
    )


def db2_facts(api, inspect, timeout=120, backup_path=None, auth=False):
    """Db2-side facts from one exec: db2level, instance state, active and cataloged databases;
    optionally the backup images under backup_path and the authentication plug-ins (dbm cfg)."""
    clp = Db2Clp(api, inspect["Id"], instance_owner(inspect), timeout=timeout)
    script, statements = facts_script(backup_path, auth)
    result = clp.shell(script, stdin=statements)
    if result.rc != 0 and "unable to find user" in (result.stdout + result.stderr):
        raise NotDb2Container("container %s has no instance owner %s yet (setup not run?)"
                              % (container_name(inspect), clp.instance))
    sections = split_sections(result.stdout, _SECTION)
    level = parse_db2level(sections.get("db2level", {}).get("output", ""))
    if level is None:
        raise NotDb2Container("container %s did not answer db2level as Db2 does: %s"
                              % (container_name(inspect), (result.stdout + result.stderr).strip()[:300]))
    active_output = sections.get("active", {}).get("output", "")
    codes = [m.code for m in parse_messages(active_output)]
    directory = parse_database_blocks(sections.get("directory", {}).get("output", ""), key="Database alias")
    facts = dict(
        db2level=level,
        storage_usage=parse_storage_usage(sections.get("storage", {}).get("output", "")),
        instance_home=sections.get("home", {}).get("output", "").strip() or None,
        instance_started="SQL1032N" not in codes,
        active_databases=active_databases(active_output),
        databases=sorted(set(e.get("Database name", e.get("Database alias")) for e in directory
                             if e.get("Database name") or e.get("Database alias"))),
    )
    if backup_path:
        facts["backups"] = parse_images(sections.get("backups", {}).get("output", ""), backup_path)
    if auth:
        facts["auth"] = auth_facts(sections.get("dbm", {}).get("output", ""))
    return facts


def parse_storage_usage(text):
    """`df -Pk dir | tail -1` then `du -sk dir/data` -> {free_kb, size_kb, data_kb}; empty if unknown."""
    lines = [line.split() for line in text.strip().splitlines()]
    usage = {}
    if lines and len(lines[0]) >= 6 and lines[0][3].isdigit():
        usage.update(size_kb=int(lines[0][1]), free_kb=int(lines[0][3]))
    if len(lines) > 1 and lines[1] and lines[1][0].isdigit():
        usage["data_kb"] = int(lines[1][0])
    return usage


def probe_ready(clp, databases):
    """In one exec: when the instance answers (`db2gcf -s`) and every database serves `SELECT 1`,
    the output of `db2level` (so the caller can verify the level without another exec); else None."""
    script = "db2gcf -s >/dev/null 2>&1 || exit 3; db2level || exit 4"
    statements = None
    if databases:
        statements = "".join("CONNECT TO %s;\nSELECT 1 FROM SYSIBM.SYSDUMMY1;\nCONNECT RESET;\n" % name
                             for name in databases)
        script += "; db2 -t +p -s -f /dev/stdin >/dev/null 2>&1; rc=$?; db2 terminate >/dev/null 2>&1; exit $rc"
    result = clp.shell(script, stdin=statements)
    return result.stdout if result.rc == 0 else None


def wait_until_ready(api, container_id, timeout=600, databases=None, poll=1.0):
    """Wait for `(*) Setup has completed.` since this start, then for a CLP probe to succeed.

    One timeout covers both. databases=None probes every cataloged database. Returns the
    `db2level` output of the successful probe.
    Raises ContainerExited / DockerOperationError with the container's last log lines.
    """
    deadline = time.monotonic() + timeout
    inspect = api.inspect_container(container_id)
    wait_for_log(api, container_id, SETUP_COMPLETED, since=started_at_epoch(inspect), timeout=timeout)
    clp = Db2Clp(api, container_id, instance_owner(inspect), timeout=max(10, timeout))
    if databases is None:
        databases = db2_facts(api, inspect)["databases"]
    while True:
        level_text = probe_ready(clp, databases)
        if level_text is not None:
            return level_text
        state = api.inspect_container(container_id)["State"]
        if not state.get("Running"):
            raise DockerOperationError("container %s stopped (exit code %s) while waiting for Db2 to answer"
                                       % (container_name(inspect), state.get("ExitCode")))
        if time.monotonic() > deadline:
            raise DockerOperationError("Db2 in container %s logged 'Setup has completed.' but did not answer "
                                       "a CLP probe within %ss" % (container_name(inspect), timeout))
        time.sleep(poll)


def _has_glob(pattern):
    return any(char in pattern for char in "*?[")


def _label_matches(labels, selector):
    key, sep, value = selector.partition("=")
    return key in labels and (not sep or labels[key] == value)


def find_db2_containers(api, names=None, labels=None, images=None, include_stopped=False):
    """inspect data of the Db2 containers that match every given filter.

    A name without glob characters must exist, be a Db2 container and (unless include_stopped)
    be running: anything else is an error naming the cause. Patterns and labels just filter.
    """
    from fnmatch import fnmatchcase

    names, labels, images = names or [], labels or [], images or []
    found = []
    for exact in (n for n in names if not _has_glob(n)):
        found.append(open_running_db2(api, exact, require_running=not include_stopped,
                                      hint=": start it, or set all=true to list it without Db2 facts"))
    patterns = [n for n in names if _has_glob(n)]
    if patterns or not names:
        for entry in api.containers(all=include_stopped):
            entry_names = [n.lstrip("/") for n in entry.get("Names") or []]
            if patterns and not any(fnmatchcase(n, p) for n in entry_names for p in patterns):
                continue
            inspect = api.inspect_container(entry["Id"])
            if inspect["Id"] not in [f["Id"] for f in found] and is_db2_container(inspect):
                found.append(inspect)
    result = []
    for inspect in found:
        config = inspect.get("Config") or {}
        if labels and not all(_label_matches(config.get("Labels") or {}, s) for s in labels):
            continue
        if images and not any(fnmatchcase(config.get("Image") or "", p) for p in images):
            continue
        result.append(inspect)
    return sorted(result, key=container_name)


def describe_containers(api, inspects, gather_db2=True, parallel=8, timeout=120, backup_path=None, auth=False,
                        gather_hadr=False):
    """container_summary() of each, plus db2_facts() for the running ones, all in parallel; with
    gather_hadr the HADR roles of their databases (one more exec, only when there are databases)."""
    from concurrent.futures import ThreadPoolExecutor

    def describe(inspect):
        summary = container_summary(inspect)
        summary.update(db2level=None, instance_started=None, active_databases=[], databases=[],
                       storage_usage={}, instance_home=None, hadr=None, error=None)
        if backup_path:
            summary["backups"] = []
        if auth:
            summary["auth"] = None
        if gather_db2 and summary["running"]:
            try:
                summary.update(db2_facts(api, inspect, timeout=timeout, backup_path=backup_path, auth=auth))
                if gather_hadr:
                    clp = Db2Clp(api, inspect["Id"], instance_owner(inspect), timeout=timeout)
                    summary["hadr"] = pair_roles(read_status(clp, summary["databases"]))
            except DockerOperationError as exc:
                summary["error"] = str(exc)
        return summary

    if not inspects:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(inspects)))) as pool:
        return list(pool.map(describe, inspects))


def containers_on_storage(api, mount, exclude_ids=()):
    """Other containers (any state) whose mounts include the same bind source or volume."""
    if not mount:
        return []
    found = []
    for entry in api.containers(all=True):
        if entry["Id"] in exclude_ids:
            continue
        for m in entry.get("Mounts") or []:
            same = (mount.get("type") == "volume" and m.get("Name") == mount.get("name")) or \
                   (mount.get("type") == "bind" and m.get("Source") == mount.get("source"))
            if same:
                found.append(dict(name=(entry.get("Names") or ["?"])[0].lstrip("/"), id=entry["Id"],
                                  state=entry.get("State")))
                break
    return found
