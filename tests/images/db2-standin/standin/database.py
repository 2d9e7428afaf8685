"""Databases on storage: Db2's directory layout, with SQLite files holding the schemas.

  <DFTDBPATH>/<inst>/NODE0000/SQL0000n/            the local database directory (real Db2)
  <DFTDBPATH>/<inst>/NODE0000/SQL0000n/MEMBER0000/ shown as "Database path"
  <DFTDBPATH>/<inst>/NODE0000/SQL0000n/standin/<SCHEMA>.sqlite   one SQLite file per schema
  <DFTDBPATH>/<inst>/NODE0000/<NAME>/T0000000/     automatic storage path (real Db2)

The catalog level of a database is the last row of SYSIBM.SYSVERSIONS, as in real Db2 where
it records the code levels the database was created with or moved to.
"""
import re
import sqlite3
from pathlib import Path

from . import levels

VALID_NAME = re.compile(r"^[A-Z@#$][A-Z0-9@#$]{0,7}$")
BUSY_TIMEOUT = 30  # seconds: concurrent CLP processes wait for each other's writes


class Database:
    def __init__(self, instance, alias, entry):
        self.instance = instance
        self.alias = alias
        self.name = entry["name"]
        self.local_dir = Path(entry["path"]) / instance.name / "NODE0000" / entry["token"]
        self.store = self.local_dir / "standin"

    @property
    def path(self):
        """What `list active databases` shows as the database path."""
        return "%s/MEMBER0000/" % self.local_dir

    @classmethod
    def lookup(cls, instance, alias):
        entry = instance.directory().get(alias.upper())
        return cls(instance, alias.upper(), entry) if entry else None

    @classmethod
    def create(cls, instance, name, level):
        """Create and catalog database `name` at `level` (caller checked the name is free)."""
        root = Path(instance.dbm_cfg()["DFTDBPATH"])
        node = root / instance.name / "NODE0000"
        used = {p.name for p in node.glob("SQL0*")} if node.exists() else set()
        token = next("SQL%05d" % n for n in range(1, 100000) if "SQL%05d" % n not in used)
        entry = {"name": name, "token": token, "path": str(root)}
        database = cls(instance, name, entry)
        for directory in (database.store, database.local_dir / "MEMBER0000", node / name / "T0000000"):
            directory.mkdir(parents=True, exist_ok=True)
        with database.schema_connection("SYSIBM") as conn:
            conn.executescript("""
                CREATE TABLE SYSVERSIONS (VERSIONNUMBER INTEGER, VERSION_TIMESTAMP TIMESTAMP,
                                          AUTHID VARCHAR(128), VERSIONBUILDLEVEL VARCHAR(255));
                CREATE TABLE SYSDUMMY1 (IBMREQD CHAR(1));
                INSERT INTO SYSDUMMY1 VALUES ('Y');
            """)
        database.record_version(level)
        instance.catalog(name, entry)
        return database

    def schema_connection(self, schema):
        conn = sqlite3.connect(self.store / ("%s.sqlite" % schema), timeout=BUSY_TIMEOUT)
        return _closing_transaction(conn)

    def record_version(self, level):
        """Add a SYSIBM.SYSVERSIONS row: the database now has `level`'s catalog."""
        with self.schema_connection("SYSIBM") as conn:
            conn.execute("INSERT INTO SYSVERSIONS VALUES (?, strftime('%Y-%m-%d-%H.%M.%f000', 'now', "
                         "'localtime'), ?, ?)", (level.versionnumber, self.instance.name.upper(),
                                                 level.build))

    def catalog_level(self):
        """VERSIONNUMBER of the database's catalog, e.g. 11010404."""
        with self.schema_connection("SYSIBM") as conn:
            return conn.execute("SELECT VERSIONNUMBER FROM SYSVERSIONS ORDER BY rowid DESC LIMIT 1"
                                ).fetchone()[0]

    def release(self):
        """`Database release level` of the directory entry: 14.00 for 11.1, 15.00 for 11.5."""
        number = str(self.catalog_level())
        return levels.parse("%d.%d.%d.%d" % (int(number[:2]), int(number[2:4]), int(number[4:6]),
                                             int(number[6:]))).db_release

    def open(self, schema):
        """A connection for SQL: `schema` attached first so unqualified names resolve to it."""
        conn = sqlite3.connect(":memory:", isolation_level=None, timeout=BUSY_TIMEOUT)
        conn.execute("PRAGMA busy_timeout = %d" % (BUSY_TIMEOUT * 1000))
        self.attach(conn, schema, create=True)
        return conn

    def attach(self, conn, schema, create=False):
        """Attach a schema's file if it exists (or `create`); no-op when attached already."""
        attached = {row[1].upper() for row in conn.execute("PRAGMA database_list")}
        path = self.store / ("%s.sqlite" % schema)
        if schema.upper() in attached or not (create or path.exists()):
            return
        conn.execute("ATTACH DATABASE ? AS %s" % quote_identifier(schema), (str(path),))


def quote_identifier(name):
    return '"%s"' % name.replace('"', '""')


class _closing_transaction:
    """`with` for a short sqlite3 connection: commit on success, always close."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            self.conn.commit()
        self.conn.close()
