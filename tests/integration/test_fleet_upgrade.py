"""playbooks/upgrade.yml on a real fleet: three test hosts (network namespaces with their own
address, dockerd and sshd), reached by ansible-playbook over SSH, two Db2 containers each.

The failure: Docker host h3 has a bad build under the target tag (the stand-in's `failsetup`
image), so every container there fails mid-way - after the backup and the stop, while the new
container sets up - and is rolled back. The inventory interleaves the Docker hosts so that each
`serial: 2` batch spans two hosts: batch 1 is h1-db2a, h2-db2a; batch 2 is h3-db2a, h1-db2b;
batch 3 is h2-db2b, h3-db2b. Batch 2 thus has 50% failed: db2_max_fail_percentage 49 stops the
run there, 50 lets it go on (Ansible aborts only when the failed share EXCEEDS the value).

The fault: host h2's link goes down mid-upgrade (the last test; h3's target tag names the good image
there): the other hosts complete, h2's containers are reported unreachable, and a rerun converges.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import pytest
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, STANDIN_REPO, images_locked, run_db2, wait_for_log
from daemons import HostLink, TestHost, make_tls_material, unmount_under
from playbook import BIN, REPO, ansible_env, run_playbook

OLD, NEW = "11.1.3.3a", "11.1.4.4"
DB2LEVEL_TOKEN = {OLD: '"DB2 v11.1.3.3"', NEW: '"DB2 v11.1.4.4"'}  # 3a is the Fix Pack, on a line of its own
TARGET = f"{STANDIN_REPO}:{NEW}"
CONTAINERS = ("db2a", "db2b")  # the same container names on every Docker host, as in real fleets
# Inventory order = batch order: Docker hosts interleaved (see the module docstring).
INVENTORY_ORDER = ("h1-db2a", "h2-db2a", "h3-db2a", "h1-db2b", "h2-db2b", "h3-db2b")
BROKEN_HOST = "h3"


class Fleet:
    def __init__(self, root: Path, hosts: list[TestHost], key: Path, known_hosts: Path, tls: dict):
        self.root, self.hosts, self.key, self.known_hosts, self.tls = root, hosts, key, known_hosts, tls
        self.by_name = {f"h{i}": host for i, host in enumerate(hosts, 1)}
        self.clients: dict[str, docker.DockerClient] = {}

    def client(self, host_name: str) -> docker.DockerClient:
        """The controller's view of a Docker host: TCP with TLS verification at its own address."""
        if host_name not in self.clients:
            tls = docker.tls.TLSConfig(client_cert=(self.tls["client"], self.tls["client_key"]),
                                       ca_cert=self.tls["ca"], verify=True)
            # A fixed API version: "auto" would ask the daemon before trust_env can be turned off.
            client = docker.DockerClient(base_url=f"tcp://{self.by_name[host_name].address}:2376", tls=tls,
                                         timeout=120, version="1.41")
            client.api.trust_env = False  # REQUESTS_CA_BUNDLE would replace the test CA
            self.clients[host_name] = client
        return self.clients[host_name]

    def inventory(self, known_hosts: Path | None = None) -> Path:
        # ServerAlive: a host whose network goes away mid-task is reported unreachable within ~15 s, as an
        # operator would configure it, instead of after TCP's retransmission timeout (about 15 minutes).
        ssh_args = (f"-o UserKnownHostsFile={known_hosts or self.known_hosts} -o GlobalKnownHostsFile=/dev/null "
                    "-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o ServerAliveInterval=5 "
                    "-o ServerAliveCountMax=3")
        docker_groups = {
            f"docker_{name}": {
                "vars": {"ansible_host": host.address, "db2ops_docker_host": host.docker.unix_url},
                "hosts": {f"{name}-{c}": None for c in CONTAINERS},
            } for name, host in self.by_name.items()}
        inventory = {"all": {"children": {
            "db2_containers": {
                "hosts": {h: {"db2_container": h.split("-", 1)[1]} for h in INVENTORY_ORDER},
                "vars": {
                    "ansible_connection": "ssh", "ansible_user": "root",
                    "ansible_ssh_private_key_file": str(self.key), "ansible_ssh_common_args": ssh_args,
                    # The namespaces share this machine's filesystem: the venv's Python, with the
                    # docker SDK the modules need, is there on every test host.
                    "ansible_python_interpreter": sys.executable,
                    "ansible_remote_tmp": str(self.root / "remote-tmp"),
                },
            },
            **docker_groups,
        }}}
        path = self.root / f"inventory-{len(list(self.root.glob('inventory-*')))}.json"
        path.write_text(json.dumps(inventory))
        return path

    def env(self, control_dir: str = "cp") -> dict:
        """Ansible settings; SSH connections are multiplexed through masters under `control_dir`
        (a master already up would be reused without a new host key check)."""
        return {"ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.root / control_dir),
                "ANSIBLE_TIMEOUT": "30", "ANSIBLE_PIPELINING": "True"}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, standin_images):
    root = tmp_path_factory.mktemp("fleet")
    # Data-roots, storage and keys on a tmpfs: loading the images and removing three image stores
    # from disk would take most of the module's time on a busy CI disk.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4g,mode=0700", "db2ops-fleet", str(root)], check=True)
    link = HostLink()
    hosts: list[TestHost] = []
    fleet = None
    try:
        key = root / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "db2ops fleet test", "-f", str(key)],
                       check=True)
        link.create()
        tls = make_tls_material(root / "certs", server_ips=[link.address(i) for i in (1, 2, 3)])
        for i in (1, 2, 3):
            hosts.append(TestHost(link, i, root / f"h{i}", tls, key.with_suffix(".pub").read_text()))
            hosts[-1].start()
        known_hosts = root / "known_hosts"
        known_hosts.write_text("".join(h.known_hosts_line() + "\n" for h in hosts))
        fleet = Fleet(root, hosts, key, known_hosts, tls)
        load_images(fleet, standin_images)
        yield fleet
    finally:
        for client in (fleet.clients.values() if fleet else ()):
            client.close()
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(TestHost.stop, hosts))
        link.delete()
        unmount_under(root)
        subprocess.run(["umount", str(root)], check=True)


