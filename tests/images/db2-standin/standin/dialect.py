"""Db2 SQL on SQLite: the few rewrites that let common Db2 statements run unchanged, and the
mapping of SQLite errors to Db2 messages.

Schemas are SQLite databases attached under the schema's name (TESTING.md: `ATTACH ... AS
SYSTOOLS`), so `SCHEMA.TABLE` needs no rewriting; unqualified names resolve to the current
schema because it is attached first.
"""
import datetime
import re
from dataclasses import dataclass, field

TOKEN = re.compile(r"""
    (?P<str>'(?:[^']|'')*')
  | (?P<qid>"(?:[^"]|"")*")
  | (?P<ws>\s+)
  | (?P<word>[A-Za-z_$#@][A-Za-z0-9_$#@]*)
  | (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)
  | (?P<op>\|\||<>|<=|>=|!=|.)
""", re.S | re.X)

# Statements the CLP passes to the database; anything else that is not a CLP command gets
# DB21034E (not a valid CLP command) followed by the SQL0104N of the SQL compiler.
SQL_VERBS = {"SELECT", "VALUES", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP",
             "ALTER", "COMMIT", "ROLLBACK", "CALL", "GRANT", "REVOKE", "SET", "DECLARE",
             "COMMENT", "LOCK", "SAVEPOINT", "RELEASE", "TRUNCATE", "RENAME"}

# Large-object lengths such as CLOB(2M): SQLite wants a plain number in a type name.
LOB_UNITS = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}


@dataclass
class Token:
    kind: str
    text: str

    @property
    def upper(self):
        return self.text.upper() if self.kind == "word" else None


@dataclass
class Statement:
    """A Db2 statement made ready for SQLite."""
    sql: str
    verb: str
    schemas: set = field(default_factory=set)   # schemas it names explicitly
    creates: bool = False                       # it creates an object (schema may be new)


def tokenize(sql):
    return [Token(m.lastgroup, m.group()) for m in TOKEN.finditer(sql)]


def identifier(token):
    """Db2 folds ordinary identifiers to upper case; delimited ones keep their case."""
    if token.kind == "qid":
        return token.text[1:-1].replace('""', '"')
    return token.text.upper()


def prepare(sql, schema, server):
    """Rewrite one Db2 statement for SQLite. `schema` is CURRENT SCHEMA, `server` the database."""
    tokens = tokenize(sql.strip())
    words = [t for t in tokens if t.kind != "ws"]
    verb = words[0].upper if words and words[0].kind == "word" else ""
    now = datetime.datetime.now()
    registers = {"TIMESTAMP": now.strftime("%Y-%m-%d-%H.%M.%S.%f"), "DATE": now.strftime("%Y-%m-%d"),
                 "TIME": now.strftime("%H.%M.%S"), "SCHEMA": schema, "SQLID": schema,
                 "USER": schema, "SERVER": server}
    out = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = _next_word(tokens, i)
        # CURRENT TIMESTAMP and friends: one value per statement, in Db2's format.
        if tok.upper == "CURRENT" and nxt is not None and tokens[nxt].upper in registers:
            out.append(Token("str", _quote(registers[tokens[nxt].upper])))
            i = nxt + 1
            continue
        if tok.upper and tok.upper.startswith("CURRENT_") and tok.upper[8:] in registers:
            out.append(Token("str", _quote(registers[tok.upper[8:]])))
            i += 1
            continue
        # FETCH FIRST [n] ROW[S] ONLY -> LIMIT n
        if tok.upper == "FETCH" and nxt is not None and tokens[nxt].upper == "FIRST":
            limit, end = _fetch_first(tokens, nxt)
            if end is not None:
                out.append(Token("word", "LIMIT %s" % limit))
                i = end
                continue
        # WITH UR/CS/RS/RR isolation clauses mean nothing to SQLite.
        if (tok.upper == "WITH" and nxt is not None and tokens[nxt].upper in ("UR", "CS", "RS", "RR")
                and _next_word(tokens, nxt) is None):
            break
        # CLOB(2M) -> CLOB(2097152)
        if tok.kind == "num" and nxt == i + 1 and tokens[nxt].upper in LOB_UNITS:
            out.append(Token("num", str(int(tok.text) * LOB_UNITS[tokens[nxt].upper])))
            i = nxt + 1
            continue
        out.append(tok)
        i += 1
    statement = Statement("", verb)
    _collect_schemas(out, statement)
    if verb == "VALUES":
        out = _values_rows(out)
    if verb == "CREATE":
        out = _qualify_created(out, schema, statement)
    statement.sql = "".join(t.text for t in out)
    return statement


def _quote(value):
    return "'%s'" % value.replace("'", "''")


def _next_word(tokens, i):
    """Index of the next non-blank token after i, or None."""
    for j in range(i + 1, len(tokens)):
        if tokens[j].kind != "ws":
            return j
    return None


def _fetch_first(tokens, first):
    """(n, index after ONLY) for FETCH FIRST [n] ROW|ROWS ONLY starting at FIRST."""
    j = _next_word(tokens, first)
    limit = "1"
    if j is not None and tokens[j].kind == "num":
        limit, j = tokens[j].text, _next_word(tokens, j)
    if j is None or tokens[j].upper not in ("ROW", "ROWS"):
        return None, None
    j = _next_word(tokens, j)
    if j is None or tokens[j].upper != "ONLY":
        return None, None
    return limit, j + 1


