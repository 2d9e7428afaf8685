"""After a fix pack: `db2updv111|db2updv115 -d DB` (catalog level) and `db2 BIND` (packages).

db2updv brings a database's catalog (SYSIBM.SYSVERSIONS) to the code level; its banner and
`db2updv115 completed successfully for database 'testdb'. ` are those of a real 11.5 container
log (idx 1884106909). Until it ran, the stand-in writes a db2diag.log warning at db2start and
at ACTIVATE (a stand-in aid: real Db2 logs nothing), and the catalog level shows in
`SELECT VERSIONNUMBER FROM SYSIBM.SYSVERSIONS ORDER BY VERSION_TIMESTAMP`.

BIND of `@db2ubind.lst`, `@db2cli.lst` or a .bnd file (facts 3.2) needs a connection; each
bound package gets a row in SYSCAT.PACKAGES (PKGSCHEMA NULLID, LAST_BIND_TIME, ...), and the
level of the bind file is remembered per database. With ACTION ADD, a package already bound
from a bind file of the same level gives SQL0719N, which IBM calls expected (facts 3.2).
"""
import datetime
import getopt
import textwrap
import os
import sys
from pathlib import Path

from . import auth, commands, dbcfg, dialect, levels, messages, translog
from .database import Database
from .instance import Instance, NoInstance

PACKAGES_DDL = """
CREATE TABLE IF NOT EXISTS PACKAGES (PKGSCHEMA VARCHAR(128) NOT NULL, PKGNAME VARCHAR(128) NOT NULL,
    BOUNDBY VARCHAR(128), BOUNDBYTYPE CHAR(1), OWNER VARCHAR(128), OWNERTYPE CHAR(1),
    DEFAULT_SCHEMA VARCHAR(128), VALID CHAR(1), BLOCKING CHAR(1), ISOLATION CHAR(2),
    CREATE_TIME TIMESTAMP, EXPLICIT_BIND_TIME TIMESTAMP, LAST_BIND_TIME TIMESTAMP,
    PRIMARY KEY (PKGSCHEMA, PKGNAME))
"""


def outdated(database):
    """True when the database's catalog is at an older fix pack of this version than the code."""
    code = levels.installed()
    number = database.catalog_level()
    return str(number)[:4] == str(code.versionnumber)[:4] and number < code.versionnumber


def warn_outdated(instance, database):
    code = levels.installed()
    tool = "db2updv%d%d" % code.vrmf[:2]
    instance.diag("Warning", "db2sysc", "base sys utilities, sqleCheckCatalogLevel",
                  "Database %s: the catalog level %d is older than the code level %d. Run "
                  "\"%s -d %s\" and bind the utilities (sqllib/bnd)."
                  % (database.alias, database.catalog_level(), code.versionnumber, tool,
                     database.alias))


def warn_all_outdated(instance):
    """At db2start: one warning per database whose catalog needs db2updv."""
    for alias, entry in instance.directory().items():
        database = Database(instance, alias, entry)
        if outdated(database):
            warn_outdated(instance, database)


@commands.usable_check
def warn_on_activate(database, how):
    if how == "activate" and outdated(database):
        warn_outdated(database.instance, database)


# --- db2updv111 / db2updv115 ----------------------------------------------------------------

def db2updv(tool, argv):
    out = sys.stdout.write
    try:
        options = dict(getopt.getopt(argv, "d:u:p:aoh")[0])
    except getopt.GetoptError as error:
        out("%s: %s\n" % (tool, error))
        return 1
    code = levels.installed()
    out("DB2 Universal Database Version %s, 5622-044 (c) Copyright IBM Corp. %s\n"
        "Licensed Material - Program Property of IBM\n"
        "IBM DATABASE 2 Database update to current fix pack tool\n\n"
        % (code.version_release, "2017" if code.vrmf[:2] >= (11, 5) else "2016"))
    if "-h" in options or "-d" not in options:
        out("Usage: %s -d <database name> [-u <userid> -p <password>] [-a] [-o] [-h]\n" % tool)
        return 0 if "-h" in options else 1
    try:
        instance = Instance()
    except NoInstance:
        out(messages.message("SQL1390C"))
        return 1
    name = options["-d"]
    try:
        if not instance.snapshot()["started"]:
            raise dialect.SqlError("SQL1032N")
        database = Database.lookup(instance, name)
        if database is None:
            raise dialect.SqlError("SQL1013N", name=name.upper())
        if "-u" in options:
            failure, _authid = auth.authenticate(instance, options["-u"], options.get("-p", ""))
            if failure:
                raise dialect.SqlError("SQL30082N", reason=failure[0], reason_text=failure[1])
        commands.check_usable(database, "connect")
    except dialect.SqlError as error:
        out(messages.message(error.msg_id, **error.values))
        return 1
    if database.catalog_level() < code.versionnumber or "-a" in options:
        # Logged: on an HADR pair, db2updv runs once, on the primary, and the standby replays it.
        translog.tool_write(database, "SYSIBM", "INSERT INTO SYSVERSIONS VALUES (?, ?, ?, ?)",
                            (code.versionnumber, datetime.datetime.now().strftime("%Y-%m-%d-%H.%M.%S.%f"),
                             instance.name.upper(), code.build))
    instance.diag("Info", tool, "base sys utilities, %s" % tool,
                  "Database %s catalog updated to level %d." % (database.alias, code.versionnumber))
    out("%s completed successfully for database '%s'. \n" % (tool, name))
    return 0


