"""The Db2 stand-in: Db2 command-line tools imitated in Python on top of SQLite.

Modules: levels (what this image claims to be), messages (Db2 message texts and wrapping),
instance (instance files, runtime state, database directory), database (SQLite databases and
the Db2 SQL dialect), clp (the `db2` command), tools (db2level, db2start, db2set, ...),
setup (db2icrt/db2iupdt and the storage checks used by the container entrypoint).
"""
