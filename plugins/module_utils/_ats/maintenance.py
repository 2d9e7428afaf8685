# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The job list of role db2_maintenance (recipe 3), checked and normalised before anything is changed.

Host and client jobs become lines of a cron file run as a dedicated user: a line break in any field
would start a second cron line, and one line cron cannot read makes it ignore the WHOLE file, silently
stopping every backup. So every string of every job is one line of printable text (inputs.check_params),
names follow their rules (full matches), and schedules are checked as cron reads them.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re

from ansible_collections.db2ops.docker.plugins.module_utils._ats import tasks as ats
from ansible_collections.db2ops.docker.plugins.module_utils._db2 import backup
from ansible_collections.db2ops.docker.plugins.module_utils._db2.sql import check_database_name
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import (
    CONTAINER_NAME,
    USER_NAME,
    InputError,
    check_params,
)

WHERE = ("ats", "host", "client")
STATES = ("present", "absent")
TYPES = ("command", "offline_backup")
# What a job needs, as the role's documentation says it (kept from the role's former assert).
NEEDS = ("it needs name, container, a 5-field schedule, where (ats | host | client); ats jobs a database and a "
         "procedure, host/client jobs a command or type=offline_backup with a database, client jobs a docker_host")
# DOCKER_HOST of a client job: tcp://host:port (TLS), or ssh://[user@]host[:port].
DOCKER_HOST = re.compile(r"(tcp|ssh)://([A-Za-z0-9_.-]+@)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?/?")
# procedure.input is SQL of up to 2 MB (ADMIN_TASK_ADD's CLOB): long, but still one line.
LONG_OPTIONS = ("procedure.input",)


class JobError(ValueError):
    """A job that cannot be scheduled, in one line naming the job and the field (never the value)."""


def check_jobs(jobs, instance="db2inst1"):
    """The job list checked and normalised (schedules in canonical form); raises JobError.

    `instance`: the role's default instance owner, used by jobs without their own.
    """
    if jobs is None:
        return []
    if not isinstance(jobs, list):
        raise JobError("The job list must be a list of jobs (dicts); nothing was changed.")
    if not isinstance(instance, str) or not USER_NAME.fullmatch(instance):
        raise JobError(str(InputError("db2_maintenance_instance", "must be an OS user name")))
    result, names = [], {}
    for index, job in enumerate(jobs):
        label = _label(job, index)
        try:
            checked = _check_job(job, instance)
        except (InputError, JobError, ats.AtsError, backup.BackupInputError) as exc:
            raise JobError("Job %s is not valid: %s" % (label, _sentence(exc)))
        where = "ats" if checked.get("where", "ats") == "ats" else "cron"
        if (where, checked["name"]) in names:
            raise JobError("Job %s is not valid: Option name is also the name of job #%d; nothing was changed."
                           % (label, names[(where, checked["name"])] + 1))
        names[(where, checked["name"])] = index
        result.append(checked)
    return result


def _label(job, index):
    """How an error names a job: its name when that is a plain one-line name, else its position."""
    name = job.get("name") if isinstance(job, dict) else None
    if isinstance(name, str) and name.strip() and len(name) <= ats.NAME_MAX and not re.search(r"[\x00-\x1f\x7f]", name):
        return name
    return "#%d" % (index + 1)


def _sentence(exc):
    text = str(exc).rstrip(".")
    if "nothing was changed" not in text.lower():
        text += "; nothing was changed"
    return text + "."


