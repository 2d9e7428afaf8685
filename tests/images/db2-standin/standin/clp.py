"""`db2`: the command line processor.

    db2 [options] "command"          one command
    db2 [options] -f FILE            a script (`-f /dev/stdin` opens that path)
    db2 [options]                    interactive mode on file descriptor 0 (banner, `db2 => `)

Options as IBM's CLP (also read from DB2OPTIONS): -t (`;` ends statements; -tdX uses X),
-v echo, -x no headings, -s stop at the first error, -c/+c autocommit, -f file; other IBM
option letters are accepted and ignored. Return codes (IBM "CLP return codes"): 0 ok, 1 no
rows, 2 warning, 4 error, 8 CLP system error; for a script the codes of its statements ORed.
"""
import decimal
import os
import pwd
import re
import sqlite3
import subprocess
import sys

from . import ats, auth, commands, dbmcfg, dialect, levels, messages, translog
from .database import VALID_NAME, Database, quote_identifier
from .instance import Instance, NoInstance
from .session import Session, connections

RC_OK, RC_NO_ROWS, RC_WARNING, RC_ERROR, RC_SYSTEM = 0, 1, 2, 4, 8

FLAG_LETTERS = set("acdeimnopqstvwx")  # IBM CLP option letters without an argument
FILE_LETTERS = set("flrz")             # ... and with a file argument


class ClpError(Exception):
    """An error of the CLP itself (return code 8)."""

    def __init__(self, msg_id, **values):
        super().__init__(msg_id)
        self.msg_id, self.values = msg_id, values


class Options:
    def __init__(self):
        self.flags = {"c": True, "o": True}
        self.terminator = None  # None: one statement per line
        self.file = None

    def on(self, letter):
        return self.flags.get(letter, False)


def parse_options(args):
    """(Options, command words) from DB2OPTIONS and the arguments."""
    options = Options()
    words = os.environ.get("DB2OPTIONS", "").split() + list(args)
    index = 0
    while index < len(words) and re.match(r"^[-+][A-Za-z]", words[index]):
        cluster, on = words[index][1:], words[index][0] == "-"
        index += 1
        position = 0
        while position < len(cluster):
            letter = cluster[position].lower()
            position += 1
            if letter == "t":
                options.flags["t"] = on
                options.terminator = ";" if on else None
                if cluster[position:position + 1].lower() == "d" and position + 1 < len(cluster):
                    options.terminator = cluster[position + 1]
                    position = len(cluster)
            elif letter in FILE_LETTERS:
                name = cluster[position:]
                if not name:
                    if index >= len(words):
                        raise ClpError("DB21001E", option=words[index - 1])
                    name, index = words[index], index + 1
                position = len(cluster)
                if letter == "f":
                    options.file = name
            elif letter in FLAG_LETTERS:
                options.flags[letter] = on
            else:
                raise ClpError("DB21001E", option=words[index - 1][0] + letter)
    return options, words[index:]


def split_statements(text, terminator):
    """Statements of a script: ended by `terminator`, or one per line when it is None.

    `--` starts a comment outside quotes; `--#SET TERMINATOR x` changes the terminator.
    """
    if terminator is None:
        joined = re.sub(r"\\\n", " ", text)
        return [line.strip() for line in joined.splitlines()
                if line.strip() and not line.strip().startswith("--")]
    statements, current, quote, i = [], [], None, 0
    while i < len(text):
        char = text[i]
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif text.startswith("--", i):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            directive = text[i:end].split()
            if directive[:2] == ["--#SET", "TERMINATOR"] and len(directive) > 2:
                terminator = directive[2]
            i = end
            continue
        elif text.startswith(terminator, i):
            statements.append("".join(current))
            current = []
            i += len(terminator)
            continue
        current.append(" " if char == "\n" else char)
        i += 1
    statements.append("".join(current))
    return [s.strip() for s in statements if s.strip()]


