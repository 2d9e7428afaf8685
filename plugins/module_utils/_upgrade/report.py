# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report of playbooks/report.yml: one row per Db2 container from what
db2_container_info and db2_ats_task_info returned, drift from a target level, a summary.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import time

from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import timestamp_age_seconds
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import parse_level

# Sort order of the table: what needs attention first.
DRIFT_ORDER = {"behind": 0, "unknown": 1, "ahead": 2, "current": 3}
# ADMIN_TASK_STATUS.STATUS values that mean the last run did not do its job.
ATS_BAD_STATUS = ("NOTRUN", "UNKNOWN")


class ReportError(ValueError):
    pass


def drift(level, target):
    """(drift, text) of one container's level against the target level."""
    if not level:
        return "unknown", "level unknown"
    if not target:
        return "unknown", "no target level"
    have, want = parse_level(level), parse_level(target)
    if have is None:
        return "unknown", "level %s not understood" % level
    if have == want:
        return "current", "at target"
    if have > want:
        return "ahead", "ahead of %s" % target
    kind = "version" if have[:2] != want[:2] else "fix pack"
    return "behind", "%s to %s (%s)" % (level, target, kind)


def newest_level(levels):
    known = [lv for lv in levels if lv and parse_level(lv)]
    return max(known, key=parse_level) if known else None


def format_timestamp(stamp):
    """`20191106143831` -> `2019-11-06 14:38:31`."""
    return "%s-%s-%s %s:%s:%s" % (stamp[0:4], stamp[4:6], stamp[6:8], stamp[8:10], stamp[10:12], stamp[12:14])


def last_backups(databases, images, now):
    """The newest backup image of each database (None for a database without one)."""
    newest = {}
    for image in images or []:
        if image.get("database") in databases and image["timestamp"] > newest.get(image["database"], {}).get(
                "timestamp", ""):
            newest[image["database"]] = image
    result = []
    for database in databases:
        image = newest.get(database)
        if image is None:
            result.append(dict(database=database, timestamp=None, when=None, age_days=None, file=None))
            continue
        age = timestamp_age_seconds(image["timestamp"], now)
        result.append(dict(database=database, timestamp=image["timestamp"], when=format_timestamp(image["timestamp"]),
                           age_days=round(max(age, 0) / 86400.0, 1), file=image.get("file")))
    return result


def ats_status(results, running):
    """One container's ATS state from db2_ats_task_info results (one per database)."""
    if not running:
        return dict(state="unknown", tasks=0, failed=[], text="not running")
    errors = ["%s: %s" % (r.get("item"), r.get("msg") or "failed") for r in results if r.get("failed")]
    if errors:
        return dict(state="unknown", tasks=0, failed=[], text="cannot read: %s" % errors[0])
    tasks = [(r.get("database") or r.get("item"), t) for r in results for t in r.get("tasks") or []]
    if not tasks:
        return dict(state="none", tasks=0, failed=[], text="no tasks")
    failed = sorted("%s %s (%s)" % (db, t["name"], (t.get("last_run") or {}).get("status"))
                    for db, t in tasks if _run_failed(t.get("last_run")))
    disabled = [r.get("item") for r in results if r.get("tasks") and not r.get("ats_enabled")]
    if failed:
        return dict(state="failed", tasks=len(tasks), failed=failed,
                    text="%d of %d failed: %s" % (len(failed), len(tasks), ", ".join(failed)))
    if disabled:
        return dict(state="disabled", tasks=len(tasks), failed=[],
                    text="%d tasks, scheduler off (DB2_ATS_ENABLE)" % len(tasks))
    ran = sum(1 for _db, t in tasks if t.get("last_run"))
    # Tasks the scheduler cannot have picked up yet (it checks every five minutes) or whose runs the
    # connecting user cannot see: said as such, not counted as "did not run".
    waiting = sum(1 for _db, t in tasks if t.get("run_state") == "not_picked_up")
    hidden = sum(1 for _db, t in tasks if t.get("run_state") == "status_hidden")
    text = "%d tasks, %d ran" % (len(tasks), ran)
    if waiting:
        text += ", %d new or changed (the scheduler picks them up within 5 minutes)" % waiting
    if hidden:
        text += ", %d of other users (their runs are not visible)" % hidden
    return dict(state="ok", tasks=len(tasks), failed=[], text=text + ", none failed")


def _run_failed(run):
    if not run:
        return False
    return (run.get("status") or "").upper() in ATS_BAD_STATUS or (run.get("sqlcode") or 0) < 0


def failure_reason(result):
    """One line for why a task failed: its msg, and for a module that crashed (MODULE FAILURE, a result
    that could not be read) the last line it printed, which names the cause."""
    msg = " ".join(str(result.get("msg") or "failed").split())
    printed = (result.get("module_stderr") or result.get("module_stdout") or "").strip().splitlines()
    if printed and ("MODULE FAILURE" in msg or "deserialization" in msg):
        msg = "%s: %s (check ansible_python_interpreter: the modules need the Python with the docker SDK)" % (
            msg.split(":", 1)[0].split("See stdout", 1)[0].strip(), printed[-1].strip()[:300])
    return msg


