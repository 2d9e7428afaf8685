"""BACKUP DATABASE, RESTORE DATABASE, ROLLFORWARD DATABASE and FORCE APPLICATION.

Backup images are named as Db2 names them, DBALIAS.0.INSTANCE.DBPART000.TIMESTAMP.001
(type 0 = full database backup), and hold a real copy of the database: a header line
`DB2STANDIN-BACKUP-IMAGE 1`, one JSON line (database, timestamp, catalog level, online,
logs), then a tar (gzip with COMPRESS) of the schema files (copied with SQLite's online backup
API, so a copy taken while applications write is consistent), the database configuration
(SQLDBCONF) and, for online images with logs, the log file S0000000.LOG.

Rules as Db2's (IBM BACKUP/RESTORE/ROLLFORWARD DATABASE command docs, message reference):
offline backup and restore need the database unused (SQL1035N); online backup needs archive
logging (SQL2413N); restoring an online image, or any image of a recoverable database, leaves
the database rollforward pending unless WITHOUT ROLLING FORWARD (not allowed for online images,
SQL2537N); restoring over the database of the same name warns with SQL2539W.
"""
import datetime
import errno
import gzip
import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
import time
from pathlib import Path

from . import commands, dbcfg, dialect, levels, messages, translog
from .database import Database
from .session import connections  # CLP back-ends and DRDA clients

MAGIC = b"DB2STANDIN-BACKUP-IMAGE 1\n"
IMAGE_NAME = re.compile(r"^(?P<alias>[^.]+)\.0\.(?P<instance>[^.]+)\.DBPART000\.(?P<ts>\d{14})\.001$")
LOG_FILE = "S0000000.LOG"


def _words(text):
    return (text or "").upper().split()


def _busy(clp, database):
    """True when the database is in use: explicitly activated or with connections."""
    state = clp.require_started()
    return database.alias in state["active"] or bool(connections(clp.instance, state["run"]).get(database.alias))


def _writable_dir(path):
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def image_path(directory, alias, instance, timestamp):
    return Path(directory) / ("%s.0.%s.DBPART000.%s.001" % (alias, instance, timestamp))


def read_image(path):
    """(header dict, tarfile) of an image; ValueError if it is not one."""
    data = Path(path).read_bytes()
    if not data.startswith(MAGIC):
        raise ValueError("not a backup image")
    header_end = data.index(b"\n", len(MAGIC))
    header = json.loads(data[len(MAGIC):header_end])
    body = data[header_end + 1:]
    if header.get("compress"):
        body = gzip.decompress(body)
    return header, tarfile.open(fileobj=io.BytesIO(body))


# --- BACKUP ---------------------------------------------------------------------------------

@commands.command(r"BACKUP\s+(?:DATABASE|DB)\s+(?P<db>\S+)(?P<options>(?:\s.*)?)")
def backup(clp, db, options):
    words = _words(options)
    database = clp.require_database(db)
    online = "ONLINE" in words
    # TO dir[, dir ...]: the first directory (the stand-in writes one image file).
    target = os.getcwd()
    match = re.search(r"\sTO\s+(\"[^\"]+\"|'[^']+'|[^\s,]+)", " " + options, re.I)
    if match:
        target = match.group(1).strip("\"'")
    values = dbcfg.read(database)
    if online:
        clp.require_started()
        if not dbcfg.archiving(values) or values["BACKUP_PENDING"] == "YES":
            raise dialect.SqlError("SQL2413N")
    elif _busy(clp, database):
        raise dialect.SqlError("SQL1035N")
    if values["ROLLFWD_PENDING"] != "NO":
        raise dialect.SqlError("SQL1117N", name=database.alias)
    if not _writable_dir(target):
        raise dialect.SqlError("SQL2036N", path=target)
    include_logs = online and "EXCLUDE" not in words  # online images include logs by default
    timestamp = _unique_timestamp(database, target, clp.instance.name)
    header = {"alias": database.alias, "name": database.name, "instance": clp.instance.name,
              "timestamp": timestamp, "catalog_level": database.catalog_level(),
              "release": database.release(), "online": online, "logs": include_logs,
              "compress": "COMPRESS" in words, "code_level": levels.installed().name}
    header["seed"] = translog.seed(database)  # HADR: a standby must come from this database
    with translog.locked(database):  # no unit of work commits while the image is taken
        header["log_end"] = translog.end(database)
        body = _pack(database, header)
    path = image_path(target, database.alias, clp.instance.name, timestamp)
    tmp = path.with_name(path.name + ".part")
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(MAGIC + json.dumps(header).encode() + b"\n" + body)
    except OSError as error:
        # Db2 stops with SQL2419N on a full target and leaves no partial image behind.
        tmp.unlink(missing_ok=True)
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise dialect.SqlError("SQL2419N", disk=target) from None
        raise
    tmp.replace(path)
    changes = {"LAST_BACKUP": timestamp}
    if not online:
        changes["BACKUP_PENDING"] = "NO"
    dbcfg.update(database, changes)
    clp.instance.diag("Info", "db2sysc", "base sys utilities, sqlubBackup",
                      "ADM8000I  Backup database operation completed successfully: %s" % path)
    clp.write("\nBackup successful. The timestamp for this backup image is : %s\n\n" % timestamp)
    return 0


