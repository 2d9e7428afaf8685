# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two ways to run the same Db2 operations, picked at run time (STYLE: backend behind an
interface): the CLP inside the container over `docker exec` (default), and ibm_db to a Db2
server's port. Both offer:

  registry(name)              instance registry value (db2set), None when unset
  read_ats(database, procs)   what ATS needs: active?, SYSTOOLSPACE?, known procedures, tasks
  read_status(database)       ADMIN_TASK_STATUS rows (runs), the server's clock (now) and the
                              session's authorization ID (authid): the view shows its tasks' runs only
  apply(database, steps)      run ("activate", db) / ("sql", text) / ("call", proc, params) steps
  set_registry(name, value)   db2set (CLP only)

The CLP transport puts values into SQL as quoted literals (ats.sql_literal); the ibm_db
transport never does: every value travels as a bound parameter.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import traceback

from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionFailed, mask_secrets
from ansible_collections.db2ops.docker.plugins.module_utils._ats import tasks as ats
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import (
    RC_ERROR,
    Db2Clp,
    Db2Error,
    active_databases,
    parse_messages,
)

try:
    import ibm_db

    HAS_IBM_DB = True
    IBM_DB_IMPORT_ERROR = None
except ImportError:  # reported through missing_required_lib() when the ibm_db transport is used
    ibm_db = None
    HAS_IBM_DB = False
    IBM_DB_IMPORT_ERROR = traceback.format_exc()

# Documented in doc_fragments/db2.py.
DB2_CONNECTION_ARGS = dict(
    transport=dict(type="str", default="docker_exec", choices=["docker_exec", "ibm_db"]),
    container=dict(type="str"),
    database=dict(type="str", required=True),
    exec_timeout=dict(type="int", default=300),
    db_host=dict(type="str"),
    db_port=dict(type="int", default=50001),
    db_user=dict(type="str"),
    db_password=dict(type="str", no_log=True),
    db_ssl=dict(type="bool", default=True),
    db_ssl_ca=dict(type="path"),
)
DB2_REQUIRED_IF = [
    ["transport", "docker_exec", ["container"]],
    ["transport", "ibm_db", ["db_host", "db_user", "db_password"]],
]

_NAME = re.compile(r"^[A-Za-z@#$][A-Za-z0-9@#$]{0,7}$")  # database names and aliases


def check_database_name(name):
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError("database is not a Db2 database name (1-8 letters, digits, @ # $, not starting with a digit)")
    return name.upper()


class ApplyError(ActionFailed):
    """A step failed; `done` lists the steps that had run (and were kept) before it."""

    def __init__(self, message, done):
        super(ApplyError, self).__init__(message)
        self.done = done


# ---------------------------------------------------------------------------------------------
# CLP over docker exec

class ClpSession:
    """The CLP of one container: each read or apply is one `docker exec`, one CLP session."""

    name = "docker_exec"

    def __init__(self, api, container_id, instance, timeout=300):
        self.clp = Db2Clp(api, container_id, instance, timeout=timeout)

    def registry(self, name):
        result = self.clp.shell("db2set %s" % name)
        value = result.stdout.strip()
        if result.rc != 0 or not value or parse_messages(value):
            return None  # DBI1303W  Variable not set.
        return value

    def set_registry(self, name, value):
        result = self.clp.shell("db2set %s=%s" % (name, value))
        if result.rc != 0:
            raise Db2Error("db2set %s=%s failed: %s" % (name, value, (result.stdout + result.stderr).strip()))

    @staticmethod
    def render(step):
        kind = step[0]
        if kind == "activate":
            return "ACTIVATE DATABASE %s" % step[1]
        if kind == "sql":
            return step[1]
        return ats.call_sql(step[1], step[2])

    def read_ats(self, database, procedures=()):
        """One session: active databases (before our own connection makes it active), then
        SYSTOOLSPACE, the procedures, the task list."""
        statements = ["LIST ACTIVE DATABASES", "CONNECT TO %s" % database, ats.SYSTOOLSPACE_QUERY]
        schemas = sorted(set(schema for schema, _name in procedures))
        if schemas:
            statements.append("SELECT ROUTINESCHEMA, ROUTINENAME FROM SYSCAT.ROUTINES WHERE ROUTINETYPE = 'P' "
                              "AND ROUTINESCHEMA IN (%s)" % ", ".join(ats.sql_literal(s) for s in schemas))
        statements += [ats.CLP_LIST_QUERY, "CONNECT RESET"]
        results = self.clp.run_script(statements, stop_on_error=False)
        connect = results[1]
        if connect.rc >= RC_ERROR:
            raise self.clp.error_for(connect)
        for item in results[2:-2]:
            if item.rc >= RC_ERROR:
                raise self.clp.error_for(item)
        routines = set()
        if schemas:
            routines = set((row["ROUTINESCHEMA"], row["ROUTINENAME"]) for row in results[3].rows or [])
        return dict(active=database.upper() in [d.upper() for d in active_databases(results[0].output)],
                    systoolspace=bool(results[2].rows), routines=routines,
                    tasks=self._rows(results[-2]))

    def read_status(self, database):
        results = self.clp.run_script(["CONNECT TO %s" % database, ats.STATUS_QUERY, ats.CLOCK_QUERY,
                                       "CONNECT RESET"], stop_on_error=False)
        if results[0].rc >= RC_ERROR:
            raise self.clp.error_for(results[0])
        if results[2].rc >= RC_ERROR:
            raise self.clp.error_for(results[2])
        clock = (results[2].rows or [{}])[0]
        return dict(runs=self._rows(results[1]), now=clock.get("NOW"), authid=clock.get("AUTHID"))

    def _rows(self, result):
        """Rows of a SYSTOOLS query; none when the table does not exist yet (no ADD ever ran)."""
        if result.rc >= RC_ERROR:
            if result.error and result.error.code == "SQL0204N":
                return []
            raise self.clp.error_for(result)
        return result.rows or []

    def apply(self, database, steps):
        """All steps in one CLP session; stops at the first error (the CLP's -s)."""
        pre = [self.render(s) for s in steps if s[0] == "activate"]
        body = [self.render(s) for s in steps if s[0] != "activate"]
        statements = pre + ["CONNECT TO %s" % database] + body + ["CONNECT RESET"]
        try:
            self.clp.run_script(statements)
        except Db2Error as exc:
            done = statements[:statements.index(exc.statement)] if exc.statement in statements else []
            raise ApplyError(str(exc), [s for s in done if s in pre + body])
        return pre + body

    def close(self):
        pass


