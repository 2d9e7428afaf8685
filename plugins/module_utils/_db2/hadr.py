# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HADR (IBM's high availability disaster recovery) of one Db2 database, as IBM's tools show it:
the HADR rows of `GET DB CFG`, the blocks of `db2pd -db <db> -hadr` (or `-alldbs -hadr`), and one
read of a database's HADR state from both, in a single exec.

The modules (db2_hadr, db2_hadr_info, db2_container_info, db2_container_upgrade) decide from
`HadrStatus`; nothing here changes a database.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re

from ansible_collections.db2ops.docker.plugins.module_utils.actions import ActionFailed
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import parse_messages
from ansible_collections.db2ops.docker.plugins.module_utils._db2.dbm_cfg import parse_dbm_cfg
from ansible_collections.db2ops.docker.plugins.module_utils._docker.exec import split_sections

STANDARD, PRIMARY, STANDBY = "STANDARD", "PRIMARY", "STANDBY"
# Module option -> db cfg parameter, in IBM's setup order (IBM: "Initializing HADR").
HADR_PARAMETERS = (
    ("local_host", "HADR_LOCAL_HOST"),
    ("local_svc", "HADR_LOCAL_SVC"),
    ("remote_host", "HADR_REMOTE_HOST"),
    ("remote_svc", "HADR_REMOTE_SVC"),
    ("remote_inst", "HADR_REMOTE_INST"),
    ("syncmode", "HADR_SYNCMODE"),
    ("timeout", "HADR_TIMEOUT"),
    ("peer_window", "HADR_PEER_WINDOW"),
    ("target_list", "HADR_TARGET_LIST"),
)
# States IBM names (db2pd HADR_STATE); PEER is where an unforced takeover loses nothing.
STATES = ("LOCAL_CATCHUP", "REMOTE_CATCHUP_PENDING", "REMOTE_CATCHUP", "PEER", "DISCONNECTED_PEER", "DISCONNECTED")

_BLOCK_HEADER = re.compile(r"^Database Member \d+ -- Database (\S+) -- (\w+) -- ", re.M)
_FIELD = re.compile(r"^ *(\S+) = ?(.*)$", re.M)
_NOT_ACTIVATED = re.compile(r"^Database (\S+) not activated on database member", re.M)
_LABELS = {"HADR database role": "role", "Rollforward pending": "rollforward_pending"}
_SECTION = "@@DB2OPS_HADR"


class HadrReadError(ActionFailed):
    """A database's HADR state could not be read (not cataloged: SQL1013N). Nothing was changed."""


def parse_db2pd_hadr(text):
    """`db2pd -hadr` output -> {DATABASE: fields}. fields is {} for an active database without HADR
    ("HADR is not active."), else IBM's field names as printed (HADR_ROLE, HADR_STATE, ...) plus
    `_header` (Active / Standby). A database db2pd calls not activated is left out."""
    found = {}
    headers = list(_BLOCK_HEADER.finditer(text))
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        body = text[header.end():end]
        database = header.group(1).upper()
        if database in found and found[database]:
            continue  # one block per standby (HADR_TARGET_LIST): the first is the principal one
        fields = {name: value.strip() for name, value in _FIELD.findall(body) if name[:1].isupper()}
        if fields:
            fields["_header"] = header.group(2)
        found[database] = fields
    return found


def parse_db_cfg_hadr(text):
    """The HADR part of `GET DB CFG FOR db`: {role, rollforward_pending, HADR_*, LOGINDEXBUILD,
    LOGARCHMETH1, LOGARCHMETH2}; role None when the output has no HADR rows (not a database)."""
    params = parse_dbm_cfg(text)
    found = dict(role=None, rollforward_pending=None)
    for line in text.splitlines():
        label, sep, value = line.partition("=")
        key = _LABELS.get(label.strip())
        if sep and key:
            found[key] = value.strip()
    for name, value in params.items():
        if name.startswith("HADR_") or name in ("LOGINDEXBUILD", "LOGARCHMETH1", "LOGARCHMETH2"):
            found[name] = value
    if found["rollforward_pending"] is not None:
        found["rollforward_pending"] = found["rollforward_pending"].upper() != "NO"
    return found


def archive_logging(cfg):
    """IBM: HADR needs archive logging (SQL1768N reason 1 on circular logging)."""
    return any((cfg.get(p) or "OFF").upper() != "OFF" for p in ("LOGARCHMETH1", "LOGARCHMETH2"))


def _null(value):
    """db2pd prints NULL, db cfg an empty value, for what is not set."""
    return None if value is None or value.strip() in ("", "NULL") else value.strip()


