"""create_spec(): what a re-created container inherits, from recorded `docker inspect` data."""
import docker

from ansible_collections.db2ops.docker.plugins.module_utils._db2.post_upgrade import versionnumber_level
from ansible_collections.db2ops.docker.plugins.module_utils._docker import recreate
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade import version as upgrade

OLD_IMAGE_CONFIG = {
    "Env": ["PATH=/usr/bin", "DB2DIR=/opt/ibm/db2/V11.1", "STORAGE_DIR=/database"],
    "Labels": {"vendor": "IBM"},
    "Entrypoint": ["/var/db2_setup/lib/setup_db2_instance.sh"],
    "Cmd": None,
    "ExposedPorts": {"50000/tcp": {}, "55000/tcp": {}},
    "WorkingDir": "",
}

# The cookbook's container: -h db2server --privileged -p 50000:50000 --env-file env-list
# -v /home/idbjorh/db2fs:/database --link ldap-service:ldap-host, plus a user network.
INSPECT = {
    "Id": "af5953a9feaaac759c05c90eade8cb6325f9644aecc4c98305d56bf4fc6857d3",
    "Image": "sha256:18585aea3e7b",
    "Config": {
        "Hostname": "db2server", "Domainname": "", "User": "",
        "Env": ["PATH=/usr/bin", "DB2DIR=/opt/ibm/db2/V11.1", "STORAGE_DIR=/database", "LICENSE=accept",
                "DB2INST1_PASSWORD=secret", "DBNAME=TESTDB"],
        "Labels": {"vendor": "IBM", "app": "billing", "db2ops.upgrade.from_container": "abc"},
        "Entrypoint": ["/var/db2_setup/lib/setup_db2_instance.sh"], "Cmd": None,
        "ExposedPorts": {"50000/tcp": {}, "55000/tcp": {}}, "WorkingDir": "", "Tty": False, "OpenStdin": False,
    },
    "HostConfig": {
        "Binds": ["/home/idbjorh/db2fs:/database"], "Privileged": True, "CapAdd": ["IPC_LOCK"],
        "PortBindings": {"50000/tcp": [{"HostIp": "", "HostPort": "50000"}]},
        "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0}, "Links": ["/ldap-service:/db2server/ldap-host"],
        "Devices": [{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}],
        "Memory": 4294967296, "NanoCpus": 2000000000, "Ulimits": [{"Name": "nofile", "Soft": 65536, "Hard": 65536}],
        "ShmSize": 1073741824, "NetworkMode": "db2net", "ContainerIDFile": "",
    },
    "Mounts": [{"Type": "bind", "Source": "/home/idbjorh/db2fs", "Destination": "/database", "RW": True}],
    "NetworkSettings": {"Networks": {
        "db2net": {"Aliases": ["af5953a9feaa", "db2"], "IPAMConfig": {"IPv4Address": "172.28.0.10"}},
        "backup-net": {"Aliases": None, "IPAMConfig": None},
    }},
}


def test_user_settings_carried_and_image_defaults_left_to_the_new_image():
    kwargs, others = recreate.create_spec(INSPECT, OLD_IMAGE_CONFIG, "ibmcom/db2:11.5.8.0", "db2server",
                                          extra_labels={"db2ops.upgrade.from_level": "11.1.3.3a"})
    assert kwargs["environment"] == ["LICENSE=accept", "DB2INST1_PASSWORD=secret", "DBNAME=TESTDB"]
    assert kwargs["labels"] == {"app": "billing", "db2ops.upgrade.from_level": "11.1.3.3a"}
    assert kwargs["entrypoint"] is None and kwargs["command"] is None, "the new image's own entrypoint runs"
    assert (kwargs["image"], kwargs["name"], kwargs["hostname"]) == ("ibmcom/db2:11.5.8.0", "db2server", "db2server")
    assert kwargs["ports"] is None


def test_ports_the_image_does_not_expose_stay_exposed_and_published():
    """`docker run -p 4000:4000` (an HADR port) exposes 4000/tcp on the container only: the new
    container must expose it too, or Docker drops its binding. docker-py gets (port, protocol)."""
    inspect = dict(INSPECT, Config=dict(INSPECT["Config"], ExposedPorts={"50000/tcp": {}, "4000/tcp": {}, "5353/udp": {}}))
    kwargs = recreate.create_spec(inspect, OLD_IMAGE_CONFIG, "img", "db2server")[0]
    assert sorted(kwargs["ports"]) == [(4000, "tcp"), (5353, "udp")]
    built = docker.types.ContainerConfig("1.41", "img", None, ports=kwargs["ports"])
    assert set(built["ExposedPorts"]) == {"4000/tcp", "5353/udp"}


