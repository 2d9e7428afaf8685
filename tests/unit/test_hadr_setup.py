"""db2_hadr's engine (_db2/hadr_setup.py): its decisions per role and state, on the fake daemon with a
small model of HADR (db cfg, START/STOP/TAKEOVER HADR, db2pd) added per test here; the real behaviour
is tested against the stand-in in tests/integration/test_db2_hadr_module.py."""
import re

import pytest
from fake_docker import FakeDocker, _answer, _db2, hadr_status_databases

from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionRecorder
from ansible_collections.db2ops.docker.plugins.module_utils.inputs import require_match, InputError
from ansible_collections.db2ops.docker.plugins.module_utils._db2 import hadr_setup
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Clp, Db2Error
from ansible_collections.db2ops.docker.plugins.module_utils._db2.hadr_setup import HadrSetup, HadrSetupError

ARCHIVE = {"LOGARCHMETH1": "LOGRETAIN"}
NAMES = dict(HADR_LOCAL_HOST="HADR local host name", HADR_LOCAL_SVC="HADR local service name",
             HADR_REMOTE_HOST="HADR remote host name", HADR_REMOTE_SVC="HADR remote service name",
             HADR_REMOTE_INST="HADR instance name of remote server", HADR_TIMEOUT="HADR timeout value",
             HADR_TARGET_LIST="HADR target list", HADR_SYNCMODE="HADR log write synchronization mode",
             HADR_PEER_WINDOW="HADR peer window duration (seconds)", LOGARCHMETH1="First log archive method",
             LOGARCHMETH2="Second log archive method", LOGINDEXBUILD="Log pages during index build")


class HadrDb:
    """One database's HADR side: db cfg, role, whether HADR runs, and its db2pd state."""

    def __init__(self, role="STANDARD", running=False, state=None, connected=False, **cfg):
        self.cfg = dict(HADR_SYNCMODE="NEARSYNC", HADR_TIMEOUT="120", HADR_PEER_WINDOW="0", LOGARCHMETH1="OFF",
                        LOGARCHMETH2="OFF", LOGINDEXBUILD="OFF")
        self.cfg.update(cfg)
        self.role, self.running, self.state, self.connected = role, running, state, connected
        self.pending = False

    def cfg_text(self):
        lines = [" Rollforward pending = %s" % ("DATABASE" if self.pending else "NO"),
                 " HADR database role = %s" % self.role]
        lines += [" %s (%s) = %s" % (NAMES[k], k, self.cfg.get(k, "")) for k in NAMES]
        return "\n".join(lines) + "\n"


