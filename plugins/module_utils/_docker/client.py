# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker access for db2ops.docker: one client from the shared connection options, exec with
stdin and exit code, and waiting for a container log line.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os
import re
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.db2ops.docker.plugins.module_utils.actions import MASK, ActionFailed
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import (
    CONTAINER_REF,
    InputError,
    fail_on_bad_params,
    require_match,
)

try:
    import docker
    # NotFound is for the modules: they import every Docker error from here.
    from docker.errors import APIError, DockerException, NotFound  # noqa: F401 pylint: disable=unused-import
    from docker.tls import TLSConfig

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None

    class IsolatedAPIClient(docker.APIClient):
        """The Docker Engine API client, deaf to the environment's HTTP settings.

        requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (and proxy variables) override the CA
        given for the connection, so a daemon's own CA would be ignored on machines that set them.
        """

        trust_env = property(lambda self: False, lambda self, value: None)

except ImportError:  # reported through missing_required_lib() when a module starts
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

    class DockerException(Exception):  # so `except DockerException` still parses
        pass

    class APIError(DockerException):
        pass

    class NotFound(APIError):
        pass


DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"

# The connection contract shared by every module; documented in doc_fragments/docker.py.
DOCKER_COMMON_ARGS = dict(
    docker_host=dict(type="str", default=DEFAULT_DOCKER_HOST, aliases=["docker_url"],
                     fallback=(env_fallback, ["DOCKER_HOST"])),
    tls=dict(type="bool", fallback=(env_fallback, ["DOCKER_TLS"])),
    # No default: an explicit value must win over DOCKER_TLS_VERIFY, so "not set" has to be visible.
    validate_certs=dict(type="bool", aliases=["tls_verify"]),
    ca_path=dict(type="path", aliases=["ca_cert", "tls_ca_cert"]),
    client_cert=dict(type="path", aliases=["tls_client_cert", "cert_path"]),
    client_key=dict(type="path", aliases=["tls_client_key", "key_path"]),
    timeout=dict(type="int", default=60, fallback=(env_fallback, ["DOCKER_TIMEOUT"])),
)
DOCKER_REQUIRED_TOGETHER = [["client_cert", "client_key"]]


def docker_suboptions(timeout=None):
    """DOCKER_COMMON_ARGS for another daemon named in a nested option (db2_image's `copy_from`, the
    inventory plugin's `docker_hosts`): same names, types and aliases; docker_host is required and no
    DOCKER_* variable applies, since those describe the daemon of the task, not this one."""
    spec = {}
    for name, option in DOCKER_COMMON_ARGS.items():
        spec[name] = {key: value for key, value in option.items() if key != "fallback"}
    del spec["docker_host"]["default"]
    spec["docker_host"]["required"] = True
    if timeout is not None:
        spec["timeout"]["default"] = timeout
    return spec


_SECRET_ENV_NAME = re.compile(r"(PASSWORD|PASSWD|_PW$|^PW$|SECRET|TOKEN|CREDENTIAL|_KEY$|APIKEY)", re.I)


class DockerOperationError(ActionFailed):
    """A Docker problem explained in one line for the user (no traceback needed)."""


UNKNOWN_STATE = "Whether anything was changed is unknown: check the container before running this task again."


def failure_note(exc, unchanged="Nothing was changed."):
    """What a failure message may say about the state: `unchanged`, unless an exec timed out."""
    return UNKNOWN_STATE if isinstance(exc, ExecTimeout) else unchanged


def check_timeouts(params, prefix=""):
    """Raise InputError for any `timeout` / `*_timeout` option (nested dicts too) that is <= 0."""
    for name, value in (params or {}).items():
        if isinstance(value, dict):
            check_timeouts(value, prefix + name + ".")
        elif (name == "timeout" or name.endswith("_timeout")) and value is not None and value <= 0:
            raise InputError(prefix + name, "must be a number of seconds above 0")


