"""Version upgrades on the stand-in (11.5 -> 12.1, 11.1 -> 11.5): IBM's two steps by default
(db2iupgrade at start, UPGRADE DATABASE per database, SQL5035N until then), the kind reading
behind DB2_STANDIN_UPGRADE=kind, the UPGRADE DATABASE fault hook, and what an older image does
on storage that was upgraded (tests/images/db2-standin/README.md, "Version upgrades").
"""
import pytest

from test_standin_image import SETUP_DONE, exec_owner, start, start_ready, stop, wait_exit

ROWS = "select id from kept order by id"


def db2level(container):
    return exec_owner(container, "db2level")[1]


def sql(container, db, statement):
    return exec_owner(container, "db2 connect to %s >/dev/null && db2 -x \"%s\"; rc=$?; "
                                 "db2 terminate >/dev/null; exit $rc" % (db, statement))


def release_levels(container):
    out = exec_owner(container, "db2 list db directory")[1]
    return [line.split("=")[1].strip() for line in out.splitlines() if "Database release level" in line]


def with_rows(containers, image, name, storage):
    first = start_ready(containers, image, name, storage, DBNAME="TESTDB", ARCHIVE_LOGS="false")
    code, out = exec_owner(first, "db2 connect to testdb && db2 'create table kept (id int)' && "
                                  "db2 'insert into kept values (7)' && db2 terminate && "
                                  "db2 deactivate db testdb")
    assert code == 0, out
    return first


@pytest.mark.parametrize("level, tokens", [
    ("11.5.9.0", ('DB2 code release "SQL11059" with level identifier "060A010F".\n'
                  'Informational tokens are "DB2 v11.5.9.0", "s2310270807", "DYN2310270807AMD64",\n'
                  'and Fix Pack "0".\nProduct is installed at "/opt/ibm/db2/V11.5".\n')),
    ("12.1.0.0", ('DB2 code release "SQL12010" with level identifier "0701010F".\n'
                  'Informational tokens are "DB2 v12.1.0.0", "s2411151100", "DYN2411151100AMD64",\n'
                  'and Fix Pack "0".\nProduct is installed at "/opt/ibm/db2/V12.1".\n')),
])
def test_new_levels_report_their_tokens(standin_images, containers, unique_name, level, tokens):
    container = start_ready(containers, standin_images[level], unique_name)
    assert " ".join(tokens.split()) in " ".join(db2level(container).split())
    tool = "db2updv115" if level.startswith("11.5") else "db2updv121"
    assert exec_owner(container, "command -v %s" % tool)[0] == 0


def test_strict_upgrade_leaves_databases_until_upgrade_database(standin_images, containers, storage, unique_name):
    old = with_rows(containers, standin_images["11.5.8.0"], unique_name + "-a", storage)
    assert stop(old) == 0
    new = start_ready(containers, standin_images["12.1.0.0"], unique_name + "-b", storage,
                      DBNAME="TESTDB", DB2_STANDIN_UPGRADE="strict")
    log = new.logs().decode()
    assert "(*) Upgrading instance ... " in log and "DBI1070I  Program db2iupgrade completed successfully." in log
    assert "Upgrading database" not in log
    assert 'Informational tokens are "DB2 v12.1.0.0"' in db2level(new)  # the instance is at 12.1
    assert release_levels(new) == ["15.00"]
    code, out = exec_owner(new, "db2 connect to testdb")
    assert (code, out) == (4, "SQL5035N  The connection failed because the database product has been updated\n"
                              "and the database needs to be upgraded  SQLSTATE=55001\n")
    code, out = exec_owner(new, "db2 activate db testdb")
    assert code == 4 and out.startswith("SQL5035N")
    code, out = exec_owner(new, "db2updv121 -d testdb")
    assert code != 0 and "SQL5035N" in out, "db2updv cannot stand in for UPGRADE DATABASE"
    # The database must not be in use; then IBM's answer.
    code, out = exec_owner(new, "db2 upgrade database nosuch")
    assert code == 4 and 'SQL1013N  The database alias name or database name "NOSUCH" could not' in out
    code, out = exec_owner(new, "db2 upgrade database testdb")
    assert (code, out) == (0, "DB20000I  The UPGRADE DATABASE command completed successfully.\n")
    assert release_levels(new) == ["16.00"]
    assert sql(new, "testdb", ROWS) == (0, "          7\n")
    # Again, on an upgraded database: SQL1103W (IBM: also returned when nothing was upgraded).
    code, out = exec_owner(new, "db2 upgrade db testdb")
    assert (code, out) == (2, "SQL1103W  The UPGRADE DATABASE command was completed successfully.\n")