def hadr_text(entry):
    """`PRIMARY, PEER` of one database in a pair; a role whose HADR does not run says so."""
    return "%s, %s" % (entry.get("role"), entry.get("state") or "HADR not running")


def report_row(item, target, now):
    info = item.get("info") or {}
    containers = info.get("containers") or []
    c = containers[0] if containers else {}
    level = (c.get("db2level") or {}).get("level")
    state, text = drift(level, target)
    error = failure_reason(info) if info.get("failed") or not containers else c.get("error")
    if state == "unknown":
        text = error or ("container %s" % c.get("state") if c.get("state") and not c.get("running") else text)
    auth = c.get("auth") or {}
    databases = c.get("databases") or []
    backups = last_backups(databases, c.get("backups"), now)
    hadr = c.get("hadr") or {}  # {DB: {role, state, connect_status}} of the databases in a pair
    # A standby cannot be backed up (SQL1117N): its backups are the primary's.
    standbys = [db for db, entry in hadr.items() if entry.get("role") == "STANDBY"]
    return dict(
        host=item.get("host"), container=item.get("container") or c.get("name"), docker_host=item.get("docker_host"),
        image=c.get("image"), image_id=c.get("image_id"), state=c.get("state") or "unknown", level=level,
        drift=state, drift_text=text, databases=databases, active_databases=c.get("active_databases") or [],
        backups=backups,
        backups_missing=[b["database"] for b in backups if b["timestamp"] is None and b["database"] not in standbys],
        hadr=dict((db, dict(entry, text=hadr_text(entry))) for db, entry in sorted(hadr.items())),
        ats=ats_status(item.get("ats") or [], bool(c.get("running"))),
        ldap=auth.get("ldap"), auth_plugin=auth.get("srvcon_pw_plugin"), error=error,
    )


def fleet_report(items, target_level=None, now=None):
    """The report: target level, summary counts and rows sorted by drift (what needs attention first)."""
    if not isinstance(items, list):
        raise ReportError("fleet_report expects a list of per-container items, got %s" % type(items).__name__)
    now = time.time() if now is None else now
    levels = [((i.get("info") or {}).get("containers") or [{}])[0].get("db2level") or {} for i in items]
    source = "given"
    if target_level:
        if not parse_level(target_level):
            raise ReportError("db2_report_target_level %r is not a Db2 level like 11.5.9.0 or 11.1.4.4" % target_level)
    else:
        target_level, source = newest_level([lv.get("level") for lv in levels]), "newest in the fleet"
    rows = [report_row(item, target_level, now) for item in items]
    rows.sort(key=lambda r: (DRIFT_ORDER[r["drift"]], parse_level(r["level"]) or (), r["host"] or ""))
    count = dict((key, sum(1 for r in rows if r["drift"] == key)) for key in DRIFT_ORDER)
    summary = dict(count, containers=len(rows), ldap=sum(1 for r in rows if r["ldap"]),
                   ats_failed=sum(1 for r in rows if r["ats"]["state"] == "failed"),
                   without_backup=sum(1 for r in rows if r["backups_missing"]))
    return dict(target_level=target_level, target_source=source,
                generated_at=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now)),
                summary=summary, rows=rows)


# ---------------------------------------------------------------------------------------------
# The fleet summary of an upgrade run (role db2_fixpack, tasks/summary.yml)

UNREACHABLE_TEXT = "unreachable during the upgrade: its state is unknown; run again when it answers"
UPGRADE_COLUMNS = ("HOST", "CONTAINER", "FROM", "TO", "DOWN(s)", "RESULT", "BACKUP (or why it failed)")
UPGRADE_LINE = "%-14s %-18s %-10s -> %-10s %8s  %-13s %s"


def upgrade_rows(hosts_all, hosts_left, known):
    """One row per host of the play, in play order.

    known: {host: {outcome, docker_host, container}} where outcome is the row the host recorded
    (upgrade.yml), or None. A host without one is "unreachable" when it left the play (a failed
    upgrade records its outcome first, so only a lost connection leaves none), else "not started".
    """
    rows = []
    for host in hosts_all:
        facts = known.get(host) or {}
        if facts.get("outcome"):
            rows.append(dict(facts["outcome"]))
            continue
        lost = host not in hosts_left
        rows.append({"host": host, "docker_host": facts.get("docker_host") or "",
                     "container": facts.get("container") or host, "from": "-", "to": "-",
                     "downtime_seconds": None, "backup": "", "result": "unreachable" if lost else "not started",
                     "message": UNREACHABLE_TEXT if lost else ""})
    return rows


def upgrade_table(rows):
    """The rows as aligned lines under a header; the last column is the backup, or why it failed."""
    lines = [UPGRADE_LINE % UPGRADE_COLUMNS]
    for row in rows:
        last = row.get("backup") or (row.get("message") if row.get("result") in ("failed", "unreachable") else "-")
        lines.append(UPGRADE_LINE % (row.get("host"), row.get("container"), row.get("from"), row.get("to"),
                                     row.get("downtime_seconds") or "-", row.get("result"), last))
    return lines