class ExecTimeout(DockerOperationError):
    """An exec ran out of time. Its command was started and may still be running in the container:
    the Engine API cannot stop an exec, so never tell the user that nothing was changed."""


class ContainerExited(DockerOperationError):
    pass


def is_secret_env_name(name):
    return bool(_SECRET_ENV_NAME.search(name))


def mask_env(env_list):
    """Container env (list of KEY=VALUE) as a dict with secret-looking values masked."""
    result = {}
    for item in env_list or []:
        key, sep, value = item.partition("=")
        result[key] = MASK if sep and is_secret_env_name(key) else value
    return result


def env_dict(env_list):
    """Container env (list of KEY=VALUE) as a dict, values untouched (never return this raw)."""
    return dict(item.partition("=")[::2] for item in env_list or [])


# ---------------------------------------------------------------------------------------------
# Connection

def resolve_connection(params, environ=None):
    """Turn the module's connection options (plus DOCKER_* env) into client settings.

    TLS is on with verification for every tcp:// host unless the user opts out with tls=false.
    validate_certs: the task's value, else DOCKER_TLS_VERIFY (0/false/no turn it off, any other
    non-empty value on), else on. DOCKER_CERT_PATH supplies the files as for the docker CLI.
    A plain-HTTP URL (http://) is only accepted with tls=false, and https:// only with TLS: the
    transport never differs silently from what the options say. Raises DockerOperationError.
    """
    environ = os.environ if environ is None else environ
    host = params.get("docker_host") or DEFAULT_DOCKER_HOST
    if re.match(r"^[\w.-]+(:\d+)?$", host):  # the cookbook's `DOCKER_HOST=192.168.174.12`
        host = "tcp://" + host
    tls = params.get("tls")
    if host.startswith("http://"):
        if tls is not False:
            raise DockerOperationError(
                "docker_host %s is plain HTTP but tls is %s: use tcp://HOST:2376 for TLS, or set tls=false "
                "to accept an unencrypted connection" % (host, "on" if tls else "not set (TLS by default)"))
        host = "tcp://" + host[len("http://"):]
    elif host.startswith("https://") and tls is False:
        raise DockerOperationError("docker_host %s asks for TLS (https://) but tls=false: use tcp:// for plain TCP"
                                   % host)
    is_tcp = host.startswith(("tcp://", "https://"))
    cert_dir = environ.get("DOCKER_CERT_PATH")
    verify = params.get("validate_certs")
    if verify is None and environ.get("DOCKER_TLS_VERIFY") not in (None, ""):
        verify = environ.get("DOCKER_TLS_VERIFY").strip().lower() not in ("0", "false", "no", "off")
    if verify is None:
        verify = True
    if tls is None:
        tls = is_tcp
    ca_path = params.get("ca_path") or (cert_dir and os.path.join(cert_dir, "ca.pem")) or None
    client_cert = params.get("client_cert") or (cert_dir and os.path.join(cert_dir, "cert.pem")) or None
    client_key = params.get("client_key") or (cert_dir and os.path.join(cert_dir, "key.pem")) or None
    if tls and is_tcp and not port_in(host):
        host += ":2376"
    return dict(host=host, tls=bool(tls and is_tcp), verify=bool(verify), ca_path=ca_path,
                client_cert=client_cert, client_key=client_key, timeout=params.get("timeout") or 60)


def insecure_warnings(conn):
    """One warning per insecure choice of a resolved connection (plain TCP, verification off)."""
    warnings = []
    if conn["host"].startswith(("tcp://", "https://")) and not conn["tls"]:
        warnings.append("Talking to %s over plain TCP (tls=false): anyone on the network can control this "
                        "Docker daemon. Prefer --tlsverify on port 2376." % conn["host"])
    elif conn["tls"] and not conn["verify"]:
        warnings.append("TLS certificate verification is off for %s (validate_certs=false or DOCKER_TLS_VERIFY=0): "
                        "anyone in the path can impersonate this Docker daemon." % conn["host"])
    return warnings


