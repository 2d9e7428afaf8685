"""A small in-memory Docker daemon for the engines' unit tests, with a Db2 in each container.

Only what the engines call is here, with the Engine API client's (docker.APIClient's) names and
arguments; anything else is an AttributeError. Execs go through the real exec code
(_docker/exec.py): the fake answers with docker's multiplexed stream on a fake socket.

Exec answers are scripted per command pattern (`on_exec`); a Db2 container answers the CLP,
db2level, the facts script, the readiness probe, db2updv and backups from a little model of its
instance (`Db2State`). An exec no rule matches is recorded in `unexpected` (tests check it is
empty) and fails.
"""
from __future__ import annotations

import re
import socket
import struct
import time

from docker.errors import APIError, ImageNotFound, NotFound

from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import PREPARE_DIRECTORY

OK = "DB20000I  The SQL command completed successfully."
SETUP_DONE = b"(*) Setup has completed.\n"
_PROFILE = '. "$HOME/sqllib/db2profile" >/dev/null 2>&1; '
TIMEOUT = object()  # an exec answer: the command never ends


def db2level_text(level, instance="db2inst1"):
    """What `db2level` prints for a level such as 11.1.3.3a."""
    version = re.match(r"(\d+\.\d+\.\d+\.\d+)", level).group(1)
    fixpack = version.split(".")[-1] + level[len(version):]
    return ('DB21085I  This instance or install (instance name, where applicable: "%s") uses "64" bits\n'
            'and DB2 code release "SQL11014" with level identifier "0205010F".\n'
            'Informational tokens are "DB2 v%s", "s1906101300", "DYN1906101300AMD64", and Fix Pack "%s".\n'
            'Product is installed at "/opt/ibm/db2/V11.1".\n' % (instance, version, fixpack))


def catalog_number(level):
    return int("".join("%02d" % int(part) for part in re.findall(r"\d+", level)[:4]))


def release(catalog):
    """The Db2 version and release (1101, 1105) of a catalog number."""
    return catalog // 10000


class Db2State:
    """The instance of one container: its databases, which are active, catalog levels, backups."""

    def __init__(self, level, databases=("TESTDB",), active=("TESTDB",), home="/database/config/db2inst1"):
        self.level = level
        self.databases = list(databases)
        self.active = list(active)
        self.catalog = dict((db, catalog_number(level)) for db in databases)
        self.home = home
        self.ready = True  # answers the readiness probe
        self.failures = {}  # statement regex -> CLP output (an error message)
        self.backups = []  # file names under the backup path
        self.storage = "/dev/x 1000000 400000 600000 40% /database\n180000\t/database/data"
        self.log = []  # statements and commands run, in order
        self.connected = None
        self.hadr = {}  # database -> HADR role in its db cfg (STANDARD when absent)

    def moved_to(self, level):
        """The same storage (databases, catalogs, backups) under another image's Db2, nothing active."""
        moved = Db2State.__new__(Db2State)
        moved.__dict__.update(self.__dict__)
        moved.level, moved.active, moved.ready = level, [], True
        return moved


class _Socket:
    """docker-py's exec socket as exec_in_container uses it: sendall, settimeout, recv, close."""

    def __init__(self, daemon, exec_id):
        self.daemon, self.exec_id, self.sent, self.out = daemon, exec_id, b"", None

    def sendall(self, data):
        self.sent += data

    def settimeout(self, value):
        pass

    def recv(self, size):
        if self.out is None:
            self.out = self.daemon._run_exec(self.exec_id, self.sent)
        if self.out is TIMEOUT:
            raise socket.timeout()
        chunk, self.out = self.out[:size], self.out[size:]
        return chunk

    def close(self):
        pass


def _frames(stdout, stderr):
    out = b""
    for stream, text in ((1, stdout), (2, stderr)):
        data = text.encode()
        if data:
            out += struct.pack(">BxxxL", stream, len(data)) + data
    return out