def _unique_timestamp(database, target, instance):
    """Now, as YYYYMMDDhhmmss, later than the database's last backup (Db2's timestamps are unique)."""
    last = dbcfg.read(database).get("LAST_BACKUP", "")
    while True:
        now = datetime.datetime.now().strftime("%Y%m%d%H%M%S")
        if now > last and not image_path(target, database.alias, instance, now).exists():
            return now
        time.sleep(0.2)


def _pack(database, header):
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(fileobj=buffer, mode="w") as tar:
        for source in sorted(database.store.glob("*.sqlite")):
            copy = Path(scratch) / source.name
            with sqlite3.connect(source, timeout=30) as src, sqlite3.connect(copy) as dst:
                src.backup(dst)
            src.close()
            dst.close()
            tar.add(copy, arcname="standin/" + source.name)
        config = dbcfg.read(database)
        config.update(BACKUP_PENDING="NO", ROLLFWD_PENDING="NO")
        _add_bytes(tar, "SQLDBCONF", "".join("%s=%s\n" % kv for kv in config.items()).encode())
        if header["logs"]:
            _add_bytes(tar, "logs/" + LOG_FILE, b"Db2 stand-in log file of %s, backup %s\n"
                       % (database.alias.encode(), header["timestamp"].encode()))
    body = buffer.getvalue()
    return gzip.compress(body) if header["compress"] else body


def _add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
    tar.addfile(info, io.BytesIO(data))


# --- RESTORE --------------------------------------------------------------------------------

