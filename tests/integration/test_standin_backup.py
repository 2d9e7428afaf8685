"""Backup, restore, rollforward, db cfg and FORCE APPLICATION of the Db2 stand-in image
(tests/images/db2-standin/README.md, "Backup and restore"), against a real container.

One module-scoped 11.1.4.4 container with TESTDB (archive logging on, as IBM's image sets it
up) serves the tests; each test leaves TESTDB unconnected and not explicitly active.
"""
import shutil
import uuid

import pytest

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log
from test_standin_image import SETUP_DONE, exec_owner

IMAGE_RE = r"TESTDB\.0\.db2inst1\.DBPART000\.(\d{14})\.001"
ROWS = "select id, name, hex(name) from kept order by id"


@pytest.fixture(scope="module")
def db(standin_images, docker_client, tmp_path_factory):
    storage = tmp_path_factory.mktemp("db2fs-backup")
    container = docker_client.containers.run(
        standin_images["11.1.4.4"], name="db2ops-t-bk-" + uuid.uuid4().hex[:8], detach=True,
        environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB"},
        volumes={str(storage): {"bind": "/database", "mode": "rw"}})
    try:
        wait_for_log(container, SETUP_DONE)
        code, out = exec_owner(container, "db2 deactivate db testdb && mkdir -p /database/config/db2inst1/bk && "
                                          "db2 connect to testdb && db2 'create table kept (id int, "
                                          "name varchar(20))' && db2 \"insert into kept values "
                                          "(1, 'one'), (2, 'tw''o é')\" && db2 terminate")
        assert code == 0, out
        yield container
    finally:
        container.remove(force=True, v=True)
        shutil.rmtree(storage, ignore_errors=True)


def owner(container, command, stdin=None):
    return exec_owner(container, command, stdin)


def backup(container, options=""):
    code, out = owner(container, "db2 backup database testdb %s to /database/config/db2inst1/bk" % options)
    assert code == 0, out
    assert out.startswith("\nBackup successful. The timestamp for this backup image is : ")
    assert out.endswith("\n\n")
    return out.split(" : ")[1].strip()


def rows(container):
    code, out = owner(container, "db2 connect to testdb >/dev/null && db2 -x '%s'; rc=$?; "
                                 "db2 terminate >/dev/null; exit $rc" % ROWS)
    assert code == 0, out
    return out


def test_first_start_enables_archive_logging_and_backs_up(db):
    log = db.logs().decode()
    assert "### Enabling LOGARCHMETH1\n" in log
    assert "### Making backup directory and performing backup\n\nBackup successful." in log
    code, out = owner(db, "db2 get db cfg for testdb; ls -l /database/backup")
    assert code == 0
    assert " First log archive method                 (LOGARCHMETH1) = LOGRETAIN\n" in out
    assert " Backup pending                                          = NO\n" in out
    assert " Rollforward pending                                     = NO\n" in out
    assert "-rw------- 1 db2inst1 db2iadm1 " in out and "TESTDB.0.db2inst1.DBPART000." in out


def test_backup_restore_gives_back_the_same_rows(db):
    before = rows(db)
    timestamp = backup(db)
    code, out = owner(db, "ls -ln /database/config/db2inst1/bk | grep %s" % timestamp)
    assert code == 0 and " 1000 1000 " in out  # owned by the instance owner
    code, out = owner(db, "db2 connect to testdb >/dev/null && db2 \"update kept set name = 'changed'\" "
                          "&& db2 'insert into kept values (3, null)' && db2 terminate")
    assert code == 0, out
    assert rows(db) != before
    code, out = owner(db, "db2 restore database testdb from /database/config/db2inst1/bk taken at %s "
                          "without rolling forward without prompting" % timestamp)
    # Over the database of the same name: SQL2539W, and the restore carries on (return code 2).
    assert code == 2, out
    assert out.startswith("SQL2539W  The specified name of the backup image to restore is the same as the \n")
    assert out.endswith("DB20000I  The RESTORE DATABASE command completed successfully.\n")
    assert rows(db) == before


def test_offline_backup_and_restore_refuse_a_database_in_use(db):
    timestamp = backup(db)
    for command in ("db2 backup db testdb to /database/config/db2inst1/bk",
                    "db2 restore db testdb from /database/config/db2inst1/bk taken at %s without prompting" % timestamp):
        code, out = owner(db, "db2 connect to testdb >/dev/null && " + command + "; rc=$?; db2 terminate >/dev/null; exit $rc")
        assert (code, out) == (4, "SQL1035N  The operation failed because the specified database cannot be \n"
                                  "connected to in the mode requested.  SQLSTATE=57019\n")
    # Explicitly activated counts as in use too; DEACTIVATE makes it free again.
    assert owner(db, "db2 activate db testdb && db2 backup db testdb to /database/config/db2inst1/bk")[0] == 4
    assert owner(db, "db2 deactivate db testdb")[0] == 0
    # FORCE APPLICATION ALL ends other connections: their next request gets SQL1224N.
    code, out = owner(db, "db2 connect to testdb >/dev/null; "
                          "bash -c '. ~/sqllib/db2profile; db2 force application all'; "
                          "db2 'select 1 from sysibm.sysdummy1'; db2 terminate >/dev/null")
    assert "DB20000I  The FORCE APPLICATION command completed successfully.\n" \
           "DB21024I  This command is asynchronous and may not be effective immediately.\n" in out
    assert "SQL1224N" in out
    backup(db)