class FakeDocker:
    """The daemon and its Engine API client in one object (pass it as `api`)."""

    def __init__(self):
        self._containers = {}  # id -> inspect data (plus "_db2", "_log", "_start")
        self.images = {}  # reference -> image inspect
        self.registry = {}  # reference -> image inspect, pullable
        self.networks = {}
        self.volumes = set()
        self.build_stream = None  # what the next build() streams: a list of chunks (dicts)
        self.stores = {}  # storage (bind source or volume) -> the Db2State last seen on it
        self.rules = []  # (compiled command regex, answer), newest first
        self.execs = {}
        self.unexpected = []
        self.failures = {}  # method -> [exception, ...] raised by its next calls
        self.calls = []  # (method, first argument) of every call that changes something
        self.wait_answers = []  # (exit code, log) that the next wait() calls report; default (0, b"")
        self._seq = 0

    # -- test set-up --------------------------------------------------------------------------

    def _id(self):
        self._seq += 1
        return "%064x" % (0xC0FFEE000 + self._seq)

    def add_image(self, ref, level=None, env=None, labels=None, start="ready", registry=False):
        """An image; `start` is what its containers do: ready, exit (setup fails) or hang (never logs)."""
        image = {"Id": "sha256:" + self._id()[:12], "RepoTags": [ref], "_start": start, "_level": level,
                 "Config": {"Env": list(env or ["PATH=/usr/bin", "STORAGE_DIR=/database"]),
                            "Labels": dict(labels or {}), "Entrypoint": ["/var/db2_setup/lib/setup_db2_instance.sh"],
                            "Cmd": None, "ExposedPorts": {"50000/tcp": {}}, "WorkingDir": ""}}
        (self.registry if registry else self.images)[ref] = image
        return image

    def add_db2(self, name, image_ref, databases=("TESTDB",), active=("TESTDB",), running=True, storage="/srv/db2",
                env=(), **host):
        """A Db2 container as `docker run` leaves it, with its instance at the image's level."""
        image = self.images[image_ref]
        host_config = dict({"Binds": ["%s:/database" % storage] if storage else None, "AutoRemove": False,
                            "NetworkMode": "default", "RestartPolicy": {"Name": "no"}}, **host)
        created = self.create_container(image=image_ref, name=name, hostname="db2server", host_config=host_config,
                                        environment=["LICENSE=accept", "DB2INSTANCE=db2inst1"] + list(env))
        container = self._containers[created["Id"]]
        container["_db2"] = self.stores[storage] = Db2State(image["_level"], databases, active)
        if running:
            self.start(created["Id"])
        self.calls = []
        return container

    def on_exec(self, pattern, answer):
        """Answer execs whose command matches `pattern` (re.search): (rc, stdout[, stderr]), TIMEOUT, or a
        function(container, command, stdin, user) returning one of those. Newest rules win."""
        self.rules.insert(0, (re.compile(pattern), answer))

    def fail(self, method, exc=None, times=1):
        """Make the next `times` calls of `method` raise exc (an APIError by default)."""
        exc = exc or APIError("500 Server Error: %s failed" % method, explanation="%s failed on purpose" % method)
        self.failures.setdefault(method, []).extend([exc] * times)

    def container(self, name_or_id):
        return self._find(name_or_id)

    def snapshot(self):
        """What a user sees in `docker ps -a` and `docker images`, plus each instance's active databases."""
        return sorted((c["Name"], c["Id"], c["Image"], c["State"]["Running"],
                       tuple((c.get("_db2") and c["_db2"].active) or ())) for c in self._containers.values()), \
            sorted(self.images)

    def names(self):
        return sorted(c["Name"].lstrip("/") for c in self._containers.values())

    # -- helpers ------------------------------------------------------------------------------

    def _check_fail(self, method):
        pending = self.failures.get(method)
        if pending:
            raise pending.pop(0)

    def _change(self, method, target):
        self._check_fail(method)
        self.calls.append((method, target))

    def _find(self, name_or_id):
        for container in self._containers.values():
            if name_or_id in (container["Id"], container["Name"].lstrip("/")) or \
                    (len(name_or_id) >= 12 and container["Id"].startswith(name_or_id)):
                return container
        raise NotFound("404 Client Error: No such container: %s" % name_or_id,
                       explanation="No such container: %s" % name_or_id)

    def _image(self, ref):
        for image in self.images.values():
            short = ref[7:] if ref.startswith("sha256:") else ref
            if ref in image["RepoTags"] or (len(short) >= 12 and image["Id"][7:].startswith(short)):
                return image
        raise ImageNotFound("404 Client Error: No such image: %s" % ref, explanation="No such image: %s" % ref)

    # -- containers -----------------------------------------------------------------------------

    def inspect_container(self, name_or_id):
        self._check_fail("inspect_container")
        return _public(self._find(name_or_id))

    def containers(self, all=False):
        return [{"Id": c["Id"], "Names": [c["Name"]], "Image": c["Config"]["Image"], "Mounts": c["Mounts"],
                 "State": "running" if c["State"]["Running"] else "exited"}
                for c in self._containers.values() if all or c["State"]["Running"]]

    def create_container(self, image, name=None, hostname=None, environment=None, host_config=None, labels=None,
                         networking_config=None, detach=True, ports=None, entrypoint=None, command=None, **_more):
        self._change("create_container", name)
        source = self._image(image)
        name = name or "helper_%d" % (self._seq + 1)  # docker names an unnamed container
        if any(c["Name"] == "/" + name for c in self._containers.values()):
            raise APIError("409 Client Error: Conflict", explanation='The container name "/%s" is already in use' % name)
        host_config = dict(host_config or {})
        mounts = []
        for bind in host_config.get("Binds") or []:
            src, dst = bind.split(":")[:2]
            kind = "bind" if src.startswith("/") else "volume"
            mounts.append({"Type": kind, "Source": src if kind == "bind" else "/var/lib/docker/volumes/%s/_data" % src,
                           "Name": None if kind == "bind" else src, "Destination": dst, "RW": not bind.endswith(":ro")})
        networks = dict((networking_config or {}).get("EndpointsConfig") or {})
        if not networks:
            networks = {host_config.get("NetworkMode") or "default": {"Aliases": None}}
        container_id = self._id()
        if isinstance(environment, dict):
            environment = ["%s=%s" % item for item in sorted(environment.items())]
        env = list(source["Config"]["Env"]) + list(environment or [])
        self._containers[container_id] = {
            "Id": container_id, "Name": "/" + name, "Image": source["Id"], "RestartCount": 0,
            "Config": {"Image": image, "Hostname": hostname or container_id[:12], "Env": env,
                       "Labels": dict(source["Config"]["Labels"], **(labels or {})), "Entrypoint":
                       entrypoint or source["Config"]["Entrypoint"], "Cmd": command, "StopTimeout": _more.get("stop_timeout")},
            "HostConfig": host_config, "Mounts": mounts,
            "NetworkSettings": {"Networks": networks},
            "State": {"Running": False, "Status": "created", "ExitCode": 0, "StartedAt": "0001-01-01T00:00:00Z"},
            "_db2": None, "_log": b"", "_start": source["_start"],
        }
        storage = next((m["Name"] or m["Source"] for m in mounts if m["Destination"] == "/database"), None)
        if source["_level"] and storage in self.stores:
            self._containers[container_id]["_db2"] = self.stores[storage] = self.stores[storage].moved_to(source["_level"])
        elif source["_level"]:
            self._containers[container_id]["_db2"] = Db2State(source["_level"])
        return {"Id": container_id, "Warnings": []}

    def start(self, container):
        self._change("start", container)
        found = self._find(container)
        state = found["State"]
        if state["Running"]:
            return
        started = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
        state.update(Running=True, Status="running", StartedAt=started)
        if found["_start"] == "ready":
            found["_log"] = SETUP_DONE
        elif found["_start"] == "exit":
            found["_log"] = b"(*) Updating the instance failed\n"
            state.update(Running=False, Status="exited", ExitCode=1)
        elif found["_start"] == "unready":  # sets up, but Db2 never answers
            found["_log"] = SETUP_DONE
            found["_db2"].ready = False

    def wait(self, container, timeout=None):
        """A short-lived container runs to its end: the next of `wait_answers`, or exit 0."""
        self._check_fail("wait")
        found = self._find(container)
        code, log = self.wait_answers.pop(0) if self.wait_answers else (0, b"")
        found["_log"] = log
        found["State"].update(Running=False, Status="exited", ExitCode=code)
        return {"StatusCode": code}

    def stop(self, container, timeout=None):
        self._change("stop", container)
        state = self._find(container)["State"]
        state.update(Running=False, Status="exited", ExitCode=0)
        db2 = self._find(container)["_db2"]
        if db2:
            db2.active = []

    def rename(self, container, name):
        self._change("rename", container)
        found = self._find(container)
        if any(c["Name"] == "/" + name for c in self._containers.values() if c is not found):
            raise APIError("409 Client Error: Conflict", explanation="name %s is already in use" % name)
        found["Name"] = "/" + name

    def remove_container(self, container, v=False, force=False):
        self._change("remove_container", container)
        found = self._find(container)
        if found["State"]["Running"] and not force:
            raise APIError("409 Client Error: Conflict", explanation="stop the container before removing it")
        del self._containers[found["Id"]]

    def connect_container_to_network(self, container, net_id, aliases=None, ipv4_address=None):
        self._change("connect_container_to_network", container)
        self._find(container)["NetworkSettings"]["Networks"][net_id] = {"Aliases": aliases}

    def create_host_config(self, binds=None, port_bindings=None, privileged=False, restart_policy=None,
                           network_mode=None):  # noqa: A002 (the SDK's names)
        # docker-py: one binding (a port, or an (ip, port) tuple) or a list of them
        ports = dict((key, [{"HostIp": h[0], "HostPort": h[1]} if isinstance(h, tuple) else {"HostIp": "", "HostPort": h}
                            for h in (hosts if isinstance(hosts, list) else [hosts])])
                     for key, hosts in (port_bindings or {}).items())
        return {"Binds": binds, "PortBindings": ports, "Privileged": privileged,
                "RestartPolicy": restart_policy or {"Name": "no"}, "NetworkMode": network_mode or "default"}

    def put_archive(self, container, path, data):
        self._change("put_archive", container)
        self._find(container).setdefault("_archives", []).append((path, data))
        return True

    # -- networks and volumes -----------------------------------------------------------------------

    def inspect_network(self, net_id):
        if net_id not in self.networks:
            raise NotFound("404 Client Error: network %s not found" % net_id, explanation="network %s not found" % net_id)
        return self.networks[net_id]

    def create_network(self, name, driver=None, labels=None):
        self._change("create_network", name)
        self.networks[name] = {"Id": name, "Name": name, "Driver": driver, "Scope": "local", "Labels": labels or {}}
        return {"Id": name}

    def create_networking_config(self, endpoints_config=None):
        return {"EndpointsConfig": endpoints_config}

    def create_endpoint_config(self, aliases=None):
        return {"Aliases": aliases}

    def remove_volume(self, name):
        self._change("remove_volume", name)
        if name not in self.volumes:
            raise NotFound("404 Client Error: no such volume", explanation="no such volume: %s" % name)
        self.volumes.discard(name)

    def logs(self, container, stdout=True, stderr=True, stream=False, follow=False, since=None, tail=None):
        log = self._find(container)["_log"]
        return iter([log]) if stream else log

    # -- images -----------------------------------------------------------------------------------

    def inspect_image(self, image):
        self._check_fail("inspect_image")
        return self._image(image)

    def inspect_distribution(self, image):
        self._check_fail("inspect_distribution")
        if image not in self.registry:
            raise NotFound("404 Client Error: manifest unknown", explanation="manifest for %s not found" % image)
        return {"Descriptor": {"digest": "sha256:abc"}}

    def pull(self, repository, tag=None):
        ref = "%s:%s" % (repository, tag) if tag else repository
        self._change("pull", ref)
        if ref not in self.registry:
            raise NotFound("404 Client Error: manifest unknown", explanation="manifest for %s not found" % ref)
        self.images[ref] = self.registry[ref]

    def build(self, fileobj=None, custom_context=False, rm=True, forcerm=True, pull=False, labels=None,
              decode=True, timeout=None):
        self._change("build", labels and sorted(labels))
        self.built = dict(context=fileobj.read(), labels=labels)
        stream = self.build_stream or [{"stream": "Step 1/1 : FROM base\n"}, {"stream": " ---> 0123456789ab\n"},
                                       {"aux": {"ID": "sha256:" + self._id()}}]
        for chunk in stream:
            if not isinstance(chunk, dict):  # an exception: the connection breaks here
                raise chunk  # pylint: disable=raising-bad-type
            if (chunk.get("aux") or {}).get("ID"):
                self.images["sha256:" + chunk["aux"]["ID"][7:19]] = {
                    "Id": chunk["aux"]["ID"], "RepoTags": [], "Parent": "", "Config": {"Labels": labels}}
            yield chunk

    def tag(self, image, repository, tag=None, force=False):
        self._change("tag", image)
        found = self._image(image)
        found["RepoTags"].append("%s:%s" % (repository, tag))
        self.images["%s:%s" % (repository, tag)] = found
        return True

    def remove_image(self, image, noprune=False):
        self._change("remove_image", image)
        found = self._image(image)
        for ref in [r for r, i in self.images.items() if i is found]:
            del self.images[ref]

    # -- exec -----------------------------------------------------------------------------------

    def exec_create(self, container, cmd, stdin=False, stdout=True, stderr=True, tty=False, user="",
                    environment=None, workdir=None):
        self._check_fail("exec_create")
        found = self._find(container)
        if not found["State"]["Running"]:
            raise APIError("409 Client Error: Conflict", explanation="container %s is not running" % container)
        exec_id = self._id()
        self.execs[exec_id] = dict(container=found, cmd=list(cmd), user=user, rc=None)
        return {"Id": exec_id}

    def exec_start(self, exec_id, socket=False):
        assert socket, "the engines read exec output from the socket"
        return _Socket(self, exec_id)

    def exec_inspect(self, exec_id):
        return {"Running": False, "ExitCode": self.execs[exec_id]["rc"]}

    def _run_exec(self, exec_id, sent):
        record = self.execs[exec_id]
        cmd = record["cmd"]
        if cmd[:2] == ["/bin/sh", "-c"] and cmd[2].startswith("head -c "):
            cmd = cmd[4:]  # exec_in_container's stdin wrapper
        command = cmd[2] if cmd[:2] == ["/bin/bash", "-c"] else " ".join(cmd)
        command = command.split(_PROFILE, 1)[-1]
        stdin = sent.decode()
        for pattern, answer in self.rules + DB2_RULES:
            if pattern.search(command):
                if callable(answer):
                    answer = answer(record["container"], command, stdin, record["user"])
                if answer is TIMEOUT:
                    return TIMEOUT
                rc, out, err = (tuple(answer) + ("",))[:3]
                record["rc"] = rc
                return _frames(out, err)
        self.unexpected.append(command)
        raise AssertionError("no exec rule for %r" % command)