@commands.command(r"RESTORE\s+(?:DATABASE|DB)\s+(?P<db>\S+)(?P<options>(?:\s.*)?)")
def restore(clp, db, options):
    clp.require_started()
    words = _words(options)
    source = db.upper()
    found = re.search(r"\sFROM\s+(\"[^\"]+\"|'[^']+'|[^\s,]+)", " " + options, re.I)
    directory = found.group(1).strip("\"'") if found else os.getcwd()
    taken = re.search(r"\sTAKEN\s+AT\s+(\d+)", " " + options, re.I)
    into = re.search(r"\sINTO\s+(\S+)", " " + options, re.I)
    logtarget = re.search(r"\sLOGTARGET\s+(\"[^\"]+\"|'[^']+'|\S+)", " " + options, re.I)
    target = into.group(1).upper() if into else source
    if not os.path.isdir(directory):
        raise dialect.SqlError("SQL2036N", path=directory)
    path = _find_image(directory, source, taken.group(1) if taken else "")
    try:
        header, tar = read_image(path)
    except (ValueError, OSError, tarfile.TarError, EOFError):
        raise dialect.SqlError("SQL2036N", path=str(path)) from None
    without_rf = "WITHOUT ROLLING FORWARD" in " ".join(words)
    if header["online"] and without_rf:
        raise dialect.SqlError("SQL2537N")
    existing = Database.lookup(clp.instance, target)
    warning = None
    if existing is not None:
        if _busy(clp, existing):
            raise dialect.SqlError("SQL1035N")
        # Db2 warns (and, without prompting, carries on) when the image replaces a database.
        warning = "SQL2539W" if existing.name == header["name"] else "SQL2529W"
    database = existing or _create_empty(clp.instance, target)
    _unpack(database, tar)
    values = dbcfg.read(database)
    pending = header["online"] or (dbcfg.archiving(values) and not without_rf)
    dbcfg.update(database, {"ROLLFWD_PENDING": "DATABASE" if pending else "NO",
                            "BACKUP_PENDING": "NO", "RESTORED_FROM": header["timestamp"],
                            "RESTORED_ONLINE": "YES" if header["online"] else "NO"})
    translog.reset(database, header.get("log_end", 0))  # the log goes on from the image's end
    dbcfg.update(database, {"HADR_DB_ROLE": "STANDARD", "HADR_OLD_PRIMARY": ""})  # a restored copy
    if logtarget and header["logs"]:
        _extract_logs(tar, logtarget.group(1).strip("\"'"))
    _upgrade_if_needed(database)
    clp.instance.diag("Info", "db2sysc", "base sys utilities, sqludRestore",
                      "ADM8001I  Restore database operation completed successfully: %s" % path)
    if warning:
        clp.write(messages.message(warning, alias=target, image=source, name=existing.name,
                                   image_name=header["name"]))
    clp.emit("DB20000I", 0, command="RESTORE DATABASE")
    return 2 if warning else 0


def _find_image(directory, alias, timestamp):
    matches = []
    for entry in sorted(Path(directory).iterdir()):
        name = IMAGE_NAME.match(entry.name)
        if name and name.group("alias") == alias and name.group("ts").startswith(timestamp):
            matches.append(entry)
    if not matches:
        raise dialect.SqlError("SQL2542N", alias=alias, timestamp=timestamp)
    if len(matches) > 1:
        raise dialect.SqlError("SQL2522N")
    return matches[0]


def _create_empty(instance, name):
    """Catalog a new database for RESTORE ... INTO a name that does not exist yet."""
    database = Database.create(instance, name, levels.installed())
    for schema_file in database.store.glob("*.sqlite"):
        schema_file.unlink()
    return database


def _unpack(database, tar):
    """Replace the database's files with the image's, atomically per file set."""
    incoming = database.local_dir / "standin.restore"
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir()
    for member in tar.getmembers():
        if member.name.startswith("standin/") and member.name.endswith(".sqlite") and member.isfile():
            (incoming / Path(member.name).name).write_bytes(tar.extractfile(member).read())
        elif member.name == "SQLDBCONF":
            (database.local_dir / "SQLDBCONF").write_bytes(tar.extractfile(member).read())
    old = database.local_dir / "standin.old"
    shutil.rmtree(old, ignore_errors=True)
    database.store.rename(old)
    incoming.rename(database.store)
    shutil.rmtree(old, ignore_errors=True)


def _extract_logs(tar, directory):
    if not _writable_dir(directory):
        raise dialect.SqlError("SQL2036N", path=directory)
    for member in tar.getmembers():
        if member.name.startswith("logs/") and member.isfile():
            (Path(directory) / Path(member.name).name).write_bytes(tar.extractfile(member).read())


def _upgrade_if_needed(database):
    """An image of an older Db2 version is upgraded at the end of the restore (IBM RESTORE
    docs); an older fix pack keeps its catalog level (db2updv is then needed)."""
    code = levels.installed()
    number = str(database.catalog_level())
    if (int(number[:2]), int(number[2:4])) < code.vrmf[:2]:
        database.record_version(code)


# --- ROLLFORWARD ----------------------------------------------------------------------------