class Pair(FakeDocker):
    """The fake daemon, plus get_archive and the HADR model answering the CLP and the status script."""

    def __init__(self):
        super().__init__()
        self.archives = []
        self.on_exec(r"@@DB2OPS_HADR", self._status)
        self.on_exec(r"^db2 -t \+p [+-]s -f /dev/stdin", self._clp)
        self.on_exec(r"^/bin/sh -c (chown|rm -f) ", self._root)

    def add(self, name, **databases):
        self.add_image("db2:11.5.8.0", level="11.5.8.0")
        self.add_db2(name, "db2:11.5.8.0", databases=tuple(databases), active=tuple(databases))
        _db2(self.container(name)).hadr = databases
        return Db2Clp(self, self.container(name)["Id"], "db2inst1", timeout=30)

    def get_archive(self, container, path):
        self._change("get_archive", path)
        return iter([b"tar of " + path.encode()]), {"name": path}

    def _root(self, container, command, stdin, user):
        assert user == "root"
        _db2(container).log.append(command[len("/bin/sh -c "):])
        return 0, ""

    def _status(self, container, command, stdin, user):
        state = _db2(container)
        out = ""
        for name in hadr_status_databases(command):
            side = state.hadr.get(name)
            text = side.cfg_text() if side else 'SQL1013N  The database alias name or database name "%s"' % name
            out += "@@DB2OPS_HADR cfg_%s\n%s\n" % (name, text)
        out += "@@DB2OPS_HADR active\n%s\n@@DB2OPS_HADR rc=0\n" % "".join(
            "Database name = %s\n" % db for db in state.active)
        out += "@@DB2OPS_HADR pd\n"
        for name, side in state.hadr.items():
            if name in state.active:
                out += "\nDatabase Member 0 -- Database %s -- Active -- Up 0 days 00:00:01 -- Date x\n\n" % name
                out += ("  HADR_ROLE = %s\n  HADR_STATE = %s\n  HADR_CONNECT_STATUS = %s\n"
                        % (side.role, side.state, "CONNECTED" if side.connected else "DISCONNECTED")
                        if side.running else "HADR is not active.\n")
        return 0, out + "@@DB2OPS_HADR rc=0\n"

    def _clp(self, container, command, stdin, user):
        state = _db2(container)
        out, rc = [], 0
        for line in stdin.splitlines():
            statement = line.strip().rstrip(";").strip()
            if statement.upper().startswith("ECHO "):
                out.append(statement[5:])
                continue
            state.log.append(statement)
            text = next((o for p, o in state.failures.items() if re.search(p, statement)), None)
            text = text or self._hadr(state, statement) or _answer(state, statement)
            out.append(text)
            if re.search(r"^(SQL|DB2)\d{4,5}[NEC]\b", text, re.M):
                rc = 4
                break
        return rc, "\n".join(out) + "\n"

    def _hadr(self, state, statement):
        upper = statement.upper()
        match = re.match(r"(START|STOP|TAKEOVER) HADR ON DATABASE (\S+)(?: AS (\w+))?", upper)
        if match:
            side = state.hadr[match.group(2)]
            if match.group(1) == "START":
                side.role, side.running, side.state = match.group(3), True, "REMOTE_CATCHUP_PENDING"
                if match.group(2) not in state.active:
                    state.active.append(match.group(2))
            elif match.group(1) == "STOP":
                side.role, side.running, side.state = "STANDARD", False, None
            else:
                side.role = "PRIMARY"
            return "DB20000I  The %s HADR ON DATABASE command completed successfully." % match.group(1)
        match = re.match(r"UPDATE DB CFG FOR (\S+) USING (.*)$", statement, re.I)
        if match:
            words = match.group(2).split()
            state.hadr[match.group(1).upper()].cfg.update(
                (k.upper(), "" if v == "NULL" else v) for k, v in zip(words[::2], words[1::2]))
            return "DB20000I  The UPDATE DATABASE CONFIGURATION command completed successfully."
        match = re.match(r"DEACTIVATE DATABASE (\S+)", upper)
        if match and match.group(1) in state.hadr:
            state.hadr[match.group(1)].running = False
        match = re.match(r"RESTORE DATABASE (\S+)", upper)
        if match:
            side = state.hadr[match.group(1)]
            side.role, side.pending, side.cfg["LOGARCHMETH1"] = "STANDARD", True, "LOGRETAIN"
            return "SQL2539W  The specified name of the backup image to restore is the same as the name of the " \
                   "target database."
        return None


@pytest.fixture
def daemon():
    fake = Pair()
    yield fake
    assert fake.unexpected == []


def params(role="standby", **extra):
    values = dict(database="testdb", state="present", role=role, local_host="hs", local_svc="4000",
                  remote_host="hp", remote_svc="4000", remote_inst=None, syncmode="NEARSYNC", timeout=5,
                  peer_window=0, target_list=[], backup_path="/database/hadr_init", reinitialize=False,
                  force_start=False, takeover="never")
    values.update(extra)
    return values


def engine(clp, role="standby", check=False, primary=None, **extra):
    return HadrSetup(clp, params(role, **extra), ActionRecorder(check_mode=check),
                     open_primary=(lambda: primary) if primary else None, container="hs", primary_container="hp")