def _check_job(job, instance):
    if not isinstance(job, dict):
        raise JobError("it must be a dict (%s)" % NEEDS)
    # Every string, nested ones and unknown keys included: one line of printable text, length-capped.
    check_params(job, long_options=LONG_OPTIONS)
    job = dict(job)
    name, where = job.get("name"), job.get("where", "ats")
    state, kind = job.get("state", "present"), job.get("type", "command")
    if not isinstance(name, str) or not name.strip():
        raise InputError("name", "is missing or empty (%s)" % NEEDS)
    if len(name.encode("utf-8")) > ats.NAME_MAX:
        raise InputError("name", "is longer than %d bytes" % ats.NAME_MAX)
    for field, value, allowed in (("where", where, WHERE), ("state", state, STATES), ("type", kind, TYPES)):
        if value not in allowed:
            raise InputError(field, "must be one of %s (%s)" % (", ".join(allowed), NEEDS))
    if not isinstance(job.get("container"), str) or not CONTAINER_NAME.fullmatch(job["container"]):
        raise InputError("container", "must be a Docker container name or id (letters, digits and _ . -)")
    if "instance" in job and (not isinstance(job["instance"], str) or not USER_NAME.fullmatch(job["instance"])):
        raise InputError("instance", "must be an OS user name (1-30 characters a-z, 0-9, _ or -, not starting with "
                                     "a digit or -)")
    present = state == "present"
    if present:
        schedule = job.get("schedule")
        if not isinstance(schedule, str):
            raise InputError("schedule", "is missing (%s)" % NEEDS)
        job["schedule"] = _schedule(schedule, "ats" if where == "ats" else "cron")
    elif "schedule" in job and job["schedule"] is not None:
        job["schedule"] = _schedule(str(job["schedule"]), "ats" if where == "ats" else "cron")
    if where == "ats":
        _check_ats(job, present)
    else:
        _check_cron(job, where, kind, present)
    return job


def _schedule(schedule, dialect):
    try:
        return ats.normalize_cron(schedule, dialect=dialect)
    except ats.AtsError as exc:
        raise InputError("schedule", "is not valid: %s" % exc)


def _check_ats(job, present):
    if job.get("type", "command") != "command":
        raise InputError("type", "offline_backup is for host and client jobs (ATS cannot take offline backups)")
    for field in ("command", "docker_host"):
        if field in job:
            raise InputError(field, "is for host and client jobs, not ats jobs")
    if job.get("database") is None:
        raise InputError("database", "is missing (%s)" % NEEDS)
    _database(job["database"], "database")
    procedure = job.get("procedure")
    if not present:
        return
    if not isinstance(procedure, dict) or not procedure.get("name"):
        raise InputError("procedure", "must be a dict with at least a name (%s)" % NEEDS)
    try:
        # The same checks db2_ats_tasks makes: identifiers, sizes, remarks.
        ats.Task.from_params(dict(name=job["name"], schedule=job["schedule"],
                                  procedure_schema=procedure.get("schema") or "SYSPROC",
                                  procedure_name=procedure.get("name"), procedure_input=procedure.get("input"),
                                  remarks=job.get("remarks")))
    except ats.AtsError as exc:
        raise InputError("procedure or remarks", "is not valid: %s" % exc)


def _check_cron(job, where, kind, present):
    if "procedure" in job:
        raise InputError("procedure", "is for ats jobs; host and client jobs take a command or type=offline_backup")
    if where == "client":
        host = job.get("docker_host")
        if not isinstance(host, str) or not DOCKER_HOST.fullmatch(host):
            raise InputError("docker_host", "must be tcp://HOST:PORT (or ssh://[USER@]HOST) for a client job")
    elif "docker_host" in job:
        raise InputError("docker_host", "is for client jobs only")
    if kind == "offline_backup":
        if "command" in job:
            raise InputError("command", "cannot go with type=offline_backup")
        if present or "database" in job:
            _database(job.get("database"), "database", backup_rule=True)
        if "path" in job and job["path"] is not None:
            try:
                backup.check_path(job["path"])
            except backup.BackupInputError:
                raise InputError("path", "must be an absolute path of letters, digits and _ . @ + - only")
        keep = job.get("keep")
        if keep is not None and not (isinstance(keep, int) and not isinstance(keep, bool) and keep >= 1) \
                and not (isinstance(keep, str) and keep.strip().isdigit() and int(keep) >= 1):
            raise InputError("keep", "must be a whole number of backups of at least 1")
        return
    command = job.get("command")
    if present and (not isinstance(command, str) or not command.strip()):
        raise InputError("command", "is missing or empty (%s)" % NEEDS)


def _database(value, field, backup_rule=False):
    """A Db2 database name: full match of the rule the module that uses it applies."""
    try:
        backup.check_database(value) if backup_rule else check_database_name(value)
    except (ValueError, TypeError):
        raise InputError(field, "must be a Db2 database name (1-8 letters, digits, @ # $%s, not starting with a digit)"
                         % (" _" if backup_rule else ""))