def load_images(fleet: Fleet, standin_images: dict) -> None:
    """Each Docker host gets the images once (docker save here, docker load there); on h3 the
    target tag names the bad build."""
    archive = fleet.root / "images.tar"
    with images_locked("standin"):
        subprocess.run(["docker", "save", "-o", str(archive), standin_images[OLD], standin_images[NEW],
                        standin_images["failsetup"]], check=True)

    def load(host: TestHost) -> None:
        subprocess.run(["docker", "-H", host.docker.unix_url, "load", "-i", str(archive)], check=True,
                       capture_output=True)

    with ThreadPoolExecutor(len(fleet.hosts)) as pool:
        list(pool.map(load, fleet.hosts))
    archive.unlink()
    fleet.client(BROKEN_HOST).images.get(standin_images["failsetup"]).tag(TARGET)


@pytest.fixture
def containers_at_old_level(fleet, standin_images):
    """Fresh containers at 11.1.3.3a on every host, each with a row of data; returns, per
    inventory host, the container's id and start time."""
    for name in fleet.by_name:
        for container in fleet.client(name).containers.list(all=True):
            container.remove(force=True, v=True)
    subprocess.run(["rm", "-rf", *map(str, fleet.root.glob("h*/storage-*"))], check=True)

    def start(inventory_host: str):
        host_name, container_name = inventory_host.split("-", 1)
        host = fleet.by_name[host_name]
        storage = host.root / f"storage-{container_name}"
        storage.mkdir(mode=0o755)
        port = 50001 + CONTAINERS.index(container_name)
        container = fleet.client(host_name).containers.run(
            standin_images[OLD], name=container_name, hostname=f"{host_name}{container_name}", detach=True,
            environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB", "ARCHIVE_LOGS": "false"},
            volumes={str(storage): {"bind": "/database", "mode": "rw"}},
            ports={"50000/tcp": (host.address, port)}, restart_policy={"Name": "unless-stopped"})
        wait_for_log(container, "(*) Setup has completed.")
        rc, out = run_db2(container, 'db2 connect to TESTDB >/dev/null && db2 "create table fleet (who varchar(30))" '
                                     f"&& db2 \"insert into fleet values ('{inventory_host}')\"")
        assert rc == 0, out
        container.reload()
        return inventory_host, (container.id, container.attrs["State"]["StartedAt"])

    with ThreadPoolExecutor(3) as pool:
        return dict(pool.map(start, INVENTORY_ORDER))


def run_upgrade(fleet: Fleet, tmp_path: Path, max_fail: int) -> tuple[subprocess.CompletedProcess, list]:
    report = tmp_path / "upgrade-report.json"
    report.unlink(missing_ok=True)
    proc = run_playbook(REPO / "playbooks" / "upgrade.yml", inventory=str(fleet.inventory()), env=fleet.env(),
                        args=("--forks", "6"),
                        extra_vars={"db2_target_image": TARGET, "db2_serial": 2, "db2_max_fail_percentage": max_fail,
                                    "db2_upgrade_report": str(report), "db2_fixpack_ready_timeout": 60,
                                    "db2_fixpack_stop_timeout": 20})
    assert report.exists(), f"no report:\n{proc.stdout}\n{proc.stderr}"
    return proc, json.loads(report.read_text())


