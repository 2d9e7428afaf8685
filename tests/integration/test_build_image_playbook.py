"""playbooks/build_image.yml: build once on one Docker host, load on a second real dockerd, rerun unchanged."""
from __future__ import annotations

import json
import re
import uuid

import docker
import pytest
from playbook import REPO, run_playbook


@pytest.fixture(scope="module")
def second_daemon(tmp_path_factory):
    from daemons import DockerDaemon

    daemon = DockerDaemon(tmp_path_factory.mktemp("d2")).start()
    yield daemon
    daemon.stop()


def recap(stdout, host):
    match = re.search(r"^%s\s*:\s*ok=(\d+)\s+changed=(\d+).*failed=(\d+)" % re.escape(host), stdout, re.M)
    assert match, stdout[-3000:]
    return dict(ok=int(match.group(1)), changed=int(match.group(2)), failed=int(match.group(3)))


def test_build_once_then_load_and_rerun_is_unchanged(tmp_path, standin_images, docker_client, second_daemon):
    repo = "db2ops-t/pb-%s" % uuid.uuid4().hex[:8]
    base = repo + "-base:11.1.4.4"  # our own tag: the shared stand-in tag may be rebuilt meanwhile
    docker_client.images.get(standin_images["11.1.4.4"]).tag(base)
    inventory = tmp_path / "hosts.json"
    inventory.write_text(json.dumps({"docker_hosts": {"hosts": {
        "h1": {"ansible_connection": "local", "db2_image_docker_host": "unix:///var/run/docker.sock"},
        "h2": {"ansible_connection": "local", "db2_image_docker_host": second_daemon.unix_url},
    }}}))
    extra = {"db2_image_name": repo, "db2_image_distribution": "load",
             "db2_image_bases": [{"base": base, "tag": "11.1.4.4"}],
             "db2_image_files": [{"content": "#!/bin/bash\necho hi\n", "dest": "/var/custom/10-hi.sh"}]}
    second = docker.DockerClient(base_url=second_daemon.unix_url)
    try:
        proc = run_playbook(REPO / "playbooks" / "build_image.yml", str(inventory), extra_vars=extra)
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert recap(proc.stdout, "h1")["changed"] == 1 and recap(proc.stdout, "h2")["changed"] == 1
        built = docker_client.images.get(repo + ":11.1.4.4")
        loaded = second.images.get(repo + ":11.1.4.4")
        assert loaded.id == built.id and loaded.labels["db2ops.image.hash"] == built.labels["db2ops.image.hash"]

        again = run_playbook(REPO / "playbooks" / "build_image.yml", str(inventory), extra_vars=extra)
        assert again.returncode == 0, again.stdout[-3000:]
        assert recap(again.stdout, "h1")["changed"] == 0 and recap(again.stdout, "h2")["changed"] == 0

        # Bad input stops before anything is built: the role's argument spec names the missing option.
        bad = run_playbook(REPO / "playbooks" / "build_image.yml", str(inventory),
                           extra_vars=dict(extra, db2_image_bases=[{"base": base}]))
        assert bad.returncode != 0 and "missing required arguments: tag" in bad.stdout, bad.stdout[-2000:]
    finally:
        for client in (docker_client, second):
            for tag in (repo + ":11.1.4.4", base):
                try:
                    client.images.remove(tag, force=True)
                except docker.errors.NotFound:
                    pass
        second.close()


def test_relative_src_is_read_next_to_the_inventory(tmp_path, standin_images, docker_client):
    """The docs' `src: files/runstats.sh`: a controller file next to the inventory; a missing one names where
    it was looked for and nothing is built."""
    repo = "db2ops-t/src-%s" % uuid.uuid4().hex[:8]
    base = repo + "-base:11.1.4.4"
    docker_client.images.get(standin_images["11.1.4.4"]).tag(base)
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv" / "files").mkdir()
    (tmp_path / "inv" / "files" / "runstats.sh").write_text("#!/bin/bash\necho runstats\n")
    inventory = tmp_path / "inv" / "hosts.json"
    inventory.write_text(json.dumps({"docker_hosts": {"hosts": {"h1": {"ansible_connection": "local"}}}}))
    extra = {"db2_image_name": repo, "db2_image_bases": [{"base": base, "tag": "11.1.4.4"}],
             "db2_image_files": [{"src": "files/runstats.sh", "dest": "/var/db2_setup/lib/runstats.sh"}]}
    try:
        proc = run_playbook(REPO / "playbooks" / "build_image.yml", str(inventory), extra_vars=extra)
        assert proc.returncode == 0, proc.stdout[-3000:]
        out = docker_client.containers.run(repo + ":11.1.4.4", entrypoint=["cat", "/var/db2_setup/lib/runstats.sh"],
                                           remove=True)
        assert out.decode() == "#!/bin/bash\necho runstats\n"

        missing = dict(extra, db2_image_name=repo + "-x",
                       db2_image_files=[{"src": "files/nope.sh", "dest": "/var/custom/nope.sh"}])
        proc = run_playbook(REPO / "playbooks" / "build_image.yml", str(inventory), extra_vars=missing)
        assert proc.returncode != 0
        flat = " ".join(proc.stdout.split())
        assert "files/nope.sh is not a file on the controller; a relative src is looked up in %s" % (
            tmp_path / "inv") in flat, flat[-2000:]
        assert "No image was built" in flat and "previous image" not in flat
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(repo + "-x:11.1.4.4")
    finally:
        for tag in (repo + ":11.1.4.4", base):
            try:
                docker_client.images.remove(tag, force=True)
            except docker.errors.ImageNotFound:
                pass
