"""After a fix pack on re-used storage (11.1.3.3a -> 11.1.4.4): db2updv111, binds, the
"needs db2updv" warning, and restoring an image of the older catalog level
(tests/images/db2-standin/README.md, "Fix packs: db2updv and binds").
"""
import uuid

import pytest

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, wait_for_log
from test_standin_image import SETUP_DONE, exec_owner

LEVELS = "select versionnumber from sysibm.sysversions order by version_timestamp"
BIND_OK = ("\nLINE    MESSAGES FOR {0}\n"
           "------  --------------------------------------------------------------------\n"
           "        SQL0061W  The binder is in progress.\n"
           "        SQL0091N  Binding was ended with \"0\" errors and \"0\" warnings.\n")


@pytest.fixture(scope="module")
def updated(standin_images, docker_client, tmp_path_factory):
    """TESTDB created at 11.1.3.3a (with a backup image), then the storage under 11.1.4.4."""
    storage = tmp_path_factory.mktemp("db2fs-fixpack")
    volumes = {str(storage): {"bind": "/database", "mode": "rw"}}
    env = {**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB"}
    names = ("db2ops-t-fp-old-", "db2ops-t-fp-new-")
    suffix = uuid.uuid4().hex[:8]
    old = docker_client.containers.run(standin_images["11.1.3.3a"], name=names[0] + suffix,
                                       detach=True, environment=env, volumes=volumes)
    new = None
    try:
        wait_for_log(old, SETUP_DONE)
        code, out = exec_owner(old, "db2 connect to testdb && db2 'create table kept (id int)' && "
                                    "db2 'insert into kept values (7)' && db2 terminate && "
                                    "db2 deactivate db testdb && db2 backup db testdb to /database/backup")
        assert code == 0, out
        old.stop(timeout=10)
        new = docker_client.containers.run(standin_images["11.1.4.4"], name=names[1] + suffix,
                                           detach=True, environment=env, volumes=volumes)
        wait_for_log(new, SETUP_DONE)
        yield new
    finally:
        for container in (new, old):
            if container is not None:
                container.remove(force=True, v=True)


def sql(container, statement):
    return exec_owner(container, "db2 connect to testdb >/dev/null && db2 -x \"%s\"; rc=$?; "
                                 "db2 terminate >/dev/null; exit $rc" % statement)


def test_db2updv_brings_the_catalog_to_the_code_level(updated):
    # Before: the catalog is at the old fix pack, and db2start said so in db2diag.log.
    assert sql(updated, LEVELS)[1].split() == ["11010303"]
    code, log = exec_owner(updated, "cat ~/sqllib/db2dump/DIAG0000/db2diag.log")
    assert 'Database TESTDB: the catalog level 11010303 is older than the code level 11010404. Run ' \
           '"db2updv111 -d TESTDB"' in log
    # The tool of the other version does not exist on this image.
    code, out = exec_owner(updated, "db2updv115 -d testdb")
    assert code == 127 and "db2updv115: command not found" in out
    code, out = exec_owner(updated, "db2updv111 -d nosuchdb")
    assert code != 0 and 'SQL1013N  The database alias name or database name "NOSUCHDB" could not' in out
    code, out = exec_owner(updated, "cd $DB2DIR/bin && ./db2updv111 -d testdb")
    assert (code, out) == (0, "DB2 Universal Database Version 11.1, 5622-044 (c) Copyright IBM Corp. 2016\n"
                              "Licensed Material - Program Property of IBM\n"
                              "IBM DATABASE 2 Database update to current fix pack tool\n\n"
                              "db2updv111 completed successfully for database 'testdb'. \n")
    assert sql(updated, LEVELS)[1].split() == ["11010303", "11010404"]
    assert sql(updated, "select id from kept")[1].split() == ["7"]  # data untouched
    # Idempotent: a second run changes nothing.
    assert exec_owner(updated, "db2updv111 -d testdb")[0] == 0
    assert sql(updated, LEVELS)[1].split() == ["11010303", "11010404"]


def test_binds_need_a_connection_and_are_recorded(updated):
    code, out = exec_owner(updated, "db2 terminate >/dev/null; db2 bind ~/sqllib/bnd/@db2ubind.lst "
                                    "blocking all grant public action add")
    assert (code, out) == (4, "SQL1024N  A database connection does not exist.  SQLSTATE=08003\n")
    # IBM's procedure (facts 3.2), run as the instance owner.
    code, out = exec_owner(updated, "db2 connect to testdb >/dev/null && cd ~/sqllib/bnd && "
                                    "db2 bind db2schema.bnd blocking all grant public sqlerror continue && "
                                    "db2 bind @db2ubind.lst blocking all grant public action add && "
                                    "db2 bind $HOME/sqllib/bnd/@db2cli.lst blocking all grant public action add")
    assert code == 0, out
    assert out == BIND_OK.format("db2schema.bnd") + BIND_OK.format("db2ubind.lst") + BIND_OK.format("db2cli.lst")
    code, out = sql(updated, "select count(*) from syscat.packages where pkgschema = 'NULLID' and "
                             "last_bind_time > (select max(version_timestamp) from sysibm.sysversions)")
    assert out.split() == ["17"]  # 14 utilities, 2 CLI packages and db2schema, bound after db2updv
    # Rebinding with ACTION ADD at the same level: SQL0719N per package, as IBM says is expected.
    code, out = exec_owner(updated, "db2 connect to testdb >/dev/null && "
                                    "db2 bind ~/sqllib/bnd/@db2cli.lst blocking all grant public action add")
    assert code == 4
    assert out.count("SQL0719N  Bind error for user \"DB2INST1\".  Package") == 2
    assert out.endswith('        SQL0091N  Binding was ended with "2" errors and "0" warnings.\n')


def test_restore_of_an_older_fix_pack_image_keeps_its_catalog_level(updated):
    code, out = exec_owner(updated, "db2 terminate; db2 deactivate db testdb; ts=$(ls /database/backup | "
                                    "sort | tail -1 | cut -d. -f5); db2 restore db testdb from /database/backup "
                                    "taken at $ts without rolling forward without prompting")
    assert "DB20000I  The RESTORE DATABASE command completed successfully." in out, out
    assert sql(updated, LEVELS)[1].split() == ["11010303"]  # db2updv is needed again
    code, out = sql(updated, "select count(*) from syscat.packages")
    assert code == 4 and "SQL0204N" in out  # the image predates the binds
    assert exec_owner(updated, "db2updv111 -d testdb")[0] == 0
    assert sql(updated, LEVELS)[1].split() == ["11010303", "11010404"]
