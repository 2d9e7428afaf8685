"""playbooks/report.yml against a small real fleet: a container behind the target level with a backup
and a failing ATS task, one at the target with the LDAP plug-in configured and no backup, and one
never started. The JSON is asserted, and the HTML page is rendered in headless Chromium: its DOM
must show the containers, levels and drift marks in drift order."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import uuid

import pytest
import yaml

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, images_locked, run_db2, wait_for_log
from playbook import REPO, run_module, run_playbook

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def fleet(standin_images, docker_client, tmp_path_factory):
    prefix = "db2ops-t-rep" + uuid.uuid4().hex[:6]
    tmp = tmp_path_factory.mktemp("report")
    # ARCHIVE_LOGS=false: no setup backup, so the only backup image is the one this test takes.
    env = BASE_DB2_ENV | FAST_SETUP_ENV | {"DBNAME": "TESTDB", "ARCHIVE_LOGS": "false"}
    made = []
    try:
        with images_locked("standin"):
            for suffix, level in (("old", "11.1.3.3a"), ("ldap", "11.1.4.4"), ("idle", "11.1.4.4")):
                made.append(docker_client.containers.create(
                    standin_images[level], name=f"{prefix}-{suffix}", environment=env,
                    volumes={str(tmp_path_factory.mktemp(suffix)): {"bind": "/database", "mode": "rw"}}))
        old, ldap_on, _idle = made
        for container in (old, ldap_on):
            container.start()
        for container in (old, ldap_on):
            wait_for_log(container, "(*) Setup has completed.")
        # old: one ATS task that runs fine, one whose input query fails (NOTRUN), then an offline backup.
        assert run_db2(old, 'db2 connect to testdb && db2 "create table t1 (i integer)"')[0] == 0
        tasks = [dict(name="GOOD RUNSTATS", schedule="0 3 * * *", procedure_name="ADMIN_CMD",
                      procedure_input="VALUES('RUNSTATS ON TABLE DB2INST1.T1')"),
                 dict(name="BROKEN", schedule="0 4 * * *", procedure_name="ADMIN_CMD",
                      procedure_input="SELECT C FROM NO_SUCH_TABLE")]
        added = run_module(tmp, "db2_ats_tasks", {"container": old.name, "database": "TESTDB", "tasks": tasks,
                                                  "create_systoolspace": True, "enable_ats": True})[1]
        assert added["changed"], added
        hook = run_db2(old, "db2standin-ats-run --poll")[1]  # as if the scheduler's 5-minute check came
        assert "status=COMPLETED sqlcode=0" in hook and "status=NOTRUN" in hook, hook
        assert old.exec_run(["sh", "-c", 'install -d -o db2inst1 -g "$(id -gn db2inst1)" /database/backup']).exit_code == 0
        rc, out = run_db2(old, "db2 deactivate database testdb; db2 backup database testdb to /database/backup")
        assert "Backup successful" in out, out
        # ldap: the server plug-in in the dbm cfg (read at db2start; the report reads the configuration).
        rc, out = run_db2(ldap_on, "db2 update dbm cfg using SRVCON_PW_PLUGIN IBMLDAPauthserver")
        assert "DB20000I" in out, out
        inventory = tmp / "hosts.yml"
        inventory.write_text(yaml.safe_dump({"db2_containers": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "hosts": {c.name: {"db2_container": c.name} for c in made}}}))
        yield {"prefix": prefix, "inventory": inventory, "names": [c.name for c in made], "tmp": tmp}
    finally:
        for container in made:
            container.remove(force=True, v=True)


@pytest.fixture(scope="module")
def report(fleet):
    out = fleet["tmp"] / "out"
    out.mkdir()
    proc = run_playbook(REPO / "playbooks" / "report.yml", str(fleet["inventory"]),
                        extra_vars={"db2_report_target_level": "11.1.4.4", "db2_report_dir": str(out),
                                    "db2_report_name": "fleet"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return {"proc": proc, "json": json.loads((out / "fleet.json").read_text()), "html": out / "fleet.html"}


def test_json_rows_sorted_by_drift_with_backup_ats_and_ldap(fleet, report):
    old, ldap_on, idle = fleet["names"]
    data = report["json"]
    assert (data["target_level"], data["target_source"]) == ("11.1.4.4", "given")
    assert [r["container"] for r in data["rows"]] == [old, idle, ldap_on]
    assert [r["drift"] for r in data["rows"]] == ["behind", "unknown", "current"]
    assert data["summary"] | {} == {"containers": 3, "behind": 1, "unknown": 1, "ahead": 0, "current": 1,
                                    "ldap": 1, "ats_failed": 1, "without_backup": 1}
    rows = {r["container"]: r for r in data["rows"]}
    r_old = rows[old]
    assert (r_old["level"], r_old["drift_text"]) == ("11.1.3.3a", "11.1.3.3a to 11.1.4.4 (fix pack)")
    assert r_old["image"].endswith(":11.1.3.3a") and r_old["databases"] == ["TESTDB"]
    (backup,) = r_old["backups"]
    assert backup["database"] == "TESTDB" and re.match(r"^\d{14}$", backup["timestamp"])
    assert backup["file"].startswith("/database/backup/TESTDB.0.db2inst1.DBPART000." + backup["timestamp"])
    assert r_old["ats"]["state"] == "failed" and r_old["ats"]["tasks"] == 2
    assert r_old["ats"]["failed"] == ["TESTDB BROKEN (NOTRUN)"]
    assert r_old["ldap"] is False
    r_ldap = rows[ldap_on]
    assert (r_ldap["ldap"], r_ldap["auth_plugin"]) == (True, "IBMLDAPauthserver")
    assert r_ldap["backups_missing"] == ["TESTDB"] and r_ldap["ats"]["state"] == "none"
    r_idle = rows[idle]
    assert (r_idle["state"], r_idle["drift_text"], r_idle["level"]) == ("created", "container created", None)
    assert "3 containers, target 11.1.4.4: 1 behind" in report["proc"].stdout
    assert BASE_DB2_ENV["DB2INST1_PASSWORD"] not in json.dumps(data)


def test_bad_target_level_fails_with_one_line(fleet, tmp_path):
    proc = run_playbook(REPO / "playbooks" / "report.yml", str(fleet["inventory"]),
                        extra_vars={"db2_report_target_level": "latest", "db2_report_dir": str(tmp_path)})
    assert proc.returncode != 0
    assert "db2_report_target_level 'latest' is not a Db2 level like 11.5.9.0 or 11.1.4.4" in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_container_info_rejects_an_unsafe_backup_path(fleet, tmp_path):
    result = run_module(tmp_path, "db2_container_info", {"name": [fleet["names"][0]], "backup_path": "/x; rm -rf /"})[1]
    assert result["failed"]
    assert result["msg"] == ("Option backup_path must be an absolute path of letters, digits and _ . @ + -; "
                             "nothing was changed.")


def chromium(tmp_path, *args):
    profile = tmp_path / "chromium-profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup-system.sh installs it)")
def test_html_renders_in_headless_chromium(fleet, report, tmp_path):
    old, ldap_on, idle = fleet["names"]
    html = report["html"]
    text = html.read_text()
    assert "<script" not in text and "http://" not in text and "https://" not in text, "self-contained, no JS"
    dom = chromium(tmp_path, "--dump-dom", html.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    rows = re.findall(r'<tr class="(\w+)" data-host="([^"]+)">(.*?)</tr>', dom.stdout, re.S)
    assert [(cls, host) for cls, host, _body in rows] == [("behind", old), ("unknown", idle), ("current", ldap_on)]
    cells = {host: re.sub(r"<[^>]+>", " ", body) for _cls, host, body in rows}
    assert "BEHIND" in cells[old] and "11.1.3.3a" in cells[old] and "BROKEN (NOTRUN)" in cells[old]
    assert "TESTDB 20" in cells[old]  # the backup's date
    assert "AT TARGET" in cells[ldap_on] and "IBMLDAPauthserver" in cells[ldap_on] and "TESTDB: none" in cells[ldap_on]
    assert "UNKNOWN" in cells[idle] and "container created" in cells[idle]
    summary = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.search(r'id="summary">(.*?)</p>', dom.stdout, re.S).group(1)))
    assert "3 containers: 1 behind 1 unknown 0 ahead 1 at target" in summary
    shot = tmp_path / "report.png"
    png = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,500", html.as_uri())
    assert png.returncode == 0 and shot.stat().st_size > 10000, png.stderr[-2000:]


def test_no_matching_host_fails_naming_the_pattern(fleet, tmp_path):
    proc = run_playbook(REPO / "playbooks" / "report.yml", str(fleet["inventory"]),
                        extra_vars={"db2_hosts": "db2_nosuchgroup", "db2_report_dir": str(tmp_path)})
    assert proc.returncode != 0
    assert "No inventory host matches db2_hosts 'db2_nosuchgroup'" in proc.stdout, proc.stdout[-3000:]
    assert list(tmp_path.iterdir()) == [], "no '0 containers' report"


def test_unknown_row_says_why_in_page_and_console(fleet, tmp_path):
    """A host whose Python lacks the Docker SDK (no ansible_python_interpreter line) is a row with its reason."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"db2_containers": {"vars": {"ansible_connection": "local"}, "hosts": {
        fleet["names"][0]: {"db2_container": fleet["names"][0], "ansible_python_interpreter": sys.executable},
        "no-sdk": {"db2_container": fleet["names"][1], "ansible_python_interpreter": "/usr/bin/python3"}}}}))
    proc = run_playbook(REPO / "playbooks" / "report.yml", str(inventory),
                        extra_vars={"db2_report_dir": str(tmp_path), "db2_report_name": "r"})
    assert proc.returncode == 0, proc.stdout[-3000:]
    row = [r for r in json.loads((tmp_path / "r.json").read_text())["rows"] if r["host"] == "no-sdk"][0]
    assert row["drift"] == "unknown" and "Failed to import the required Python library (docker)" in row["drift_text"]
    assert "no-sdk: Failed to import the required Python library (docker)" in proc.stdout
    assert "Failed to import the required Python library (docker)" in (tmp_path / "r.html").read_text()