def port_in(host):
    return re.search(r":\d+/?$", host) is not None


def _check_tls_files(conn):
    for label in ("ca_path", "client_cert", "client_key"):
        path = conn[label]
        if path and not os.path.isfile(path):
            raise DockerOperationError("%s %s does not exist or is not a file" % (label, path))
    if conn["verify"] and not conn["ca_path"]:
        raise DockerOperationError(
            "TLS verification of %s needs ca_path (or DOCKER_CERT_PATH with ca.pem); "
            "set validate_certs=false only for a daemon you trust otherwise" % conn["host"])


def connect(conn):
    """Create an Engine API client and prove the daemon answers. Raises DockerOperationError."""
    tls_config = False
    if conn["tls"]:
        _check_tls_files(conn)
        cert = (conn["client_cert"], conn["client_key"]) if conn["client_cert"] else None
        tls_config = TLSConfig(client_cert=cert, ca_cert=conn["ca_path"] if conn["verify"] else None,
                               verify=conn["ca_path"] if conn["verify"] else False)
    base_url = conn["host"].replace("https://", "tcp://")
    try:
        client = IsolatedAPIClient(base_url=base_url, tls=tls_config, timeout=conn["timeout"], version="auto")
    except DockerException as exc:
        raise DockerOperationError(describe_connection_error(conn, exc))
    try:
        client.ping()
    except Exception as exc:
        client.close()
        raise DockerOperationError(describe_connection_error(conn, exc))
    return client


def describe_connection_error(conn, exc):
    text = str(exc)
    host = conn["host"]
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return "TLS verification of the Docker daemon at %s failed: %s" % (host, short_text(text))
    if "SSL" in text or "TLS" in text or "tls" in text:
        return "TLS handshake with the Docker daemon at %s failed: %s" % (host, short_text(text))
    if "No such file or directory" in text or "Connection refused" in text or "ConnectionRefused" in text:
        return "Cannot reach the Docker daemon at %s (connection refused or no socket); check that dockerd runs there" % host
    if "Permission denied" in text:
        return "Permission denied on the Docker socket %s: run as root or a member of the docker group" % host
    if "timed out" in text or "Timeout" in text:
        return "The Docker daemon at %s did not answer within %ss" % (host, conn["timeout"])
    if "Client sent an HTTP request to an HTTPS server" in text:
        return "The Docker daemon at %s speaks TLS: set tls=true with ca_path/client_cert/client_key" % host
    return "Cannot use the Docker daemon at %s: %s" % (host, short_text(text))