def test_host_config_carried_whole():
    host = recreate.create_spec(INSPECT, OLD_IMAGE_CONFIG, "img", "db2server")[0]["host_config"]
    assert host["Privileged"] is True and host["CapAdd"] == ["IPC_LOCK"]
    assert host["Binds"] == ["/home/idbjorh/db2fs:/database"]
    assert host["PortBindings"] == {"50000/tcp": [{"HostIp": "", "HostPort": "50000"}]}
    assert host["RestartPolicy"]["Name"] == "always"
    assert host["Links"] == ["ldap-service:ldap-host"], "inspect's /a:/b/c form becomes create's a:c"
    assert host["Devices"][0]["PathOnHost"] == "/dev/fuse"
    assert (host["Memory"], host["NanoCpus"], host["ShmSize"]) == (4294967296, 2000000000, 1073741824)
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 65536, "Hard": 65536}]
    assert "ContainerIDFile" not in host
    assert INSPECT["HostConfig"]["Links"] == ["/ldap-service:/db2server/ldap-host"], "inspect data is not modified"


def test_networks_keep_aliases_and_static_ip_but_not_the_old_id():
    kwargs, others = recreate.create_spec(INSPECT, OLD_IMAGE_CONFIG, "img", "db2server")
    assert kwargs["networking_config"] == {"EndpointsConfig": {"db2net": {
        "Aliases": ["db2"], "IPAMConfig": {"IPv4Address": "172.28.0.10"}}}}
    assert others == {"backup-net": {}}


def test_carried_over_summary_names_no_secret_values():
    summary = recreate.carried_over(INSPECT, OLD_IMAGE_CONFIG)
    assert summary["env"] == ["DB2INST1_PASSWORD", "DBNAME", "LICENSE"]
    assert "secret" not in str(summary)
    assert summary["links"] == ["/ldap-service:/db2server/ldap-host"] and summary["privileged"] is True


def test_image_level_sources():
    assert upgrade.image_level("store/ibmcorp/db2_developer_c:11.1.4.4-x86_64", {}) == "11.1.4.4"
    assert upgrade.image_level("custom:latest", {"Config": {"Labels": {"db2ops.level": "11.5.8.0"}}}) == "11.5.8.0"
    assert upgrade.image_level("registry:5000/db2:11.1.3.3a", None) == "11.1.3.3a"
    assert upgrade.image_level("custom:latest", None) is None
    assert upgrade.image_level("custom:latest", None, explicit="11.5.9.0") == "11.5.9.0"


def test_versionnumber():
    assert versionnumber_level(11010404) == (11, 1, 4, 4)
    assert versionnumber_level("11050800") == (11, 5, 8, 0)


ANON = "3f0c1b2e" * 8  # an anonymous volume's 64-hex name


def _anonymous(**host):
    inspect = dict(INSPECT, HostConfig=dict(INSPECT["HostConfig"], **dict(dict(Binds=None), **host)), Mounts=[
        {"Type": "volume", "Name": ANON, "Source": "/var/lib/docker/volumes/%s/_data" % ANON,
         "Destination": "/database", "RW": True},
        {"Type": "volume", "Name": "hadr", "Source": "/var/lib/docker/volumes/hadr/_data",
         "Destination": "/hadr", "RW": False}])
    return inspect


def test_anonymous_database_volume_is_mounted_again_by_name():
    # `docker run` without -v: IBM's VOLUME /database gives an anonymous volume, absent from Binds.
    host = recreate.create_spec(_anonymous(), OLD_IMAGE_CONFIG, "img", "db2server")[0]["host_config"]
    assert host["Binds"] == ["%s:/database:rw" % ANON, "hadr:/hadr:ro"]


def test_anonymous_mount_option_is_replaced_by_the_named_volume():
    # `--mount type=volume,dst=/database` (no source) would make a new empty volume.
    inspect = _anonymous(Mounts=[{"Type": "volume", "Target": "/database"},
                                 {"Type": "bind", "Source": "/srv/x", "Target": "/var/custom"}])
    host = recreate.create_spec(inspect, OLD_IMAGE_CONFIG, "img", "db2server")[0]["host_config"]
    assert host["Mounts"] == [{"Type": "bind", "Source": "/srv/x", "Target": "/var/custom"}]
    assert "%s:/database:rw" % ANON in host["Binds"]


def test_named_volumes_and_binds_are_not_doubled():
    inspect = _anonymous(Binds=["hadr:/hadr:ro"])
    host = recreate.create_spec(inspect, OLD_IMAGE_CONFIG, "img", "db2server")[0]["host_config"]
    assert host["Binds"] == ["hadr:/hadr:ro", "%s:/database:rw" % ANON]


def test_stop_timeout_is_carried_over():
    inspect = dict(INSPECT, Config=dict(INSPECT["Config"], StopTimeout=600))
    kwargs = recreate.create_spec(inspect, OLD_IMAGE_CONFIG, "img", "db2server")[0]
    assert kwargs["stop_timeout"] == 600
    assert recreate.create_spec(INSPECT, OLD_IMAGE_CONFIG, "img", "db2server")[0]["stop_timeout"] is None
    assert recreate.carried_over(inspect, OLD_IMAGE_CONFIG)["stop_timeout"] == 600
