"""The Db2 stand-in image against what IBM's images do (tests/images/db2-standin/README.md).

Real daemon, real images, no mocks. Every test owns its containers and storage; a
module-scoped container serves the CLP tests that only read or use their own tables.
"""
import hashlib
import os
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import BASE_DB2_ENV, FAST_SETUP_ENV, run_db2, wait_for_log

SETUP_DONE = "(*) Setup has completed."

# The cookbook's db2level slides (recipe 1), as transcribed: one space after DB21085I on the
# 11.1.3.3a slide and no comma after the DYN token on both are transcription artefacts (the
# facts file, 2.1, shows IBM's format: two spaces, comma). See the stand-in's README.
COOKBOOK_DB2LEVEL = {
    "11.1.3.3a": 'DB21085I This instance or install (instance name, where applicable: "db2inst1") '
                 'uses "64" bits and DB2 code release "SQL11013" with level identifier "0204010F". '
                 'Informational tokens are "DB2 v11.1.3.3", "s1804271300", "DYN1804271300AMD64" '
                 'and Fix Pack "3a". Product is installed at "/opt/ibm/db2/V11.1".',
    "11.1.4.4": 'DB21085I  This instance or install (instance name, where applicable: "db2inst1") '
                'uses "64" bits and DB2 code release "SQL11014" with level identifier "0205010F". '
                'Informational tokens are "DB2 v11.1.4.4", "s1811091400", "DYN1811091400AMD64" '
                'and Fix Pack "4". Product is installed at "/opt/ibm/db2/V11.1".',
}

# Facts file 2.1, 11.5.8.0 community image: no blank at the wrap points, blank line at the end.
FACTS_DB2LEVEL_11580 = (
    'DB21085I  This instance or install (instance name, where applicable:\n'
    '"db2inst1") uses "64" bits and DB2 code release "SQL11058" with level\n'
    'identifier "0609010F".\n'
    'Informational tokens are "DB2 v11.5.8.0", "s2209201700", "DYN2209201700AMD64",\n'
    'and Fix Pack "0".\n'
    'Product is installed at "/opt/ibm/db2/V11.5".\n\n'
)

# The cookbook's recipe-2 script, run from /var/custom (its `sqlllib` typo corrected).
ACTIVATE_DBS = """#!/bin/bash
# activate-dbs.sh -- Activate databases known to this container
if [[ ${UID} -eq 0 ]] ; then
    exec su - ${DB2INSTANCE} -c ${0}
fi

. ${HOME}/sqllib/db2profile

for db in `db2fupdt -f /database/config/instance.cfg -s database -p list | sed -e 's/,/ /g'` ; do
    echo "(*) Activating database ${db}..."
    db2 activate database ${db}
done
"""


def start(containers, image, name, storage=None, **env):
    """Run a stand-in container with the usual env (plus `env`) and `storage` as /database."""
    volumes = {str(storage): {"bind": "/database", "mode": "rw"}} if storage else None
    return containers.run(image, name, environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, **env},
                          volumes=volumes)


def start_ready(containers, image, name, storage=None, **env):
    container = start(containers, image, name, storage, **env)
    wait_for_log(container, SETUP_DONE)
    return container


def exec_owner(container, command, stdin=None):
    """`docker exec -u db2inst1 ... bash -c '. db2profile && ...'`, as the collection runs it."""
    script = '. "$HOME/sqllib/db2profile" && ' + command
    result = subprocess.run(["docker", "exec", "-i", "-u", "db2inst1", container.id, "bash", "-c", script],
                            input=stdin or "", capture_output=True, text=True, timeout=120, check=False)
    return result.returncode, result.stdout + result.stderr


def wait_for_log_count(container, needle, count, timeout=60):
    """Poll the log until `needle` appeared `count` times (restarts repeat lines); return it."""
    deadline = time.monotonic() + timeout
    while True:
        log = container.logs().decode("utf-8", "replace")
        if log.count(needle) >= count:
            return log
        assert time.monotonic() < deadline, "timed out waiting for %r x%d:\n%s" % (needle, count, log)
        time.sleep(0.2)


def wait_exit(container, timeout=60):
    """Wait for a container to exit; return (exit code, stdout, stderr)."""
    code = container.wait(timeout=timeout)["StatusCode"]
    return (code, container.logs(stdout=True, stderr=False).decode(),
            container.logs(stdout=False, stderr=True).decode())