def short_text(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


# Name rules of the Docker-side options (full matches through inputs.require_match).
CONTAINER_NAME = (CONTAINER_REF, "a container name or id (letters, digits, _ . -)")
CONTAINER_GLOB = (r"[A-Za-z0-9*?\[][A-Za-z0-9_.*?\[\]!-]{0,254}", "a container name or glob pattern")
IMAGE_NAME = (r"[A-Za-z0-9][A-Za-z0-9_./:@-]{0,254}", "an image reference like repo/name:tag")
DOCKER_HOST = (r"(unix|tcp|http|https)://[A-Za-z0-9_.:/@\[\]%-]+|[A-Za-z0-9_.-]+(:[0-9]+)?",
               "unix:///path/to/docker.sock, tcp://host:port or host[:port]")
IMAGE_GLOB = (r"[A-Za-z0-9*?\[][A-Za-z0-9_./:@*?\[\]!-]{0,254}", "an image name or glob pattern")


def _option_values(params, path):
    """(option name, value) pairs of a dotted option path through lists and dicts.

    `users.name` yields (`users[0].name`, ...), so that errors name the exact entry.
    """
    head, _dot, rest = path.partition(".")
    value = params.get(head) if isinstance(params, dict) else None
    if isinstance(value, list):
        items = [("%s[%d]" % (head, index), item) for index, item in enumerate(value)]
    else:
        items = [(head, value)]
    for name, item in items:
        if rest:
            for sub, found in (_option_values(item, rest) if isinstance(item, dict) else []):
                yield "%s.%s" % (name, sub), found
        elif item is not None:
            yield name, item


def check_module_input(module, rules=None, multiline=(), not_empty=()):
    """The input gate of a Docker-side module, before anything is touched: inputs.fail_on_bad_params
    (no NUL or control characters outside `multiline` options, length caps), then no empty value in
    `not_empty`, then the name `rules` ({option path: (regex, what)}) as full matches. One-line
    failures name the option, never the value."""
    fail_on_bad_params(module, multiline=multiline)
    try:
        for path in ("docker_host",) + tuple(not_empty):
            for name, value in _option_values(module.params, path):
                if not str(value).strip():
                    raise InputError(name, "is empty")
        for path, (pattern, what) in dict(rules or {}, docker_host=DOCKER_HOST).items():
            for name, value in _option_values(module.params, path):
                require_match(pattern, str(value), name, what)
    except InputError as exc:
        module.fail_json(msg=str(exc), changed=False)


def docker_module(options, required_together=(), rules=None, multiline=(), not_empty=(), check=None, **module_kwargs):
    """The AnsibleModule of a module that works through one Docker daemon: the shared connection
    options, the module's own `options`, check mode; its input through the shared gate
    (check_module_input, then the module's own `check(params)`, which raises InputError) before
    anything connects."""
    module = AnsibleModule(argument_spec=docker_argument_spec(options),
                           required_together=DOCKER_REQUIRED_TOGETHER + [list(names) for names in required_together],
                           supports_check_mode=True, **module_kwargs)
    check_module_input(module, rules=rules, multiline=multiline, not_empty=not_empty)
    if check is not None:
        try:
            check(module.params)
        except InputError as exc:
            module.fail_json(msg=str(exc), changed=False)
    return module


class DockerModuleClient:
    """What a module holds: the AnsibleModule, a connected client, and one-line failures."""

    def __init__(self, module):
        self.module = module
        try:
            check_timeouts(module.params)
        except InputError as exc:
            module.fail_json(msg=str(exc), changed=False)
        if not HAS_DOCKER:
            module.fail_json(msg=missing_required_lib("docker"), exception=DOCKER_IMPORT_ERROR)
        try:
            self.conn = resolve_connection(module.params)
            for warning in insecure_warnings(self.conn):
                module.warn(warning)
            self.client = connect(self.conn)
        except DockerOperationError as exc:
            self.fail("%s. Nothing was changed." % exc)
        self.others = []

    def connect_other(self, option):
        """A client of another daemon, named in the nested option `option` (db2_image's copy_from,
        db2_hadr's primary): as documented, no DOCKER_* variable applies to it. Closed by close()."""
        conn = resolve_connection(self.module.params[option], environ={})
        for warning in insecure_warnings(conn):
            self.module.warn("%s: %s" % (option, warning))
        self.others.append(connect(conn))
        return self.others[-1]

    @property
    def api(self):
        return self.client

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def fail_on(self, exc, **result):
        """End the task on one of the collection's errors (ActionFailed and the like): an error after
        a change says so; any other says whether anything was changed."""
        changed = bool(getattr(exc, "changed", False))
        result.setdefault("commands", list(getattr(exc, "commands", ()) or ()))
        text = str(exc).rstrip(".")
        text += "" if text.endswith(("?", "!")) else "."  # "did you mean X?" ends its own sentence
        self.fail(text if changed else "%s %s" % (text, failure_note(exc)), changed=changed, **result)

    def close(self):
        for client in self.others + [self.client]:
            client.close()


def docker_argument_spec(extra=None):
    spec = dict(DOCKER_COMMON_ARGS)
    spec.update(extra or {})
    return spec


def api_message(exc):
    """The daemon's own explanation of an APIError, shortened."""
    explanation = getattr(exc, "explanation", None)
    return short_text(explanation or str(exc))
