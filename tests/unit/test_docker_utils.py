"""Connection resolution, env masking and container facts from recorded `docker inspect` data."""
import re
import socket

import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._docker import exec as docker_exec
from ansible_collections.db2ops.docker.plugins.module_utils._docker import containers as docker_containers
from ansible_collections.db2ops.docker.plugins.module_utils._db2 import target as db2_container
from ansible_collections.db2ops.docker.plugins.module_utils._docker import client as docker
from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionFailed


def resolve(environ=None, **params):
    base = dict(docker_host=None, tls=None, validate_certs=None, ca_path=None, client_cert=None,
                client_key=None, timeout=60)
    base.update(params)
    return docker.resolve_connection(base, environ or {})


def test_local_socket_has_no_tls():
    conn = resolve()
    assert conn["host"] == "unix:///var/run/docker.sock" and conn["tls"] is False


def test_tcp_means_tls_with_verification_by_default():
    conn = resolve(docker_host="tcp://db2host:2376")
    assert conn["tls"] is True and conn["verify"] is True


def test_cookbook_bare_host_becomes_tls_on_2376():
    conn = resolve(docker_host="192.168.174.12")
    assert conn["host"] == "tcp://192.168.174.12:2376" and conn["tls"] is True


def test_plain_tcp_only_when_asked():
    conn = resolve(docker_host="tcp://db2host:2375", tls=False)
    assert conn["tls"] is False and conn["host"] == "tcp://db2host:2375"


def test_docker_cert_path_supplies_files():
    conn = resolve({"DOCKER_CERT_PATH": "/certs", "DOCKER_TLS_VERIFY": "1"}, docker_host="tcp://h:2376")
    assert (conn["ca_path"], conn["client_cert"], conn["client_key"]) == (
        "/certs/ca.pem", "/certs/cert.pem", "/certs/key.pem")
    assert conn["verify"] is True


@pytest.mark.parametrize("tls", [True, None])
def test_http_url_with_tls_is_refused_not_sent_in_plain(tls):
    with pytest.raises(docker.DockerOperationError) as err:
        resolve(docker_host="http://db2host:2375", tls=tls)
    assert "plain HTTP" in str(err.value) and "tls=false" in str(err.value) and "\n" not in str(err.value)


def test_http_url_is_plain_tcp_only_when_asked_and_warned():
    conn = resolve(docker_host="http://db2host:2375", tls=False)
    assert (conn["host"], conn["tls"]) == ("tcp://db2host:2375", False)
    (warning,) = docker.insecure_warnings(conn)
    assert "plain TCP" in warning


def test_https_url_with_tls_off_is_refused():
    with pytest.raises(docker.DockerOperationError, match="https://.*tls=false"):
        resolve(docker_host="https://db2host:2376", tls=False)


@pytest.mark.parametrize("value", ["0", "false", "no", "FALSE"])
def test_explicit_validate_certs_wins_over_docker_tls_verify(value):
    conn = resolve({"DOCKER_TLS_VERIFY": value}, docker_host="tcp://h:2376", validate_certs=True)
    assert conn["verify"] is True and docker.insecure_warnings(conn) == []


def test_docker_tls_verify_applies_only_when_not_set_and_is_warned():
    conn = resolve({"DOCKER_TLS_VERIFY": "0"}, docker_host="tcp://h:2376")
    assert conn["tls"] is True and conn["verify"] is False
    (warning,) = docker.insecure_warnings(conn)
    assert "verification is off" in warning
    assert resolve({"DOCKER_TLS_VERIFY": "1"}, docker_host="tcp://h:2376", validate_certs=False)["verify"] is False
    assert resolve({"DOCKER_TLS_VERIFY": ""}, docker_host="tcp://h:2376")["verify"] is True
    assert resolve({}, docker_host="tcp://h:2376")["verify"] is True


def test_secure_or_local_connections_have_no_warning():
    assert docker.insecure_warnings(resolve(docker_host="tcp://h:2376")) == []
    assert docker.insecure_warnings(resolve(validate_certs=False)) == []  # unix socket: no TLS to verify


def test_validate_certs_has_no_default_so_explicit_values_are_visible():
    assert "default" not in docker.DOCKER_COMMON_ARGS["validate_certs"]


def test_verification_without_ca_is_refused_before_connecting(tmp_path):
    conn = resolve(docker_host="tcp://127.0.0.1:1")
    with pytest.raises(docker.DockerOperationError, match="needs ca_path"):
        docker._check_tls_files(conn)


def test_missing_tls_file_named(tmp_path):
    conn = resolve(docker_host="tcp://127.0.0.1:1", ca_path=str(tmp_path / "nope.pem"))
    with pytest.raises(docker.DockerOperationError, match="nope.pem does not exist"):
        docker._check_tls_files(conn)


