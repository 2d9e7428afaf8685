"""_db2/backup.py's drivers (run_backup, run_restore, list_images) against the fake daemon's Db2."""
import pytest
from fake_docker import FakeDocker

from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import (
    list_images,
    recent_images,
    run_backup,
    run_restore,
)
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Clp, Db2Error


@pytest.fixture
def daemon():
    fake = FakeDocker()
    fake.add_image("db2:11.5.8.0", level="11.5.8.0")
    fake.add_db2("db2", "db2:11.5.8.0", databases=("SALES", "TESTDB"), active=("TESTDB",))
    yield fake
    assert fake.unexpected == []


@pytest.fixture
def clp(daemon):
    return Db2Clp(daemon, daemon.container("db2")["Id"], "db2inst1", timeout=30)


def test_offline_backup_reactivates_what_was_active(daemon, clp):
    backups, commands = run_backup(clp, ["SALES", "TESTDB"], "/database/backup", reactivate=["TESTDB"])
    assert [(b["database"], b["mode"], len(b["files"])) for b in backups] == [
        ("SALES", "offline", 1), ("TESTDB", "offline", 1)]
    assert commands == ["install -d -o db2inst1 /database/backup",
                        "DEACTIVATE DATABASE SALES", "BACKUP DATABASE SALES TO /database/backup WITHOUT PROMPTING",
                        "DEACTIVATE DATABASE TESTDB", "BACKUP DATABASE TESTDB TO /database/backup WITHOUT PROMPTING",
                        "ACTIVATE DATABASE TESTDB"]
    assert daemon.container("db2")["_db2"].active == ["TESTDB"]
    images = list_images(clp, "/database/backup")
    assert [i["database"] for i in images] == ["SALES", "TESTDB"]
    assert recent_images(images, ["SALES", "NONE"], max_age=10 ** 12) == {"SALES": images[0]}


def test_a_backup_without_a_timestamp_or_a_writable_path_fails(daemon, clp):
    daemon.container("db2")["_db2"].failures["^BACKUP"] = "Backup ended oddly."
    with pytest.raises(Db2Error, match="backup of SALES printed no timestamp"):
        run_backup(clp, ["SALES"], "/database/backup")
    daemon.on_exec(r"test -w", (1, "install: cannot create directory: Permission denied"))
    with pytest.raises(Db2Error, match="cannot be created or written by db2inst1: install: cannot create"):
        run_backup(clp, ["SALES"], "/database/backup")


def test_restore_offline_then_online_image(daemon, clp):
    assert run_restore(clp, "SALES", "/b", "20260101120000", check_mode=True) == (False, [
        "DEACTIVATE DATABASE SALES",
        "RESTORE DATABASE SALES FROM /b TAKEN AT 20260101120000 REPLACE EXISTING WITHOUT ROLLING FORWARD WITHOUT PROMPTING"])
    assert run_restore(clp, "SALES", "/b", "20260101120000")[0] is False
    daemon.container("db2")["_db2"].failures["WITHOUT ROLLING FORWARD"] = (
        "SQL2537N  Roll-forward is required following the Restore.")
    rolled, commands = run_restore(clp, "SALES", "/b", "20260101120000", into="COPY", force_applications=True)
    assert rolled is True and commands[:2] == ["FORCE APPLICATION ALL", "DEACTIVATE DATABASE COPY"]
    assert commands[-1] == ("ROLLFORWARD DATABASE COPY TO END OF BACKUP AND COMPLETE OVERFLOW LOG PATH "
                            "(/b/logs-COPY-20260101120000)")
    daemon.container("db2")["_db2"].failures["WITHOUT ROLLING FORWARD"] = "SQL2542N  No match for a database image file."
    with pytest.raises(Db2Error, match="SQL2542N"):
        run_restore(clp, "SALES", "/b", "20260101120000", target_exists=False)