CONFIG = dict(HADR_LOCAL_HOST="hs", HADR_LOCAL_SVC="4000", HADR_REMOTE_HOST="hp", HADR_REMOTE_SVC="4000",
              HADR_REMOTE_INST="db2inst1", HADR_TIMEOUT="5", LOGINDEXBUILD="ON")


def test_standby_initialised_from_the_primary_in_ibm_order(daemon):
    source = Pair()
    primary = source.add("hp", TESTDB=HadrDb(**ARCHIVE))
    standby = daemon.add("hs", TESTDB=HadrDb())
    planned = engine(standby, primary=primary, check=True).run()
    assert planned["changed"] and planned["backup"] is None and planned["role"] == "STANDBY"
    assert _db2(source.container("hp")).log == [] and _db2(daemon.container("hs")).hadr["TESTDB"].role == "STANDARD"
    result = engine(standby, primary=primary).run()
    stamp = result["backup"]
    image = "/database/hadr_init/TESTDB.0.db2inst1.DBPART000.%s.001" % stamp
    assert result["commands"] == [
        "hp: install -d -o db2inst1 /database/hadr_init",
        "hp: BACKUP DATABASE TESTDB ONLINE TO /database/hadr_init INCLUDE LOGS WITHOUT PROMPTING",
        "install -d -o db2inst1 /database/hadr_init",
        "docker cp hp:/database/hadr_init/TESTDB.0.*.%s.001 - | docker cp - hs:/database/hadr_init" % stamp,
        "DEACTIVATE DATABASE TESTDB",
        "RESTORE DATABASE TESTDB FROM /database/hadr_init TAKEN AT %s WITHOUT PROMPTING" % stamp,
        "UPDATE DB CFG FOR TESTDB USING HADR_LOCAL_HOST hs HADR_LOCAL_SVC 4000 HADR_REMOTE_HOST hp "
        "HADR_REMOTE_SVC 4000 HADR_REMOTE_INST db2inst1 HADR_SYNCMODE NEARSYNC HADR_TIMEOUT 5 HADR_PEER_WINDOW 0 "
        "HADR_TARGET_LIST NULL LOGINDEXBUILD ON",
        "START HADR ON DATABASE TESTDB AS STANDBY",
        "rm -f -- " + image]
    # Check mode plans the same commands; only the backup's timestamp and file are not known yet.
    assert planned["commands"][:-1] == [c.replace(stamp, "<timestamp>") for c in result["commands"][:-1]]
    assert planned["commands"][-1] == "rm -f -- /database/hadr_init/<image>"
    assert result["changed"] and result["role"] == "STANDBY" and result["status"]["hadr_running"]
    assert ("get_archive", image) in source.calls and ("put_archive", daemon.container("hs")["Id"]) in daemon.calls
    assert daemon.container("hs")["_archives"][0][0] == "/database/hadr_init"
    assert "chown db2inst1 -- " + image in _db2(daemon.container("hs")).log
    assert "kept there" in result["msg"]
    assert result["diff"]["after"]["configuration"]["local_host"] == "hs"
    again = engine(standby, primary=primary).run()
    assert again["changed"] is False and again["commands"] == [] and again["backup"] is None


@pytest.mark.parametrize("side, problem", [
    (HadrDb(), "circular logging"), (HadrDb(role="STANDBY", **ARCHIVE), "standby itself")])
def test_standby_refused_before_anything_changes(daemon, side, problem):
    source = Pair()
    primary = source.add("hp", TESTDB=side)
    standby = daemon.add("hs", TESTDB=HadrDb())
    with pytest.raises(HadrSetupError, match=problem) as caught:
        engine(standby, primary=primary).run()
    assert caught.value.changed is False and _db2(source.container("hp")).log == []
    with pytest.raises(HadrSetupError, match="option primary .* is required") as caught:
        engine(standby).run()
    assert caught.value.changed is False
    other = Pair().add("hp", OTHER=HadrDb(**ARCHIVE))
    with pytest.raises(HadrSetupError, match="not cataloged in the primary's container hp"):
        engine(standby, primary=other).run()
    with pytest.raises(HadrSetupError, match="not cataloged in container hs"):
        engine(daemon.add("hx", OTHER=HadrDb()), "primary").run()