def test_kind_reading_upgrades_the_databases_at_start(standin_images, containers, storage, unique_name):
    old = with_rows(containers, standin_images["11.1.4.4"], unique_name + "-a", storage)
    assert stop(old) == 0
    new = start_ready(containers, standin_images["11.5.9.0"], unique_name + "-b", storage,
                      DB2_STANDIN_UPGRADE="kind")
    assert "(*) Upgrading database TESTDB from V11.1 to V11.5 ...\n" \
           "DB20000I  The UPGRADE DATABASE command completed successfully.\n" in new.logs().decode()
    assert sql(new, "testdb", ROWS) == (0, "          7\n")
    assert exec_owner(new, "db2 upgrade db testdb")[0] == 2  # SQL1103W: already upgraded


def test_unknown_reading_is_refused_before_storage_changes(standin_images, containers, storage, unique_name):
    container = start(containers, standin_images["11.5.9.0"], unique_name, storage, DB2_STANDIN_UPGRADE="lenient")
    code, out, err = wait_exit(container)
    assert code == 1 and err == "(!) DB2_STANDIN_UPGRADE must be strict or kind.\n" and SETUP_DONE not in out
    assert list(storage.iterdir()) == []


def test_failed_upgrade_database_and_the_way_back(standin_images, containers, storage, unique_name):
    """The fault hook fails UPGRADE DATABASE half way (SQL1704N reason 7: restore from a backup). The
    way back IBM's way: the instance directory as it was before db2iupgrade, the old image, then
    RESTORE of the backup taken before the upgrade."""
    old = with_rows(containers, standin_images["11.5.8.0"], unique_name + "-a", storage)
    code, out = exec_owner(old, "mkdir -p /database/data/backup && db2 backup db testdb to /database/data/backup")
    assert code == 0, out
    assert stop(old) == 0
    keep = "cp -a /database/config/db2inst1 /database/config/.db2inst1.before"
    assert old.client.containers.run(standin_images["11.5.8.0"], ["-c", keep], entrypoint="bash", remove=True,
                                     volumes={str(storage): {"bind": "/database", "mode": "rw"}}) == b""
    new = start_ready(containers, standin_images["12.1.0.0"], unique_name + "-b", storage,
                      DB2_STANDIN_UPGRADE="strict", STANDIN_FAULT_UPGRADE_DATABASE="TESTDB")
    code, out = exec_owner(new, "db2 upgrade db testdb")
    assert (code, out) == (4, 'SQL1704N  Database upgrade or update request failed.  Reason code "7".\n')
    code, out = exec_owner(new, "db2 connect to testdb")
    assert code == 4 and out.startswith('SQL0276N  The connection failed because the database is in "restore')
    assert exec_owner(new, "db2 upgrade db testdb")[1].endswith('Reason code "7".\n')
    assert stop(new) == 0
    # The old image refuses the upgraded instance ...
    refused = start(containers, standin_images["11.5.8.0"], unique_name + "-c", storage)
    code, _out, err = wait_exit(refused)
    assert code == 1 and "last updated by Db2 12.1.0.0" in err
    # ... and starts on the instance directory kept before the upgrade; the database is 12.1's now.
    back = "rm -rf /database/config/db2inst1 && mv /database/config/.db2inst1.before /database/config/db2inst1"
    old.client.containers.run(standin_images["11.5.8.0"], ["-c", back], entrypoint="bash", remove=True,
                              volumes={str(storage): {"bind": "/database", "mode": "rw"}})
    again = start_ready(containers, standin_images["11.5.8.0"], unique_name + "-d", storage)
    code, out = exec_owner(again, "db2 connect to testdb")
    assert (code, out) == (4, "SQL1091C  The release number of the database is unsupported.  SQLSTATE=08004\n")
    code, out = exec_owner(again, "db2 restore db testdb from /database/data/backup without prompting")
    assert code == 2 and "DB20000I  The RESTORE DATABASE command completed successfully." in out, out
    assert sql(again, "testdb", ROWS) == (0, "          7\n")
    assert release_levels(again) == ["15.00"]
