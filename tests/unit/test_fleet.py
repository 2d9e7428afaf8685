"""The fleet logic behind the db2_containers inventory plugin: daemon entries, names, groups, vars."""
import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._upgrade import fleet

RECORD = dict(name="db2server", id="d0dfc00745a1" + "0" * 52, image="store/ibmcorp/db2_developer_c:11.1.3.3a-x86_64",
              image_id="sha256:18585aea3e7b", state="running", running=True, instance="db2inst1",
              storage="/home/idbjorh/db2fs", labels={"env": "prod"},
              db2level={"level": "11.1.3.3a", "version": "11.1.3.3"}, level="11.1.3.3a", version="11.1.3.3",
              databases=["TESTDB"], active_databases=["TESTDB"], error=None)


def test_entries_resolve_tls_and_relative_certificate_paths(tmp_path):
    (entry_local, entry_tls) = fleet.daemon_entries([
        {"docker_host": "unix:///var/run/docker.sock"},
        {"docker_host": "192.168.174.12", "ca_path": "certs/ca.pem", "client_cert": "/abs/cert.pem",
         "client_key": "/abs/key.pem"},
    ], base_dir="/etc/inv", environ={})
    assert entry_local["alias"] == "local" and entry_local["conn"]["tls"] is False
    assert entry_tls["alias"] == "192.168.174.12"
    conn = entry_tls["conn"]
    assert (conn["host"], conn["tls"], conn["verify"]) == ("tcp://192.168.174.12:2376", True, True)
    assert (conn["ca_path"], conn["client_cert"]) == ("/etc/inv/certs/ca.pem", "/abs/cert.pem")


def test_entries_follow_param_over_env_and_warn_for_insecure_choices():
    strict, env_off, plain = fleet.daemon_entries([
        {"docker_host": "tcp://h1:2376", "validate_certs": True},
        {"docker_host": "tcp://h2:2376"},
        {"docker_host": "tcp://h3:2375", "tls": False},
    ], environ={"DOCKER_TLS_VERIFY": "0"})
    assert strict["conn"]["verify"] is True and strict["warnings"] == []
    assert env_off["conn"]["verify"] is False and "verification is off" in env_off["warnings"][0]
    assert plain["conn"]["tls"] is False and "plain TCP" in plain["warnings"][0]
    with pytest.raises(fleet.FleetError, match=r"docker_hosts\[0\]: docker_host http://h:2375 is plain HTTP"):
        fleet.daemon_entries([{"docker_host": "http://h:2375", "tls": True}], environ={})


@pytest.mark.parametrize("raw, message", [
    ([], "docker_hosts must be a non-empty list"),
    (None, "docker_hosts must be a non-empty list"),
    (["unix:///var/run/docker.sock"], "docker_hosts[0] must be a mapping with docker_host"),
    ([{"alias": "x"}], "docker_hosts[0] must be a mapping with docker_host"),
    ([{"docker_host": "tcp://h:2376", "ca_file": "x"}], "docker_hosts[0] (tcp://h:2376): unknown key ca_file"),
    ([{"docker_host": "tcp://h:2376", "client_cert": "/c.pem"}], "client_cert and client_key go together"),
    ([{"docker_host": "tcp://h:2376"}, {"docker_host": "tcp://h:2377"}], "have the same alias 'h'"),
    ([{"docker_host": "tcp://h:2376", "alias": "--"}], "alias '--' has no letters or digits"),
])
def test_bad_entries_are_one_line_errors(raw, message):
    with pytest.raises(fleet.FleetError) as err:
        fleet.daemon_entries(raw, environ={})
    assert message in str(err.value)


@pytest.mark.parametrize("host, alias", [
    ("unix:///var/run/docker.sock", "local"),
    ("unix:///run/user/1000/docker.sock", "docker"),
    ("tcp://db2host1.example.com:2376", "db2host1.example.com"),
    ("tcp://[::1]:2376", "::1"),
])
def test_default_alias(host, alias):
    assert fleet.default_alias(host) == alias