class Clp:
    """Runs CLP commands for one `db2` invocation, printing what IBM's CLP prints."""

    COMMANDS = [(re.compile(pattern, re.I | re.S), name) for pattern, name in (
        (r"ECHO(?:\s(?P<text>.*))?", "echo"),
        (r"CONNECT\s+TO\s+(?P<db>\S+)(?:\s+USER\s+(?P<user>\S+)"
         r"(?:\s+USING\s+(?P<password>\"[^\"]*\"|\S+))?)?",
         "connect"),
        (r"CONNECT\s+RESET|DISCONNECT\s+(?:CURRENT|ALL(?:\s+SQL)?|\S+)", "connect_reset"),
        (r"CONNECT", "connect_info"),
        (r"TERMINATE", "terminate"),
        (r"LIST\s+ACTIVE\s+DATABASES", "list_active"),
        (r"LIST\s+(?:DATABASE|DB)\s+DIRECTORY", "list_directory"),
        (r"ACTIVATE\s+(?:DATABASE|DB)\s+(?P<db>\S+)", "activate"),
        (r"DEACTIVATE\s+(?:DATABASE|DB)\s+(?P<db>\S+)", "deactivate"),
        (r"CREATE\s+(?:DATABASE|DB)\s+(?P<db>\S+)(?:\s.*)?", "create_database"),
        (r"GET\s+(?:DATABASE\s+MANAGER|DB\s+MANAGER|DBM)\s+(?:CONFIGURATION|CONFIG|CFG)",
         "get_dbm_cfg"),
        (r"UPDATE\s+(?:DATABASE\s+MANAGER|DB\s+MANAGER|DBM)\s+(?:CONFIGURATION|CONFIG|CFG)\s+"
         r"USING\s+(?P<pairs>.+)", "update_dbm_cfg"),
    )]

    def __init__(self, instance, options):
        self.instance = instance
        self.options = options
        self.session = Session(instance)
        self.conn = None      # this process's SQLite connection to the session's database
        self.conn_db = None

    # --- output -----------------------------------------------------------------------

    @staticmethod
    def write(text):
        sys.stdout.write(text)

    def emit(self, msg_id, rc, **values):
        self.write(messages.message(msg_id, **values))
        return rc

    def emit_error(self, error):
        return self.emit(error.msg_id, RC_WARNING if error.msg_id.endswith("W") else RC_ERROR,
                         **error.values)

    # --- dispatch ---------------------------------------------------------------------

    def execute(self, text):
        """Run one command or statement; returns its CLP return code."""
        if text.lstrip().startswith("!"):
            return self.shell_escape(text.lstrip()[1:])
        for pattern, name in self.COMMANDS:
            match = pattern.fullmatch(text.strip())
            if match:
                try:
                    return getattr(self, "cmd_" + name)(**match.groupdict())
                except dialect.SqlError as error:
                    return self.emit_error(error)
        # Commands of the feature modules (standin/commands.py): backup, binds, ...
        registered = commands.match(text.strip())
        if registered:
            handler, groups = registered
            try:
                return handler(self, **groups)
            except dialect.SqlError as error:
                return self.emit_error(error)
        return self.sql(text.strip())

    def shell_escape(self, command):
        """`!command`: IBM's CLP runs it through the shell on UNIX, from any mode (so must a
        stand-in: a module that lets user text start a line with `!` must meet the danger here)."""
        sys.stdout.flush()
        return subprocess.call(["/bin/sh", "-c", command])  # its return code is the statement's

    def close(self):
        """End of the invocation: work of +c mode is committed (as TERMINATE would)."""
        if self.conn is not None:
            if self.conn.in_transaction:
                translog.end_unit(self, Database.lookup(self.instance, self.conn_db), "COMMIT")
            self.conn.close()
            self.conn = None

    # --- state helpers ------------------------------------------------------------------

    def require_started(self):
        state = self.instance.snapshot()
        if not state["started"]:
            raise dialect.SqlError("SQL1032N")
        return state

    def require_database(self, alias):
        database = Database.lookup(self.instance, alias)
        if database is None:
            raise dialect.SqlError("SQL1013N", name=alias.upper())
        return database

    def connection(self):
        """The session's connection data; SQL1024N without one, SQL1224N if db2stop ended it."""
        data = self.session.data
        if not data:
            raise dialect.SqlError("SQL1024N")
        state = self.instance.snapshot()
        if not state["started"] or data["run"] != state["run"]:
            self.session.clear()
            raise dialect.SqlError("SQL1224N")
        return data

    # --- commands -----------------------------------------------------------------------

    def cmd_echo(self, text):
        self.write((text or "") + "\n")
        return RC_OK

    def cmd_connect(self, db, user, password):
        state = self.require_started()
        if password and len(password) > 1 and password[0] == password[-1] == '"':
            password = password[1:-1]  # a delimited password may hold blanks
        database = self.require_database(db)
        if user is not None:
            if password is None:  # the real CLP would prompt; scripts cannot answer
                raise dialect.SqlError("SQL30082N", reason="3", reason_text="PASSWORD MISSING")
            failure, authid = auth.authenticate(self.instance, user, password)
            if failure:
                raise dialect.SqlError("SQL30082N", reason=failure[0], reason_text=failure[1])
        else:
            authid = pwd.getpwuid(os.geteuid()).pw_name.upper()
        commands.check_usable(database, "connect")
        self.close()
        self.session.save({"db": database.alias, "authid": authid, "run": state["run"]})
        self.write(connection_information(database.alias, authid))
        return RC_OK

    def cmd_connect_info(self):
        data = self.connection()
        self.write(connection_information(data["db"], data["authid"]))
        return RC_OK

    def cmd_connect_reset(self):
        self.close()
        self.session.clear()
        return self.emit("DB20000I", RC_OK, command="SQL")

    def cmd_terminate(self):
        self.close()
        self.session.clear()
        return self.emit("DB20000I", RC_OK, command="TERMINATE")

    def cmd_list_active(self):
        state = self.require_started()
        counts = connections(self.instance, state["run"])
        active = list(dict.fromkeys(state["active"] + sorted(counts)))
        if not active:
            return self.emit("SQL1611W", RC_WARNING)
        out = ["", "                           Active Databases", ""]
        for alias in active:
            database = self.require_database(alias)
            out += ["Database name                              = %s" % database.name,
                    "Applications connected currently           = %d" % counts.get(alias, 0),
                    "Database path                              = %s" % database.path, ""]
        self.write("\n".join(out) + "\n")
        return RC_OK

    def cmd_list_directory(self):
        directory = self.instance.directory()
        if not directory:
            return self.emit("SQL1057W", RC_WARNING)
        out = ["", " System Database Directory", "",
               " Number of entries in the directory = %d" % len(directory), ""]
        for number, (alias, entry) in enumerate(directory.items(), start=1):
            database = Database(self.instance, alias, entry)
            out += ["Database %d entry:" % number, ""]
            out += [" %-37s= %s" % item for item in (
                ("Database alias", alias), ("Database name", entry["name"]),
                ("Local database directory", entry["path"]),
                ("Database release level", database.release()), ("Comment", ""),
                ("Directory entry type", "Indirect"), ("Catalog database partition number", "0"),
                ("Alternate server hostname", entry.get("althost", "")),
                ("Alternate server port number", entry.get("altport", "")))]
            out.append("")
        self.write("\n".join(out) + "\n")
        return RC_OK

    def cmd_activate(self, db):
        self.require_started()
        database = self.require_database(db)
        commands.check_usable(database, "activate")
        with self.instance.state() as state:
            if database.alias in state["active"]:
                raise dialect.SqlError("SQL1490W")
            state["active"].append(database.alias)
        return self.emit("DB20000I", RC_OK, command="ACTIVATE DATABASE")

    def cmd_deactivate(self, db):
        self.require_started()
        database = self.require_database(db)
        with self.instance.state() as state:
            explicit = database.alias in state["active"]
            if explicit:
                state["active"].remove(database.alias)
            run = state["run"]
        if connections(self.instance, run).get(database.alias):
            raise dialect.SqlError("SQL1495W")
        commands.deactivated(self.instance, database)  # e.g. an HADR database's log shipping
        if not explicit:
            raise dialect.SqlError("SQL1496W")
        return self.emit("DB20000I", RC_OK, command="DEACTIVATE DATABASE")

    def cmd_create_database(self, db):
        self.require_started()
        name = db.upper()
        if not VALID_NAME.match(name):
            raise dialect.SqlError("SQL1001N", name=db)
        if name in self.instance.directory():
            raise dialect.SqlError("SQL1005N", name=name)
        Database.create(self.instance, name, levels.installed())
        self.instance.diag("Event", "db2sysc", "base sys utilities, sqleCreateDatabase",
                           "ADM7505I  Database %s created." % name)
        return self.emit("DB20000I", RC_OK, command="CREATE DATABASE")

    def cmd_get_dbm_cfg(self):
        self.write(dbmcfg.render(self.instance.dbm_cfg(), self.instance.name, self.instance.home,
                                 levels.installed().dbm_release))
        return RC_OK

    def cmd_update_dbm_cfg(self, pairs):
        words = pairs.split()
        if words and words[-1].upper() in ("IMMEDIATE", "DEFERRED"):
            words.pop()
        changes, following = {}, "USING"
        for index in range(0, len(words), 2):
            param = words[index].upper()
            if param not in dbmcfg.PARAMETERS:
                raise dialect.SqlError("SQL0104N", token=words[index], following=following,
                                       expected="<identifier>")
            if index + 1 >= len(words):
                raise dialect.SqlError("SQL0104N", token="END-OF-STATEMENT", following=words[index],
                                       expected="<value>")
            value = dbmcfg.normalize(param, words[index + 1])
            if value is None:
                raise dialect.SqlError("SQL0104N", token=words[index + 1], following=words[index],
                                       expected=sorted(dbmcfg.KEYWORDS[param])[0])
            changes[param] = value
            following = words[index + 1]
        self.instance.update_dbm_cfg(changes)
        return self.emit("DB20000I", RC_OK, command="UPDATE DATABASE MANAGER CONFIGURATION")

    # --- SQL ------------------------------------------------------------------------------

    def sql(self, text):
        first = text.split(None, 1)[0].upper() if text.split() else ""
        if first not in dialect.SQL_VERBS:
            self.write(messages.message("DB21034E"))
            error = dialect.SqlError("SQL0104N", token=text.split(None, 1)[0] if text.split() else "",
                                     following="BEGIN-OF-STATEMENT", expected="<space>")
            return self.emit_error(error)
        try:
            data = self.connection()
            database = self.require_database(data["db"])
        except dialect.SqlError as error:
            return self.emit_error(error)
        if self.conn is None or self.conn_db != database.alias:
            self.conn, self.conn_db = database.open(data["authid"]), database.alias
        handled = ats.statement(self, database, text, data["authid"])  # CALL, CREATE TABLESPACE
        if handled is not None:
            return handled
        try:
            statement, cursor = execute_sql(self, database, text, data["authid"], self.options.on("c"))
        except dialect.SqlError as error:
            return self.emit_error(error)
        if cursor is None:  # COMMIT, ROLLBACK
            return self.emit("DB20000I", RC_OK, command="SQL")
        if cursor.description is not None:
            return self.print_result(statement, cursor)
        if statement.verb in ("UPDATE", "DELETE", "MERGE") and cursor.rowcount == 0:
            return self.emit("SQL0100W", RC_NO_ROWS)
        return self.emit("DB20000I", RC_OK, command="SQL")

    def print_result(self, statement, cursor):
        rows = cursor.fetchall()
        names = dialect.result_names(cursor.description, statement.verb)
        declared = self.declared_types(statement.sql)
        columns = [Column(name, declared.get(name) if name == raw.upper() else None,
                          [row[i] for row in rows])
                   for i, (name, raw) in enumerate(zip(names, (d[0] for d in cursor.description)))]
        lines = [" ".join(c.render(row[i]) for i, c in enumerate(columns)) for row in rows]
        if self.options.on("x"):
            self.write("".join(line + "\n" for line in lines))
        else:
            self.write("\n" + " ".join(c.name.ljust(c.width) for c in columns) + "\n"
                       + " ".join("-" * c.width for c in columns) + "\n"
                       + "".join(line + "\n" for line in lines)
                       + "\n  %d record(s) selected.\n\n" % len(rows))
        return RC_OK if rows else RC_NO_ROWS

    def declared_types(self, sql):
        return declared_types(self.conn, sql)


