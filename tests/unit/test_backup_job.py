"""Offline backup jobs: the generated script, retention (run in a real bash on real files), the filter."""
import re
import shlex
import subprocess
from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.db2ops.docker.plugins.filter.db2_offline_backup_script import db2_offline_backup_script
from ansible_collections.db2ops.docker.plugins.module_utils._db2 import backup
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Error, Db2Message


def make_images(directory, names):
    for name in names:
        (directory / name).write_text("image")


def test_prune_keeps_the_newest_backups_of_that_database_only(tmp_path):
    mine = ["TESTDB.0.db2inst1.DBPART000.20240101010101.001",
            "TESTDB.0.db2inst1.DBPART000.20240102010101.001", "TESTDB.0.db2inst1.DBPART000.20240102010101.002",
            "TESTDB.0.db2inst1.DBPART000.20240103010101.001",
            "TESTDB.0.db2inst1.DBPART000.20240104010101.001"]
    others = ["OTHERDB.0.db2inst1.DBPART000.20230101010101.001",  # another database
              "TESTDB.3.db2inst1.DBPART000.20230101010101.001",  # a table space backup
              "TESTDB.0.db2inst2.DBPART000.20230101010101.001",  # another instance
              "TESTDB.0.db2inst1.DBPART000.20230101010101.001.bak",  # not an image name
              "notes.txt"]
    make_images(tmp_path, mine + others)
    command = backup.prune_command(str(tmp_path), "TESTDB", "db2inst1", 2)
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(mine[3:] + others)
    # A two-file image counts once and goes as a whole.
    assert done.stdout.splitlines() == ["db2ops: pruned %s/%s" % (tmp_path, name) for name in mine[:3]]


def test_prune_with_fewer_backups_than_kept_deletes_nothing(tmp_path):
    make_images(tmp_path, ["TESTDB.0.db2inst1.DBPART000.20240101010101.001"])
    command = backup.prune_command(str(tmp_path), "TESTDB", "db2inst1", 3)
    assert subprocess.run(["bash", "-c", command], capture_output=True, check=False).stdout == b""
    assert len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("keep", [0, -1, "2", 1.5, True])
def test_prune_needs_a_positive_whole_number(keep):
    with pytest.raises(backup.BackupInputError, match="keep must be a whole number"):
        backup.prune_command("/database/backup", "TESTDB", "db2inst1", keep)


def test_offline_script_uses_the_backup_statements_in_order():
    script = backup.offline_backup_script("testdb", "/database/backup/", "db2inst1", keep=7)
    order = [script.index(s) for s in ("FORCE APPLICATION ALL;", "DEACTIVATE DATABASE TESTDB;",
                                       "BACKUP DATABASE TESTDB TO /database/backup WITHOUT PROMPTING;",
                                       "db2 -v ", "db2ops: pruned")]
    assert order == sorted(order)
    assert backup.PREPARE_DIRECTORY.split(";", maxsplit=1)[0] in script.replace("'\"'\"'", "'")
    assert "exec su -s /bin/bash db2inst1 -c " in script and " -it " not in script


def test_offline_script_without_force_or_retention():
    script = backup.offline_backup_script("TESTDB", "/database/backup", "db2inst1", force_applications=False,
                                          compress=True)
    assert "FORCE APPLICATION" not in script and "pruned" not in script
    assert "BACKUP DATABASE TESTDB TO /database/backup COMPRESS WITHOUT PROMPTING;" in script


def test_offline_script_is_valid_bash():
    script = backup.offline_backup_script("TESTDB", "/database/backup", "db2inst1", keep=2)
    assert subprocess.run(["bash", "-n"], input=script, text=True, check=False).returncode == 0


@pytest.mark.parametrize("database, path, message", [
    ("TEST;DB", "/database/backup", "is not a Db2 database name"),
    ("TOOLONGNAME", "/database/backup", "is not a Db2 database name"),
    ("TESTDB", "relative/path", "must be an absolute path"),
    ("TESTDB", "/database/backup; rm -rf /", "must be an absolute path"),
    ("TESTDB", "/database/../etc", "must be an absolute path"),
])
def test_offline_script_refuses_bad_input(database, path, message):
    with pytest.raises(backup.BackupInputError, match=message):
        backup.offline_backup_script(database, path, "db2inst1")


def test_filter_defaults_and_coercion():
    script = db2_offline_backup_script({"name": "n", "database": "TESTDB", "keep": "3",
                                        "force_applications": "no"}, instance_owner="db2inst9")
    assert "/database/backup" in script and "head -n -3" in script and "FORCE APPLICATION" not in script
    assert "exec su -s /bin/bash db2inst9 " in script


@pytest.mark.parametrize("job, message", [
    ({"name": "n", "database": "TESTDB", "keep": 0}, "job n: keep must be"),
    ({"name": "n"}, "job n: None is not a Db2 database name"),
    ({"name": "n", "database": "TESTDB", "force_applications": "maybe"}, "not a valid boolean"),
])
def test_filter_errors_are_one_clear_line(job, message):
    with pytest.raises(AnsibleFilterError, match=message):
        db2_offline_backup_script(job)


@pytest.mark.parametrize("database, path, message", [
    ("TESTDB\n", "/database/backup", "is not a Db2 database name"),
    ("TESTDB", "/database/backup\n", "must be an absolute path"),
    ("TESTDB", "/database/backup\n/etc", "must be an absolute path"),
])
def test_trailing_newline_is_not_a_name_or_path(database, path, message):
    # Patterns ending in `$` accept a trailing newline with match(): the checks are full matches.
    with pytest.raises(backup.BackupInputError, match=message):
        backup.offline_backup_script(database, path, "db2inst1")
    with pytest.raises(backup.BackupInputError, match=message):
        backup.check_database(database) if message.startswith("is not") else backup.check_path(path)


