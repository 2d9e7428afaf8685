"""Db2 message texts and the way Db2 tools print them.

Texts are IBM's (facts file 2.2-2.4, the container logs it quotes, and the IBM message
reference). Messages are wrapped like the real tools do: a line holds at most 78 characters
(samples: db2level, SQL1363W, SQL0104N, DB20000I in facts 2.1/2.4 and idx 14416154560), and
11.1 keeps the blank it broke at at the end of the line while 11.5 drops it.
"""
import re

from . import levels

WIDTH = 78

CATALOG = {
    "DB20000I": "The {command} command completed successfully.",
    "DB21034E": ("The command was processed as an SQL statement because it was not a valid "
                 "Command Line Processor command.  During SQL processing it returned:"),
    "DB21085I": ('This instance or install (instance name, where applicable: "{instance}") uses '
                 '"64" bits and DB2 code release "{release}" with level identifier "{identifier}".\n'
                 'Informational tokens are "DB2 v{version}", "{build}", "DYN{dyn}AMD64", and Fix Pack '
                 '"{fixpack}".\nProduct is installed at "{path}".'),
    "DBI1069E": "Unexpected error. Function = {function}, Return code = {rc}.",
    "DBI1070I": "Program {program} completed successfully.",
    "DBI1303W": "Variable not set.",
    "DBI1446I": "The {program} command is running.",
    "SQL0100W": ("No row was found for FETCH, UPDATE or DELETE; or the result of a query is an "
                 "empty table.  SQLSTATE=02000"),
    "SQL0104N": ('An unexpected token "{token}" was found following "{following}".  Expected '
                 'tokens may include:  "{expected}".  SQLSTATE=42601'),
    "SQL0204N": '"{name}" is an undefined name.  SQLSTATE=42704',
    "SQL0206N": '"{name}" is not valid in the context where it is used.  SQLSTATE=42703',
    "SQL0407N": ('Assignment of a NULL value to a NOT NULL column "{column}" is not allowed.  '
                 'SQLSTATE=23502'),
    "SQL0601N": ('The name of the object to be created is identical to the existing name '
                 '"{name}" of type "{type}".  SQLSTATE=42710'),
    "SQL0803N": ('One or more values in the INSERT statement, UPDATE statement, or foreign key '
                 'update caused by a DELETE statement are not valid because the primary key, '
                 'unique constraint or unique index identified by "{index}" constrains table '
                 '"{table}" from having duplicate values for the index key.  SQLSTATE=23505'),
    "SQL0901N": ('The SQL statement or command failed because of a database system error. '
                 '(Reason "{reason}".)  SQLSTATE=58004'),
    "SQL1001N": '"{name}" is not a valid database name.  SQLSTATE=2E000',
    "SQL1005N": ('The database alias "{name}" already exists in either the local database '
                 'directory or system database directory.'),
    "SQL1013N": ('The database alias name or database name "{name}" could not be found.  '
                 'SQLSTATE=42705'),
    "SQL1024N": "A database connection does not exist.  SQLSTATE=08003",
    "SQL1025N": "The database manager was not stopped because databases are still active.",
    "SQL1026N": "The database manager is already active.",
    "SQL1032N": "No start database manager command was issued.  SQLSTATE=57019",
    "SQL1057W": "The system database directory is empty.  SQLSTATE=01606",
    "SQL1063N": "DB2START processing was successful.",
    "SQL1064N": "DB2STOP processing was successful.",
    "SQL1224N": ("The database manager is not able to accept new requests, has terminated all "
                 "requests in progress, or has terminated the specified request because of an "
                 "error or a forced interrupt.  SQLSTATE=55032"),
    "SQL1390C": "The environment variable DB2INSTANCE is not defined or is invalid.",
    "SQL1490W": ("Activate database is successful, however, the database has already been "
                 "activated on one or more nodes."),
    "SQL1495W": ("Deactivate database is successful, however, there is still a connection to "
                 "the database."),
    "SQL1496W": "Deactivate database is successful, but the database was not activated.",
    "SQL1611W": "No data was returned by Database System Monitor.",
    "SQL30082N": ('Security processing failed with reason "{reason}" ("{reason_text}").  '
                  'SQLSTATE=08001'),
}

# CLP message ids for errors of the CLP itself (return code 8).
CLP_ERRORS = {
    "DB21001E": 'The option "{option}" specified after the \'db2\' command or in the DB2OPTIONS '
                'variable is incorrect.',
    "DB21004E": ("You cannot specify both an input file and a command when invoking the Command "
                 "Line Processor."),
    "DB21005E": 'An error occurred while accessing the file "{file}".',
}
CATALOG.update(CLP_ERRORS)


def text(msg_id, **values):
    """The message as one unwrapped string: `SQL1024N  A database connection ...`."""
    return "%s  %s" % (msg_id, CATALOG[msg_id].format(**values))


def message(msg_id, **values):
    """The message as the tools print it: wrapped, ending with a newline."""
    return wrap(text(msg_id, **values)) + "\n"


def bare(msg_id, **values):
    """The message text without SQLSTATE, as db2start/db2stop put it on their timestamped line."""
    return re.sub(r"\s+SQLSTATE=\w+$", "", text(msg_id, **values))


def wrap(text_, keep_space=None):
    """Wrap each line of `text_` at blanks to at most WIDTH characters."""
    if keep_space is None:
        keep_space = levels.installed().wrap_keeps_space
    lines = []
    for paragraph in text_.split("\n"):
        line, gap = "", ""
        for part in re.findall(r" +|[^ ]+", paragraph):
            if part.startswith(" "):
                gap = part
                continue
            if line and len(line) + len(gap) + len(part) > WIDTH:
                lines.append(line + (gap if keep_space else ""))
                line, gap = "", ""
            line += gap + part
            gap = ""
        lines.append(line + gap)
    return "\n".join(lines)