def check_container(fleet: Fleet, inventory_host: str, before: tuple[str, str], expect: str):
    """The container is whole: running under its name at the expected level with its data, no
    `_upgrading` leftover; upgraded ones keep the old container stopped as `<name>_<old level>`."""
    host_name, name = inventory_host.split("-", 1)
    client = fleet.client(host_name)
    family = {c.name: c for c in client.containers.list(all=True, filters={"name": f"^{name}(_.*)?$"})}
    assert not [n for n in family if n.endswith("_upgrading")], (inventory_host, sorted(family))
    current = family.pop(name)
    assert current.status == "running", (inventory_host, current.status)
    level = NEW if expect == "upgraded" else OLD
    rc, out = run_db2(current, "db2level")
    assert rc == 0 and DB2LEVEL_TOKEN[level] in out, (inventory_host, out)
    rc, out = run_db2(current, 'db2 connect to TESTDB >/dev/null && db2 -x "select who from fleet"')
    assert rc == 0 and out.split() == [inventory_host], (inventory_host, out)
    assert current.attrs["HostConfig"]["PortBindings"] == {
        "50000/tcp": [{"HostIp": fleet.by_name[host_name].address, "HostPort": str(50001 + CONTAINERS.index(name))}]}
    if expect == "upgraded":
        assert current.image.id == client.images.get(TARGET).id
        assert sorted(family) == [f"{name}_{OLD}"] and family[f"{name}_{OLD}"].status == "exited", sorted(family)
        return current
    assert family == {}, (inventory_host, sorted(family))
    assert current.id == before[0], f"{inventory_host}: not the original container"
    started_again = current.attrs["State"]["StartedAt"] != before[1]
    # Rolled back: stopped mid-way, then the very same container started again.
    assert started_again == (expect == "rolled back"), (inventory_host, expect, before[1])
    return current


def outcomes(report: list) -> dict:
    return {row["host"]: row["result"] for row in report}


def test_fleet_hosts_are_reached_over_ssh_with_host_key_checking(fleet, tmp_path):
    """Every inventory host runs its tasks over SSH on its own Docker host; a wrong host key is refused."""
    adhoc = [str(BIN / "ansible"), "db2_containers", "-m", "ansible.builtin.command", "-a", "ip netns identify"]
    proc = subprocess.run([*adhoc, "-i", str(fleet.inventory())], capture_output=True, text=True,
                          env=ansible_env(fleet.env()), cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seen = dict(re.findall(r"^(\S+) \| CHANGED \| rc=0 >>\n(\S+)$", proc.stdout, re.M))
    assert seen == {h: fleet.by_name[h.split("-", maxsplit=1)[0]].netns for h in INVENTORY_ORDER}, proc.stdout

    wrong = tmp_path / "known_hosts"
    wrong.write_text("".join(f"{h.address} {fleet.hosts[0].known_hosts_line().split(' ', 1)[1]}\n"
                             for h in fleet.hosts[1:]))
    proc = subprocess.run([*adhoc, "-i", str(fleet.inventory(known_hosts=wrong)), "--limit", "docker_h2"],
                          capture_output=True, text=True, env=ansible_env(fleet.env("cp-wrong")), cwd=REPO,
                          check=False)
    assert proc.returncode == 4 and "UNREACHABLE" in proc.stdout, proc.stdout + proc.stderr
    assert "Host key verification failed" in proc.stdout + proc.stderr


def test_max_fail_percentage_stops_later_batches_and_a_rerun_goes_past_the_failure(fleet, containers_at_old_level,
                                                                                   tmp_path):
    original = containers_at_old_level
    # 1. Batch 2 has 50% failed, more than 49: the run stops after it.
    proc, report = run_upgrade(fleet, tmp_path, max_fail=49)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 2, log
    assert outcomes(report) == {"h1-db2a": "upgraded", "h2-db2a": "upgraded", "h3-db2a": "failed",
                                "h1-db2b": "upgraded", "h2-db2b": "not started", "h3-db2b": "not started"}, log
    failed = next(row for row in report if row["result"] == "failed")
    assert "rolled back" in failed["message"] and "Setup failed" in failed["message"], failed
    # Seen at its first exit, though the carried-over restart policy keeps restarting it.
    assert "restarted by its restart policy" in failed["message"], failed
    expected = {"h1-db2a": "upgraded", "h2-db2a": "upgraded", "h3-db2a": "rolled back",
                "h1-db2b": "upgraded", "h2-db2b": "untouched", "h3-db2b": "untouched"}
    after_first = {h: check_container(fleet, h, original[h], expect) for h, expect in expected.items()}

    # 2. The operator reruns with 50: 50% failed does not exceed it, so every batch runs. The
    #    containers upgraded before are left alone; h3's containers fail again and roll back.
    proc, report = run_upgrade(fleet, tmp_path, max_fail=50)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 2, log
    assert outcomes(report) == {"h1-db2a": "unchanged", "h2-db2a": "unchanged", "h3-db2a": "failed",
                                "h1-db2b": "unchanged", "h2-db2b": "upgraded", "h3-db2b": "failed"}, log
    expected = {"h1-db2a": "upgraded", "h2-db2a": "upgraded", "h3-db2a": "rolled back",
                "h1-db2b": "upgraded", "h2-db2b": "upgraded", "h3-db2b": "rolled back"}
    for inventory_host, expect in expected.items():
        current = check_container(fleet, inventory_host, original[inventory_host], expect)
        if report[INVENTORY_ORDER.index(inventory_host)]["result"] == "unchanged":
            assert current.attrs["State"]["StartedAt"] == after_first[inventory_host].attrs["State"]["StartedAt"]


def module_processes(host: TestHost) -> list[str]:
    """Ansible modules still running on a test host: processes of its namespace run by the controller's
    Python (dockerd and sshd are not; container processes live in namespaces of their own)."""
    pids = subprocess.run(["ip", "netns", "pids", host.netns], capture_output=True, text=True, check=False).stdout
    found = []
    for pid in pids.split():
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].decode(errors="replace") == sys.executable:
            found.append(pid)
    return found


