# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What IBM asks for after a fix pack, on every database: db2updvNNN where a catalog is behind
the code, then the binds; and the databases that were active activated again.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionFailed
from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import activate_statement
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Error, parse_level
from ansible_collections.db2ops.docker.plugins.module_utils._db2.hadr import STANDBY, read_status

# IBM's bind files after a fix pack (IBM: "Binding bind files after installing fix packs").
BIND_STATEMENTS = (
    "BIND {bnd}/db2schema.bnd BLOCKING ALL GRANT PUBLIC SQLERROR CONTINUE",
    "BIND {bnd}/@db2ubind.lst BLOCKING ALL GRANT PUBLIC ACTION ADD",
    "BIND {bnd}/@db2cli.lst BLOCKING ALL GRANT PUBLIC ACTION ADD",
)
# Bind messages that report, not fail: in progress, the summary, "package already exists".
BIND_BENIGN = ("SQL0061W", "SQL0091N", "SQL0719N", "SQL0092N", "DB21034E")
_CATALOG_QUERY = "SELECT VERSIONNUMBER FROM SYSIBM.SYSVERSIONS ORDER BY VERSION_TIMESTAMP DESC FETCH FIRST 1 ROWS ONLY"


class PostUpgradeError(ActionFailed):
    """A post-upgrade command failed; the text names it and quotes Db2's answer."""


def versionnumber_level(number):
    """SYSIBM.SYSVERSIONS.VERSIONNUMBER 11010404 -> (11, 1, 4, 4)."""
    text = "%08d" % int(number)
    return tuple(int(text[i:i + 2]) for i in range(0, 8, 2))


def catalog_levels(clp, databases):
    """Each database's catalog level (SYSIBM.SYSVERSIONS), None where nothing tells; one CLP session."""
    statements = []
    for database in databases:
        statements += ["CONNECT TO %s" % database, _CATALOG_QUERY, "CONNECT RESET"]
    results = clp.run_script(statements, stop_on_error=False)
    if len(results) < len(statements):
        raise Db2Error("the CLP stopped while reading the catalog levels of %s" % ", ".join(databases))
    levels = []
    for index, database in enumerate(databases):
        connect, select = results[3 * index], results[3 * index + 1]
        for item in (connect, select):
            error = item.error
            if error and not (item is select and error.code == "SQL0204N"):  # no SYSVERSIONS: unknown
                raise Db2Error("%s: %s failed: %s %s" % (database, item.statement, error.code, error.text),
                               statement=item.statement, db2_message=error)
        rows = [] if select.error else (select.rows or [])
        levels.append(versionnumber_level(rows[0]["VERSIONNUMBER"]) if rows else None)
    return levels


def run_post_upgrade(clp, databases, instance_home, target_level, activate, recorder):
    """Run the post-upgrade commands through `recorder` (an ActionRecorder); returns what was done.

    In check mode the catalogs are not read (the new container does not exist yet): db2updv is
    planned for every database, marked "(if needed)", and nothing runs.
    """
    target = parse_level(target_level)[:4]
    tool = "db2updv%d%d" % (target[0], target[1])
    done = []
    if recorder.check_mode:
        recorder.record(*["%s -d %s (if needed)" % (tool, database) for database in databases])
        catalogs = []
    else:
        catalogs = catalog_levels(clp, databases)
    for database, catalog in zip(databases, catalogs):
        if catalog is not None and catalog < target:
            command = "%s -d %s" % (tool, database)
            result = recorder.do(command, clp.shell, command)
            if result.rc != 0:
                raise PostUpgradeError("%s failed (rc=%s): %s" % (command, result.rc,
                                                                  (result.stdout + result.stderr).strip()[-400:]))
            done.append(command)
    statements = []
    for database in databases:
        statements.append("CONNECT TO %s" % database)
        statements += [s.format(bnd=instance_home + "/sqllib/bnd") for s in BIND_STATEMENTS]
        statements.append("CONNECT RESET")
    statements += [activate_statement(name) for name in activate]
    recorder.record(*statements)
    if recorder.check_mode:
        return ["binds on %s" % database for database in databases] + ["activated %s" % name for name in activate]
    for item in clp.run_script(statements, stop_on_error=False):
        benign = BIND_BENIGN if item.statement.startswith("BIND ") else ()
        bad = [m for m in item.messages if m.is_error and m.code not in benign]
        if bad:
            raise PostUpgradeError("%s failed: %s %s" % (item.statement, bad[0].code, bad[0].text))
    done += ["binds on %s" % database for database in databases]
    done += ["activated %s" % name for name in activate]
    return done


def choose_databases(clp, cataloged, wanted, container):
    """(databases to run the tasks on, HADR standby databases left out) for db2_post_upgrade.

    `wanted` (checked names, upper case) must be cataloged and not standbys; empty means every
    cataloged database that is not a standby. A standby refuses connections (SQL1776N) and gets the
    primary's db2updv through the log, so the tasks run once, on the primary. Raises
    PostUpgradeError (nothing changed) otherwise. The roles are read in one exec."""
    unknown = [name for name in wanted if name not in cataloged]
    if unknown:
        raise PostUpgradeError("databases: %s not cataloged in container %s (it has: %s)"
                               % (", ".join(unknown), container, ", ".join(cataloged) or "none"))
    candidates = wanted or cataloged
    roles = read_status(clp, candidates)
    standby = [name for name in candidates if roles[name.upper()].role == STANDBY]
    if wanted and standby:
        raise PostUpgradeError("databases: %s is an HADR standby in container %s; run the post-upgrade tasks on the "
                               "primary (its catalog changes reach the standby through the log)"
                               % (", ".join(standby), container))
    return [name for name in candidates if name not in standby], standby