def test_backup_and_restore_errors(db):
    code, out = owner(db, "db2 backup db testdb to /no/such/dir")
    assert (code, " ".join(out.split())) == (
        4, 'SQL2036N The path for the file, named pipe, or device "/no/such/dir" is not valid.')
    code, out = owner(db, "mkdir -p /tmp/ro && chmod 500 /tmp/ro && db2 backup db testdb to /tmp/ro")
    assert (code, " ".join(out.split())) == (
        4, 'SQL2036N The path for the file, named pipe, or device "/tmp/ro" is not valid.')
    code, out = owner(db, "db2 backup db nodb to /database/config/db2inst1/bk")
    assert code == 4 and out.startswith('SQL1013N  The database alias name or database name "NODB" could not')
    code, out = owner(db, "db2 restore db testdb from /database/config/db2inst1/bk taken at 19990101000000 without prompting")
    assert code == 4
    assert out == ('SQL2542N  No match for a database image file was found based on the source \n'
                   'database alias "TESTDB" and timestamp "19990101000000" provided.\n')


def test_online_backup_needs_archive_logging_and_leaves_rollforward_pending(db):
    before = rows(db)
    code, out = owner(db, "db2 connect to testdb >/dev/null && db2 backup db testdb online to /database/config/db2inst1/bk "
                          "include logs; rc=$?; db2 terminate >/dev/null; exit $rc")
    assert code == 0, out  # online: allowed while connected
    timestamp = out.split(" : ")[1].strip()
    assert owner(db, "db2 connect to testdb >/dev/null && db2 'delete from kept' && db2 terminate")[0] == 0
    # An online image cannot be restored without rolling forward.
    code, out = owner(db, "db2 restore db testdb from /database/config/db2inst1/bk taken at %s without rolling forward "
                          "without prompting" % timestamp)
    assert (code, out) == (4, "SQL2537N  Roll-forward is required following the Restore.\n")
    code, out = owner(db, "mkdir -p /database/config/db2inst1/logs && db2 restore db testdb from /database/config/db2inst1/bk taken at %s "
                          "logtarget /database/config/db2inst1/logs replace existing without prompting; echo rc=$?; "
                          "ls /database/config/db2inst1/logs" % timestamp)
    assert out.endswith("completed successfully.\nrc=2\nS0000000.LOG\n"), out
    code, out = owner(db, "db2 connect to testdb")
    assert (code, out) == (4, 'SQL1117N  A connection to or activation of database "TESTDB" cannot be made \n'
                              'because of ROLL-FORWARD PENDING.  SQLSTATE=57019\n')
    assert "Rollforward pending                                     = DATABASE" in owner(
        db, "db2 get db cfg for testdb")[1]
    code, out = owner(db, "db2 'rollforward db testdb to end of backup and complete overflow log path "
                          "(/database/config/db2inst1/logs)'")
    assert code == 0, out
    assert out.startswith("\n                                 Rollforward Status\n\n"
                          " Input database alias                   = testdb\n"
                          " Number of members have returned status = 1\n\n"
                          " Member ID                              = 0\n"
                          " Rollforward status                     = not pending\n"
                          " Next log file to be read               =\n"
                          " Log files processed                    = S0000000.LOG - S0000000.LOG\n"
                          " Last committed transaction             = ")
    assert out.endswith(" UTC\n\nDB20000I  The ROLLFORWARD command completed successfully.\n")
    assert rows(db) == before


def test_restore_into_a_new_database(db):
    timestamp = backup(db, "compress")
    code, out = owner(db, "db2 restore db testdb from /database/config/db2inst1/bk taken at %s into copydb "
                          "without rolling forward without prompting" % timestamp)
    assert code == 0, out
    assert out == "DB20000I  The RESTORE DATABASE command completed successfully.\n"
    code, out = owner(db, "db2 connect to copydb >/dev/null && db2 -x '%s'" % ROWS)
    assert (code, out) == (0, rows(db))


def test_archive_logs_false_and_db_cfg_updates(standin_images, containers, storage, unique_name):
    container = containers.run(standin_images["11.5.8.0"], unique_name,
                               environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB",
                                            "ARCHIVE_LOGS": "false"},
                               volumes={str(storage): {"bind": "/database", "mode": "rw"}})
    log = wait_for_log(container, SETUP_DONE)
    assert "LOGARCHMETH1" not in log and not (storage / "backup").exists()
    code, out = owner(container, "db2 get db cfg for testdb")
    assert " First log archive method                 (LOGARCHMETH1) = OFF\n" in out
    code, out = owner(container, "db2 connect to testdb >/dev/null && db2 backup db testdb online to /tmp")
    assert (code, out) == (4, "SQL2413N  Online backup is not allowed because the database is not recoverable\n"
                              "or a backup pending condition is in effect.\n")
    # Turning archive logging on leaves the database backup pending until an offline backup.
    code, out = owner(container, "db2 terminate >/dev/null; db2 update db cfg for testdb using LOGARCHMETH1 "
                                 "DISK:/tmp; db2 deactivate db testdb; db2 connect to testdb")
    assert "DB20000I  The UPDATE DATABASE CONFIGURATION command completed successfully.\n" in out
    assert out.endswith('SQL1116N  A connection to or activation of database "TESTDB" cannot be made\n'
                        'because of BACKUP PENDING.  SQLSTATE=57019\n')
    assert code == 4
    assert owner(container, "db2 backup db testdb online to /tmp")[0] == 4  # SQL2413N: backup pending
    assert owner(container, "db2 backup db testdb to /tmp && db2 connect to testdb")[0] == 0
    code, out = owner(container, "db2 update db cfg for testdb using NOSUCHPARAM 1")
    assert code == 4 and out.startswith('SQL0104N  An unexpected token "NOSUCHPARAM" was found')
