# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Db2 backup and restore inside a container: statements, image file names, planning.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import shlex
import time

from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Error, instance_shell
from ansible_collections.db2ops.docker.plugins.module_utils._docker.exec import exec_in_container
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import USER_NAME

# Db2 9.7+ names a backup image DBALIAS.TYPE.INSTANCE.DBPARTnnn.TIMESTAMP.SEQ; type 0 = full
# database backup (IBM docs: "Backup overview", image naming).
IMAGE_NAME = re.compile(r"^(?P<database>[A-Z0-9@#$_]+)\.(?P<type>\d)\.(?P<instance>[^.]+)\.DBPART(?P<partition>\d{3})"
                        r"\.(?P<timestamp>\d{14})\.(?P<sequence>\d{3})$")
BACKUP_DONE = re.compile(r"Backup successful\. The timestamp for this backup image is\s*:\s*(\d{14})")
# Paths and names go into CLP statements: only characters that need no quoting are accepted.
# Check with fullmatch: a pattern ending in `$` also accepts a trailing newline with match().
SAFE_PATH = re.compile(r"^/[A-Za-z0-9_.@+-]+(?:/[A-Za-z0-9_.@+-]+)*/?$")
DATABASE_NAME = re.compile(r"^[A-Za-z@#$][A-Za-z0-9@#$_]{0,7}$")
TIMESTAMP = re.compile(r"^\d{14}$")
DEFAULT_BACKUP_PATH = "/database/backup"


class BackupInputError(ValueError):
    """Bad input, detected before anything was run."""


def check_path(path, what="path"):
    if not path or not SAFE_PATH.fullmatch(path) or "/../" in path + "/" or path.endswith("/.."):
        raise BackupInputError("%s %r must be an absolute path of letters, digits and _ . @ + - only" % (what, path))
    return path.rstrip("/") or "/"


def check_database(name):
    if not isinstance(name, str) or not DATABASE_NAME.fullmatch(name):
        raise BackupInputError("%r is not a Db2 database name (1-8 characters: letters, digits, @ # $ _, "
                               "not starting with a digit)" % (name,))
    return name.upper()


def check_instance(name):
    """The instance owner: an OS user name (it is a word in the scripts run as root)."""
    if not isinstance(name, str) or not USER_NAME.fullmatch(name):
        raise BackupInputError("instance must be an OS user name (1-30 characters a-z, 0-9, _ or -, not starting "
                               "with a digit or -)")
    return name


def ere_escape(text):
    """`text` as a literal in a `grep -E` pattern (re.escape would also escape # and @, which grep warns about)."""
    return re.sub(r"([.\[\]()*+?{}|^$\\])", r"\\\1", text)


def backup_statements(database, path, online=False, compress=False, include_logs=True):
    """The CLP statements of one backup. Offline backups deactivate the database first."""
    options = " COMPRESS" if compress else ""
    if online:
        options += " INCLUDE LOGS" if include_logs else " EXCLUDE LOGS"
        return ["BACKUP DATABASE %s ONLINE TO %s%s WITHOUT PROMPTING" % (database, path, options)]
    return ["DEACTIVATE DATABASE %s" % database,
            "BACKUP DATABASE %s TO %s%s WITHOUT PROMPTING" % (database, path, options)]


def activate_statement(database):
    return "ACTIVATE DATABASE %s" % database


def force_statements():
    # FORCE APPLICATION is asynchronous (DB21024I); the deactivate after it waits for the agents.
    return ["FORCE APPLICATION ALL"]


def restore_statements(database, path, timestamp, into=None, online_image=False, logtarget=None):
    target = " INTO %s" % into if into and into != database else ""
    if online_image:
        restore = ("RESTORE DATABASE %s FROM %s TAKEN AT %s%s LOGTARGET %s REPLACE EXISTING WITHOUT PROMPTING"
                   % (database, path, timestamp, target, logtarget))
        return [restore, "ROLLFORWARD DATABASE %s TO END OF BACKUP AND COMPLETE OVERFLOW LOG PATH (%s)"
                % (into or database, logtarget)]
    return ["RESTORE DATABASE %s FROM %s TAKEN AT %s%s REPLACE EXISTING WITHOUT ROLLING FORWARD WITHOUT PROMPTING"
            % (database, path, timestamp, target)]


def parse_backup_timestamp(output):
    match = BACKUP_DONE.search(" ".join(output.split()))
    return match.group(1) if match else None


def parse_images(listing, path):
    """Backup images from `ls -ln --time-style=+%s` style lines: name, size, database, timestamp."""
    images = []
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, size = parts[-1], parts[4] if len(parts) >= 7 else None
        match = IMAGE_NAME.fullmatch(name)
        if not match:
            continue
        image = match.groupdict()
        image.update(file=path.rstrip("/") + "/" + name, size=int(size) if size and size.isdigit() else None)
        images.append(image)
    return sorted(images, key=lambda i: (i["database"], i["timestamp"], i["sequence"]))