def _int(value):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class HadrStatus:
    """One database's HADR state: its role in the db cfg, and what db2pd shows when it is active."""

    def __init__(self, database, cfg, pd_fields, active, error=None):
        self.database = database
        self.cfg = cfg
        self.pd = pd_fields or {}
        self.active = active
        self.error = error  # Db2's message when its db cfg could not be read (SQL1013N: not cataloged)

    @property
    def readable(self):
        """Its db cfg was read (the database exists); role and configuration mean something."""
        return self.cfg.get("role") is not None

    @property
    def role(self):
        """STANDARD, PRIMARY or STANDBY (the db cfg's role: it stays when HADR is stopped by a deactivate)."""
        return (self.cfg.get("role") or STANDARD).upper()

    @property
    def in_pair(self):
        return self.role in (PRIMARY, STANDBY)

    @property
    def running(self):
        """HADR runs (db2pd shows a role): a standby's or primary's log shipping is up."""
        return bool(self.pd.get("HADR_ROLE"))

    @property
    def state(self):
        return self.pd.get("HADR_STATE") if self.running else None

    @property
    def connect_status(self):
        return self.pd.get("HADR_CONNECT_STATUS") if self.running else None

    def as_dict(self):
        """What db2_hadr_info and db2_container_info return for the database."""
        pd = self.pd
        return dict(
            database=self.database,
            role=self.role,
            active=self.active,
            hadr_running=self.running,
            state=self.state,
            connect_status=self.connect_status,
            syncmode=pd.get("HADR_SYNCMODE") or self.cfg.get("HADR_SYNCMODE"),
            log_gap_bytes=_int(pd.get("HADR_LOG_GAP(bytes)")),
            replay_gap_bytes=_int(pd.get("STANDBY_RECV_REPLAY_GAP(bytes)")),
            peer_window_seconds=_int(pd.get("PEER_WINDOW(seconds)") or self.cfg.get("HADR_PEER_WINDOW")),
            peer_window_end=_null(pd.get("PEER_WINDOW_END")),
            timeout_seconds=_int(pd.get("HADR_TIMEOUT(seconds)") or self.cfg.get("HADR_TIMEOUT")),
            primary_host=pd.get("PRIMARY_MEMBER_HOST"),
            standby_host=pd.get("STANDBY_MEMBER_HOST"),
            primary_log_position=pd.get("PRIMARY_LOG_FILE,PAGE,POS"),
            standby_log_position=pd.get("STANDBY_LOG_FILE,PAGE,POS"),
            last_takeover_time=_null(pd.get("HADR_LAST_TAKEOVER_TIME")),
            reads_on_standby=pd.get("READS_ON_STANDBY_ENABLED") == "Y" if self.running else None,
            rollforward_pending=self.cfg.get("rollforward_pending"),
            configuration=dict((option, _null(self.cfg.get(param))) for option, param in HADR_PARAMETERS),
        )


def status_script(databases):
    """(shell script) that prints each database's db cfg and the active databases (one CLP session),
    then `db2pd -alldbs -hadr`, each after a marker line: one exec for any number of databases.
    Names must have passed check_database; None: every database of the system database directory
    (listed in the same exec)."""
    if databases is None:
        # The names come from Db2's own directory listing, not from input.
        names = '$(db2 list db directory 2>/dev/null | sed -n "s/^ *Database name *= *//p" | sort -u)'
    else:
        names = " ".join("'%s'" % name for name in databases)  # quoted: a name may hold $ or start with #
    # One CLP front end for all the statements: a `db2` command per database costs 0.2 s each.
    statements = ('for db in %s; do printf "ECHO %s cfg_%%s;\\nGET DB CFG FOR %%s;\\n" "$db" "$db"; done; '
                  'printf "ECHO %s active;\\nLIST ACTIVE DATABASES;\\n"' % (names, _SECTION, _SECTION))
    return ('{ %s; } | db2 -t +p +s -f /dev/stdin 2>&1; echo "%s rc=$?"; db2 terminate >/dev/null 2>&1; '
            'echo "%s pd"; db2pd -alldbs -hadr 2>&1; echo "%s rc=$?"' % (statements, _SECTION, _SECTION, _SECTION))


def parse_status(output, databases):
    """{DATABASE: HadrStatus} from the output of status_script(databases); databases None: the
    ones the script found in the directory."""
    from_markers = split_sections(output, _SECTION)
    if databases is None:
        databases = [key[len("cfg_"):] for key in from_markers if key.startswith("cfg_")]
    pd = parse_db2pd_hadr(from_markers.get("pd", {}).get("output", ""))
    active_text = from_markers.get("active", {}).get("output", "")
    active = set(name.upper() for name in re.findall(r"^Database name\s*=\s*(\S+)", active_text, re.M))
    statuses = {}
    for name in databases:
        text = from_markers.get("cfg_" + name, {}).get("output", "")
        cfg = parse_db_cfg_hadr(text)
        key = name.upper()
        error = None
        if cfg["role"] is None:
            messages = [m for m in parse_messages(text) if m.is_error] or parse_messages(text)
            found = "%s %s" % (messages[0].code, messages[0].text) if messages else text[:200]
            error = " ".join(found.split()) or "no answer"  # one line, however the CLP wrapped it
        statuses[key] = HadrStatus(key, cfg, pd.get(key), key in active or key in pd, error)
    return statuses


def read_status(clp, databases):
    """{DATABASE: HadrStatus} of the named databases (None: all cataloged ones), read in one exec
    through clp (a Db2Clp)."""
    if databases is not None and not databases:
        return {}
    result = clp.shell(status_script(databases))
    return parse_status(result.stdout, databases)


def pair_roles(statuses):
    """{DB: {role, state, connect_status}} of the databases in a pair (role not STANDARD), as
    db2_container_info returns it: {} on a container without one."""
    return dict((name, dict(role=st.role, state=st.state, connect_status=st.connect_status))
                for name, st in sorted(statuses.items()) if st.readable and st.in_pair)


def hadr_info(clp, database=None, container="the container"):
    """db2_hadr_info's result from one exec: `databases` (as_dict() of each; all cataloged ones when
    `database` is None) and, for one database, `hadr`. HadrReadError names a database whose db cfg
    Db2 would not show (SQL1013N: not cataloged)."""
    statuses = read_status(clp, None if database is None else [database.upper()])
    for name, status in sorted(statuses.items()):
        if not status.readable:
            why = "is not cataloged in" if (status.error or "").startswith("SQL1013N") else "cannot be read in"
            raise HadrReadError("database %s %s %s: %s" % (name, why, container, status.error))
    result = dict(databases=[statuses[name].as_dict() for name in sorted(statuses)])
    if database is not None:
        result["hadr"] = result["databases"][0]
    return result
