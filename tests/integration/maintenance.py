"""Helpers for the db2_maintenance role tests: run playbooks/schedule.yml on localhost with a
throw-away cron user and directories, read back a cron entry, and run it as cron would.
"""
from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from playbook import REPO, run_playbook


@contextlib.contextmanager
def work_dir():
    """A directory the cron user may enter (pytest's own are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="db2ops-maint-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def cron_user_name():
    """A unique name for the cron user the role creates; the user is removed afterwards."""
    name = "db2c" + uuid.uuid4().hex[:6]
    try:
        yield name
    finally:
        subprocess.run(["userdel", "-r", name], capture_output=True, check=False)


def schedule(work, cron_user, jobs, **extra):
    extra_vars = dict(db2_schedule_hosts="localhost", db2_jobs=jobs, db2_maintenance_cron_user=cron_user,
                      db2_maintenance_cron_file=str(work / "cron_db2ops"),
                      db2_maintenance_wrapper_path=str(work / "db2ops-job"),
                      db2_maintenance_script_dir=str(work / "lib"),
                      db2_maintenance_log_dir=str(work / "log"), db2_maintenance_lock_dir=str(work / "lock"),
                      db2_maintenance_notify_command='echo "NOTIFY $DB2OPS_JOB $DB2OPS_STATUS" >> %s'
                      % (work / "log" / "notified"))
    extra_vars.update(extra)
    inventory = work / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}))
    return run_playbook(REPO / "playbooks" / "schedule.yml", inventory=str(inventory), extra_vars=extra_vars)


def cron_command(work, name):
    """The command of the cron entry for job `name` (after the five fields and the user), with its
    escaped percent signs turned back into `%` as cron does before it runs the shell."""
    lines = (work / "cron_db2ops").read_text().splitlines()
    index = lines.index("#Ansible: db2ops %s" % name)
    return re.split(r"\s+", lines[index + 1], maxsplit=6)[6].replace("\\%", "%")


def run_as(user, command):
    return subprocess.run(["su", user, "-s", "/bin/bash", "-c", command], capture_output=True, text=True,
                          timeout=300, check=False)


def exit_statuses(log_text, name):
    """The exit statuses the wrapper logged for job `name`, oldest first."""
    return [int(s) for s in re.findall(r"\[%s\] end: exit status (\d+)" % re.escape(name), log_text)]