def _collect_schemas(tokens, statement):
    """Schemas named as `SCHEMA.OBJECT`, so the caller can attach them first."""
    sig = [t for t in tokens if t.kind != "ws"]
    for a, dot, b in zip(sig, sig[1:], sig[2:]):
        if a.kind in ("word", "qid") and dot.text == "." and b.kind in ("word", "qid"):
            statement.schemas.add(identifier(a))


def _values_rows(tokens):
    """Db2 `VALUES 1, 2` is two rows; SQLite needs `VALUES (1), (2)`."""
    head, items, depth, current = [], [], 0, []
    body = tokens[1:]
    head.append(tokens[0])
    for tok in body:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        if tok.text == "," and depth == 0:
            items.append(current)
            current = []
            continue
        current.append(tok)
    items.append(current)
    rows = []
    for item in items:
        text = "".join(t.text for t in item).strip()
        rows.append(text if _parenthesized(text) else "(%s)" % text)
    return head + [Token("ws", " "), Token("word", ", ".join(rows))]


def _parenthesized(text):
    """True when text is one parenthesized group: `(1, 2)` but not `(1) + 2`."""
    if not text.startswith("("):
        return False
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return index == len(text) - 1
    return False


def _qualify_created(tokens, schema, statement):
    """CREATE TABLE/VIEW name -> CREATE TABLE "SCHEMA".name: SQLite would put it in `main`."""
    sig = [i for i, t in enumerate(tokens) if t.kind != "ws"]
    for pos, index in enumerate(sig[:-1]):
        if tokens[index].upper in ("TABLE", "VIEW"):
            statement.creates = True
            name = sig[pos + 1]
            qualified = pos + 2 < len(sig) and tokens[sig[pos + 2]].text == "."
            if qualified:
                return tokens
            statement.schemas.add(schema)
            return tokens[:name] + [Token("qid", '"%s".' % schema)] + tokens[name:]
    return tokens


def result_names(description, verb):
    """CLP column headings: the column name, or its position for an unnamed expression."""
    names = []
    for position, column in enumerate(description, start=1):
        name = column[0]
        if verb == "VALUES" or not re.match(r"^[A-Za-z_$#@][A-Za-z0-9_$#@]*$", name):
            names.append(str(position))
        else:
            names.append(name.upper())
    return names


def referenced_tables(sql):
    """(schema or None, table) pairs after FROM / JOIN, to look up declared column types."""
    sig = [t for t in tokenize(sql) if t.kind != "ws"]
    found = []
    for index, tok in enumerate(sig):
        if (tok.upper or tok.text) not in ("FROM", "JOIN", ","):
            continue
        if tok.text == "," and not found:
            continue
        rest = sig[index + 1:index + 4]
        if not rest or rest[0].kind not in ("word", "qid"):
            continue
        if len(rest) == 3 and rest[1].text == "." and rest[2].kind in ("word", "qid"):
            found.append((identifier(rest[0]), identifier(rest[2])))
        else:
            found.append((None, identifier(rest[0])))
    return found


class SqlError(Exception):
    """A Db2 error for a failed statement: message id and its values."""

    def __init__(self, msg_id, **values):
        super().__init__(msg_id)
        self.msg_id = msg_id
        self.values = values


def map_error(error, statement_text, schema):
    """The Db2 message for an sqlite3 error raised by a statement."""
    text = str(error)

    def qualified(name):
        name = name.upper()
        if name.startswith("MAIN."):
            name = name[5:]
        return name if "." in name else "%s.%s" % (schema, name)

    match = re.match(r"no such table: (\S+)", text)
    if match:
        return SqlError("SQL0204N", name=qualified(match.group(1)))
    match = re.match(r"no such column: (\S+)", text)
    if match:
        return SqlError("SQL0206N", name=match.group(1).upper())
    match = re.match(r"(table|view|index) (\S+) already exists", text)
    if match:
        return SqlError("SQL0601N", name=qualified(match.group(2).strip('"')),
                        type=match.group(1).upper())
    match = re.match(r"UNIQUE constraint failed: (\w+)\.", text)
    if match:
        return SqlError("SQL0803N", index="1", table=qualified(match.group(1)))
    match = re.match(r"NOT NULL constraint failed: (\w+)\.(\w+)", text)
    if match:
        return SqlError("SQL0407N", column="%s.%s" % (qualified(match.group(1)), match.group(2).upper()))
    match = re.match(r'near "([^"]*)": syntax error', text)
    if match or text == "incomplete input":
        token = match.group(1) if match else "END-OF-STATEMENT"
        return syntax_error(statement_text, token)
    return SqlError("SQL0901N", reason=text)


def syntax_error(statement_text, token):
    """SQL0104N for `token`, naming the word before it as Db2 does."""
    at = len(statement_text)
    if token != "END-OF-STATEMENT":
        at = max(statement_text.upper().find(token.upper()), 0)
    before = statement_text[:at].split()
    if not before:
        return SqlError("SQL0104N", token=token, following="BEGIN-OF-STATEMENT", expected="<space>")
    expected = "<identifier>" if token == "END-OF-STATEMENT" else "END-OF-STATEMENT"
    return SqlError("SQL0104N", token=token, following=before[-1], expected=expected)
