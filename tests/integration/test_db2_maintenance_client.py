"""Recipe 3 from a central scheduling client, end to end.

One run of playbooks/schedule.yml (role db2_maintenance) configures both sides: the daemon side
(a systemd drop-in with --tlsverify and the daemon's certificates) and the client side (the
client certificate set for the cron user, the wrapper, a `where: client` cron entry). Without
systemd here, a real dockerd is started with exactly the listener and TLS flags the drop-in
renders; the stand-in image is loaded into it over the Docker API and a Db2 container runs on
it. The cron entry, run by hand as the cron user, reaches that container through
DOCKER_HOST=tcp://127.0.0.1:<port> with the client certificates; with a wrong CA, an untrusted
client certificate or none, the run fails, the wrapper logs a non-zero exit status and the
notification command fires.
"""
import shlex
import shutil
import socket
import ssl
import subprocess
import uuid

import docker
import pytest
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, images_locked, run_db2, wait_for_log
from daemons import DockerDaemon, free_port, make_tls_material, sign_client_cert
from maintenance import cron_command, cron_user_name, exit_statuses, run_as, schedule, work_dir

JOB = "remote-insert"


@pytest.fixture(scope="module")
def work():
    with work_dir() as path:
        yield path


@pytest.fixture(scope="module")
def cron_user():
    with cron_user_name() as name:
        yield name


