"""IBM's LDAP security plug-ins: IBMLDAPauthserver (SRVCON_PW_PLUGIN) and IBMLDAPgroups
(GROUP_PLUGIN), talking to a real LDAP server with python-ldap.

As the real plug-ins (facts 5; IBM/db2-samples security/plugins IBMLDAPconfig.c,
IBMLDAPauthserver.c): the configuration file is `~/sqllib/cfg/IBMLDAPSecurity.ini` (or
$DB2LDAPSecurityConfig), read only when the plug-in initialises, i.e. at db2start. Syntax: `key =
value`, `;` starts a comment, keys case-insensitive, an unknown or duplicate key is an error,
booleans are true/false, LDAP_HOST, USER_OBJECTCLASS, USERID_ATTRIBUTE and AUTHID_ATTRIBUTE
are required (and the group keys for IBMLDAPgroups). A configuration error is logged to
db2diag.log with the plug-in's message and db2start fails with SQL1365N (IBM "Security plug-in
problem determination": -1365 is returned when a plug-in error occurs during db2start).

Authentication: search the user with SEARCH_DN/SEARCH_PW (anonymous if unset) under USER_BASEDN
with (&(objectClass=USER_OBJECTCLASS)(USERID_ATTRIBUTE=user)), then bind as the entry found with
the password. The authorization ID is the entry's AUTHID_ATTRIBUTE, upper-cased. Groups:
SEARCH_BY_DN searches GROUP_OBJECTCLASS entries under GROUP_BASEDN whose GROUP_LOOKUP_ATTRIBUTE
is the user's DN; USER_ATTRIBUTE reads the user's GROUP_LOOKUP_ATTRIBUTE (e.g. memberOf). The
group name is GROUPNAME_ATTRIBUTE. SYSPROC.AUTH_LIST_GROUPS_FOR_AUTHID shows them.

ENABLE_SSL: ldaps:// (port 636 by default). The real plug-in reads the CA from a GSKit key
database (SSL_KEYFILE, .kdb); the stand-in takes SSL_KEYFILE as a PEM CA file (or the system's
CAs when unset), since GSKit is not available.
"""
import json
import os
import re

from . import commands, dialect, messages

try:
    import ldap
    import ldap.filter
    HAS_LDAP = True
except ImportError:  # the image has python3-ldap; keep the CLP usable without it
    HAS_LDAP = False

SERVER_PLUGIN = "IBMLDAPauthserver"
GROUP_PLUGIN = "IBMLDAPgroups"

BOOLEAN_KEYS = {"ENABLE_SSL", "FIPS_MODE", "NESTED_GROUPS", "FOLLOW_REFERRALS", "DEBUG"}
KEYS = BOOLEAN_KEYS | {
    "LDAP_HOST", "SSL_KEYFILE", "SSL_PW", "SECURITY_PROTOCOL", "SSL_EXTN_SIGALG",
    "USER_OBJECTCLASS", "USER_BASEDN", "USERID_ATTRIBUTE", "AUTHID_ATTRIBUTE",
    "GROUP_OBJECTCLASS", "GROUP_BASEDN", "GROUPNAME_ATTRIBUTE", "GROUP_LOOKUP_METHOD",
    "GROUP_LOOKUP_ATTRIBUTE", "SEARCH_DN", "SEARCH_PW", "SASL_BIND"}
REQUIRED = ("LDAP_HOST", "USER_OBJECTCLASS", "USERID_ATTRIBUTE", "AUTHID_ATTRIBUTE")
REQUIRED_FOR_GROUPS = ("GROUP_OBJECTCLASS", "GROUPNAME_ATTRIBUTE", "GROUP_LOOKUP_METHOD",
                       "GROUP_LOOKUP_ATTRIBUTE")
DEFAULTS = {"ENABLE_SSL": False, "FIPS_MODE": True, "NESTED_GROUPS": False,
            "FOLLOW_REFERRALS": True, "DEBUG": False}
MAX_LINE = 1092
TIMEOUT = 10  # seconds for connecting to and waiting on the LDAP server

# SQL30082N reasons (IBM message reference): the plug-in's "bad user"/"bad password" both map to 24.
PASSWORD_INVALID = ("24", "USERNAME AND/OR PASSWORD INVALID")
PASSWORD_MISSING = ("3", "PASSWORD MISSING")
PROCESSING_FAILURE = ("15", "PROCESSING FAILURE")