def execute_sql(ctx, database, text, authid, autocommit, params=()):
    """Run one SQL statement (not CALL) on `ctx.conn`: (dialect.Statement, cursor or None for
    COMMIT/ROLLBACK); raises dialect.SqlError. The one SQL path of the CLP and the DRDA server;
    `ctx` has `instance` and `conn` (the hooks of commands.rewrite_sql read them)."""
    text = commands.rewrite_sql(ctx, ctx.conn, text, authid)  # e.g. table functions of plug-ins
    statement = dialect.prepare(text, authid, database.alias)
    commands.check_statement(ctx, database, statement, text)  # e.g. HADR: a standby takes no writes
    try:
        for schema in statement.schemas:
            database.attach(ctx.conn, schema, create=statement.creates)
        if statement.verb in ("COMMIT", "ROLLBACK"):
            if ctx.conn.in_transaction:
                translog.end_unit(ctx, database, statement.verb)
            return statement, None
        # A recoverable database logs each unit of work at its COMMIT (translog.py): a write in
        # autocommit mode is a unit of work of its own.
        logged = statement.verb not in translog.UNLOGGED_VERBS and translog.recoverable(database)
        own_unit = logged and autocommit and not ctx.conn.in_transaction
        if (logged or not autocommit) and not ctx.conn.in_transaction:
            ctx.conn.execute("BEGIN")
        try:
            cursor = ctx.conn.execute(statement.sql, tuple(params))
        except sqlite3.Error:
            if own_unit and ctx.conn.in_transaction:
                ctx.conn.execute("ROLLBACK")
            raise
        if logged:
            translog.note(ctx, database, statement, authid, params)
            if own_unit:
                translog.commit(ctx, database)
        return statement, cursor
    except sqlite3.Error as error:
        raise dialect.map_error(error, text, authid) from None


