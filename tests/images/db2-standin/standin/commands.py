"""CLP commands and hooks contributed by feature modules, so that features (backup, catalog,
LDAP plug-ins, ATS, ...) each live in their own module and clp.py stays small.

A feature module registers at import time:
  @command(r"BACKUP\\s+...")            a CLP command: handler(clp, **named groups) -> return code
  @usable_check                         check(database, how) before CONNECT ("connect") and
                                        ACTIVATE ("activate"); raises dialect.SqlError to refuse
  @sql_rewrite                          rewrite(clp, conn, text, authid) -> text, before SQL is
                                        prepared (authid: the session authorization ID)
  @statement_check                      check(ctx, database, statement, text) before a statement
                                        runs; raises dialect.SqlError to refuse (HADR standby)
  @deactivate_hook                      hook(instance, database) at DEACTIVATE DATABASE

The CLP tries its own COMMANDS first, then these, then treats the text as SQL. Feature modules
are imported on first use (they import clp, which imports this module).
"""
import importlib
import re

FEATURE_MODULES = ("dbcfg", "backup", "catalog", "upgrade", "ldapplugin", "adminviews", "hadr", "mon_hadr")

_COMMANDS, _USABLE_CHECKS, _SQL_REWRITES, _STATEMENT_CHECKS, _DEACTIVATE_HOOKS = [], [], [], [], []
_loaded = False


def command(pattern):
    def register(handler):
        _COMMANDS.append((re.compile(pattern, re.I | re.S), handler))
        return handler
    return register


def usable_check(check):
    _USABLE_CHECKS.append(check)
    return check


def sql_rewrite(rewrite):
    _SQL_REWRITES.append(rewrite)
    return rewrite


def statement_check(check):
    _STATEMENT_CHECKS.append(check)
    return check


def deactivate_hook(hook):
    _DEACTIVATE_HOOKS.append(hook)
    return hook


def load():
    global _loaded
    if not _loaded:
        _loaded = True
        for name in FEATURE_MODULES:
            importlib.import_module("%s.%s" % (__package__, name))


def match(text):
    """(handler, groups) of the registered command matching `text`, or None."""
    load()
    for pattern, handler in _COMMANDS:
        found = pattern.fullmatch(text)
        if found:
            return handler, found.groupdict()
    return None


def check_usable(database, how):
    load()
    for check in _USABLE_CHECKS:
        check(database, how)


def rewrite_sql(clp, conn, text, authid):
    load()
    for rewrite in _SQL_REWRITES:
        text = rewrite(clp, conn, text, authid)
    return text


def check_statement(ctx, database, statement, text):
    load()
    for check in _STATEMENT_CHECKS:
        check(ctx, database, statement, text)


def deactivated(instance, database):
    load()
    for hook in _DEACTIVATE_HOOKS:
        hook(instance, database)
