"""Two Docker hosts for HADR tests across daemons (tests/integration/daemons.py: each host a network
namespace with its own dockerd and address), with the given stand-in images loaded. Each side of
a pair publishes its HADR port on its host's address and names the other host's address as
HADR_REMOTE_HOST, as a pair on two Docker hosts with bridge networking must.

Used by test_standin_hadr_hosts.py (the stand-in by hand) and test_hadr_playbooks.py (the role and
playbooks); each defines its own module-scoped fixture around `two_docker_hosts`. A container on a
test host is reached through its own client (`docker exec` on the command line would ask the
machine's daemon): `owner`, `ok` and `hadr_fields` below.
"""
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import docker

from conftest import images_locked
from daemons import HostLink, TestHost, make_tls_material, unmount_under


def owner(container, command):
    """(exit code, output) of `command` as the instance owner, through the container's own daemon."""
    result = container.exec_run(["bash", "-c", '. "$HOME/sqllib/db2profile" && ' + command], user="db2inst1")
    return result.exit_code, result.output.decode()


def ok(container, command):
    code, out = owner(container, command)
    assert code == 0, out
    return out


def hadr_fields(container):
    """`db2pd -db testdb -hadr` as {field: value}."""
    return dict(re.findall(r"^ *(\S+) = (.*)$", ok(container, "db2pd -db testdb -hadr"), re.M))


def two_docker_hosts(tmp_path_factory, images):
    """Generator for a fixture: yields [(TestHost, DockerClient)] for two hosts with `images` loaded."""
    root = tmp_path_factory.mktemp("hadr-hosts")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3g,mode=0755", "db2ops-hadr", str(root)], check=True)
    link = HostLink()
    started, clients = [], []
    try:
        key = root / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        link.create()
        # Host to host across the link bridge: with br_netfilter the machine's FORWARD chain sees
        # it, and dockerd's policy there is DROP (the fleet tests only go controller -> host).
        subprocess.run(["iptables", "-I", "DOCKER-USER", "-i", link.name, "-o", link.name, "-j", "ACCEPT"],
                       check=True)
        tls = make_tls_material(root / "certs", server_ips=[link.address(i) for i in (1, 2)])
        for i in (1, 2):
            started.append(TestHost(link, i, root / ("h%d" % i), tls, key.with_suffix(".pub").read_text()))
            started[-1].start()
        archive = root / "image.tar"
        with images_locked("standin"):
            subprocess.run(["docker", "save", "-o", str(archive), *images], check=True)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda h: subprocess.run(["docker", "-H", h.docker.unix_url, "load", "-i", str(archive)],
                                                   check=True, capture_output=True), started))
        archive.unlink()
        clients = [docker.DockerClient(base_url=h.docker.unix_url, timeout=120) for h in started]
        yield list(zip(started, clients))
    finally:
        for client in clients:
            client.close()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(TestHost.stop, started))
        subprocess.run(["iptables", "-D", "DOCKER-USER", "-i", link.name, "-o", link.name, "-j", "ACCEPT"],
                       check=False)
        link.delete()
        unmount_under(root)
        subprocess.run(["umount", str(root)], check=True)
