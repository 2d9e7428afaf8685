"""Catalog and administrative views that are computed, not stored: SYSIBMADM.REG_VARIABLES (the
registry, as `db2set` shows it) and SYSCAT.TABLES (the tables and views of every schema).

A statement naming one gets it as a temporary table filled just before it runs (the pattern of
ldapplugin's AUTH_LIST_GROUPS_FOR_AUTHID). Columns: IBM's names, the subset clients read
(REG_VARIABLES: https://www.ibm.com/docs/en/db2/11.5?topic=views-reg-variables;
SYSCAT.TABLES: https://www.ibm.com/docs/en/db2/11.5?topic=views-syscattables).
"""
import re
import sqlite3
from pathlib import Path

from . import commands

REG_VARIABLES = re.compile(r"\bSYSIBMADM\s*\.\s*REG_VARIABLES\b", re.I)
TABLES = re.compile(r"\bSYSCAT\s*\.\s*TABLES\b", re.I)
VIEWS = {("SYSTOOLS", "ADMIN_TASK_LIST"), ("SYSTOOLS", "ADMIN_TASK_STATUS")}  # views in Db2


@commands.sql_rewrite
def computed_views(clp, conn, text):
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