def list_images(clp, path):
    """Backup images under path in the container (empty when the directory does not exist)."""
    result = clp.shell("ls -ln -- %s 2>/dev/null || true" % shlex.quote(path))
    return parse_images(result.stdout, path)


def timestamp_age_seconds(timestamp, now=None):
    """Age of a Db2 backup timestamp (container local time, taken as UTC in the stand-in)."""
    then = time.mktime(time.strptime(timestamp, "%Y%m%d%H%M%S")) - time.timezone
    return (now or time.time()) - then


# Run as root with $1 = path, $2 = instance owner: IBM's setup leaves /database root-owned.
PREPARE_DIRECTORY = ('test -d "$1" || install -d -o "$2" -g "$(id -gn "$2")" -m 0750 "$1"; '
                     'su -s /bin/sh "$2" -c \'test -w "$0"\' "$1"')


def prepare_directory(clp, path):
    """Create the backup directory for the instance owner."""
    result = exec_in_container(clp.api, clp.container_id, ["/bin/sh", "-c", PREPARE_DIRECTORY, "sh", path, clp.instance],
                               user="root", timeout=60)
    if result.rc != 0:
        raise Db2Error("backup path %s cannot be created or written by %s: %s"
                       % (path, clp.instance, (result.stdout + result.stderr).strip() or "not writable"))


def run_backup(clp, databases, path, online=False, compress=False, force_applications=False,
               reactivate=(), check_mode=False):
    """Back up each database, one CLP session each; returns (backups, commands).

    Offline backups deactivate the database; those named in reactivate are activated again
    afterwards, as they were. Raises Db2Error on the first failure.
    backups: [{database, timestamp, mode, path, files}]
    """
    commands = ["install -d -o %s %s" % (clp.instance, path)]
    if not check_mode:
        prepare_directory(clp, path)
    backups = []
    for database in databases:
        statements = force_statements() if force_applications and not online else []
        statements += backup_statements(database, path, online=online, compress=compress)
        backup_index = len(statements) - 1
        if not online and database in reactivate:
            statements.append(activate_statement(database))
        commands += statements
        if check_mode:
            continue
        results = clp.run_script(statements)
        stamp = parse_backup_timestamp(results[backup_index].output)
        if not stamp:
            raise Db2Error("backup of %s printed no timestamp: %s"
                           % (database, results[backup_index].output.strip()[:300]))
        files = [i["file"] for i in list_images(clp, path) if i["database"] == database and i["timestamp"] == stamp]
        backups.append(dict(database=database, timestamp=stamp, mode="online" if online else "offline",
                            path=path, files=files))
    return backups, commands


def select_image(images, database, timestamp):
    """The backup image of database taken at timestamp (or the newest for 'latest'); None if absent."""
    mine = [i for i in images if i["database"] == database]
    if timestamp == "latest":
        return mine[-1] if mine else None
    return next((i for i in mine if i["timestamp"] == timestamp), None)


def recent_images(images, databases, max_age, now=None):
    """{database: newest image} for the databases whose newest image is younger than max_age seconds."""
    recent = {}
    for database in databases:
        image = select_image(images, database, "latest")
        if image and timestamp_age_seconds(image["timestamp"], now) <= max_age:
            recent[database] = image
    return recent


def run_restore(clp, database, path, timestamp, into=None, target_exists=True, force_applications=False,
                check_mode=False):
    """Restore one image; roll forward to the end of the backup when the image is an online one.

    Db2 says which it is: WITHOUT ROLLING FORWARD on an online image fails with SQL2537N, and the
    restore is then repeated with a LOGTARGET and followed by ROLLFORWARD ... AND COMPLETE.
    An existing target is deactivated first (a restore needs it unused).
    Returns (rolled_forward, commands). Raises Db2Error.
    """
    target = into or database
    prelude = []
    if target_exists:
        prelude = (force_statements() if force_applications else []) + ["DEACTIVATE DATABASE %s" % target]
    offline = prelude + restore_statements(database, path, timestamp, into=into)
    if check_mode:
        return False, offline
    try:
        clp.run_script(offline)
        return False, offline
    except Db2Error as exc:
        if exc.code != "SQL2537N":
            raise
    logtarget = "%s/logs-%s-%s" % (path, target, timestamp)
    clp.shell("mkdir -p -- %s" % shlex.quote(logtarget))  # the name may hold `$`: a word, never expanded
    online = restore_statements(database, path, timestamp, into=into, online_image=True, logtarget=logtarget)
    clp.run_script(online)
    return True, prelude + online


def image_pattern(database, instance):
    """`grep -E` pattern of the full-backup image files of one database (the IMAGE_NAME layout)."""
    return r"^%s\.0\.%s\.DBPART[0-9]{3}\.[0-9]{14}\.[0-9]{3}$" % (ere_escape(database), ere_escape(instance))