def declared_types(conn, sql):
    """Column name -> declared type, for the tables a query reads."""
    types = {}
    for schema, table in dialect.referenced_tables(sql):
        pragma = "PRAGMA %stable_info(%s)" % (
            quote_identifier(schema) + "." if schema else "", quote_identifier(table))
        try:
            for row in conn.execute(pragma):
                types.setdefault(row[1].upper(), row[2].upper())
        except sqlite3.Error:
            continue
    return types


def connection_information(alias, authid):
    return ("\n   Database Connection Information\n\n"
            " Database server        = DB2/LINUXX8664 %s\n"
            " SQL authorization ID   = %s\n"
            " Local database alias   = %s\n\n" % (levels.installed().server_version, authid, alias))


class Column:
    """Width and rendering of one result column, following the CLP's display widths."""

    FIXED = {"SMALLINT": 6, "INTEGER": 11, "INT": 11, "BIGINT": 20, "REAL": 24, "DOUBLE": 24,
             "FLOAT": 24, "DATE": 10, "TIME": 8, "TIMESTAMP": 26}
    NUMERIC = {"SMALLINT", "INTEGER", "INT", "BIGINT", "REAL", "DOUBLE", "FLOAT", "DECIMAL", "DEC",
               "NUMERIC"}

    def __init__(self, name, declared, values):
        self.name = name
        base, args = self._parse(declared) if declared else self._infer(values)
        self.type, self.scale = base, (args[1] if len(args) > 1 else 0)
        if base in self.FIXED:
            width = self.FIXED[base]
        elif base in ("DECIMAL", "DEC", "NUMERIC"):
            width = (args[0] if args else 5) + 2
        elif args:
            width = args[0]
        else:
            width = max([len(self.text(v)) for v in values if v is not None] or [1])
        self.width = max(width, len(name))

    @staticmethod
    def _parse(declared):
        match = re.match(r"^\s*([A-Z]+)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?", declared)
        if not match:
            return "VARCHAR", []
        return match.group(1), [int(g) for g in match.groups()[1:] if g is not None]

    @staticmethod
    def _infer(values):
        present = [v for v in values if v is not None]
        if present and all(isinstance(v, int) for v in present):
            return ("INTEGER" if all(-2 ** 31 <= v < 2 ** 31 for v in present) else "BIGINT"), []
        if present and all(isinstance(v, (int, float)) for v in present):
            return "DOUBLE", []
        return "VARCHAR", []

    def text(self, value):
        if self.type in ("SMALLINT", "INTEGER", "INT", "BIGINT") and isinstance(value, (int, float)):
            return str(int(value))
        if self.type in ("DECIMAL", "DEC", "NUMERIC") and isinstance(value, (int, float)):
            quantized = decimal.Decimal(str(value)).quantize(decimal.Decimal(1).scaleb(-self.scale))
            return "%s." % quantized if self.scale == 0 else str(quantized)
        if self.type in ("REAL", "DOUBLE", "FLOAT") and isinstance(value, (int, float)):
            mantissa, exponent = ("%.14E" % value).split("E")
            return "%s%sE%+04d" % ("" if mantissa.startswith("-") else "+", mantissa, int(exponent))
        if isinstance(value, bytes):
            return value.hex().upper()
        return str(value)

    def render(self, value):
        shown = "-" if value is None else self.text(value)
        return shown.rjust(self.width) if self.type in self.NUMERIC else shown.ljust(self.width)