def test_image_names_and_timestamps_are_full_matches():
    name = "TESTDB.0.db2inst1.DBPART000.20240101010101.001"
    assert [i["timestamp"] for i in backup.parse_images("-rw 1 1 1 5 1 %s\n" % name, "/b")] == ["20240101010101"]
    assert backup.IMAGE_NAME.fullmatch(name + "\n") is None
    assert backup.TIMESTAMP.fullmatch("20240101010101\n") is None


@pytest.mark.parametrize("instance", ["db2inst1'; touch /x; echo '", "db2inst1\n", "db2inst1 root", "$(id)", "",
                                      "-u", None])
def test_instance_is_an_os_user_name(instance):
    with pytest.raises(backup.BackupInputError) as err:
        backup.offline_backup_script("TESTDB", "/database/backup", instance)
    assert str(err.value).startswith("instance must be an OS user name")
    assert "touch" not in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(AnsibleFilterError, match="job n: instance must be an OS user name"):
        db2_offline_backup_script({"name": "n", "database": "TESTDB"}, instance_owner=instance)


ODD = "T$D#B"  # a legal Db2 database name: `$D` must not expand, `#` must not start a comment


def test_odd_database_name_is_a_quoted_word_everywhere():
    script = backup.offline_backup_script(ODD.lower(), "/database/backup", "db2inst1", keep=2)
    assert subprocess.run(["bash", "-n"], input=script, text=True, check=False).returncode == 0
    assert subprocess.run(["shellcheck", "-s", "bash", "-S", "warning", "-"], input=script, text=True,
                          capture_output=True, check=False).returncode == 0
    # What runs as the instance owner is the `su -c` argument: unquote it as the shell will.
    inner = shlex.split(script[script.index("exec su "):])[6]
    assert subprocess.run(["bash", "-n"], input=inner, text=True, check=False).returncode == 0
    assert "DEACTIVATE DATABASE T$D#B;" in inner and "db2 -v 'ACTIVATE DATABASE T$D#B'" in inner
    assert "grep -Eq '^ *Database name *= *T\\$D#B *$'" in inner
    assert "ls -1 -- /database/backup/'T$D#B'.0.db2inst1.DBPART[0-9][0-9][0-9].\"$stamp\".*" in inner
    assert "offline backup of \"'T$D#B'\" failed" in inner
    shell = re.sub(r"<<'DB2OPS_SQL'\n.*?\nDB2OPS_SQL\n", "", inner, flags=re.S)  # the CLP's input is literal
    for line in shell.splitlines():  # outside single quotes, $D never appears
        assert "$D" not in re.sub(r"'[^']*'", "", line), line


def test_prune_matches_an_odd_database_name_literally(tmp_path):
    stamps = ["20240101010101", "20240102010101", "20240103010101"]
    mine = ["%s.0.db2inst1.DBPART000.%s.001" % (ODD, s) for s in stamps]
    # What an unquoted `T$D#B` would become ($D empty or set), and a name the ERE must not take for it.
    decoys = ["T#B.0.db2inst1.DBPART000.%s.001" % stamps[0], "Tx#B.0.db2inst1.DBPART000.%s.001" % stamps[0],
              "TD#B.0.db2inst1.DBPART000.%s.001" % stamps[0]]
    make_images(tmp_path, mine + decoys)
    command = backup.prune_command(str(tmp_path), ODD, "db2inst1", 1)
    done = subprocess.run(["bash", "-uc", command], capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin", "D": "x"})
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(mine[2:] + decoys)
    assert done.stdout.splitlines() == ["db2ops: pruned %s/%s" % (tmp_path, name) for name in mine[:2]]


def test_ere_escape_is_literal_for_grep():
    for name in (ODD, "A.B", "X@Y$", "a+b(c)[d]{e}|f^g\\h*?"):
        pattern = "^%s$" % backup.ere_escape(name)
        done = subprocess.run(["grep", "-Ex", pattern], input="%s\nother\n" % name, capture_output=True, text=True,
                              check=False)
        assert done.stdout == name + "\n" and done.stderr == "", (name, done.stderr)


class ShellClp:
    """Runs the shell commands it is given in a real bash; the CLP fails like Db2 on an online image."""

    def __init__(self):
        self.scripts = []

    def shell(self, command):
        done = subprocess.run(["bash", "-uc", command], capture_output=True, text=True, check=False)
        return SimpleNamespace(stdout=done.stdout, stderr=done.stderr, rc=done.returncode)

    def run_script(self, statements):
        self.scripts.append(statements)
        if len(self.scripts) == 1:
            raise Db2Error("online image", db2_message=Db2Message("SQL2537", "N", "Roll-forward is required"))


def test_restore_log_directory_and_listing_take_an_odd_name_literally(tmp_path):
    clp = ShellClp()
    rolled, commands = backup.run_restore(clp, ODD, str(tmp_path), "20240101010101", target_exists=False)
    assert rolled and (tmp_path / ("logs-%s-20240101010101" % ODD)).is_dir()
    assert "LOGTARGET %s/logs-%s-20240101010101" % (tmp_path, ODD) in commands[0]
    make_images(tmp_path, ["%s.0.db2inst1.DBPART000.20240101010101.001" % ODD])
    assert [i["database"] for i in backup.list_images(clp, str(tmp_path))] == [ODD]
