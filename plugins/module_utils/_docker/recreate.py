# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Re-create a container from another image with *everything* carried over from `docker inspect`.

community.docker re-creates from the task's options only, so whatever a task forgot is dropped on
the next image bump. Here the new container's configuration is derived from the old container:
its HostConfig as a whole (mounts, ports, restart policy, privileges, capabilities, devices,
resource limits, links, ulimits, ...), its networks with aliases and static addresses, and from
Config only what the user set, i.e. what differs from the old image's defaults (so the new image's
own defaults, like DB2DIR=/opt/ibm/db2/V11.5, win over the old image's).

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import copy

# HostConfig keys that describe the old container's runtime, not a wish for the new one.
_HOST_CONFIG_DROP = ("ContainerIDFile",)
# Labels this collection sets on a re-created container; never inherited from the old one.
_LABEL_PREFIX = "db2ops.upgrade."


def user_env(container_config, image_config):
    """Env entries the user set: the container's env minus entries identical in the old image."""
    image_env = set((image_config or {}).get("Env") or [])
    return [entry for entry in container_config.get("Env") or [] if entry not in image_env]


def user_labels(container_config, image_config):
    image_labels = (image_config or {}).get("Labels") or {}
    return dict((k, v) for k, v in (container_config.get("Labels") or {}).items()
                if image_labels.get(k) != v and not k.startswith(_LABEL_PREFIX))


def _if_user_set(container_config, image_config, key):
    value = container_config.get(key)
    return value if value and value != (image_config or {}).get(key) else None


def host_config_for(inspect):
    host = copy.deepcopy(inspect.get("HostConfig") or {})
    for key in _HOST_CONFIG_DROP:
        host.pop(key, None)
    # inspect shows links as "/target:/this/alias"; create wants "target:alias".
    host["Links"] = [_create_link(link) for link in host.get("Links") or []] or None
    # `--mount type=volume,dst=...` without a source asks for a new anonymous volume: replaced
    # by the old one, named, below.
    if host.get("Mounts"):
        host["Mounts"] = [m for m in host["Mounts"] if m.get("Type") != "volume" or m.get("Source")] or None
    host["Binds"] = (host.get("Binds") or []) + anonymous_volume_binds(inspect) or None
    return host


def _bind_target(bind):
    parts = bind.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def anonymous_volume_binds(inspect):
    """Binds (`<volume name>:<path>:rw|ro`) that give a new container the old one's anonymous volumes.

    IBM's Db2 images declare `VOLUME /database`: a container started without `-v` keeps its databases
    on an anonymous volume, and a container created from another image would get a new, empty one
    (setup would make empty databases, the data would stay stranded on the old volume). Naming the
    volume makes the new container mount the very same one.
    """
    host = inspect.get("HostConfig") or {}
    named = set(_bind_target(b) for b in host.get("Binds") or [])
    named.update(m.get("Target") for m in host.get("Mounts") or [] if m.get("Type") != "volume" or m.get("Source"))
    binds = []
    for mount in inspect.get("Mounts") or []:
        if mount.get("Type") == "volume" and mount.get("Name") and mount.get("Destination") not in named:
            binds.append("%s:%s:%s" % (mount["Name"], mount["Destination"], "rw" if mount.get("RW", True) else "ro"))
    return binds


def _create_link(link):
    target, _sep, alias = link.partition(":")
    return "%s:%s" % (target.lstrip("/"), alias.rsplit("/", 1)[-1])