def main(tool, argv):
    return db2updv(tool, argv)


# --- BIND -----------------------------------------------------------------------------------

@commands.command(r"BIND\s+(?P<target>\S+)(?P<options>(?:\s.*)?)")
def bind(clp, target, options):
    data = clp.connection()
    database = clp.require_database(data["db"])
    words = " ".join((options or "").upper().split())
    action_add = "ACTION ADD" in words
    path = Path(target.replace("@", "", 1))
    if not path.is_absolute():
        path = Path(os.getcwd()) / path
    is_list = "@" in target
    label = path.name
    if is_list:
        try:
            files = [path.parent / name.strip().rstrip("+").strip()
                     for name in path.read_text().split("+") if name.strip()]
        except OSError:
            files = None
    else:
        files = [path]
    lines = ["", "LINE    MESSAGES FOR %s" % label, "------  " + "-" * 68,
             "        " + messages.text("SQL0061W")]
    errors = 0
    if files is None or not all(f.is_file() for f in files):
        lines.append("        " + messages.text("SQL0002N"))
        errors = 1
    else:
        errors = _bind_files(database, data["authid"], files, action_add, "BLOCKING ALL" in words,
                             lines)
    if errors:
        lines.append("        " + messages.text("SQL0092N"))
    lines.append("        " + messages.text("SQL0091N", errors=errors, warnings=0))
    clp.write("\n".join(_indent_wrapped(line) for line in lines) + "\n")
    return 4 if errors else 0


def _bind_files(database, authid, files, action_add, blocking, lines):
    values = dbcfg.read(database)
    bound, errors = {}, 0
    with database.schema_connection("SYSCAT") as conn:
        conn.execute(PACKAGES_DDL)
        for bnd in files:
            level = _bind_file_level(bnd)
            package = bnd.stem.upper()[:8]
            key = "BIND_LEVEL.%s" % bnd.name
            if action_add and values.get(key) == level:
                lines.append("        " + messages.text("SQL0719N", user=authid,
                                                        package="NULLID.%s" % package))
                errors += 1
                continue
            conn.execute(
                "INSERT INTO PACKAGES VALUES ('NULLID', ?, ?, 'U', ?, 'U', ?, 'Y', ?, 'CS', "
                "strftime('%Y-%m-%d-%H.%M.%f000', 'now', 'localtime'), "
                "strftime('%Y-%m-%d-%H.%M.%f000', 'now', 'localtime'), "
                "strftime('%Y-%m-%d-%H.%M.%f000', 'now', 'localtime')) "
                "ON CONFLICT (PKGSCHEMA, PKGNAME) DO UPDATE SET BOUNDBY = excluded.BOUNDBY, "
                "VALID = 'Y', EXPLICIT_BIND_TIME = excluded.EXPLICIT_BIND_TIME, "
                "LAST_BIND_TIME = excluded.LAST_BIND_TIME",
                (package, authid, authid, authid, "B" if blocking else "U"))
            bound[key] = level
    if bound:
        dbcfg.update(database, bound)
    return errors


def _bind_file_level(bnd):
    """The Db2 level a bind file belongs to (the stand-in's .bnd files name it)."""
    text = bnd.read_text(errors="replace").split()
    return text[-1] if text else ""


def _indent_wrapped(line):
    """Bind messages wrap under their text, as in the real layout (IBM CLI bind docs)."""
    if not line.startswith("        ") or len(line) <= 78:
        return line
    msg_id, text = line[8:].split("  ", 1)
    wrapped = textwrap.wrap(text, 50)
    wrapped[0] = "%s  %s" % (msg_id, wrapped[0])
    return "\n".join(["        " + wrapped[0]] + ["                  " + w for w in wrapped[1:]])


messages.CATALOG.update({
    "SQL0002N": "The bind file name is not valid.",
    "SQL0061W": "The binder is in progress.",
    "SQL0091N": 'Binding was ended with "{errors}" errors and "{warnings}" warnings.',
    "SQL0092N": "No package was created because of previous errors.",
    "SQL0719N": 'Bind error for user "{user}".  Package "{package}" already exists.  SQLSTATE=42710',
})