def _public(container):
    return dict((k, v) for k, v in container.items() if not k.startswith("_"))


# -- the Db2 in a container ---------------------------------------------------------------------

def _db2(container):
    state = container["_db2"]
    assert state is not None, "container %s has no Db2" % container["Name"]
    return state


def _clp(state, stdin, stop_on_error):
    """Run CLP statements (one a line, ending in `;`) against state: (rc, output)."""
    out, rc = [], 0
    for line in stdin.splitlines():
        statement = line.strip().rstrip(";").strip()
        if not statement:
            continue
        if statement.upper().startswith("ECHO "):
            out.append(statement[5:])
            continue
        state.log.append(statement)
        text = next((o for p, o in state.failures.items() if re.search(p, statement)), None)
        if text is None:
            text = _answer(state, statement)
        out.append(text)
        if re.search(r"^(SQL|DB2)\d{4,5}[NEC]\b", text, re.M):
            rc = max(rc, 4)
            if stop_on_error:
                break
        elif re.search(r"^SQL\d{4,5}W", text, re.M):
            rc = max(rc, 2)
    return rc, "\n".join(out) + "\n"


def _answer(state, statement):
    upper = statement.upper()
    word = upper.split()[-1] if upper.split() else ""
    if upper == "LIST ACTIVE DATABASES":
        if not state.active:
            return "SQL1611W  No data was returned by Database System Monitor."
        return "\n".join("Database name = %s\nPath = /database/data/%s" % (db, db) for db in state.active)
    if upper == "LIST DB DIRECTORY":
        return "\n".join(" Database alias = %s\n Database name = %s\n Directory entry type = Indirect\n" % (db, db)
                         for db in state.databases)
    match = re.match(r"(DE)?ACTIVATE DATABASE (\S+)$", upper)
    if match:
        database = match.group(2)
        if match.group(1):
            state.active = [db for db in state.active if db != database]
        elif database not in state.active:
            state.active.append(database)
        return OK
    match = re.match(r"BACKUP DATABASE (\S+)( ONLINE)? TO (\S+)", upper)
    if match:
        stamp = "2026010112%04d" % len(state.backups)
        state.backups.append("%s.0.db2inst1.DBPART000.%s.001" % (match.group(1), stamp))
        return "Backup successful. The timestamp for this backup image is : %s" % stamp
    if upper.startswith("SELECT VERSIONNUMBER"):
        return "VERSIONNUMBER\n-------------\n     %d\n\n  1 record(s) selected." % state.catalog[state.connected]
    if upper.startswith("UPGRADE DATABASE "):
        if release(state.catalog[word]) >= release(catalog_number(state.level)):
            return "SQL1103W  The UPGRADE DATABASE command was successful."
        state.catalog[word] = catalog_number(state.level)
        return OK
    if upper.startswith("SELECT COUNT(*) FROM SYSCAT.TABLESPACES"):
        return "1\n-----------\n          4\n\n  1 record(s) selected."
    if upper.startswith("CONNECT TO "):
        behind = release(state.catalog.get(word, 0)) - release(catalog_number(state.level))
        if behind < 0:
            return "SQL5035N  The database must be upgraded to the current release."
        if behind > 0:
            return "SQL0969N  There is no message text corresponding to SQL error \"-1005\"."
        state.connected = word
        return "   Database Connection Information\n\n Database server = DB2/LINUXX8664 %s" % state.level
    match = re.match(r"RESTORE DATABASE (\S+)", upper)
    if match:  # an image the instance's own code wrote: the database is at its release again
        state.catalog[match.group(1)] = catalog_number(state.level)
        return OK
    if re.match(r"START HADR ON DATABASE \S+ AS STANDBY$", upper):
        return "DB20000I  The START HADR ON DATABASE command completed successfully."
    if upper in ("CONNECT RESET", "FORCE APPLICATION ALL") or upper.startswith(("BIND ", "ROLLFORWARD ")):
        return OK
    raise AssertionError("the fake CLP does not know %r" % statement)