# Interactive mode's banner, from IBM's CLP catalog (db2clp.mo) with the CLP's line breaks.
BANNER = """(c) Copyright IBM Corporation 1993,2007
Command Line Processor for DB2 Client {level}

You can issue database manager commands and SQL statements from the command
prompt. For example:
    db2 => connect to sample
    db2 => bind sample.bnd

For general help, type: ?.
For command help, type: ? command, where command can be
the first few keywords of a database manager command. For example:
 ? CATALOG DATABASE for help on the CATALOG DATABASE command
 ? CATALOG          for help on all of the CATALOG commands.

To exit db2 interactive mode, type QUIT at the command prompt. Outside
interactive mode, all commands must be prefixed with 'db2'.
To list the current command option settings, type LIST COMMAND OPTIONS.

For more detailed help, refer to the Online Reference Manual.

"""
PROMPT = "db2 => "
QUIT = re.compile(r"QUIT|TERMINATE", re.I)


def read_input(options, words):
    """(statements, interactive): the command, the -f file, or file descriptor 0 as it is.

    Interactive mode reads fd 0 itself: `su - db2inst1 -c 'db2 -t'` fed through `docker exec -i`
    gets a pipe that the instance owner could not open again by the path /dev/stdin.
    """
    if options.file is not None and words:
        raise ClpError("DB21004E")
    if words:
        return [" ".join(words)], False
    if options.file is None:
        return split_statements(sys.stdin.read(), options.terminator), True
    try:
        with open(options.file) as script:
            return split_statements(script.read(), options.terminator), False
    except OSError:
        raise ClpError("DB21005E", file=options.file) from None


def main(argv):
    try:
        options, words = parse_options(argv)
        statements, interactive = read_input(options, words)
        clp = Clp(Instance(), options)
    except ClpError as error:
        sys.stdout.write(messages.message(error.msg_id, **error.values))
        return RC_SYSTEM
    except NoInstance:
        sys.stdout.write(messages.message("SQL1390C"))
        return RC_ERROR
    prompt = PROMPT if interactive and options.flags.get("p", True) else ""
    if interactive:
        sys.stdout.write(BANNER.format(level=levels.installed().server_version))
    rc = RC_OK
    try:
        for statement in statements:
            sys.stdout.write(prompt)
            if options.on("v"):
                sys.stdout.write(statement + "\n")
            if interactive and QUIT.fullmatch(statement):
                if statement.upper() == "TERMINATE":
                    clp.execute(statement)
                prompt = ""  # QUIT ends the session: no prompt after it
                break
            code = clp.execute(statement)
            if not words and not interactive:
                sys.stdout.write("\n")
            sys.stdout.flush()
            rc |= code
            if options.on("s") and code >= RC_ERROR:
                break
        sys.stdout.write(prompt)  # the prompt that met the end of the input
    finally:
        clp.close()
    return rc