def stop(container):
    """docker stop with docker's default grace period; the exit code tells who ended it."""
    container.stop(timeout=10)
    container.reload()
    return container.attrs["State"]["ExitCode"]


def storage_digest(root):
    """Hash of a directory tree: paths, types, modes, owners, symlink targets and contents."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            entry = "%s %o %d %d\n" % (os.path.relpath(path, root), info.st_mode, info.st_uid, info.st_gid)
            digest.update(entry.encode())
            if os.path.islink(path):
                digest.update(os.readlink(path).encode())
            elif os.path.isfile(path):
                with open(path, "rb") as handle:
                    digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def testdb(standin_images, docker_client, tmp_path_factory):
    """A running 11.1.4.4 stand-in with database TESTDB, shared by the CLP tests."""
    storage = tmp_path_factory.mktemp("db2fs-clp")
    container = docker_client.containers.run(
        standin_images["11.1.4.4"], name="db2ops-t-clp-" + uuid.uuid4().hex[:8], detach=True,
        environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB"},
        volumes={str(storage): {"bind": "/database", "mode": "rw"}})
    try:
        wait_for_log(container, SETUP_DONE)
        yield container
    finally:
        container.remove(force=True, v=True)
        shutil.rmtree(storage, ignore_errors=True)


# --- db2level -------------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["11.1.3.3a", "11.1.4.4"])
def test_db2level_11_1_matches_cookbook(standin_images, containers, unique_name, level):
    container = start_ready(containers, standin_images[level], unique_name)
    result = container.exec_run(["su", "-", "db2inst1", "-c", "db2level"])  # as in the cookbook
    out = result.output.decode()
    assert result.exit_code == 0
    # IBM's 11.1 format: the blank a line was broken at stays at its end; a blank line ends it.
    lines = out.split("\n")
    assert [line.endswith(" ") for line in lines[:6]] == [True, True, False, True, False, False]
    assert out.endswith('Product is installed at "/opt/ibm/db2/V11.1".\n\n')
    assert max(len(line.rstrip()) for line in lines) <= 78
    # Same words as the cookbook's transcript, except the comma the slides lost.
    assert 'AMD64", \nand Fix Pack' in out
    assert " ".join(out.split()) == " ".join(COOKBOOK_DB2LEVEL[level].split()).replace(
        'AMD64" and Fix Pack', 'AMD64", and Fix Pack')


def test_db2level_11_5_matches_facts_sample(standin_images, containers, unique_name):
    container = start_ready(containers, standin_images["11.5.8.0"], unique_name)
    code, out = run_db2(container, "db2level")
    assert (code, out) == (0, FACTS_DB2LEVEL_11580)


# --- setup flow -----------------------------------------------------------------------------

def test_license_missing_or_refused(standin_images, containers, unique_name):
    env = {"DB2INST1_PASSWORD": "x"}
    missing = containers.run(standin_images["11.5.8.0"], unique_name + "-a", environment=env)
    assert wait_exit(missing)[::2] == (1, "Error: you need to accept the license\n"
                                          "Did you forget to add '-e LICENSE=accept' ?\n")
    refused = containers.run(standin_images["11.5.8.0"], unique_name + "-b",
                             environment={**env, "LICENSE": "yes"})
    assert wait_exit(refused)[::2] == (
        1, "error: LICENSE not set to 'accept'\nPlease set '-e LICENSE=accept' to accept License "
           "before use the DB2 software contained in this image.\n")


def test_password_missing(standin_images, containers, unique_name):
    container = containers.run(standin_images["11.1.4.4"], unique_name, environment={"LICENSE": "accept"})
    assert wait_exit(container)[::2] == (
        1, '\nerror: DB2INST1_PASSWORD not set\nDid you forget to add -e "DB2INST1_PASSWORD=..." ?\n')


def test_first_start_then_recreate_at_newer_fix_pack(standin_images, containers, storage, unique_name):
    first = start_ready(containers, standin_images["11.1.3.3a"], unique_name + "-a", storage,
                        DBNAME="testdb", TEXT_SEARCH="true")
    log = first.logs().decode()
    for line in ("(*) Previous setup has not been detected. Creating the users... \n",
                 "DBI1070I  Program db2icrt completed successfully.",
                 "SQL1063N  DB2START processing was successful.",
                 "(*) Starting TEXT SEARCH service ...\nCIE00001 Operation completed successfully. \n",
                 "(*) User chose to create testdb database",
                 "DB20000I  The CREATE DATABASE command completed successfully.",
                 "(*) All databases are now active. \n(*) Setup has completed.\n"):
        assert line in log
    assert run_db2(first, "id -u; id -gn; echo $HOME") == (0, "1000\ndb2iadm1\n/database/config/db2inst1\n")
    assert run_db2(first, "db2fupdt -f /database/config/instance.cfg -s database -p list") == (0, "TESTDB\n")
    code, out = exec_owner(first, "db2 connect to testdb && db2 'create table kept (id int, name varchar(10))'"
                                  " && db2 \"insert into kept values (1, 'one'), (2, 'two')\"")
    assert code == 0, out
    # docker stop: db2stop, then a clean exit well before docker would kill (137).
    assert stop(first) == 0
    assert first.logs().decode().rstrip().endswith("SQL1064N  DB2STOP processing was successful.")
    first.remove()
    assert (storage / "config/db2inst1/sqllib/.instuse").read_text() == "V=11\nR=1\nM=3\nF=3\n"

    second = start_ready(containers, standin_images["11.1.4.4"], unique_name + "-b", storage, DBNAME="testdb")
    log = second.logs().decode()
    assert "(*) Configuring/updating instance ... \n" in log
    assert "DBI1070I  Program db2iupdt completed successfully." in log
    assert "User chose to create" not in log  # databases are created on the first start only
    assert (storage / "config/db2inst1/sqllib/.instuse").read_text() == "V=11\nR=1\nM=4\nF=4\n"
    code, out = exec_owner(second, "db2 connect to testdb >/dev/null && db2 -x 'select id, name from kept order by id'"
                                   " && db2 -x 'select versionnumber from sysibm.sysversions'")
    # The data survived; the catalog stays at 11.1.3.3 until db2updv111 runs.
    assert (code, out.split()) == (0, ["1", "one", "2", "two", "11010303"])
    assert 'DB2 v11.1.4.4", "s1811091400"' in run_db2(second, "db2level")[1]


def test_older_fix_pack_refuses_newer_storage(standin_images, containers, storage, unique_name):
    first = start_ready(containers, standin_images["11.1.4.4"], unique_name + "-a", storage, DBNAME="TESTDB")
    assert stop(first) == 0
    before = storage_digest(storage)
    older = start(containers, standin_images["11.1.3.3a"], unique_name + "-b", storage)
    code, out, err = wait_exit(older)
    assert code == 1
    assert "(!) The instance on this storage was last updated by Db2 11.1.4.4; this image has Db2 " \
           "11.1.3.3a." in err
    assert SETUP_DONE not in out
    assert storage_digest(storage) == before


def test_version_upgrade_is_irreversible(standin_images, containers, storage, unique_name):
    first = start_ready(containers, standin_images["11.1.4.4"], unique_name + "-a", storage, DBNAME="TESTDB")
    assert stop(first) == 0
    # The kind reading upgrades the databases at start (the strict one: test_standin_version_upgrade.py).
    upgraded = start_ready(containers, standin_images["11.5.8.0"], unique_name + "-b", storage,
                           DB2_STANDIN_UPGRADE="kind")
    log = upgraded.logs().decode()
    assert "DBI1070I  Program db2iupgrade completed successfully." in log
    assert "(*) Upgrading database TESTDB from V11.1 to V11.5 ...\n" \
           "DB20000I  The UPGRADE DATABASE command completed successfully.\n" in log
    code, out = run_db2(upgraded, "db2 list db directory")
    assert code == 0 and " Database release level               = 15.00\n" in out
    assert stop(upgraded) == 0
    before = storage_digest(storage)
    back = start(containers, standin_images["11.1.4.4"], unique_name + "-c", storage)
    code, _out, err = wait_exit(back)
    assert code == 1 and "last updated by Db2 11.5.8.0" in err
    assert storage_digest(storage) == before


def test_storage_lock_refuses_second_container(standin_images, containers, storage, unique_name):
    first = start_ready(containers, standin_images["11.1.4.4"], unique_name + "-a", storage, DBNAME="TESTDB")
    before = storage_digest(storage)
    second = start(containers, standin_images["11.1.4.4"], unique_name + "-b", storage)
    code, out, err = wait_exit(second)
    assert code == 1
    assert err.startswith("(!) /database is in use by another running Db2 container")
    assert out == ""
    assert storage_digest(storage) == before
    first.reload()
    assert first.status == "running"
    assert run_db2(first, "db2gcf -s")[0] == 0
    code, out = run_db2(first, "db2 connect to testdb >/dev/null && db2 -x 'values 42'")
    assert (code, out.strip()) == (0, "42")


def test_failsetup_exits_and_leaves_storage_identical(standin_images, containers, storage, unique_name):
    first = start_ready(containers, standin_images["11.1.4.4"], unique_name + "-a", storage, DBNAME="TESTDB")
    assert stop(first) == 0
    before = storage_digest(storage)
    failing = start(containers, standin_images["failsetup"], unique_name + "-b", storage)
    code, out, err = wait_exit(failing)
    assert code == 1
    assert "DBI1069E  Unexpected error. Function = create_instance, Return code = 13." in out
    assert err.startswith("(!) ")
    assert storage_digest(storage) == before


def test_neverready_never_completes_and_stops_promptly(standin_images, containers, storage, unique_name):
    container = start(containers, standin_images["neverready"], unique_name, storage)
    wait_for_log(container, "(*) Previous setup has not been detected. Creating the users... ")
    time.sleep(4)  # several simulated setup times
    assert SETUP_DONE not in container.logs().decode()
    assert list(storage.iterdir()) == []
    assert stop(container) == 0


def test_custom_scripts_run_after_setup_and_on_restart(standin_images, containers, storage, unique_name,
                                                       tmp_path):
    custom = tmp_path / "custom"
    custom.mkdir()
    (custom / "activate_dbs.sh").write_text(ACTIVATE_DBS)
    (custom / "activate_dbs.sh").chmod(0o755)
    container = containers.run(standin_images["11.1.4.4"], unique_name,
                               environment={**BASE_DB2_ENV, **FAST_SETUP_ENV, "DBNAME": "TESTDB"},
                               volumes={str(storage): {"bind": "/database", "mode": "rw"},
                                        str(custom): {"bind": "/var/custom", "mode": "ro"}})
    # Wait for the script's db2 output too, not only its first line.
    log = wait_for_log_count(container, "been activated on one or more nodes.\n", 1)
    assert log.index(SETUP_DONE) < log.index("(*) Running user-provided scripts ... \n") \
        < log.index("(*) Running activate_dbs.sh ...\n")
    # Setup activated the database it created, so the script's ACTIVATE only warns.
    assert "SQL1490W  Activate database is successful, however, the database has already \n" \
           "been activated on one or more nodes.\n" in log
    # docker restart: same instance and database; now the script is what activates it.
    container.restart(timeout=10)
    log = wait_for_log_count(container, "DB20000I  The ACTIVATE DATABASE command completed successfully.", 2)
    restart = log[log.rindex("(*) Configuring/updating instance ... "):]
    assert "User chose to create" not in restart
    assert "(*) Activating database TESTDB...\nDB20000I  The ACTIVATE DATABASE" in restart
    code, out = run_db2(container, "db2 list active databases")
    assert code == 0 and "Database name                              = TESTDB" in out


# --- CLP --------------------------------------------------------------------------------------

def test_clp_return_codes_and_messages(testdb):
    code, out = run_db2(testdb, "db2 connect to testdb && db2 'create table rc_t (id int)' "
                                "&& db2 'insert into rc_t values (1)' && db2 'select id from rc_t'")
    assert code == 0
    assert out.endswith("\nID         \n-----------\n          1\n\n  1 record(s) selected.\n\n")
    code, out = run_db2(testdb, "db2 connect to testdb >/dev/null; db2 'select id from rc_t where id = 2'")
    assert (code, out) == (1, "\nID         \n-----------\n\n  0 record(s) selected.\n\n")
    code, out = run_db2(testdb, "db2 connect to testdb >/dev/null; db2 'select * from nope'")
    assert (code, out) == (4, 'SQL0204N  "DB2INST1.NOPE" is an undefined name.  SQLSTATE=42704\n')
    code, out = run_db2(testdb, "db2 'values 1'")
    assert (code, out) == (4, "SQL1024N  A database connection does not exist.  SQLSTATE=08003\n")
    code, out = run_db2(testdb, "db2 connect to nosuch")
    assert (code, out) == (4, 'SQL1013N  The database alias name or database name "NOSUCH" could not be '
                              '\nfound.  SQLSTATE=42705\n')


def test_clp_connect_with_password(testdb):
    code, out = run_db2(testdb, "db2 connect to testdb user db2inst1 using wrong")
    assert (code, out) == (4, 'SQL30082N  Security processing failed with reason "24" ("USERNAME AND/OR \n'
                              'PASSWORD INVALID").  SQLSTATE=08001\n')
    code, out = run_db2(testdb, "db2 connect to testdb user db2inst1 using %s" % BASE_DB2_ENV["DB2INST1_PASSWORD"])
    assert (code, out) == (0, "\n   Database Connection Information\n\n"
                              " Database server        = DB2/LINUXX8664 11.1.4.4\n"
                              " SQL authorization ID   = DB2INST1\n"
                              " Local database alias   = TESTDB\n\n")


def test_clp_script_on_stdin(testdb):
    """What the collection does: one exec, statements on stdin, -t +p -s, ECHO markers."""
    script = ("ECHO @@M 0@@;\nCONNECT TO testdb USER db2inst1 USING %s;\nECHO @@M 1@@;\n"
              "-- a comment\nSELECT 1 FROM SYSIBM.SYSDUMMY1\n  FETCH FIRST 1 ROWS ONLY;\n"
              "ECHO @@M 2@@;\nSELECT * FROM nope;\nECHO @@M 3@@;\nVALUES 2;\n"
              % BASE_DB2_ENV["DB2INST1_PASSWORD"])
    code, out = exec_owner(testdb, "db2 -t +p -s -f /dev/stdin", stdin=script)
    assert code == 4  # -s: stopped at the error, whose code is the script's
    assert "@@M 2@@\n\nSQL0204N" in out and "@@M 3@@" not in out
    assert "\n1          \n-----------\n          1\n\n  1 record(s) selected.\n" in out
    # Without -s every statement runs; return codes are ORed (1 no rows | 4 error = 5).
    code, out = exec_owner(testdb, "db2 -tv -f /dev/stdin", stdin=(
        "connect to testdb;\nselect 1 from sysibm.sysdummy1 where 1 = 0;\nselect * from nope;\nvalues 3;\n"))
    assert code == 5
    assert out.endswith("values 3\n\n1          \n-----------\n          3\n\n  1 record(s) selected.\n\n\n")


def test_clp_list_active_databases_and_instance_state(testdb):
    code, out = run_db2(testdb, "db2 list active databases")
    assert code == 0
    assert out == ("\n                           Active Databases\n\n"
                   "Database name                              = TESTDB\n"
                   "Applications connected currently           = 0\n"
                   "Database path                              = /database/data/db2inst1/NODE0000/SQL00001/"
                   "MEMBER0000/\n\n")
    code, out = run_db2(testdb, "db2 deactivate database testdb && db2 list active databases")
    assert (code, out) == (2, "DB20000I  The DEACTIVATE DATABASE command completed successfully.\n"
                              "SQL1611W  No data was returned by Database System Monitor.\n")
    code, out = run_db2(testdb, "db2stop && db2gcf -s; echo gcf=$?; db2 list active databases")
    assert "SQL1064N  DB2STOP processing was successful.\n" in out
    assert "\nInstance  : db2inst1\nDB2 State : Operable\n\ngcf=1\n" in out
    assert out.endswith("SQL1032N  No start database manager command was issued.  SQLSTATE=57019\n")
    code, out = run_db2(testdb, "db2start && db2start; echo rc=$?; db2 activate db testdb")
    assert "     0   0   SQL1063N  DB2START processing was successful.\n" in out
    assert "     0   0   SQL1026N  The database manager is already active.\nSQL1026N  The database " \
           "manager is already active.\nrc=1\n" in out
    assert out.endswith("DB20000I  The ACTIVATE DATABASE command completed successfully.\n")


def test_dbm_cfg_and_registry(testdb):
    code, out = run_db2(testdb, "db2 get dbm cfg")
    assert code == 0
    assert " Server Userid-Password Plugin        (SRVCON_PW_PLUGIN) = \n" in out
    assert " Database manager authentication        (AUTHENTICATION) = SERVER\n" in out
    assert " TCP/IP Service name                          (SVCENAME) = db2c_db2inst1\n" in out
    assert " Diagnostic data directory path               (DIAGPATH) = /database/config/db2inst1/sqllib/" \
           "db2dump/ $m\n" in out
    code, out = run_db2(testdb, "db2 update dbm cfg using group_plugin IBMLDAPgroups")
    assert (code, out) == (0, "DB20000I  The UPDATE DATABASE MANAGER CONFIGURATION command completed \n"
                              "successfully.\n")
    assert " Group Plugin                             (GROUP_PLUGIN) = IBMLDAPgroups\n" in \
        run_db2(testdb, "db2 get dbm cfg")[1]
    assert run_db2(testdb, "db2 update dbm cfg using group_plugin NULL")[0] == 0
    code, out = run_db2(testdb, "db2set DB2_ATS_ENABLE=YES && db2set DB2_ATS_ENABLE && db2set -all")
    assert code == 0 and out.startswith("YES\n") and "[i] DB2_ATS_ENABLE=YES\n" in out
    run_db2(testdb, "db2set DB2_ATS_ENABLE=")
    assert run_db2(testdb, "db2set DB2_ATS_ENABLE") == (0, "DBI1303W  Variable not set.\n")


def test_plugin_parameters_take_effect_at_next_db2start(testdb):
    connect = "db2 connect to testdb user db2inst1 using %s" % BASE_DB2_ENV["DB2INST1_PASSWORD"]
    try:
        assert run_db2(testdb, "db2 update dbm cfg using srvcon_pw_plugin MYPLUGIN")[0] == 0
        assert run_db2(testdb, connect)[0] == 0  # configured, not in effect before db2start
        assert run_db2(testdb, "db2stop force && db2start")[0] == 0
        # In effect now; plug-ins other than IBM's LDAP ones are not imitated: passwords fail.
        assert run_db2(testdb, connect) == (4, 'SQL30082N  Security processing failed with reason "15" '
                                               '("PROCESSING FAILURE").  \nSQLSTATE=08001\n')
        # IBM's LDAP plug-in initialises at db2start and, without IBMLDAPSecurity.ini, fails it.
        assert run_db2(testdb, "db2 update dbm cfg using srvcon_pw_plugin IBMLDAPauthserver")[0] == 0
        code, out = run_db2(testdb, "db2stop force; db2start")
        assert code == 1 and out.endswith(
            'SQL1365N  db2start or db2stop failed in processing the plugin \n"IBMLDAPauthserver". '
            'Reason code = "3".\n'), out
        assert run_db2(testdb, "db2gcf -s")[0] == 1  # the instance stays stopped
        assert "MESSAGE : db2ldapReadConfig: can't open config file " \
               "'/database/config/db2inst1/sqllib/cfg/IBMLDAPSecurity.ini'\n" in \
               run_db2(testdb, "cat ~/sqllib/db2dump/DIAG0000/db2diag.log")[1]
    finally:
        run_db2(testdb, "db2 update dbm cfg using srvcon_pw_plugin NULL; db2stop force; db2start; "
                        "db2 activate database testdb")
    assert run_db2(testdb, connect)[0] == 0


def test_clp_sql_results(testdb):
    statements = ("create table sales (id integer not null, item varchar(12), price decimal(7,2), "
                  "sold timestamp); insert into sales values (1, 'tea', 3.5, current timestamp), "
                  "(2, 'cake', null, null); select * from sales order by id; "
                  "update sales set item = 'bun' where id = 9; delete from sales where id = 2; "
                  "select id, item from sales; drop table sales;")
    code, out = exec_owner(testdb, "db2 connect to testdb >/dev/null && db2 -t -f /dev/stdin",
                           stdin=statements)
    assert code == 1  # the UPDATE found no row: SQL0100W, return code 1
    # Widths from the declared types: INTEGER 11, VARCHAR(12) 12, DECIMAL(7,2) 9, TIMESTAMP 26;
    # numbers (and their NULLs) right-aligned, every column padded, the last one too.
    assert "\nID          ITEM         PRICE     SOLD                      \n" \
           "----------- ------------ --------- --------------------------\n" \
           "          1 tea               3.50 20" in out
    assert "\n          2 cake                 - -                         \n" in out
    assert "SQL0100W  No row was found for FETCH, UPDATE or DELETE; or the result of a \n" \
           "query is an empty table.  SQLSTATE=02000\n" in out
    assert out.count("DB20000I  The SQL command completed successfully.") == 4