def networks_for(inspect):
    """(primary network name, {name: endpoint config}) with aliases and static IPs kept."""
    mode = (inspect.get("HostConfig") or {}).get("NetworkMode") or "default"
    networks = ((inspect.get("NetworkSettings") or {}).get("Networks")) or {}
    # The daemon adds the short container id as an alias; it must not follow to the new container.
    short_id = (inspect.get("Id") or "")[:12]
    endpoints = {}
    for name, settings in networks.items():
        endpoint = {}
        aliases = [a for a in settings.get("Aliases") or [] if a != short_id]
        if aliases:
            endpoint["Aliases"] = aliases
        ipam = settings.get("IPAMConfig")
        if ipam and any(ipam.values()):
            endpoint["IPAMConfig"] = ipam
        if settings.get("Links"):
            endpoint["Links"] = settings["Links"]
        endpoints[name] = endpoint
    return mode, endpoints


def create_spec(inspect, old_image_config, image, name, extra_labels=None):
    """Arguments for APIClient.create_container() that re-create this container from `image`.

    Returns (kwargs, other_networks): networks beyond the primary one are connected after create
    (API 1.41 accepts one network at create time).
    """
    config = inspect.get("Config") or {}
    labels = user_labels(config, old_image_config)
    labels.update(extra_labels or {})
    mode, endpoints = networks_for(inspect)
    primary = mode if mode in endpoints else None
    networking = {"EndpointsConfig": {primary: endpoints[primary]}} if primary else None
    # Ports the container exposes beyond its image's (`docker run -p 4000:4000` exposes 4000/tcp), as
    # (port, protocol): docker-py appends "/tcp" to a "4000/tcp" string, and the binding would be lost.
    exposed = [(int(p.split("/")[0]), p.split("/")[1] if "/" in p else "tcp") for p in (config.get("ExposedPorts") or {})
               if p not in ((old_image_config or {}).get("ExposedPorts") or {})]
    kwargs = dict(
        image=image,
        name=name,
        hostname=config.get("Hostname") or None,
        domainname=config.get("Domainname") or None,
        user=_if_user_set(config, old_image_config, "User"),
        environment=user_env(config, old_image_config),
        labels=labels,
        command=_if_user_set(config, old_image_config, "Cmd"),
        entrypoint=_if_user_set(config, old_image_config, "Entrypoint"),
        working_dir=_if_user_set(config, old_image_config, "WorkingDir"),
        stop_signal=_if_user_set(config, old_image_config, "StopSignal"),
        stop_timeout=config.get("StopTimeout"),  # `docker run --stop-timeout`; the image has none
        healthcheck=_if_user_set(config, old_image_config, "Healthcheck"),
        ports=exposed or None,
        tty=bool(config.get("Tty")),
        stdin_open=bool(config.get("OpenStdin")),
        host_config=host_config_for(inspect),
        networking_config=networking,
        detach=True,
    )
    others = dict((n, e) for n, e in endpoints.items() if n != primary and mode not in ("host", "none"))
    return kwargs, others


def carried_over(inspect, old_image_config):
    """A readable summary of what create_spec() carries, for check mode and diff."""
    host = inspect.get("HostConfig") or {}
    mode, endpoints = networks_for(inspect)
    return dict(
        mounts=["%s:%s" % (m.get("Source") or m.get("Name"), m.get("Destination")) for m in inspect.get("Mounts") or []],
        env=sorted(entry.split("=", 1)[0] for entry in user_env(inspect.get("Config") or {}, old_image_config)),
        ports=sorted("%s->%s" % (k, ",".join(b.get("HostPort", "") for b in v or []))
                     for k, v in (host.get("PortBindings") or {}).items()),
        hostname=(inspect.get("Config") or {}).get("Hostname"),
        networks=sorted(endpoints) or [mode],
        links=host.get("Links") or [],
        privileged=bool(host.get("Privileged")),
        cap_add=host.get("CapAdd") or [],
        restart_policy=(host.get("RestartPolicy") or {}).get("Name") or "no",
        stop_timeout=(inspect.get("Config") or {}).get("StopTimeout"),
        labels=sorted(user_labels(inspect.get("Config") or {}, old_image_config)),
        memory=host.get("Memory") or 0,
        nano_cpus=host.get("NanoCpus") or 0,
    )