@commands.command(r"ROLLFORWARD\s+(?:DATABASE|DB)\s+(?P<db>\S+)(?P<options>(?:\s.*)?)")
def rollforward(clp, db, options):
    clp.require_started()
    database = clp.require_database(db)
    words = " ".join(_words(options))
    values = dbcfg.read(database)
    pending = values["ROLLFWD_PENDING"] != "NO"
    finish = re.search(r"\b(AND\s+)?(COMPLETE|STOP)\b", words) is not None
    if pending and (finish or "TO END OF" in words):
        status = "not pending" if finish else "DB  working"
        if finish:
            dbcfg.update(database, {"ROLLFWD_PENDING": "NO"})
        elif values["ROLLFWD_PENDING"] == "DATABASE":
            dbcfg.update(database, {"ROLLFWD_PENDING": "WORKING"})
    elif pending:
        status = "DB  working" if values["ROLLFWD_PENDING"] == "WORKING" else "DB  pending"
    else:
        status = "not pending"
    online = values.get("RESTORED_ONLINE") == "YES"
    processed = "%s - %s" % (LOG_FILE, LOG_FILE) if online and status != "DB  pending" else " -"
    last = values.get("RESTORED_FROM", "")
    committed = ""
    if last and status != "DB  pending":
        stamp = datetime.datetime.strptime(last, "%Y%m%d%H%M%S").astimezone(datetime.timezone.utc)
        committed = stamp.strftime("%Y-%m-%d-%H.%M.%S.000000 UTC")
    rows = (("Input database alias", db), ("Number of members have returned status", "1"), None,
            ("Member ID", "0"), ("Rollforward status", status),
            ("Next log file to be read", LOG_FILE if status == "DB  pending" and online else ""),
            ("Log files processed", processed), ("Last committed transaction", committed))
    out = ["", "                                 Rollforward Status", ""]
    out += ["" if row is None else (" %-38s = %s" % row).rstrip() for row in rows]
    clp.write("\n".join(out) + "\n\n")
    return clp.emit("DB20000I", 0, command="ROLLFORWARD")


# --- FORCE APPLICATION ----------------------------------------------------------------------

@commands.command(r"FORCE\s+APPLICATION\s+(?P<which>ALL|\(.*\))")
def force_application(clp, which):
    clp.require_started()
    if which.upper() == "ALL":
        directory = clp.instance.runtime / "sessions"
        for path in directory.iterdir() if directory.exists() else ():
            if path.name.startswith("tmp-"):
                continue
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            data["run"] = -1  # the forced application's next request gets SQL1224N
            path.write_text(json.dumps(data))
    clp.instance.diag("Info", "db2sysc", "base sys utilities, sqleForceApplications",
                      "Applications forced: %s" % which.upper())
    clp.emit("DB20000I", 0, command="FORCE APPLICATION")
    return clp.emit("DB21024I", 0)


messages.CATALOG.update({
    "DB21024I": "This command is asynchronous and may not be effective immediately.",
    "SQL1035N": ("The operation failed because the specified database cannot be connected to in "
                 "the mode requested.  SQLSTATE=57019"),
    "SQL2036N": 'The path for the file, named pipe, or device "{path}" is not valid.',
    "SQL2419N": 'The target disk "{disk}" has become full.',
    "SQL2413N": ("Online backup is not allowed because the database is not recoverable or a "
                 "backup pending condition is in effect."),
    "SQL2522N": ("More than one backup file matches the time stamp value provided for the backed "
                 "up database image."),
    "SQL2529W": ('Warning!  Restoring to an existing database that is different from the backup '
                 'image database, and the alias name "{alias}" of the existing database does not '
                 'match the alias name "{image}" of the backup image, and the database name "{name}" '
                 'of the existing database does not match the database name "{image_name}" of the '
                 'backup image.  The target database will be overwritten by the backup version.  The '
                 'Roll-forward recovery logs associated with the target database will be deleted.'),
    "SQL2537N": "Roll-forward is required following the Restore.",
    "SQL2539W": ("The specified name of the backup image to restore is the same as the name of "
                 "the target database.  Restoring to an existing database that is the same as the "
                 "backup image database will cause the current database to be overwritten by the "
                 "backup version."),
    "SQL2542N": ('No match for a database image file was found based on the source database alias '
                 '"{alias}" and timestamp "{timestamp}" provided.'),
})