@pytest.fixture(scope="module")
def site(work, cron_user, standin_images, docker_client):
    """The role applied once; a dockerd started from its drop-in; a stand-in running on that dockerd."""
    tls = make_tls_material(work / "pki")
    port = free_port()
    container_name = "db2ops-t-client-" + uuid.uuid4().hex[:8]
    jobs = [dict(name=JOB, where="client", container=container_name, docker_host="tcp://127.0.0.1:%d" % port,
                 schedule="30 1 * * *",
                 command="db2 connect to testdb && db2 \"insert into cronruns values (current timestamp)\""),
            dict(name="remote-backup", where="client", type="offline_backup", container=container_name,
                 docker_host="tcp://127.0.0.1:%d" % port, schedule="0 2 * * *", database="TESTDB", keep=1)]
    proc = schedule(work, cron_user, jobs,
                    db2_maintenance_client_cert_path=str(work / "client-certs"),
                    db2_maintenance_client_ca=tls["ca"], db2_maintenance_client_cert=tls["client"],
                    db2_maintenance_client_key=tls["client_key"],
                    db2_maintenance_daemon_tls=True, db2_maintenance_daemon_listen="tcp://127.0.0.1:%d" % port,
                    db2_maintenance_daemon_cert_dir=str(work / "daemon-tls"), db2_maintenance_daemon_ca=tls["ca"],
                    db2_maintenance_daemon_cert=tls["server"], db2_maintenance_daemon_key=tls["server_key"],
                    db2_maintenance_systemd_dropin_dir=str(work / "dropin"), db2_maintenance_daemon_restart=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    exec_start = dropin_exec_start(work / "dropin" / "db2ops-tls.conf")
    daemon = DockerDaemon(work / "dockerd", extra_args=daemon_flags(exec_start))
    daemon.start()
    remote = None
    try:
        remote = docker.DockerClient(base_url=daemon.unix_url, timeout=300)
        image = standin_images["11.1.4.4"]
        with images_locked("standin"):
            remote.images.load(docker_client.images.get(image).save(named=image))
        container = remote.containers.run(image, name=container_name, detach=True,
                                          environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB"})
        wait_for_log(container, "(*) Setup has completed.")
        rc, out = run_db2(container, "db2 connect to testdb >/dev/null && db2 'create table cronruns (t timestamp)'")
        assert rc == 0, out
        yield dict(tls=tls, port=port, container=container, exec_start=exec_start, daemon=daemon)
    finally:
        if remote is not None:
            for leftover in remote.containers.list(all=True):
                leftover.remove(force=True, v=True)
            remote.close()
        daemon.stop()


def dropin_exec_start(path):
    """The command line of the drop-in's last ExecStart= (the one systemd runs)."""
    lines = [line for line in path.read_text().splitlines() if line.startswith("ExecStart=")]
    assert lines[0] == "ExecStart=", "the drop-in must clear the unit's ExecStart first"
    return shlex.split(lines[-1][len("ExecStart="):])


def daemon_flags(exec_start):
    """The drop-in's flags minus what only systemd provides: the socket-activated fd://, the
    system containerd and the unit's $DOCKER_OPTS. Listener and TLS flags are kept exactly."""
    flags, skip = [], False
    for index, arg in enumerate(exec_start[1:], start=1):
        if skip:
            skip = False
            continue
        if arg == "-H" and exec_start[index + 1] == "fd://":
            skip = True
            continue
        if arg.startswith("--containerd=") or arg == "$DOCKER_OPTS":
            continue
        flags.append(arg)
    return flags


def run_count(container):
    rc, out = run_db2(container, "db2 connect to testdb >/dev/null && db2 -x 'select count(*) from cronruns'")
    assert rc == 0, out
    return int(out.split()[-1])


def test_dropin_requires_tls_client_certificates(site, work):
    args = site["exec_start"]
    assert args[0] in ("/usr/bin/dockerd", "/usr/sbin/dockerd") and shutil.which(args[0].rsplit("/", 1)[1])
    assert args[1:3] == ["-H", "fd://"] and args[-1] == "$DOCKER_OPTS"
    assert "tcp://127.0.0.1:%d" % site["port"] in args
    cert_dir = work / "daemon-tls"
    assert {"--tlsverify", "--tlscacert=%s/ca.pem" % cert_dir, "--tlscert=%s/server-cert.pem" % cert_dir,
            "--tlskey=%s/server-key.pem" % cert_dir} <= set(args)
    assert not any(":2375" in arg for arg in args)
    assert (cert_dir / "server-key.pem").stat().st_mode & 0o777 == 0o600
    assert (cert_dir / "ca.pem").read_text() == open(site["tls"]["ca"]).read()


def test_client_job_runs_on_the_remote_daemon(site, work, cron_user, docker_client):
    command = cron_command(work, JOB)
    assert " exec -it " not in command and " exec " in command
    assert "--docker-host tcp://127.0.0.1:%d --cert-path %s " % (site["port"], work / "client-certs") in command
    key = work / "client-certs" / "key.pem"
    assert key.stat().st_mode & 0o777 == 0o600 and key.owner() == cron_user
    assert (work / "client-certs").stat().st_mode & 0o777 == 0o700

    done = run_as(cron_user, command)
    assert done.returncode == 0, done.stdout + done.stderr + (work / "log" / f"{JOB}.log").read_text()
    assert run_count(site["container"]) == 1
    assert exit_statuses((work / "log" / f"{JOB}.log").read_text(), JOB) == [0]
    # It ran over TCP on the TLS daemon: the main daemon has no such container.
    assert not docker_client.containers.list(all=True, filters={"name": site["container"].name})


def test_offline_backup_job_runs_on_the_remote_daemon(site, work, cron_user):
    command = cron_command(work, "remote-backup")
    assert "--docker-host tcp://127.0.0.1:%d " % site["port"] in command and " exec -i -u root " in command
    for _run in range(2):
        done = run_as(cron_user, command)
        assert done.returncode == 0, (work / "log" / "remote-backup.log").read_text()
    log = (work / "log" / "remote-backup.log").read_text()
    assert exit_statuses(log, "remote-backup") == [0, 0] and "db2ops: pruned /database/backup/TESTDB.0." in log
    rc, out = run_db2(site["container"], "ls -1 /database/backup")
    images = [name for name in out.split() if name.startswith("TESTDB.0.db2inst1.DBPART000.")]
    assert len(images) == 1 and "db2ops: backup image /database/backup/%s" % images[0] in log


def test_daemon_refuses_plain_http_and_clients_without_a_certificate(site):
    plain = subprocess.run(["docker", "-H", "tcp://127.0.0.1:%d" % site["port"], "version"], capture_output=True,
                           text=True, timeout=60, check=False)
    assert plain.returncode != 0 and "Server:" not in plain.stdout
    context = ssl.create_default_context(cafile=site["tls"]["ca"])
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        with socket.create_connection(("127.0.0.1", site["port"]), timeout=30) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"GET /_ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
                tls.recv(1024)  # TLS 1.3: the missing certificate is reported on the first read


@pytest.mark.parametrize("case", ["wrong-ca", "untrusted-client", "no-client-cert"])
def test_client_job_refused_without_valid_certificates(site, work, cron_user, case):
    tls = site["tls"]
    certs = work / ("certs-" + case)
    certs.mkdir()
    shutil.copy(tls["other-ca"] if case == "wrong-ca" else tls["ca"], certs / "ca.pem")
    if case == "untrusted-client":
        other = sign_client_cert(work / "pki", name="other-client-" + uuid.uuid4().hex[:4])
        shutil.copy(other["cert"], certs / "cert.pem")
        shutil.copy(other["key"], certs / "key.pem")
    elif case == "wrong-ca":
        shutil.copy(tls["client"], certs / "cert.pem")
        shutil.copy(tls["client_key"], certs / "key.pem")
    subprocess.run(["chown", "-R", cron_user, str(certs)], check=True)
    before = run_count(site["container"])
    notified = work / "log" / "notified"
    notes_before = notified.read_text().splitlines() if notified.exists() else []

    command = cron_command(work, JOB).replace("--cert-path %s " % (work / "client-certs"), "--cert-path %s " % certs)
    assert "--cert-path %s " % certs in command
    failed = run_as(cron_user, command)

    log = (work / "log" / f"{JOB}.log").read_text()
    status = exit_statuses(log, JOB)[-1]
    assert failed.returncode == status != 0, log
    assert run_count(site["container"]) == before
    assert notified.read_text().splitlines() == notes_before + ["NOTIFY %s %d" % (JOB, status)]
