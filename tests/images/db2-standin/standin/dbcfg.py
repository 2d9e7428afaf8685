"""The database configuration: `GET DB CFG FOR x`, `UPDATE DB CFG FOR x USING ...`, and the
pending states a DBA sees there (backup pending, rollforward pending).

Stored per database in its local database directory as `SQLDBCONF` (the real file's name; real
Db2 keeps it binary, here `PARAM=value` lines). It travels with backup images, as in Db2.
Layout as `get dbm cfg` (facts 2.3): label, `(PARAM)` ending in column 56, ` = value`.
LOGARCHMETH1 rules (IBM "logarchmeth1" docs; cookbook-era container logs, facts 1.2):
turning archive logging on puts the database in backup pending (SQL1116N on connect) until an
offline backup, which is why IBM's image backs up right after "Enabling LOGARCHMETH1".
"""
import contextlib
import re

from . import commands, dialect, messages
from .dbmcfg import _line

# (label, parameter or None, default). Parameters without a label are kept but not shown.
LAYOUT = (
    ("Database configuration release level", None, "{release}"),
    ("Database release level", None, "{release}"),
    None,
    ("Database territory", None, "US"),
    ("Database code page", None, "1208"),
    ("Database code set", None, "UTF-8"),
    ("Database country/region code", None, "1"),
    ("Database collating sequence", None, "IDENTITY"),
    ("Alternate collating sequence", "ALT_COLLATE", ""),
    ("Number compatibility", None, "OFF"),
    ("Varchar2 compatibility", None, "OFF"),
    ("Date compatibility", None, "OFF"),
    ("Database page size", None, "4096"),
    None,
    ("Restrict access", None, "NO"),
    ("Default query optimization class", "DFT_QUERYOPT", "5"),
    ("Degree of parallelism", "DFT_DEGREE", "1"),
    None,
    ("Backup pending", None, "{BACKUP_PENDING}"),
    None,
    ("All committed transactions have been written to disk", None, "YES"),
    ("Rollforward pending", None, "{ROLLFWD_PENDING}"),
    ("Restore pending", None, "NO"),
    None,
    ("Log file size (4KB)", "LOGFILSIZ", "1024"),
    ("Number of primary log files", "LOGPRIMARY", "13"),
    ("Number of secondary log files", "LOGSECOND", "12"),
    ("Changed path to log files", "NEWLOGPATH", ""),
    ("Path to log files", None, "{logpath}"),
    ("Overflow log path", "OVERFLOWLOGPATH", ""),
    ("Mirror log path", "MIRRORLOGPATH", ""),
    ("First active log file", None, "{first_log}"),
    None,
    ("Default number of containers", None, "1"),
    ("Log retain for recovery status", None, "{log_retain}"),
    ("User exit for logging status", None, "{user_exit}"),
    None,
    ("First log archive method", "LOGARCHMETH1", "OFF"),
    ("Archive compression for logarchmeth1", "LOGARCHCOMPR1", "OFF"),
    ("Options for logarchmeth1", "LOGARCHOPT1", ""),
    ("Second log archive method", "LOGARCHMETH2", "OFF"),
    ("Archive compression for logarchmeth2", "LOGARCHCOMPR2", "OFF"),
    ("Options for logarchmeth2", "LOGARCHOPT2", ""),
    ("Failover log archive path", "FAILARCHPATH", ""),
    ("Number of log archive retries on error", "NUMARCHRETRY", "5"),
    ("Log archive retry Delay (secs)", "ARCHRETRYDELAY", "20"),
    ("Vendor options", "VENDOROPT", ""),
    None,
    ("Auto restart enabled", "AUTORESTART", "ON"),
    ("Number of database backups to retain", "NUM_DB_BACKUPS", "12"),
    ("Recovery history retention (days)", "REC_HIS_RETENTN", "366"),
    ("Auto deletion of recovery objects", "AUTO_DEL_REC_OBJ", "OFF"),
    ("TSM management class", "TSM_MGMTCLASS", ""),
)
PARAMETERS = {row[1]: row for row in LAYOUT if row and row[1]}
STATE_DEFAULTS = {"BACKUP_PENDING": "NO", "ROLLFWD_PENDING": "NO"}
# Parameter -> check(param, value) -> normalised value; raises dialect.SqlError (feature modules).
CHECKS = {}
ARCHIVE_METHODS = re.compile(r"^(OFF|LOGRETAIN|USEREXIT|TSM(:\S+)?|DISK:\S+|VENDOR:\S+)$", re.I)