def test_a_host_unreachable_mid_fleet_is_reported_and_a_rerun_converges(fleet, containers_at_old_level, tmp_path):
    """h2's network goes down while its first container is being upgraded (at the rename, after the
    backup). The other hosts complete; both containers of h2 are reported unreachable; once h2 is
    back, a rerun converges everywhere, every row kept."""
    original = containers_at_old_level
    lost = fleet.by_name["h2"]
    broken = fleet.client(BROKEN_HOST)
    broken.images.get(fleet.client("h1").images.get(TARGET).id).tag(TARGET)  # only h2's network fails here
    local = docker.DockerClient(base_url=lost.docker.unix_url, timeout=120)  # h2's daemon without its network
    renames = local.events(decode=True, filters={"type": "container", "event": "rename"})
    cut = threading.Event()

    def cut_the_link():
        try:
            for event in renames:
                if event["Actor"]["Attributes"].get("name", "").startswith("db2a_"):
                    subprocess.run(["ip", "link", "set", lost.veth, "down"], check=True)
                    cut.set()
                    return
        except Exception:  # the stream closed: the run ended without reaching h2
            pass

    watcher = threading.Thread(target=cut_the_link, daemon=True)
    watcher.start()
    try:
        proc, report = run_upgrade(fleet, tmp_path, max_fail=50)
        log = proc.stdout + proc.stderr
        assert cut.is_set(), log
        assert proc.returncode == 4 and "UNREACHABLE" in log, log
        assert outcomes(report) == {"h1-db2a": "upgraded", "h2-db2a": "unreachable", "h3-db2a": "upgraded",
                                    "h1-db2b": "upgraded", "h2-db2b": "unreachable", "h3-db2b": "upgraded"}, log
        assert all("run again" in row["message"] for row in report if row["result"] == "unreachable"), report
        for inventory_host in ("h1-db2a", "h3-db2a", "h1-db2b", "h3-db2b"):
            check_container(fleet, inventory_host, original[inventory_host], "upgraded")

        # h2 is back. The module cut off from the controller ran on there; let it end first, as an
        # operator would wait for the host before rerunning.
        subprocess.run(["ip", "link", "set", lost.veth, "up"], check=True)
        deadline = time.monotonic() + 300
        while module_processes(lost) and time.monotonic() < deadline:
            time.sleep(1)
        assert not module_processes(lost), "the cut-off module did not end"
        proc, report = run_upgrade(fleet, tmp_path, max_fail=0)
        log = proc.stdout + proc.stderr
        assert proc.returncode == 0, log
        results = outcomes(report)
        assert results.pop("h2-db2a") in ("upgraded", "unchanged"), log  # the cut-off run may have finished it
        assert results == {"h1-db2a": "unchanged", "h3-db2a": "unchanged", "h1-db2b": "unchanged",
                           "h2-db2b": "upgraded", "h3-db2b": "unchanged"}, log
        for inventory_host in INVENTORY_ORDER:
            check_container(fleet, inventory_host, original[inventory_host], "upgraded")
    finally:
        renames.close()
        subprocess.run(["ip", "link", "set", lost.veth, "up"], check=False)
        broken.images.get(f"{STANDIN_REPO}:{NEW}-failsetup").tag(TARGET)
        local.close()