def prune_command(path, database, instance, keep):
    """Shell command: delete the images of all but the newest `keep` backups of database in path.

    An image with several files (sequence .001, .002 ...) counts once; each deleted file is printed.
    Every word is quoted: a database name may hold `$` or `#`, matched literally, never expanded.
    """
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise BackupInputError("keep must be a whole number of backups of at least 1, not %r" % (keep,))
    return ("ls -1 -- %(path)s | grep -E %(pattern)s | sed -E 's/^.*\\.([0-9]{14})\\.[0-9]{3}$/\\1/' | sort -u "
            "| head -n -%(keep)d | while read -r ts; do for f in %(path)s/%(glob)s.\"$ts\".*; do "
            "rm -f -- \"$f\" && echo \"db2ops: pruned $f\"; done; done"
            % dict(path=shlex.quote(path), pattern=shlex.quote(image_pattern(database, instance)), keep=keep,
                   glob=image_glob(database, instance)))


def image_glob(database, instance):
    """Shell glob of the full-backup image files of one database, its names quoted (`$ts`, `*` follow)."""
    return "%s.0.%s.DBPART[0-9][0-9][0-9]" % (shlex.quote(database), shlex.quote(instance))


# As the instance owner, with @TOKENS@ filled in by offline_backup_script(). The ERE for the
# timestamp is BACKUP_DONE's, on output with its white space squeezed as parse_backup_timestamp does.
_OFFLINE_BACKUP = r"""was_active=0
db2 list active databases | grep -Eq @ACTIVE_RE@ && was_active=1
out=$(db2 -t -v +p -s -f /dev/stdin 2>&1 <<'DB2OPS_SQL'
@STATEMENTS@
DB2OPS_SQL
)
rc=$?
printf '%s\n' "$out"
stamp=$(printf '%s' "$out" | tr -s ' \n' '  ' | grep -Eo 'Backup successful\. The timestamp for this backup image is : [0-9]{14}' | grep -Eo '[0-9]{14}$')
status=0
if [ -z "$stamp" ]; then
  status=$(( rc > 0 ? rc : 1 ))
  echo "db2ops: offline backup of "@DB@" failed (CLP return code $rc)"
else
  ls -1 -- @PATH@/@GLOB@."$stamp".* | sed 's/^/db2ops: backup image /'
fi
if [ "$was_active" = 1 ]; then
  db2 -v @ACTIVATE@
  activated=$?
  if [ "$activated" -ge 4 ] && [ "$status" = 0 ]; then status=$activated; fi
fi
if [ "$status" = 0 ]; then
  @PRUNE@
fi
exit "$status"
"""


def offline_backup_script(database, path, instance, keep=None, force_applications=True, compress=False):
    """A bash script that takes an offline backup inside a Db2 container, fed to `docker exec -i -u root C bash -s`.

    Offline in a container means the database, not the container: the instance must stay up to
    run BACKUP (IBM's entrypoint is PID 1; stopping the container ends everything). So: applications
    forced off (or, with force_applications off, the backup fails with SQL1035N while someone is
    connected), the database deactivated, an offline backup, the database activated again when it
    was active before (after a failure too), and on success all but the newest `keep` backups
    pruned. Exit status 0 on success, else the CLP return code (or 1). Raises BackupInputError.
    """
    database = check_database(database)
    path = check_path(path, "path")
    instance = check_instance(instance)
    prune = prune_command(path, database, instance, keep) if keep is not None else ":"
    statements = force_statements() if force_applications else []
    statements += backup_statements(database, path, online=False, compress=compress)
    as_instance = _OFFLINE_BACKUP
    # Every token is a quoted shell word: @DB@ inside a double-quoted message closes and reopens it.
    for token, value in (("@ACTIVE_RE@", shlex.quote(r"^ *Database name *= *%s *$" % ere_escape(database))),
                         ("@STATEMENTS@", "\n".join(statement + ";" for statement in statements)),
                         ("@ACTIVATE@", shlex.quote(activate_statement(database))), ("@PRUNE@", prune),
                         ("@PATH@", shlex.quote(path)), ("@GLOB@", image_glob(database, instance)),
                         ("@DB@", shlex.quote(database))):
        as_instance = as_instance.replace(token, value)
    return "\n".join([
        "# db2ops offline backup of %s to %s: generated by db2ops.docker, run as root in the container" % (database, path),
        "set -u",
        "sh -c %s sh %s %s || { echo %s; exit 1; }"
        % (shlex.quote(PREPARE_DIRECTORY), shlex.quote(path), shlex.quote(instance),
           shlex.quote("db2ops: backup path %s cannot be created or written by %s" % (path, instance))),
        "exec su -s /bin/bash %s -c %s </dev/null" % (shlex.quote(instance), shlex.quote(instance_shell(as_instance))),
        "",
    ])