def _facts(container, command, stdin, user):
    state = _db2(container)
    rc, clp = _clp(state, stdin, stop_on_error=False)
    out = "@@DB2OPS-FACTS db2level\n%s@@DB2OPS-FACTS rc=0\n" % db2level_text(state.level)
    out += "@@DB2OPS-FACTS storage\n%s\n@@DB2OPS-FACTS rc=0\n" % state.storage
    out += "@@DB2OPS-FACTS home\n%s\n@@DB2OPS-FACTS rc=0\n" % state.home
    if "@@DB2OPS-FACTS backups" in command:
        out += "@@DB2OPS-FACTS backups\n%s@@DB2OPS-FACTS rc=0\n" % _listing(state)
    return 0, out + clp + "@@DB2OPS-FACTS rc=%d\n" % rc


def _listing(state):
    return "".join("-rw------- 1 1000 1000 4096 Jan 1 12:00 %s\n" % name for name in state.backups)


def _probe(container, command, stdin, user):
    state = _db2(container)
    if not state.ready:
        return 3, ""
    return 0, db2level_text(state.level)


def _script(container, command, stdin, user):
    return _clp(_db2(container), stdin, stop_on_error=" +s " not in command)


def _db2updv(container, command, stdin, user):
    state = _db2(container)
    database = command.split()[-1]
    state.log.append(command)
    state.catalog[database] = catalog_number(state.level)
    return 0, "DBT5005I  The db2updv command completed successfully."