def read(database):
    """The configuration of a database: parameters, pending states and stand-in bookkeeping."""
    values = {param: row[2] for param, row in PARAMETERS.items()}
    values.update(STATE_DEFAULTS)
    with contextlib.suppress(FileNotFoundError):
        for line in (database.local_dir / "SQLDBCONF").read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                values[key] = value
    return values


def update(database, changes):
    values = read(database)
    values.update(changes)
    path = database.local_dir / "SQLDBCONF"
    tmp = path.with_name("SQLDBCONF.tmp")
    tmp.write_text("".join("%s=%s\n" % kv for kv in values.items()))
    tmp.replace(path)


def archiving(values):
    """True when the database is recoverable (archive logging on)."""
    return values["LOGARCHMETH1"].upper() != "OFF" or values["LOGARCHMETH2"].upper() != "OFF"


def render(database, alias, release):
    values = read(database)
    method = values["LOGARCHMETH1"].upper()
    fill = {"release": "0x%s00" % release.split(".")[0], **values,
            "logpath": "%s/LOGSTREAM0000/" % database.local_dir,
            "first_log": "S0000000.LOG",
            "log_retain": "RECOVERY" if archiving(values) else "NO",
            "user_exit": "YES" if method == "USEREXIT" else "NO"}
    lines = ["", "       Database Configuration for Database %s" % alias, ""]
    for row in LAYOUT:
        if row is None:
            lines.append("")
            continue
        label, param, default = row
        value = values[param] if param else default.format(**fill)
        lines.append(_line(label, param, value))
    return "\n".join(lines) + "\n\n"


@commands.command(r"GET\s+(?:DATABASE|DB)\s+(?:CONFIGURATION|CONFIG|CFG)\s+FOR\s+(?P<db>\S+)"
                  r"(?:\s+SHOW\s+DETAIL)?")
def get_db_cfg(clp, db):
    database = clp.require_database(db)
    clp.write(render(database, db, database.release()))
    return 0


@commands.command(r"UPDATE\s+(?:DATABASE|DB)\s+(?:CONFIGURATION|CONFIG|CFG)\s+FOR\s+(?P<db>\S+)"
                  r"\s+USING\s+(?P<pairs>.+)")
def update_db_cfg(clp, db, pairs):
    database = clp.require_database(db)
    words = pairs.split()
    if words and words[-1].upper() in ("IMMEDIATE", "DEFERRED"):
        words.pop()
    changes, following = {}, "USING"
    for index in range(0, len(words), 2):
        param = words[index].upper()
        if param not in PARAMETERS:
            raise dialect.SqlError("SQL0104N", token=words[index], following=following,
                                   expected="<identifier>")
        if index + 1 >= len(words):
            raise dialect.SqlError("SQL0104N", token="END-OF-STATEMENT", following=words[index],
                                   expected="<value>")
        value = words[index + 1].strip("'\"")
        if param.startswith("LOGARCHMETH"):
            if not ARCHIVE_METHODS.match(value):
                raise dialect.SqlError("SQL0104N", token=words[index + 1], following=words[index],
                                       expected="OFF")
            kind, colon, rest = value.partition(":")
            value = kind.upper() + colon + rest
        if param in CHECKS and value.upper() != "NULL":
            value = CHECKS[param](param, value)
        changes[param] = "" if value.upper() == "NULL" else value
        following = words[index + 1]
    before = read(database)
    after = {**before, **changes}
    if archiving(after) and not archiving(before):
        # A database becoming recoverable needs a full offline backup first (SQL1116N until then).
        changes["BACKUP_PENDING"] = "YES"
    update(database, changes)
    return clp.emit("DB20000I", 0, command="UPDATE DATABASE CONFIGURATION")


@commands.usable_check
def refuse_pending(database, _how):
    values = read(database)
    if values["ROLLFWD_PENDING"] != "NO" and values.get("HADR_DB_ROLE") != "STANDBY":
        # An HADR standby is rollforward pending by design: hadr.py decides about it.
        raise dialect.SqlError("SQL1117N", name=database.alias)
    if values["BACKUP_PENDING"] == "YES":
        raise dialect.SqlError("SQL1116N", name=database.alias)


messages.CATALOG.update({
    "SQL1116N": ('A connection to or activation of database "{name}" cannot be made because of '
                 'BACKUP PENDING.  SQLSTATE=57019'),
    "SQL1117N": ('A connection to or activation of database "{name}" cannot be made because of '
                 'ROLL-FORWARD PENDING.  SQLSTATE=57019'),
})
