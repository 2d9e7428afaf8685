"""Catalog and administrative views that are computed, not stored: SYSIBMADM.REG_VARIABLES (the
registry, as `db2set` shows it), SYSCAT.TABLES (the tables and views of every schema), and, in the
strict ATS reading, SYSTOOLS.ADMIN_TASK_LIST / ADMIN_TASK_STATUS as the session authorization ID
may see them.

A statement naming one gets it as a temporary table filled just before it runs (the pattern of
ldapplugin's AUTH_LIST_GROUPS_FOR_AUTHID). Columns: IBM's names, the subset clients read
(REG_VARIABLES: https://www.ibm.com/docs/en/db2/11.5?topic=views-reg-variables;
SYSCAT.TABLES: https://www.ibm.com/docs/en/db2/11.5?topic=views-syscattables).
"""
import re
import sqlite3
from pathlib import Path

from . import atspolicy, commands

REG_VARIABLES = re.compile(r"\bSYSIBMADM\s*\.\s*REG_VARIABLES\b", re.I)
TABLES = re.compile(r"\bSYSCAT\s*\.\s*TABLES\b", re.I)
VIEWS = {("SYSTOOLS", "ADMIN_TASK_LIST"), ("SYSTOOLS", "ADMIN_TASK_STATUS")}  # views in Db2
ATS_VIEW = re.compile(r'\bSYSTOOLS\s*\.\s*"?(ADMIN_TASK_LIST|ADMIN_TASK_STATUS)\b"?(?![\w.])', re.I)
# After a table reference: words that start the next clause, not a correlation name.
CLAUSE = re.compile(r"\s*(?:$|[,;)]|(?:WHERE|ORDER|GROUP|HAVING|FETCH|LIMIT|OFFSET|FOR|WITH|UNION|EXCEPT|"
                    r"INTERSECT|JOIN|INNER|LEFT|RIGHT|FULL|CROSS|NATURAL|ON|USING)\b)", re.I)


@commands.sql_rewrite
def computed_views(clp, conn, text, _authid):
    if REG_VARIABLES.search(text):
        rows = [(0, name, value, value, 0, None, "I") for name, value in clp.instance.registry().items()]
        text = REG_VARIABLES.sub(_fill(conn, "REG_VARIABLES", "MEMBER SMALLINT, REG_VAR_NAME VARCHAR(256), "
                                       "REG_VAR_VALUE VARCHAR(2048), REG_VAR_ON_DISK_VALUE VARCHAR(2048), "
                                       "IS_AGGREGATE SMALLINT, AGGREGATE_NAME VARCHAR(256), LEVEL CHAR(1)",
                                       rows), text)
    if TABLES.search(text):
        rows = [(schema, table, "V" if (schema, table) in VIEWS else "T", schema)
                for schema, table in _tables(conn)]
        text = TABLES.sub(_fill(conn, "TABLES", "TABSCHEMA VARCHAR(128), TABNAME VARCHAR(128), "
                                "TYPE CHAR(1), OWNER VARCHAR(128)", rows), text)
    return text


@commands.sql_rewrite
def ats_views(clp, conn, text, authid):
    """Strict reading (IBM r0054374, r0054375): ADMIN_TASK_LIST returns the tasks created by the
    session authorization ID (every task for SYSADM, SYSCTRL, SYSMAINT or DBADM), ADMIN_TASK_STATUS
    only the status records of its tasks. Queries only; a missing view still gives SQL0204N."""
    words = text.split(None, 1)
    if (not words or words[0].upper() not in ("SELECT", "WITH", "VALUES") or not ATS_VIEW.search(text)
            or not atspolicy.strict(clp.instance)):
        return text
    owner = "OWNER = '%s'" % authid.replace("'", "''")
    sees_all = atspolicy.administers(clp.instance, authid)

    def replace(match):
        view = match.group(1).upper()
        if view == "ADMIN_TASK_LIST":
            if sees_all:
                return match.group(0)
            where = owner
        else:
            where = "TASKID IN (SELECT TASKID FROM SYSTOOLS.ADMIN_TASK_LIST WHERE %s)" % owner
        named = not CLAUSE.match(text, match.end())  # the query names it itself
        return "(SELECT * FROM SYSTOOLS.%s WHERE %s)%s" % (view, where, "" if named else " " + view)
    return ATS_VIEW.sub(replace, text)


def _fill(conn, name, columns, rows):
    table = "CATALOG_%s" % name
    conn.execute('DROP TABLE IF EXISTS temp."%s"' % table)
    conn.execute('CREATE TEMP TABLE "%s" (%s)' % (table, columns))
    if rows:
        conn.executemany('INSERT INTO temp."%s" VALUES (%s)' % (table, ", ".join("?" * len(rows[0]))), rows)
    return 'temp."%s"' % table


def _tables(conn):
    """(schema, table) of every schema file of the database (attached or not)."""
    files = [Path(row[2]) for row in conn.execute("PRAGMA database_list") if row[2]]
    found = []
    for path in sorted(files[0].parent.glob("*.sqlite")) if files else ():
        reader = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
        try:
            found += [(path.stem.upper(), row[0].upper()) for row in
                      reader.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
        except sqlite3.Error:
            continue
        finally:
            reader.close()
    return found
