"""Every playbook as an AWX job runs it: through `ansible-runner` (the engine under AWX) with a
private data dir laid out as AWX lays it out - a project whose playbook imports the collection's
(`import_playbook: db2ops.docker.<name>`), the inventory in inventory/, and env/extravars as JSON
made the way a job template makes it: template extra vars, then the survey's defaults
(docs/awx/surveys), then the survey answers. Real runs against stand-in containers, a real
image build, real ATS tasks and a real slapd; demo.yml only through --syntax-check (it needs the
two-daemon demo fleet of `make demo`, which runs it for real)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import docker
import pytest
from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, images_locked, run_db2, shared_standin, wait_for_log
from playbook import REPO

BIN = Path(sys.executable).parent


def survey_extravars(playbook: str, answers: dict, template_extra: dict | None = None) -> dict:
    """What AWX writes to env/extravars: template extra vars < survey defaults < answers."""
    survey = json.loads((REPO / "docs" / "awx" / "surveys" / f"{playbook}.json").read_text())
    extravars = dict(template_extra or {})
    for question in survey["spec"]:
        if question["required"] and question["default"] == "" and question["variable"] not in answers:
            raise AssertionError(f"AWX would not launch without an answer for {question['variable']}")
        extravars[question["variable"]] = question["default"]
    extravars.update(answers)
    return extravars


class Job:
    def __init__(self, root: Path, ident: str, proc: subprocess.CompletedProcess):
        self.root, self.proc = root, proc
        self.artifacts = root / "artifacts" / ident
        self.status = (self.artifacts / "status").read_text().strip()
        self.rc = int((self.artifacts / "rc").read_text())
        self.stdout = (self.artifacts / "stdout").read_text()

    def events(self, event: str):
        for path in sorted((self.artifacts / "job_events").glob("*.json")):
            data = json.loads(path.read_text())
            if data.get("event") == event:
                yield data["event_data"]

    def recap(self) -> dict:
        [stats] = list(self.events("playbook_on_stats"))
        return stats

    def everything_written(self) -> str:
        """All the runner kept of the job (what AWX would store as job output and events)."""
        return "".join(p.read_text(errors="replace") for p in self.artifacts.rglob("*") if p.is_file())


def awx_job(tmp_path: Path, playbook: str, hosts: dict, extravars: dict, cmdline: str = "") -> Job:
    root = tmp_path / f"awx-{playbook}-{uuid.uuid4().hex[:6]}"
    for sub in ("project", "inventory", "env"):
        (root / sub).mkdir(parents=True)
    (root / "project" / f"{playbook}.yml").write_text(
        f"---\n- name: {playbook} from the collection\n  ansible.builtin.import_playbook: db2ops.docker.{playbook}\n")
    (root / "inventory" / "hosts.json").write_text(json.dumps(hosts))
    (root / "env" / "extravars").write_text(json.dumps(extravars))
    # In AWX these come from the execution environment; here the collection is this checkout.
    (root / "env" / "envvars").write_text(json.dumps({
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"), "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0"}))
    if cmdline:
        (root / "env" / "cmdline").write_text(cmdline)
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}")
    proc = subprocess.run([str(BIN / "ansible-runner"), "run", str(root), "-p", f"{playbook}.yml", "--ident", "job"],
                          capture_output=True, text=True, env=env, check=False, timeout=900)
    assert (root / "artifacts" / "job" / "status").exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return Job(root, "job", proc)


def local_hosts(group: str, names, **host_vars) -> dict:
    return {group: {"vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
                    "hosts": {n: dict(host_vars) for n in names}}}


def db2level(container) -> str:
    return run_db2(container, "db2level")[1]


# --- upgrade.yml: two containers, serial 1, survey choices reach the role -------------------------

@pytest.fixture(scope="module")
def fleet_of_two(docker_client, standin_images, tmp_path_factory):
    prefix = "db2ops-t-awx-" + uuid.uuid4().hex[:6]
    made = []
    try:
        with images_locked("standin"):
            for i in (1, 2):
                storage = tmp_path_factory.mktemp("awxdb")
                storage.chmod(0o755)
                made.append(docker_client.containers.create(
                    standin_images["11.1.3.3a"], name=f"{prefix}-{i}", hostname=f"db2awx{i}",
                    environment=BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB"},
                    volumes={str(storage): {"bind": "/database", "mode": "rw"}}))
        for container in made:
            container.start()
        for container in made:
            wait_for_log(container, "(*) Setup has completed.")
        yield [c.name for c in made]
    finally:
        for container in docker_client.containers.list(all=True, filters={"name": prefix}):
            container.remove(force=True, v=True)


def test_upgrade_job_without_target_image_changes_nothing(tmp_path, docker_client, standin_images, fleet_of_two):
    # An API launch (no survey) with the template's extra vars but no image: refused up front.
    job = awx_job(tmp_path, "upgrade", local_hosts("db2_containers", fleet_of_two), {"db2_serial": 1})
    assert job.status == "failed" and "Set db2_target_image" in job.stdout, job.stdout[-3000:]
    for name in fleet_of_two:
        assert docker_client.containers.get(name).attrs["Config"]["Image"] == standin_images["11.1.3.3a"]


def test_upgrade_job_with_survey_answers(tmp_path, docker_client, standin_images, fleet_of_two):
    report = tmp_path / "upgrade-report.json"
    extravars = survey_extravars("upgrade", {
        "db2_target_image": standin_images["11.1.4.4"], "db2_serial": "1", "db2_upgrade_report": str(report),
        "db2_fixpack_old_container": "remove", "db2_fixpack_ready_timeout": 120})
    assert extravars["db2_hosts"] == "db2_containers" and extravars["db2_max_fail_percentage"] == 0
    job = awx_job(tmp_path, "upgrade", local_hosts("db2_containers", fleet_of_two), extravars)
    assert (job.status, job.rc) == ("successful", 0), job.stdout[-4000:]
    # serial 1: one batch per container, each a play start of its own.
    upgrade_plays = [e for e in job.events("playbook_on_play_start") if e["play"].startswith("Upgrade")]
    assert len(upgrade_plays) == 2
    rows = json.loads(report.read_text())
    assert sorted(r["container"] for r in rows) == sorted(fleet_of_two)
    for row in rows:
        assert (row["from"], row["to"], row["result"]) == ("11.1.3.3a", "11.1.4.4", "upgraded"), row
        assert row["backup"], "the survey default backup mode (offline) made a backup"
    for name in fleet_of_two:
        container = docker_client.containers.get(name)
        assert container.attrs["Config"]["Image"] == standin_images["11.1.4.4"]
        assert "DB2 v11.1.4.4" in db2level(container)
    # old_container=remove (a survey choice): no stopped old containers left behind.
    assert sorted(c.name for c in docker_client.containers.list(all=True, filters={"name": fleet_of_two[0][:-2]})) \
        == sorted(fleet_of_two)


# --- build_image.yml: one base from two survey fields ---------------------------------------------

def test_build_image_job_from_survey_fields(tmp_path, docker_client, standin_images):
    repo = "db2ops-t/awx-" + uuid.uuid4().hex[:8]
    base = repo + "-base:11.1.4.4"
    docker_client.images.get(standin_images["11.1.4.4"]).tag(base)
    try:
        extravars = survey_extravars("build_image", {"db2_image_base": base, "db2_image_name": repo},
                                     template_extra={"db2_image_files": [
                                         {"content": "#!/bin/bash\necho awx\n", "dest": "/var/custom/10-awx.sh"}]})
        assert extravars["db2_image_tag"] == "" and extravars["db2_image_target"] == "docker_hosts"
        job = awx_job(tmp_path, "build_image", local_hosts("docker_hosts", ["dockerhost1"]), extravars)
        assert (job.status, job.recap()["changed"]) == ("successful", {"dockerhost1": 1}), job.stdout[-4000:]
        built = docker_client.images.get(repo + ":11.1.4.4")  # an empty tag answer: the base's tag
        assert built.labels["db2ops.image.hash"]
        again = awx_job(tmp_path, "build_image", local_hosts("docker_hosts", ["dockerhost1"]), extravars)
        assert again.status == "successful" and again.recap()["changed"] == {}, again.stdout[-3000:]
    finally:
        for tag in (repo + ":11.1.4.4", base):
            try:
                docker_client.images.remove(tag, force=True)
            except docker.errors.NotFound:
                pass


# --- schedule.yml: ATS jobs as YAML text from a survey textarea ------------------------------------

@pytest.fixture(scope="module")
def ats_db2(standin_images, docker_client):
    with shared_standin(docker_client, standin_images["11.1.4.4"], "db2ops-t-awxats") as container:
        yield container


def ats_names(container) -> list[str]:
    code, out = run_db2(container, 'db2 connect to testdb >/dev/null && db2 -x "select name from systools.admin_task_list"')
    return sorted(line.strip() for line in out.splitlines() if line.strip()) if code == 0 else []


def test_schedule_job_with_jobs_as_yaml_text(tmp_path, ats_db2):
    jobs_text = (f"- name: AWX RUNSTATS\n  where: ats\n  container: {ats_db2.name}\n  database: TESTDB\n"
                 f"  schedule: '30 1 * * *'\n  procedure:\n    name: ADMIN_CMD\n"
                 f"    input: \"VALUES('RUNSTATS ON TABLE SYSIBM.SYSDUMMY1')\"\n")
    extravars = survey_extravars("schedule", {"db2_schedule_hosts": "localhost", "db2_jobs": jobs_text})
    assert extravars["db2_maintenance_ats_exclusive"] == "false"
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}
    job = awx_job(tmp_path, "schedule", inventory, extravars)
    assert job.status == "successful" and job.recap()["changed"] == {"localhost": 1}, job.stdout[-4000:]
    assert ats_names(ats_db2) == ["AWX RUNSTATS"]
    again = awx_job(tmp_path, "schedule", inventory, extravars)
    assert again.status == "successful" and again.recap()["changed"] == {}, again.stdout[-3000:]

    # A job with a 4-field schedule: refused with its name, the ATS tasks stay as they were.
    bad = survey_extravars("schedule", {"db2_schedule_hosts": "localhost",
                                        "db2_jobs": jobs_text.replace("30 1 * * *", "30 1 * *")})
    job = awx_job(tmp_path, "schedule", inventory, bad)
    assert job.status == "failed" and "Job AWX RUNSTATS is not valid" in job.stdout
    assert ats_names(ats_db2) == ["AWX RUNSTATS"]


# --- ldap.yml: passwords as survey passwords, lists as template extra vars ------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ldap_job_and_its_secrets(tmp_path, docker_client, standin_images, openldap_image):
    suffix = uuid.uuid4().hex[:8]
    names = {"ldap": "db2ops-t-awxldap-" + suffix, "network": "db2ops-t-awxnet-" + suffix}
    admin_pw, query_pw, user_pw = "Awx-Adm1n-pw", "Awx-Qu3ry-pw", "Awx-Al1ce-pw"
    port = free_port()
    try:
        with shared_standin(docker_client, standin_images["11.1.4.4"], "db2ops-t-awxdb2", ARCHIVE_LOGS="false") as db2:
            template_extra = {
                "db2_ldap_image": openldap_image, "db2_ldap_env_style": "ours",
                "db2_ldap_server_name": names["ldap"], "db2_ldap_network": names["network"],
                "db2_ldap_published_port": f"127.0.0.1:{port}", "db2_ldap_server_uri": f"ldap://127.0.0.1:{port}",
                "db2_ldap_ca_file": str(tmp_path / "ca.pem"),
                "db2_ldap_users": [{"uid": "alice", "uid_number": 2001, "gid_number": 2000, "password": user_pw}],
                "db2_ldap_groups": [{"name": "db2iadm1", "members": ["alice"]}]}
            extravars = survey_extravars("ldap", {
                "db2_ldap_admin_password": admin_pw, "db2_ldap_readonly_password": query_pw,
                "db2_ldap_verify_user": "alice", "db2_ldap_verify_password": user_pw}, template_extra)
            job = awx_job(tmp_path, "ldap", local_hosts("db2_containers", [db2.name]), extravars)
            assert job.status == "successful", job.stdout[-4000:]
            code, out = run_db2(db2, f"db2 connect to testdb user alice using '{user_pw}'")
            assert code == 0 and "SQL authorization ID   = ALICE" in out, out
            # Job output and events (what AWX stores and shows) never carry a secret.
            written = job.everything_written()
            assert "Configure the LDAP plug-ins and restart the instance when needed" in written  # events are there
            for secret in (admin_pw, query_pw, user_pw):
                assert secret not in written and secret not in job.proc.stdout
    finally:
        try:
            docker_client.containers.get(names["ldap"]).remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        try:
            docker_client.networks.get(names["network"]).remove()
        except docker.errors.NotFound:
            pass


# --- demo.yml: syntax only (its fleet is `make demo`'s) --------------------------------------------

def test_demo_playbook_parses_under_the_runner(tmp_path):
    job = awx_job(tmp_path, "demo", {"db2_containers": {"hosts": {"demo1": {}}}}, {}, cmdline="--syntax-check")
    assert (job.status, job.rc) == ("successful", 0), job.stdout[-3000:]