def hadr_status_databases(command):
    """The database names in _db2/hadr.status_script's command (quoted in its `for db in ...` loop)."""
    return re.findall(r"'([^']+)'", re.match(r"\{ for db in (.*?); do", command).group(1))


def _hadr_status(container, command, stdin, user):
    """_db2/hadr.status_script: each database's db cfg role, then the active databases and db2pd."""
    state = _db2(container)
    out = ""
    for database in hadr_status_databases(command):
        out += '@@DB2OPS_HADR cfg_%s\n HADR database role = %s\n' % (database, state.hadr.get(database, "STANDARD"))
    state.log.append("hadr status")
    return 0, out + "@@DB2OPS_HADR active\n@@DB2OPS_HADR rc=0\n@@DB2OPS_HADR pd\n@@DB2OPS_HADR rc=0\n"


DB2_RULES = [
    (re.compile(r"^\{ for db in '"), _hadr_status),
    (re.compile(r"@@DB2OPS-FACTS db2level"), _facts),
    (re.compile(r"^db2gcf -s "), _probe),
    (re.compile(r"^db2 -t \+p [+-]s -f /dev/stdin"), _script),
    (re.compile(r"^db2updv\d+ -d \S+$"), _db2updv),
    (re.compile("^" + re.escape("/bin/sh -c " + PREPARE_DIRECTORY)), (0, "")),
    (re.compile(r"^mkdir -p -- "), (0, "")),
    (re.compile(r"^ls -ln -- "), lambda c, cmd, stdin, user: (0, _listing(_db2(c)))),
]