def test_group_names_are_safe():
    assert fleet.host_groups(RECORD, "db2host1.example.com") == [
        "db2_level_11_1_3_3a", "db2_version_11_1", "db2_image_store_ibmcorp_db2_developer_c_11_1_3_3a_x86_64",
        "docker_host_db2host1_example_com"]
    stopped = dict(RECORD, level=None, version=None)
    assert fleet.host_groups(stopped, "local") == ["db2_image_store_ibmcorp_db2_developer_c_11_1_3_3a_x86_64",
                                                   "docker_host_local"]


def test_host_vars_are_what_the_roles_read():
    (entry,) = fleet.daemon_entries([{"docker_host": "tcp://h1:2376", "ca_path": "/ca.pem", "client_cert": "/c.pem",
                                      "client_key": "/k.pem"}], environ={})
    result = fleet.host_vars(RECORD, "h1", entry["conn"])
    assert {k: result[k] for k in ("db2_container", "db2ops_docker_host", "db2ops_docker_ca_path",
                                   "db2ops_docker_client_cert", "db2ops_docker_client_key",
                                   "db2ops_docker_validate_certs")} == {
        "db2_container": "db2server", "db2ops_docker_host": "tcp://h1:2376", "db2ops_docker_ca_path": "/ca.pem",
        "db2ops_docker_client_cert": "/c.pem", "db2ops_docker_client_key": "/k.pem",
        "db2ops_docker_validate_certs": True}
    assert result["db2_level"] == "11.1.3.3a" and result["db2_storage"] == "/home/idbjorh/db2fs"
    assert result["db2_databases"] == ["TESTDB"]
    (local,) = fleet.daemon_entries([{"docker_host": "unix:///var/run/docker.sock"}], environ={})
    assert not [k for k in fleet.host_vars(RECORD, "local", local["conn"]) if k.startswith("db2ops_docker_c")]


def test_host_name_template():
    assert fleet.host_name("{container}@{alias}", RECORD, "h1") == "db2server@h1"
    assert fleet.host_name("{alias}-{short_id}", RECORD, "h1") == "h1-d0dfc00745a1"
    with pytest.raises(fleet.FleetError) as err:
        fleet.host_name("{container}@{host}", RECORD, "h1")
    assert "fields: container, alias, id, short_id" in str(err.value)


def test_cache_fingerprint_follows_daemons_and_filters():
    entries = fleet.daemon_entries([{"docker_host": "unix:///var/run/docker.sock"}], environ={})
    other = fleet.daemon_entries([{"docker_host": "unix:///var/run/docker.sock", "alias": "a"}], environ={})
    base = fleet.fingerprint(entries, {"labels": ["env=prod"], "include_stopped": False})
    assert base == fleet.fingerprint(entries, {"include_stopped": False, "labels": ["env=prod"]})
    assert base != fleet.fingerprint(entries, {"labels": ["env=test"], "include_stopped": False})
    assert base != fleet.fingerprint(other, {"labels": ["env=prod"], "include_stopped": False})


def test_unreachable_daemon_error_or_skip():
    entries = fleet.daemon_entries([{"docker_host": "unix:///run/db2ops-none.sock", "alias": "gone"}], environ={})
    with pytest.raises(fleet.FleetError) as err:
        fleet.scan(entries)
    assert str(err.value).startswith("Docker host gone (unix:///run/db2ops-none.sock): Cannot reach")
    warnings = []
    daemons, skipped = fleet.scan(entries, "skip", warnings.append)
    assert daemons == [] and len(skipped) == 1
    assert warnings[0].endswith("its containers are left out of the inventory")


def test_entries_take_the_aliases_of_the_modules_docker_options():
    (entry,) = fleet.daemon_entries([{"docker_url": "tcp://h1:2376", "tls_verify": False, "ca_cert": "/ca.pem",
                                      "cert_path": "/c.pem", "key_path": "/k.pem"}], environ={})
    conn = entry["conn"]
    assert (conn["host"], conn["verify"], conn["ca_path"]) == ("tcp://h1:2376", False, "/ca.pem")
    assert (conn["client_cert"], conn["client_key"]) == ("/c.pem", "/k.pem")