def test_reinitialize_rebuilds_a_standby_from_a_new_backup(daemon):
    primary = Pair().add("hp", TESTDB=HadrDb(role="PRIMARY", running=True, state="PEER", **dict(CONFIG, **ARCHIVE)))
    side = HadrDb(role="STANDBY", running=True, state="PEER", connected=True, **CONFIG)
    standby = daemon.add("hs", TESTDB=side)
    assert engine(standby, primary=primary).run()["commands"] == []  # a standby already: nothing to rebuild
    result = engine(standby, primary=primary, reinitialize=True).run()
    assert result["commands"][4:6] == ["DEACTIVATE DATABASE TESTDB", "RESTORE DATABASE TESTDB FROM /database/hadr_init "
                                       "TAKEN AT %s WITHOUT PROMPTING" % result["backup"]]
    assert side.role == "STANDBY" and side.running


def test_a_standby_container_without_the_database_gets_it_from_the_restore(daemon):
    primary = Pair().add("hp", TESTDB=HadrDb(**ARCHIVE))
    standby = daemon.add("hs", OTHER=HadrDb())
    plan = engine(standby, primary=primary, check=True).run()
    assert "DEACTIVATE DATABASE TESTDB" not in plan["commands"]
    assert plan["commands"][4].startswith("RESTORE DATABASE TESTDB FROM /database/hadr_init TAKEN AT <timestamp>")


def test_a_failed_copy_says_something_changed(daemon):
    source = Pair()
    primary = source.add("hp", TESTDB=HadrDb(**ARCHIVE))
    standby = daemon.add("hs", TESTDB=HadrDb())
    daemon.fail("put_archive")
    with pytest.raises(HadrSetupError, match="copying the backup image of TESTDB from hp failed") as caught:
        engine(standby, primary=primary).run()
    assert caught.value.changed is True and caught.value.commands[-1].startswith("docker cp")
    assert _db2(daemon.container("hs")).hadr["TESTDB"].role == "STANDARD"


def test_standby_converges_its_configuration_with_a_restart(daemon):
    side = HadrDb(role="STANDBY", running=True, state="PEER", connected=True, **CONFIG)
    side.cfg["HADR_TIMEOUT"] = "120"
    clp = daemon.add("hs", TESTDB=side)
    result = engine(clp).run()
    assert result["commands"] == ["DEACTIVATE DATABASE TESTDB", "UPDATE DB CFG FOR TESTDB USING HADR_TIMEOUT 5",
                                  "START HADR ON DATABASE TESTDB AS STANDBY"]
    side.running = False
    _db2(daemon.container("hs")).active = []
    assert engine(clp).run()["commands"] == ["START HADR ON DATABASE TESTDB AS STANDBY"]
    assert engine(clp).run()["changed"] is False


def test_a_serving_primary_is_not_made_a_standby_an_old_one_is_reintegrated(daemon):
    side = HadrDb(role="PRIMARY", running=True, state="PEER", connected=True, **CONFIG)
    clp = daemon.add("hs", TESTDB=side)
    with pytest.raises(HadrSetupError, match="is the primary of its pair .* role=primary takeover=peer") as caught:
        engine(clp).run()
    assert caught.value.changed is False and caught.value.commands == []
    side.running = False
    _db2(daemon.container("hs")).active = []
    result = engine(clp).run()
    assert result["commands"] == ["START HADR ON DATABASE TESTDB AS STANDBY"] and "reintegrated" in result["msg"]


