"""Extra real Docker daemons for tests: TLS material made with openssl, a dockerd with its
own data-root, exec-root, pidfile and sockets that the tests start and stop by PID, and test hosts
(a network namespace with its own address, dockerd and sshd) for fleet tests over SSH.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_tls_material(directory: Path, server_ips=("127.0.0.1",), server_names=("localhost",)) -> dict:
    """A CA, a server certificate (with the given IP/DNS SANs) and a client certificate.

    Also a second, unrelated CA (`other-ca.pem`) to prove that verification really happens.
    """
    directory.mkdir(parents=True, exist_ok=True)
    d = str(directory)
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=db2ops test {ca}",
                 "-keyout", f"{ca}-key.pem", "-out", f"{ca}.pem", cwd=d)
    sans = ",".join([f"IP:{ip}" for ip in server_ips] + [f"DNS:{n}" for n in server_names])
    for name, ext in (("server", f"subjectAltName={sans}\nextendedKeyUsage=serverAuth"),
                      ("client", "extendedKeyUsage=clientAuth")):
        (directory / f"{name}.ext").write_text(ext + "\n")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=db2ops test {name}",
                 "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                 "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=d)
    for key in directory.glob("*-key.pem"):
        key.chmod(0o600)
    return {name: str(directory / f"{name}.pem") for name in ("ca", "other-ca", "server", "client")} | {
        "server_key": str(directory / "server-key.pem"), "client_key": str(directory / "client-key.pem")}


def sign_client_cert(directory: Path, ca: str = "other-ca", name: str = "other-client") -> dict:
    """One more client certificate, signed by `ca` (by default the CA the daemons do not trust)."""
    d = str(directory)
    (directory / f"{name}.ext").write_text("extendedKeyUsage=clientAuth\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=db2ops test {name}",
             "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", cwd=d)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}-key.pem",
             "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=d)
    (directory / f"{name}-key.pem").chmod(0o600)
    return {"cert": str(directory / f"{name}.pem"), "key": str(directory / f"{name}-key.pem")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DockerDaemon:
    """A dockerd of the tests' own, started in the background and stopped by PID.

    In the machine's own network namespace it gets a bridge of its own: `--bridge=none` would make
    dockerd delete the shared docker0 (libnetwork removes the default bridge when it is disabled),
    breaking the main daemon's containers.
    """

    def __init__(self, root: Path, tcp: str | None = None, tls: dict | None = None, netns: str | None = None,
                 extra_args: tuple = ()):
        self.root = root
        self.extra_args = list(extra_args)
        self.socket = root / "docker.sock"
        self.tcp = tcp
        self.tls = tls
        self.netns = netns
        self.process: subprocess.Popen | None = None
        self.log = root / "dockerd.log"
        self.bridge = None if netns else "d2o" + os.urandom(3).hex()

    @property
    def unix_url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 60.0) -> "DockerDaemon":
        self.root.mkdir(parents=True, exist_ok=True)
        cmd = ["dockerd", "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
               "--pidfile", str(self.root / "dockerd.pid"), "-H", self.unix_url]
        if not self.netns:
            # The machine's iptables belong to its own dockerd; in a namespace of its own a daemon
            # gets its own tables, docker0 and published ports, as on a real host.
            cmd += ["--iptables=false", "--ip-masq=false"]
        if self.bridge:
            if not Path(f"/sys/class/net/{self.bridge}").exists():  # kept over a restart()
                self._make_bridge()
            cmd += ["--bridge", self.bridge]
        if self.tcp:
            cmd += ["-H", f"tcp://{self.tcp}"]
        if self.tls:
            cmd += ["--tlsverify", "--tlscacert", self.tls["ca"], "--tlscert", self.tls["server"],
                    "--tlskey", self.tls["server_key"]]
        cmd += self.extra_args
        if self.netns:
            cmd = ["nsenter", f"--net=/var/run/netns/{self.netns}"] + cmd
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dockerd exited: {self.log.read_text()[-2000:]}")
            probe = subprocess.run(["docker", "-H", self.unix_url, "info"], capture_output=True, check=False)
            if probe.returncode == 0:
                return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"dockerd did not answer within {timeout}s: {self.log.read_text()[-2000:]}")

    def restart(self, timeout: float = 60.0) -> "DockerDaemon":
        """Stop dockerd by PID and start it again on the same roots, sockets and bridge, as
        `systemctl restart docker` does: SIGTERM makes dockerd stop its containers; those with a
        restart policy that were running start again with the daemon."""
        _stop_group(self.process, timeout=60)
        return self.start(timeout)

    def _make_bridge(self) -> None:
        # A /24 of its own per daemon, on a link that carries no traffic off this machine.
        subnet = 100 + int.from_bytes(os.urandom(1), "big") % 150
        for cmd in (["ip", "link", "add", "name", self.bridge, "type", "bridge"],
                    ["ip", "addr", "add", f"10.213.{subnet}.1/24", "dev", self.bridge],
                    ["ip", "link", "set", self.bridge, "up"]):
            subprocess.run(cmd, check=True, capture_output=True)

    def stop(self) -> None:
        _stop_group(self.process, timeout=30)
        # A dockerd that had to be killed leaves mounts (overlays, netns handles) under its roots.
        unmount_under(self.root)
        subprocess.run(["rm", "-rf", str(self.root / "data"), str(self.root / "exec")], check=False)
        if self.bridge:
            subprocess.run(["ip", "link", "delete", self.bridge], check=False, capture_output=True)


def unmount_under(path: Path) -> None:
    """Lazily unmount every mount point below `path`, deepest first."""
    prefix = str(path).rstrip("/") + "/"
    with open("/proc/self/mountinfo", encoding="utf-8") as mountinfo:
        points = [line.split()[4].encode().decode("unicode_escape") for line in mountinfo]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def _run(*cmd: str, netns: str | None = None) -> None:
    if netns:
        cmd = ("nsenter", f"--net=/var/run/netns/{netns}", *cmd)
    subprocess.run(cmd, check=True, capture_output=True)


def _stop_group(process: subprocess.Popen | None, timeout: float = 15) -> None:
    """SIGTERM to the process group of a process started with start_new_session; SIGKILL after `timeout`."""
    if process and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class HostLink:
    """A bridge in the machine's namespace, with a /24 of its own, that test hosts plug into.

    Only the tests' own addresses live on it: the bridge has .1, test host N has .(10+N).
    """

    def __init__(self):
        self.name = "d2f" + os.urandom(3).hex()
        routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True, check=True).stdout
        free = [n for n in range(256) if f"10.214.{n}." not in routes]
        self.prefix = f"10.214.{free[int.from_bytes(os.urandom(2), 'big') % len(free)]}"

    def address(self, index: int) -> str:
        return f"{self.prefix}.{10 + index}"

    def create(self) -> "HostLink":
        _run("ip", "link", "add", "name", self.name, "type", "bridge")
        _run("ip", "addr", "add", f"{self.prefix}.1/24", "dev", self.name)
        _run("ip", "link", "set", self.name, "up")
        return self

    def delete(self) -> None:
        subprocess.run(["ip", "link", "delete", self.name], check=False, capture_output=True)


class TestHost:
    """A Docker host for fleet tests: a network namespace with a veth into `link` and its own
    address, running its own dockerd (unix socket, and TCP with --tlsverify on ADDR:2376) and sshd
    (ADDR:22, root by the test's key only, with a host key made here).

    Daemons are started with `nsenter --net` (not `ip netns exec`, which remounts /sys so that
    dockerd cannot find the cgroup mounts); the namespace shares the machine's filesystem.
    `stop()` undoes everything, also after a half-finished `start()`.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, link: HostLink, index: int, root: Path, tls: dict, authorized_key: str):
        self.link = link
        self.netns = f"{link.name}-h{index}"
        self.veth = f"{link.name}h{index}"
        self.address = link.address(index)
        self.root = root
        self.docker = DockerDaemon(root / "docker", tcp=f"{self.address}:2376", tls=tls, netns=self.netns)
        self.authorized_key = authorized_key
        self.host_key = root / "ssh_host_ed25519_key"
        self.sshd: subprocess.Popen | None = None
        self.sshd_log = root / "sshd.log"

    def start(self) -> "TestHost":
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self._make_netns()
            self.docker.start()
            self._start_sshd()
        except BaseException:
            self.stop()
            raise
        return self

    def _make_netns(self) -> None:
        _run("ip", "netns", "add", self.netns)
        _run("ip", "link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns", self.netns)
        _run("ip", "link", "set", self.veth, "master", self.link.name, "up")
        for cmd in (("ip", "link", "set", "lo", "up"),
                    ("ip", "addr", "add", f"{self.address}/24", "dev", "eth0"),
                    ("ip", "link", "set", "eth0", "up")):
            _run(*cmd, netns=self.netns)

    def _start_sshd(self, timeout: float = 20.0) -> None:
        sshd = shutil.which("sshd", path="/usr/sbin:/usr/local/sbin:" + os.environ.get("PATH", ""))
        if not sshd:
            raise RuntimeError("sshd is missing: apt-get install openssh-server (scripts/setup-system.sh does)")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", self.netns, "-f", str(self.host_key)],
                       check=True, capture_output=True)
        keys = self.root / "authorized_keys"
        keys.write_text(self.authorized_key.strip() + "\n")
        config = self.root / "sshd_config"
        config.write_text("\n".join([
            f"ListenAddress {self.address}:22",
            f"HostKey {self.host_key}",
            f"PidFile {self.root / 'sshd.pid'}",
            f"AuthorizedKeysFile {keys}",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            # The key files live under the test's temporary directory, below the world-writable /tmp.
            "StrictModes no",
            # Inventory hosts that share this address multiplex their sessions over one connection.
            "MaxSessions 50",
            "Subsystem sftp internal-sftp",
        ]) + "\n")
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation directory
        self.sshd = subprocess.Popen(
            ["nsenter", f"--net=/var/run/netns/{self.netns}", sshd, "-D", "-f", str(config), "-E", str(self.sshd_log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sshd.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.sshd_log.read_text() if self.sshd_log.exists() else ''}")
            with socket.socket() as probe:
                probe.settimeout(1)
                if probe.connect_ex((self.address, 22)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"sshd did not listen on {self.address}:22 within {timeout}s")

    def known_hosts_line(self) -> str:
        kind, key = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"{self.address} {kind} {key}"

    def stop(self) -> None:
        if self.docker.process and self.docker.process.poll() is None:
            # Removing the containers first spares dockerd's shutdown its stop timeouts.
            ids = self._container_ids()
            if ids:
                subprocess.run(["docker", "-H", self.docker.unix_url, "rm", "-f", "-v", *ids], check=False,
                               capture_output=True)
        _stop_group(self.sshd)
        self.docker.stop()
        if Path(f"/var/run/netns/{self.netns}").exists():
            # Whatever still runs in the namespace was started here: sshd's per-connection
            # processes (they leave sshd's session), containerd shims.
            self._kill_namespace_processes()
            subprocess.run(["ip", "netns", "delete", self.netns], check=False, capture_output=True)
        subprocess.run(["ip", "link", "delete", self.veth], check=False, capture_output=True)

    def _container_ids(self) -> list[str]:
        ps = subprocess.run(["docker", "-H", self.docker.unix_url, "ps", "-aq"], capture_output=True, text=True,
                            check=False)
        return ps.stdout.split()

    def _kill_namespace_processes(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = subprocess.run(["ip", "netns", "pids", self.netns], capture_output=True, text=True,
                                  check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), sig)
                except ProcessLookupError:
                    pass
            if not pids:
                return
            time.sleep(1)
