"""The Galaxy artefact as a user gets it: `ansible-galaxy collection build` from this checkout,
`ansible-galaxy collection install <tarball>` into a fresh venv that has only ansible-core and the
Docker SDK, then every module's documentation and a real db2_container_info run against a
stand-in container through that installation (not through this checkout).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from conftest import shared_standin
from playbook import REPO

ANSIBLE_CORE = "ansible-core==2.19.14"
MAX_TARBALL_BYTES = 1024 * 1024


def run(cmd, env=None, cwd=None):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, cwd=cwd, check=False)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("galaxy-build")
    run([Path(sys.executable).parent / "ansible-galaxy", "collection", "build", "--output-path", out, REPO])
    built = list(out.glob("db2ops-docker-*.tar.gz"))
    assert len(built) == 1, built
    return built[0]


@pytest.fixture(scope="module")
def installed(tmp_path_factory, tarball):
    """A clean venv (no site packages, nothing from the shared one) with the tarball installed."""
    root = tmp_path_factory.mktemp("galaxy-venv")
    venv, collections = root / "venv", root / "collections"
    run([sys.executable, "-m", "venv", venv])
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", ANSIBLE_CORE, "docker"])
    # Nothing of the caller's Ansible setup may leak in: `make` exports ANSIBLE_COLLECTIONS_PATH to
    # the checkout, and ansible-galaxy treats a collection found there as installed ("Nothing to do").
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_PYTHON_INTERPRETER=str(venv / "bin" / "python"),
               PATH=f"{venv / 'bin'}:{os.environ['PATH']}")
    run([venv / "bin" / "ansible-galaxy", "collection", "install", tarball, "-p", collections], env=env, cwd=root)
    assert (collections / "ansible_collections" / "db2ops" / "docker" / "MANIFEST.json").is_file()
    return {"venv": venv, "collections": collections / "ansible_collections" / "db2ops" / "docker",
            "env": env, "cwd": root}


def test_tarball_holds_only_what_git_knows_and_is_small(tarball):
    with tarfile.open(tarball) as tar:
        members = {m.name for m in tar.getmembers() if m.isfile()}
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    known = set(subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                               text=True, check=True).stdout.splitlines())
    stray = members - known - {"MANIFEST.json", "FILES.json"}
    assert not stray, f"files git does not know (or ignores) went into the tarball: {sorted(stray)[:20]}"
    assert not [m for m in members if m.startswith((".venv/", ".collections/", ".pytest_cache/", "tests/output/"))]
    # The EE metadata must travel with the collection (ansible-builder reads it from the installed copy).
    for needed in ("meta/runtime.yml", "meta/execution-environment.yml", "meta/ee-requirements.txt",
                   "meta/ee-bindep.txt", "plugins/modules/db2_container_info.py", "playbooks/upgrade.yml"):
        assert needed in members
    assert tarball.stat().st_size < MAX_TARBALL_BYTES, tarball.stat().st_size
    assert manifest["collection_info"]["namespace"] == "db2ops" and manifest["collection_info"]["name"] == "docker"


def test_installed_collection_documents_every_module(installed):
    modules = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
    listed = run([installed["venv"] / "bin" / "ansible-doc", "-l", "db2ops.docker"], env=installed["env"],
                 cwd=installed["cwd"]).stdout
    assert sorted(line.split()[0] for line in listed.splitlines() if line.strip()) == \
        ["db2ops.docker." + m for m in modules]
    docs = json.loads(run([installed["venv"] / "bin" / "ansible-doc", "--json",
                           *("db2ops.docker." + m for m in modules)], env=installed["env"], cwd=installed["cwd"]).stdout)
    assert sorted(docs) == ["db2ops.docker." + m for m in modules]
    for name, doc in docs.items():
        # Read from the installation, with the shared doc fragments resolved.
        assert doc["doc"]["filename"].startswith(str(installed["collections"])), doc["doc"]["filename"]
        assert doc["doc"]["options"] and doc["examples"] and doc["return"] is not None, name
        assert "action_group" in doc["doc"]["attributes"], name  # from db2ops.docker.attributes.actiongroup_docker / _ldap
    roles = run([installed["venv"] / "bin" / "ansible-doc", "-t", "role", "-l", "db2ops.docker"],
                env=installed["env"], cwd=installed["cwd"]).stdout
    for role in ("db2_fixpack", "db2_image", "db2_maintenance", "db2_ldap"):
        assert f"db2ops.docker.{role}" in roles


def test_installed_collection_reads_a_real_db2_container(installed, standin_images, docker_client):
    with shared_standin(docker_client, standin_images["11.1.4.4"], "db2ops-t-galaxy") as db2:
        out = installed["cwd"] / "info.json"
        play = [{"hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": [
            {"name": "Read the container", "db2ops.docker.db2_container_info": {"name": [db2.name]},
             "register": "info"},
            {"name": "Save", "ansible.builtin.copy": {"content": "{{ info | to_json }}", "dest": str(out)}}]}]
        book = installed["cwd"] / "info.yml"
        book.write_text(json.dumps(play))
        proc = run([installed["venv"] / "bin" / "ansible-playbook", "-i", "localhost,", "-vvv", book],
                   env=installed["env"], cwd=installed["cwd"])
    # The module shipped to the target came from the installed tarball, run by the clean venv's Python.
    module_file = installed["collections"] / "plugins" / "modules" / "db2_container_info.py"
    assert f"Using module file {module_file}" in proc.stdout, proc.stdout[-3000:]
    result = json.loads(out.read_text())
    assert result["changed"] is False
    [found] = result["containers"]
    assert found["name"] == db2.name and found["db2level"]["level"] == "11.1.4.4"
    assert "TESTDB" in found["active_databases"]


def test_ansible_builder_reads_the_collection_and_renders_the_ee(installed, tarball, tmp_path):
    """`ansible-builder create` renders the build context without building: no registry here to
    pull the base image from, so the image itself is not built."""
    builder = Path(sys.executable).parent / "ansible-builder"
    deps = yaml.safe_load(run([builder, "introspect", "--sanitize", installed["collections"].parents[2]]).stdout)
    python = [line.split("  # from collection ")[0] for line in deps["python"]]
    system = [line.split("  # from collection ")[0] for line in deps["system"]]
    assert python == ["docker>=7.0.0", "ibm_db>=3.2.0", "python-ldap>=3.4.0"]
    assert "openldap-devel [platform:rpm compile]" in system and "openldap [platform:rpm]" in system
    # Runtime only: no test tool may reach an execution environment.
    assert not [p for p in python if p.split(">")[0].split("=")[0] in ("pytest", "ansible-lint", "molecule")]

    for name in ("execution-environment.yml", "requirements.yml"):
        (tmp_path / name).write_bytes((REPO / "docs" / "awx" / name).read_bytes())
    (tmp_path / tarball.name).write_bytes(tarball.read_bytes())
    run([builder, "create", "-f", tmp_path / "execution-environment.yml", "-c", tmp_path / "context"], cwd=tmp_path)
    build = tmp_path / "context" / "_build"
    wanted = yaml.safe_load((build / "requirements.yml").read_text())["collections"]
    # requirements.yml names the tarball of this version (galaxy.yml); the context carries it.
    assert [c["name"] for c in wanted] == [f"collections/{tarball.name}"]
    assert (build / "collections" / tarball.name).is_file()
    containerfile = next((tmp_path / "context").glob("[CD]*file")).read_text()
    assert 'ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in containerfile
    assert "ansible-galaxy collection install" in containerfile and "introspect.py introspect" in containerfile