def test_primary_from_standard_needs_archive_logging_then_starts(daemon):
    side = HadrDb(**CONFIG)
    clp = daemon.add("hp", TESTDB=side)
    with pytest.raises(HadrSetupError, match="LOGARCHMETH1") as caught:
        engine(clp, "primary").run()
    assert caught.value.changed is False
    side.cfg.update(ARCHIVE)
    side.cfg["LOGINDEXBUILD"] = "OFF"
    assert engine(clp, "primary", check=True, force_start=True).run()["commands"] == [
        "UPDATE DB CFG FOR TESTDB USING LOGINDEXBUILD ON", "START HADR ON DATABASE TESTDB AS PRIMARY BY FORCE"]
    assert side.role == "STANDARD"
    _db2(daemon.container("hp")).failures["AS PRIMARY"] = 'SQL1768N  Unable to start HADR. Reason code = "7".'
    with pytest.raises(HadrSetupError, match="start the standby first .* force_start=true") as caught:
        engine(clp, "primary").run()
    assert caught.value.changed is True  # the db cfg was updated
    del _db2(daemon.container("hp")).failures["AS PRIMARY"]
    result = engine(clp, "primary").run()
    assert result["commands"] == ["START HADR ON DATABASE TESTDB AS PRIMARY"] and result["role"] == "PRIMARY"


def test_primary_converges_without_deactivating_and_activates_when_inactive(daemon):
    side = HadrDb(role="PRIMARY", running=True, state="PEER", connected=True, **dict(CONFIG, **ARCHIVE))
    clp = daemon.add("hp", TESTDB=side)
    result = engine(clp, "primary", peer_window=120).run()
    assert result["commands"] == ["UPDATE DB CFG FOR TESTDB USING HADR_PEER_WINDOW 120"]
    assert result["restart_required"] is True and "not deactivated" in result["msg"]
    side.running = False
    _db2(daemon.container("hp")).active = []
    assert engine(clp, "primary", peer_window=120).run()["commands"] == ["ACTIVATE DATABASE TESTDB"]
    _db2(daemon.container("hp")).active = []
    assert engine(clp, "primary", peer_window=120, force_start=True).run()["commands"] == [
        "START HADR ON DATABASE TESTDB AS PRIMARY BY FORCE"]


@pytest.mark.parametrize("how, statement", [
    ("peer", "TAKEOVER HADR ON DATABASE TESTDB"), ("force", "TAKEOVER HADR ON DATABASE TESTDB BY FORCE"),
    ("force_peer_window", "TAKEOVER HADR ON DATABASE TESTDB BY FORCE PEER WINDOW ONLY")])
def test_takeover_on_a_standby(daemon, how, statement):
    side = HadrDb(role="STANDBY", running=True, state="PEER", connected=True, **dict(CONFIG, **ARCHIVE))
    clp = daemon.add("hs", TESTDB=side)
    with pytest.raises(HadrSetupError, match="is the standby of its pair; set takeover=peer") as caught:
        engine(clp, "primary").run()
    assert caught.value.changed is False and side.role == "STANDBY"
    result = engine(clp, "primary", takeover=how, syncmode="sync").run()
    assert result["commands"] == [statement, "UPDATE DB CFG FOR TESTDB USING HADR_SYNCMODE SYNC"]
    assert result["role"] == "PRIMARY" and result["restart_required"] is True


def test_a_refused_takeover_carries_db2s_reason(daemon):
    side = HadrDb(role="STANDBY", running=True, state="REMOTE_CATCHUP_PENDING", **dict(CONFIG, **ARCHIVE))
    clp = daemon.add("hs", TESTDB=side)
    _db2(daemon.container("hs")).failures["TAKEOVER"] = 'SQL1770N  Takeover HADR cannot complete. Reason code = "1".'
    with pytest.raises(Db2Error, match='SQL1770N .*Reason code = "1"') as caught:
        engine(clp, "primary", takeover="peer").run()
    assert caught.value.changed is False


@pytest.mark.parametrize("side, commands, note", [
    (HadrDb(), [], ""),
    (HadrDb(role="PRIMARY", running=True, state="PEER"), ["STOP HADR ON DATABASE TESTDB"], ""),
    (HadrDb(role="STANDBY", running=True, state="PEER"),
     ["DEACTIVATE DATABASE TESTDB", "STOP HADR ON DATABASE TESTDB"], "rollforward pending")])
