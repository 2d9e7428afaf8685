"""Version upgrades of databases: UPGRADE DATABASE, and the checks on a database whose release
differs from the code's.

IBM documents a version upgrade (11.1 -> 11.5 -> 12.1) as two steps: db2iupgrade upgrades the
instance, then UPGRADE DATABASE upgrades each database. Until then CONNECT fails with SQL5035N
(message reference: "Issue the UPGRADE DATABASE command before attempting to access the
database"). UPGRADE DATABASE answers `DB20000I  The UPGRADE DATABASE command completed
successfully.`; on a database already at the current release it answers SQL1103W (message
reference: "this message will also be returned if the database was already at the current level
and was not upgraded"). Older code meeting a database of a newer release refuses it with SQL1091C.

Test hook (stand-in only): `STANDIN_FAULT_UPGRADE_DATABASE=ALIAS` in the container's environment
(the entrypoint writes it to the run state) makes UPGRADE DATABASE of ALIAS fail half way with
SQL1704N reason code 7, for which IBM's user response is "Restore the database from the database
backup": the catalog is left at the new release, the database marked upgrade-incomplete (SQL0276N
on CONNECT with this code, SQL1091C with the old code) until a RESTORE replaces it.
"""
import re

from . import commands, dbcfg, dialect, levels, messages
from .session import connections

FAULT_FILE = "fault-upgrade-database"  # in the instance's run state directory


def release_of(database):
    """(version, release) of the database's catalog, e.g. (11, 1)."""
    number = str(database.catalog_level())
    return int(number[:2]), int(number[2:4])


def needs_upgrade(database):
    return release_of(database) < levels.installed().vrmf[:2]


@commands.usable_check
def refuse_other_release(database, _how):
    """CONNECT and ACTIVATE (and db2updv, DRDA) of a database of another release."""
    if release_of(database) > levels.installed().vrmf[:2]:
        raise dialect.SqlError("SQL1091C")
    if dbcfg.read(database).get("UPGRADE_INCOMPLETE") == "YES":
        raise dialect.SqlError("SQL0276N", name=database.alias)
    if needs_upgrade(database):
        raise dialect.SqlError("SQL5035N")


@commands.command(r"UPGRADE\s+(?:DATABASE|DB)\s+(?P<db>\S+)(?P<options>(?:\s.*)?)")
def upgrade_database(clp, db, options):
    state = clp.require_started()
    database = clp.require_database(db)
    words = " ".join((options or "").upper().split())
    if words and not re.fullmatch(r"(REBINDALL\s*)?(USER\s+\S+(\s+USING\s+\S+)?)?", words):
        raise dialect.SqlError("SQL0104N", token=words.split()[0], following=db,
                               expected="REBINDALL")
    if release_of(database) > levels.installed().vrmf[:2]:
        raise dialect.SqlError("SQL1091C")
    if database.alias in state["active"] or connections(clp.instance, state["run"]).get(database.alias):
        raise dialect.SqlError("SQL1035N")
    values = dbcfg.read(database)
    if values["BACKUP_PENDING"] == "YES" or values["ROLLFWD_PENDING"] != "NO":
        raise dialect.SqlError("SQL1704N", reason="2")
    if values.get("UPGRADE_INCOMPLETE") == "YES":
        raise dialect.SqlError("SQL1704N", reason="7")
    if not needs_upgrade(database):
        return clp.emit("SQL1103W", 2)
    before = "%d.%d" % release_of(database)
    code = levels.installed()
    database.record_version(code)
    if _fault_for(clp.instance) == database.alias:
        dbcfg.update(database, {"UPGRADE_INCOMPLETE": "YES"})
        clp.instance.diag("Severe", "db2sysc", "base sys utilities, sqlemgdb",
                          "Upgrade of database %s from V%s to V%s failed (stand-in fault)."
                          % (database.alias, before, code.version_release))
        raise dialect.SqlError("SQL1704N", reason="7")
    clp.instance.diag("Info", "db2sysc", "base sys utilities, sqlemgdb", "Database %s upgraded from V%s to V%s."
                      % (database.alias, before, code.version_release))
    return clp.emit("DB20000I", 0, command="UPGRADE DATABASE")


def _fault_for(instance):
    try:
        return (instance.runtime / FAULT_FILE).read_text().strip().upper()
    except FileNotFoundError:
        return ""


messages.CATALOG.update({
    "SQL0276N": ('The connection failed because the database is in "restore pending" state or in '
                 '"upgrade pending" state.  Database name: "{name}".  SQLSTATE=08004'),
    "SQL1091C": "The release number of the database is unsupported.  SQLSTATE=08004",
    "SQL1103W": "The UPGRADE DATABASE command was completed successfully.",
    "SQL1704N": 'Database upgrade or update request failed.  Reason code "{reason}".',
    "SQL5035N": ("The connection failed because the database product has been updated and the "
                 "database needs to be upgraded  SQLSTATE=55001"),
})
