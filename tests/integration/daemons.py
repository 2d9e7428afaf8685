"""Extra real Docker daemons for tests: TLS material made with openssl, and a dockerd with its
own data-root, exec-root, pidfile and sockets that the tests start and stop by PID.
"""
from __future__ import annotations

import os
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
               "--pidfile", str(self.root / "dockerd.pid"), "-H", self.unix_url,
               "--iptables=false", "--ip-masq=false"]
        if self.bridge:
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

    def _make_bridge(self) -> None:
        # A /24 of its own per daemon, on a link that carries no traffic off this machine.
        subnet = 100 + int.from_bytes(os.urandom(1), "big") % 150
        for cmd in (["ip", "link", "add", "name", self.bridge, "type", "bridge"],
                    ["ip", "addr", "add", f"10.213.{subnet}.1/24", "dev", self.bridge],
                    ["ip", "link", "set", self.bridge, "up"]):
            subprocess.run(cmd, check=True, capture_output=True)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # dockerd leaves its container mounts under data/; they go with the directory.
        subprocess.run(["rm", "-rf", str(self.root / "data"), str(self.root / "exec")], check=False)
        if self.bridge:
            subprocess.run(["ip", "link", "delete", self.bridge], check=False, capture_output=True)