# ---------------------------------------------------------------------------------------------
# ibm_db to the server's port

class IbmDbSession:
    """ibm_db to one database: bound parameters only, one unit of work per apply()."""

    name = "ibm_db"

    def __init__(self, host, port, database, user, password, ssl=True, ssl_ca=None, driver=None):
        self.db = driver or ibm_db
        parts = ["DATABASE=%s" % check_database_name(database), "HOSTNAME=%s" % host, "PORT=%d" % port,
                 "PROTOCOL=TCPIP", "UID=%s" % user, "PWD=%s" % password]
        if ssl:
            parts.append("SECURITY=SSL")
            if ssl_ca:
                parts.append("SSLServerCertificate=%s" % ssl_ca)
        for value in (host, user, password, ssl_ca or ""):
            if ";" in value:  # a connection string keyword separator cannot be escaped
                raise ValueError("db_host, db_user, db_password and db_ssl_ca must not contain ';'")
        self.database = database.upper()
        try:
            self.conn = self.db.connect(";".join(parts) + ";", "", "")
        except Exception as exc:
            raise Db2Error("cannot connect to database %s at %s:%d: %s"
                           % (self.database, host, port, mask_secrets(str(exc), [password])))
        self.db.autocommit(self.conn, self.db.SQL_AUTOCOMMIT_OFF)

    def _query(self, sql, params=()):
        stmt = self.db.prepare(self.conn, sql)
        self.db.execute(stmt, tuple(params))
        rows = []
        row = self.db.fetch_assoc(stmt)
        while row:
            rows.append(row)
            row = self.db.fetch_assoc(stmt)
        return rows

    def registry(self, name):
        rows = self._query("SELECT REG_VAR_VALUE FROM SYSIBMADM.REG_VARIABLES WHERE REG_VAR_NAME = ?", (name,))
        return rows[0]["REG_VAR_VALUE"] if rows else None

    def set_registry(self, name, value):
        raise Db2Error("db2set cannot run over ibm_db: set %s=%s on the server (or use transport "
                       "docker_exec)" % (name, value))

    def _check_database(self, database):
        if database.upper() != self.database:
            raise Db2Error("this ibm_db session is connected to %s, not %s" % (self.database, database))

    def read_ats(self, database, procedures=()):
        self._check_database(database)
        routines = set()
        for schema, name in sorted(set(procedures)):
            if self._query("SELECT ROUTINESCHEMA, ROUTINENAME FROM SYSCAT.ROUTINES WHERE ROUTINETYPE = 'P' "
                           "AND ROUTINESCHEMA = ? AND ROUTINENAME = ?", (schema, name)):
                routines.add((schema, name))
        return dict(
            active=None,  # connected means active; explicit activation cannot be seen from here
            systoolspace=bool(self._query("SELECT TBSPACE FROM SYSCAT.TABLESPACES WHERE TBSPACE = ?",
                                          ("SYSTOOLSPACE",))),
            routines=routines,
            tasks=self._query(ats.LIST_QUERY) if self._has_view("ADMIN_TASK_LIST") else [])

    def read_status(self, database):
        self._check_database(database)
        clock = self._query(ats.CLOCK_QUERY)[0]
        return dict(runs=self._query(ats.STATUS_QUERY) if self._has_view("ADMIN_TASK_STATUS") else [],
                    now=clock["NOW"], authid=clock["AUTHID"])

    def _has_view(self, name):
        return bool(self._query("SELECT 1 FROM SYSCAT.TABLES WHERE TABSCHEMA = ? AND TABNAME = ?",
                                ("SYSTOOLS", name)))

    def apply(self, database, steps):
        """All steps in one unit of work: committed together, or rolled back together."""
        self._check_database(database)
        done = []
        try:
            for step in steps:
                if step[0] == "activate":
                    raise Db2Error("ACTIVATE DATABASE cannot run over ibm_db: activate %s on the server "
                                   "(or use transport docker_exec)" % step[1])
                if step[0] == "sql":
                    self.db.exec_immediate(self.conn, step[1])
                else:
                    self._call(step[1], step[2])
                done.append(ClpSession.render(step))
            self.db.commit(self.conn)
        except Exception as exc:
            self.db.rollback(self.conn)
            raise ApplyError("%s (rolled back: nothing was changed)" % exc, [])
        return done

    def _call(self, procedure, params):
        """CALL with a parameter marker per value and NULL for None: ibm_db's callproc() sends None
        for an INTEGER parameter as 0 (IBM's driver against a DRDA server, ibm_db 3.3.0), and
        ADMIN_TASK_ADD's MAX_INVOCATIONS 0 is not NULL. `procedure` is the collection's own name."""
        sql = "CALL %s(%s)" % (procedure, ", ".join("NULL" if value is None else "?" for value in params))
        stmt = self.db.prepare(self.conn, sql)
        self.db.execute(stmt, tuple(value for value in params if value is not None))

    def close(self):
        self.db.close(self.conn)