def test_state_absent(daemon, side, commands, note):
    clp = daemon.add("hs", TESTDB=side)
    if side.role == "STANDARD":
        _db2(daemon.container("hs")).active = []
    elif side.role == "STANDBY":
        _db2(daemon.container("hs")).active = ["TESTDB"]
    planned = HadrSetup(clp, dict(database="TESTDB", state="absent"), ActionRecorder(check_mode=True)).run()
    assert planned["commands"] == commands and planned["changed"] is bool(commands)
    result = HadrSetup(clp, dict(database="TESTDB", state="absent"), ActionRecorder()).run()
    assert result["commands"] == commands and result["role"] == "STANDARD" and note in result["msg"]


@pytest.mark.parametrize("rule, good, bad", [
    (hadr_setup.HOST_RULE, ["hs-1", "db2_a", "db2a.example.com", "10.0.0.7", "fe80::1", "::ffff:10.0.0.7"],
     ["a;b", "$(id)", "a b", "-a", "_a", "a\n", "x" * 300, "'a'", "{{ x }}"]),
    (hadr_setup.SVC_RULE, ["1024", "4000", "65535", "db2-hadr"], ["80", "1023", "65536", "99999", "Hadr", "a;b"]),
    (hadr_setup.TARGET_RULE, ["hs:4000", "10.0.0.8:4001", "[fe80::2]:4000", "hs:hadr-svc"],
     ["hs", "hs:80", "fe80::2:4000", "hs:4000|hx:4000", "hs:4000;x"]),
    (hadr_setup.INSTANCE_RULE, ["db2inst1"], ["DB2INST1", "1db", "a b"])])
def test_input_rules(rule, good, bad):
    for value in good:
        assert require_match(rule[0], value, "opt", rule[1]) == value
    for value in bad:
        with pytest.raises(InputError, match="^Option opt .*; nothing was changed.$"):
            require_match(rule[0], value, "opt", rule[1])


def test_configuration_comparison_ignores_case_and_nulls():
    wanted = hadr_setup.wanted_configuration(dict(local_host="HS", timeout=5, target_list=["a:4000", "b:4000"],
                                                  syncmode="async"), "db2inst1")
    assert wanted["HADR_TARGET_LIST"] == "a:4000|b:4000" and wanted["HADR_SYNCMODE"] == "ASYNC"
    assert wanted["HADR_REMOTE_INST"] == "db2inst1" and wanted["HADR_PEER_WINDOW"] == ""
    cfg = dict(wanted, HADR_LOCAL_HOST="hs", LOGINDEXBUILD="ON")
    assert hadr_setup.cfg_changes(cfg, wanted) == {}
    assert hadr_setup.update_statement("T", {"LOGINDEXBUILD": "ON", "HADR_TARGET_LIST": ""}) == \
        "UPDATE DB CFG FOR T USING HADR_TARGET_LIST NULL LOGINDEXBUILD ON"


def _options(**changes):
    params = dict(state="present", role="standby", local_host="hs", local_svc="4000", remote_host="hp",
                  remote_svc="4000", peer_window=0, primary=None, backup_path="/database/hadr_init")
    params.update(changes)
    return params


@pytest.mark.parametrize("changes, option", [
    (dict(backup_path="/database/../etc"), "backup_path"),
    (dict(remote_svc=None, local_host=""), "local_host, remote_svc"),
    (dict(peer_window=-1), "peer_window"),
    (dict(role="primary", primary={"container": "hp"}), "primary"),
])
def test_options_that_do_not_go_together_are_refused_naming_them(changes, option):
    with pytest.raises(InputError) as refused:
        hadr_setup.check_options(_options(**changes))
    assert refused.value.option == option and str(refused.value).endswith("nothing was changed.")


def test_absent_needs_no_hosts_and_a_standby_may_name_its_primary():
    hadr_setup.check_options(_options(state="absent", role=None, local_host=None, remote_host=None))
    hadr_setup.check_options(_options(primary={"container": "hp"}))