class ConfigError(Exception):
    """A db2ldapReadConfig error, with the plug-in's own message."""


def config_path(instance):
    return os.environ.get("DB2LDAPSecurityConfig") or str(instance.sqllib / "cfg" / "IBMLDAPSecurity.ini")


def read_config(path, groups=False):
    """The configuration as a dict of upper-case keys; ConfigError with the plug-in's message."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        raise ConfigError("db2ldapReadConfig: can't open config file '%s'" % path) from None
    config = {}
    for number, raw in enumerate(lines, start=1):
        if len(raw.rstrip()) > MAX_LINE:
            raise ConfigError("db2ldapReadConfig: line %d of %s is too long" % (number, path))
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        key, equals, value = line.partition("=")
        key, value = key.strip().upper(), value.strip()
        if not equals or not key or re.search(r"\s", key):
            raise ConfigError("db2ldapReadConfig: syntax error on line %d of %s" % (number, path))
        if key not in KEYS:
            raise ConfigError("db2ldapReadConfig: unknown key value '%s' on line %d of %s"
                              % (key, number, path))
        if key in config:
            raise ConfigError("db2ldapReadConfig: duplicate key '%s' on line %d of %s"
                              % (key, number, path))
        if key in BOOLEAN_KEYS:
            if value.upper() not in ("TRUE", "FALSE") and not (key == "FIPS_MODE" and
                                                               value.upper() == "STRICT"):
                raise ConfigError("db2ldapReadConfig: invalid value '%s' for key '%s' on line %d "
                                  "of %s" % (value, key, number, path))
            value = value.upper() != "FALSE"
        elif key == "GROUP_LOOKUP_METHOD" and value.upper() not in ("SEARCH_BY_DN", "USER_ATTRIBUTE"):
            raise ConfigError("db2ldapReadConfig: invalid value '%s' for key '%s' on line %d of %s"
                              % (value, key, number, path))
        config[key] = value
    for key in REQUIRED + (REQUIRED_FOR_GROUPS if groups else ()):
        if not config.get(key):
            raise ConfigError("db2ldapReadConfig: no value for key '%s' found in %s" % (key, path))
    if "GROUP_LOOKUP_METHOD" in config:
        config["GROUP_LOOKUP_METHOD"] = config["GROUP_LOOKUP_METHOD"].upper()
    return {**DEFAULTS, **config}


def _loaded_path(instance):
    return instance.runtime / "ldapplugin.json"


def load(instance, dbm):
    """At db2start: initialise the LDAP plug-ins named in the dbm cfg. Returns None, or the name
    of the plug-in that failed (its message is in db2diag.log)."""
    names = [name for name in (dbm.get("SRVCON_PW_PLUGIN"), dbm.get("GROUP_PLUGIN"))
             if name in (SERVER_PLUGIN, GROUP_PLUGIN)]
    loaded = _loaded_path(instance)
    if not names:
        if loaded.exists():
            loaded.unlink()
        return None
    path = config_path(instance)
    try:
        if not HAS_LDAP:
            raise ConfigError("db2ldapInit: the LDAP client library could not be loaded")
        config = read_config(path, groups=GROUP_PLUGIN in names)
    except ConfigError as error:
        instance.diag("Error", "db2sysc", "DB2 Common, Security, Users and Groups, "
                      "secLoadServerAuthPlugin, probe:20", str(error))
        if loaded.exists():
            loaded.unlink()
        return names[0]
    # Kept for this instance run only, readable by the instance owner alone (it holds SEARCH_PW).
    loaded.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(loaded, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(config, handle)
    return None


def _config(instance):
    try:
        return json.loads(_loaded_path(instance).read_text())
    except (OSError, ValueError):
        return None


class LdapFailure(Exception):
    def __init__(self, reason, diag):
        super().__init__(diag)
        self.reason, self.diag = reason, diag


def _hosts(config):
    default_port = 636 if config["ENABLE_SSL"] else 389
    scheme = "ldaps" if config["ENABLE_SSL"] else "ldap"
    for host in config["LDAP_HOST"].split():
        name, port = host.split(":") if host.count(":") == 1 else (host, "")
        yield "%s://%s:%s" % (scheme, name or host, port or default_port)


def _open(config):
    """A connection bound as SEARCH_DN (or anonymous), trying each LDAP_HOST in turn."""
    last = None
    for uri in _hosts(config):
        conn = ldap.initialize(uri)
        conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, TIMEOUT)
        conn.set_option(ldap.OPT_TIMEOUT, TIMEOUT)
        conn.set_option(ldap.OPT_REFERRALS, 1 if config["FOLLOW_REFERRALS"] else 0)
        if config["ENABLE_SSL"]:
            conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
            if config.get("SSL_KEYFILE"):
                conn.set_option(ldap.OPT_X_TLS_CACERTFILE, config["SSL_KEYFILE"])
            conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        try:
            conn.simple_bind_s(config.get("SEARCH_DN", ""), config.get("SEARCH_PW", ""))
            return conn
        except ldap.SERVER_DOWN as error:
            last = error
            continue
        except ldap.LDAPError as error:
            raise LdapFailure(PROCESSING_FAILURE, "db2ldapBind: bind as SEARCH_DN failed: %s"
                              % _describe(error)) from None
    raise LdapFailure(PROCESSING_FAILURE, "db2ldapGetUserDN: LDAP search failed with ldap rc=81 "
                      "(Can't contact LDAP server): %s" % _describe(last))


def _describe(error):
    if error is None:
        return ""
    info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    return ("%s %s" % (info.get("desc", str(error)), info.get("info", ""))).strip()


def _filter(object_class, attribute, value):
    """(&(objectClass=C)(A=V)) with the values escaped (RFC 4515)."""
    escape = ldap.filter.escape_filter_chars
    return "(&(objectClass=%s)(%s=%s))" % (escape(object_class), attribute, escape(value))


def _find_user(conn, config, attribute, value):
    """(dn, attributes) of the one user whose `attribute` is `value`; None if there is none."""
    search = _filter(config["USER_OBJECTCLASS"], attribute, value)
    wanted = [config["AUTHID_ATTRIBUTE"]]
    if config.get("GROUP_LOOKUP_METHOD") == "USER_ATTRIBUTE":
        wanted.append(config["GROUP_LOOKUP_ATTRIBUTE"])
    found = [(dn, attrs) for dn, attrs in conn.search_s(config.get("USER_BASEDN", ""),
                                                        ldap.SCOPE_SUBTREE, search, wanted) if dn]
    if len(found) != 1:
        return None  # none, or ambiguous: the real plug-in refuses both
    return found[0]


def authenticate(instance, user, password):
    """(None, authid) or (SQL30082N reason, None) for CONNECT ... USER user USING password."""
    config = _config(instance)
    if config is None:
        return PROCESSING_FAILURE, None
    if not password:
        return PASSWORD_MISSING, None  # an empty password would be an unauthenticated bind
    try:
        conn = _open(config)
        try:
            entry = _find_user(conn, config, config["USERID_ATTRIBUTE"], user)
            if entry is None:
                return PASSWORD_INVALID, None
            dn, attrs = entry
            try:
                conn.simple_bind_s(dn, password)
            except (ldap.INVALID_CREDENTIALS, ldap.UNWILLING_TO_PERFORM):
                return PASSWORD_INVALID, None
        finally:
            conn.unbind_s()
    except LdapFailure as failure:
        instance.diag("Error", "db2sysc", "DB2 Common, Security, Users and Groups, "
                      "secValidatePasswordPlugin, probe:20", "%s user='%s'" % (failure.diag, user))
        return failure.reason, None
    except ldap.LDAPError as error:
        instance.diag("Error", "db2sysc", "DB2 Common, Security, Users and Groups, "
                      "secValidatePasswordPlugin, probe:20",
                      "db2ldapGetUserDN: LDAP search failed: %s user='%s'" % (_describe(error), user))
        return PROCESSING_FAILURE, None
    values = attrs.get(config["AUTHID_ATTRIBUTE"]) or [user.encode()]
    return None, values[0].decode("utf-8", "replace").upper()


def groups_for_authid(instance, authid):
    """Group names (upper case) of an authorization ID, as IBMLDAPgroups finds them."""
    config = _config(instance)
    if config is None or "GROUP_LOOKUP_METHOD" not in config:
        return None
    conn = _open(config)
    try:
        entry = _find_user(conn, config, config["AUTHID_ATTRIBUTE"], authid)
        if entry is None:
            return []
        dn, attrs = entry
        names, seen = [], set()
        if config["GROUP_LOOKUP_METHOD"] == "USER_ATTRIBUTE":
            for group_dn in attrs.get(config["GROUP_LOOKUP_ATTRIBUTE"], []):
                names += _group_names(conn, config, group_dn.decode(), seen)
        else:
            names += _groups_by_member(conn, config, dn, seen)
        return sorted(set(names))
    finally:
        conn.unbind_s()


def _groups_by_member(conn, config, member_dn, seen):
    search = _filter(config["GROUP_OBJECTCLASS"], config["GROUP_LOOKUP_ATTRIBUTE"], member_dn)
    names = []
    for dn, attrs in conn.search_s(config.get("GROUP_BASEDN", ""), ldap.SCOPE_SUBTREE, search,
                                   [config["GROUPNAME_ATTRIBUTE"]]):
        if not dn or dn.lower() in seen:
            continue  # referrals, and cycles of nested groups
        seen.add(dn.lower())
        names += [v.decode().upper() for v in attrs.get(config["GROUPNAME_ATTRIBUTE"], [])]
        if config["NESTED_GROUPS"]:
            names += _groups_by_member(conn, config, dn, seen)
    return names


def _group_names(conn, config, group_dn, seen):
    if group_dn.lower() in seen:
        return []
    seen.add(group_dn.lower())
    try:
        found = conn.search_s(group_dn, ldap.SCOPE_BASE, "(objectClass=*)",
                              [config["GROUPNAME_ATTRIBUTE"], config["GROUP_LOOKUP_ATTRIBUTE"]])
    except ldap.NO_SUCH_OBJECT:
        return []
    names = []
    for _dn, attrs in found:
        names += [v.decode().upper() for v in attrs.get(config["GROUPNAME_ATTRIBUTE"], [])]
        if config["NESTED_GROUPS"]:
            for parent in attrs.get(config["GROUP_LOOKUP_ATTRIBUTE"], []):
                names += _group_names(conn, config, parent.decode(), seen)
    return names


def os_groups(user):
    """Without a group plug-in, Db2 takes the operating system's groups of the user."""
    import grp
    import pwd
    try:
        entry = pwd.getpwnam(user.lower())
    except KeyError:
        return []
    names = {grp.getgrgid(entry.pw_gid).gr_name}
    names |= {group.gr_name for group in grp.getgrall() if entry.pw_name in group.gr_mem}
    return sorted(name.upper() for name in names)