@pytest.mark.parametrize("error, expected", [
    ("('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))", "check that dockerd runs there"),
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self signed", "TLS verification"),
    ("Client sent an HTTP request to an HTTPS server.", "speaks TLS"),
    ("Permission denied", "Permission denied on the Docker socket"),
])
def test_connection_errors_are_one_clear_line(error, expected):
    text = docker.describe_connection_error({"host": "tcp://h:2376", "timeout": 5}, Exception(error))
    assert expected in text and "\n" not in text


def test_mask_env():
    masked = docker.mask_env(["LICENSE=accept", "DB2INST1_PASSWORD=secret", "SEARCH_PW=x", "ETCD_PASSWORD=y",
                              "DBNAME=testdb", "API_TOKEN=z", "EMPTY"])
    assert masked == {"LICENSE": "accept", "DB2INST1_PASSWORD": "********", "SEARCH_PW": "********",
                      "ETCD_PASSWORD": "********", "DBNAME": "testdb", "API_TOKEN": "********", "EMPTY": ""}


# Trimmed `docker inspect` of a container started as in the cookbook.
INSPECT = {
    "Id": "d0dfc00745a1",
    "Name": "/db2server",
    "Image": "sha256:18585aea3e7b",
    "State": {"Status": "running", "Running": True, "StartedAt": "2019-04-01T13:05:00.123456789Z"},
    "Config": {
        "Image": "store/ibmcorp/db2_developer_c:11.1.3.3a-x86_64",
        "Hostname": "db2server",
        "Entrypoint": ["/var/db2_setup/lib/setup_db2_instance.sh"],
        "Env": ["LICENSE=accept", "DB2INSTANCE=db2inst1", "DB2INST1_PASSWORD=Passw0rd", "STORAGE_DIR=/database"],
        "Labels": {"env": "prod"},
    },
    "Mounts": [{"Type": "bind", "Source": "/home/idbjorh/db2fs", "Destination": "/database", "RW": True}],
    "NetworkSettings": {"Ports": {"50000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "50000"}], "22/tcp": None},
                        "Networks": {"bridge": {}}},
}


def test_db2_container_detection():
    assert db2_container.is_db2_container(INSPECT)
    other = {"Name": "/web", "Config": {"Image": "nginx", "Entrypoint": ["/docker-entrypoint.sh"], "Env": []}}
    assert not db2_container.is_db2_container(other)
    with pytest.raises(db2_container.NotDb2Container, match="web .image nginx. is not a Db2 container"):
        db2_container.require_db2_container(other)


def test_summary_masks_and_finds_storage():
    summary = db2_container.container_summary(INSPECT)
    assert summary["storage"] == {"type": "bind", "source": "/home/idbjorh/db2fs", "name": None,
                                  "destination": "/database", "rw": True}
    assert summary["env"]["DB2INST1_PASSWORD"] == "********"
    assert summary["ports"] == [{"container_port": 50000, "protocol": "tcp", "host_ip": "0.0.0.0",
                                 "host_port": "50000"}]
    assert (summary["name"], summary["instance"], summary["networks"]) == ("db2server", "db2inst1", ["bridge"])


def test_started_at_epoch():
    assert docker_containers.started_at_epoch(INSPECT) == pytest.approx(1554123900.123456, abs=1e-3)
    assert docker_containers.started_at_epoch({"State": {"StartedAt": "0001-01-01T00:00:00Z"}}) == 0.0


def test_split_facts_sections():
    mark = "@@DB2OPS-FACTS"
    text = "%s db2level\nDB21085I ...\n%s rc=0\n%s active\nSQL1611W  none\n%s rc=2\n" % (mark, mark, mark, mark)
    assert docker_exec.split_sections(text, mark) == {
        "db2level": {"output": "DB21085I ...", "rc": 0}, "active": {"output": "SQL1611W  none", "rc": 2}}


def test_sections_without_status_keep_their_lines_and_an_rc_line_outside_a_section_is_data():
    mark = "@@DB2OPS-USER"
    text = "noise\n%s passwd\nu:x:1:1::/h:/bin/sh\n%s known-groups\ng1:1\ng2:2\n%s end\n" % (mark, mark, mark)
    assert docker_exec.split_sections(text, mark) == {
        "passwd": {"output": "u:x:1:1::/h:/bin/sh", "rc": None},
        "known-groups": {"output": "g1:1\ng2:2", "rc": None}, "end": {"output": "", "rc": None}}


def test_storage_usage():
    text = "/dev/vda  263174212 180000000  83174212  69% /database\n183400\t/database/data\n"
    assert db2_container.parse_storage_usage(text) == {"size_kb": 263174212, "free_kb": 83174212, "data_kb": 183400}
    assert db2_container.parse_storage_usage("df: /database: No such file or directory\n") == {}


def test_a_typo_in_a_container_name_gets_the_closest_name():
    class Api:
        @staticmethod
        def containers(all=False):
            return [{"Names": ["/db2server"]}, {"Names": ["/db2server_11.1.3.3a"]}, {"Names": ["/ldap-service"]}]

    assert db2_container.did_you_mean(Api, "db2servr") == "; did you mean db2server?"
    assert db2_container.did_you_mean(Api, "billing") == ""


class _SilentExecApi:
    """An Engine API whose exec never answers: the command keeps running in the container."""

    def __init__(self):
        self.ours, self.theirs = socket.socketpair()
        self.received = b""

    def exec_create(self, container_id, cmd, **kwargs):
        return {"Id": "exec1"}

    def exec_start(self, exec_id, socket=False):
        return self.ours

    def exec_inspect(self, exec_id):
        return {"Running": True, "ExitCode": None}


def test_exec_timeout_after_input_says_the_command_may_still_run():
    api = _SilentExecApi()
    with pytest.raises(docker.ExecTimeout) as err:
        docker_exec.exec_in_container(api, "c0ffee" * 4, ["db2", "-f", "/dev/stdin"], stdin="RESTORE DATABASE X",
                                      timeout=0.2)
    text = str(err.value)
    assert "may still be running in the container" in text and "outcome is unknown" in text
    assert "RESTORE" not in text and "\n" not in text
    assert api.theirs.recv(100) == b"RESTORE DATABASE X"  # the input was sent before the timeout
    # What the modules append: never "Nothing was changed." after a timeout.
    assert "Nothing was changed" not in docker.failure_note(err.value)
    assert "unknown" in docker.failure_note(err.value)
    assert docker.failure_note(docker.DockerOperationError("x")) == "Nothing was changed."


@pytest.mark.parametrize("timeout", [0, -5])
def test_exec_refuses_timeouts_that_are_not_positive(timeout):
    with pytest.raises(docker.DockerOperationError, match="above 0"):
        docker_exec.exec_in_container(_SilentExecApi(), "c1", ["true"], timeout=timeout)


@pytest.mark.parametrize("params, option", [
    ({"exec_timeout": 0}, "exec_timeout"),
    ({"timeout": -1}, "timeout"),
    ({"copy_from": {"timeout": 0}}, "copy_from.timeout"),
    ({"build_timeout": -3600}, "build_timeout"),
])
def test_timeout_options_below_one_second_are_one_line_errors(params, option):
    with pytest.raises(docker.InputError) as err:
        docker.check_timeouts(params)
    assert str(err.value) == "Option %s must be a number of seconds above 0; nothing was changed." % option


def test_positive_or_unset_timeouts_pass():
    docker.check_timeouts({"exec_timeout": 1, "timeout": None, "copy_from": None, "name": "x"})


def test_option_values_name_each_entry_of_nested_options():
    params = {"users": [{"name": "a", "groups": ["g1", "g2"]}, {"name": None}], "backup": {"path": "/b"},
              "container": "c"}
    assert list(docker._option_values(params, "users.groups")) == [("users[0].groups[0]", "g1"),
                                                                   ("users[0].groups[1]", "g2")]
    assert list(docker._option_values(params, "users.name")) == [("users[0].name", "a")]
    assert list(docker._option_values(params, "backup.path")) == [("backup.path", "/b")]
    assert list(docker._option_values(params, "container")) == [("container", "c")]
    assert list(docker._option_values(params, "missing.path")) == []


@pytest.mark.parametrize("rule, good, bad", [
    (docker.CONTAINER_NAME, ["db2server", "d0dfc00745a1", "a_b.c-1"], ["", "a;b", "a b", "a\n", "-x", "dbé"]),
    (docker.IMAGE_NAME, ["icr.io/db2_community/db2:11.5.8.0", "localhost:5000/x@sha256:ab"], ["", "x y", "x'", "x\n"]),
    (docker.DOCKER_HOST, ["unix:///var/run/docker.sock", "tcp://[::1]:2376", "192.168.174.12", "h:2375"],
     ["", "tcp://h;id", "unix:///x y", "h\n", "$(id)"]),
])
def test_name_rules_are_full_matches(rule, good, bad):
    assert all(re.fullmatch(rule[0], value) for value in good)
    assert not any(re.fullmatch(rule[0], value) for value in bad)


class _Ended(Exception):
    pass


class _Module:
    """What DockerModuleClient.fail_on needs of an AnsibleModule: fail_json, which ends the task."""

    def fail_json(self, **result):
        raise _Ended(result)


def _fail_on(exc):
    client = docker.DockerModuleClient.__new__(docker.DockerModuleClient)  # no daemon: only the failure path
    client.module = _Module()
    with pytest.raises(_Ended) as ended:
        client.fail_on(exc)
    return ended.value.args[0]


def test_fail_on_says_whether_anything_changed_in_one_sentence_each():
    missing = _fail_on(docker.DockerOperationError("container db2x does not exist; did you mean db2a?"))
    assert missing["msg"] == "container db2x does not exist; did you mean db2a? Nothing was changed."
    assert missing["changed"] is False and missing["commands"] == []
    late = ActionFailed("the restart failed.")
    late.changed, late.commands = True, ["db2stop force", "db2start"]
    result = _fail_on(late)
    assert result == dict(msg="the restart failed.", changed=True, commands=["db2stop force", "db2start"])