# SYSPROC.AUTH_LIST_GROUPS_FOR_AUTHID(authid): table function with one column GROUPNAME
# VARCHAR(128) (IBM docs, "AUTH_LIST_GROUPS_FOR_AUTHID table function"). SQLite has no table
# functions: the call is replaced by a temporary table filled for this statement.
TABLE_FUNCTION = re.compile(r"TABLE\s*\(\s*(?:SYSPROC\s*\.\s*)?AUTH_LIST_GROUPS_FOR_AUTHID\s*\(\s*"
                            r"'((?:[^']|'')*)'\s*\)\s*\)", re.I)


@commands.sql_rewrite
def auth_list_groups(clp, conn, text, _authid):
    def replace(match):
        authid = match.group(1).replace("''", "'")
        if clp.instance.dbm_in_effect().get("GROUP_PLUGIN") == GROUP_PLUGIN:
            try:
                names = groups_for_authid(clp.instance, authid)
            except (LdapFailure, ldap.LDAPError) as error:
                raise dialect.SqlError("SQL1366N", plugin=GROUP_PLUGIN, reason="-1") from error
        else:
            names = os_groups(authid)
        table = "AUTH_GROUPS_%d" % replace.count
        replace.count += 1
        conn.execute('DROP TABLE IF EXISTS temp."%s"' % table)
        conn.execute('CREATE TEMP TABLE "%s" (GROUPNAME VARCHAR(128))' % table)
        conn.executemany('INSERT INTO temp."%s" VALUES (?)' % table, [(n,) for n in names or []])
        return 'temp."%s"' % table
    replace.count = 0
    return TABLE_FUNCTION.sub(replace, text) if "AUTH_LIST_GROUPS_FOR_AUTHID" in text.upper() else text


messages.CATALOG.update({
    "SQL1365N": 'db2start or db2stop failed in processing the plugin "{plugin}". Reason code = "{reason}".',
    "SQL1366N": 'A security plug-in "{plugin}" processing error occurred on the client. Reason code = "{reason}".',
})
