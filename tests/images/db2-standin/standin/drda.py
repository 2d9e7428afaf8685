"""The DRDA application server on the instance's port (real Db2: the TCP/IP listener of db2sysc).

db2start binds the port (SVCENAME of the dbm cfg, else $DBPORT, else 50000) and starts this
server as the `db2sysc` process with the listening socket; db2stop ends it. One thread per
connection: a client that sends garbage, stalls or disconnects loses its own connection (its
unit of work is rolled back) and nobody else notices. SQL runs through the CLP's path
(clp.execute_sql, ats.run): same dialect rewriting, same SqlError -> SQLCODE/SQLSTATE.

Formats: DRDA V5 (The Open Group C112 SQLCARD/SQLDARD/QRYDTA, C113 FD:OCA, C114 DDM), with the
replies shared/reference/drda-facts.md proved against IBM's driver (ibm_db 3.3.0) and pydrda.
What is assumed rather than specified is said where it is done (and in the README).
"""
import contextlib
import decimal
import itertools
import json
import os
import re
import signal
import socket
import sqlite3
import struct
import sys
import threading
import time

from . import auth, ats, clp, commands, dialect, levels, messages, secmec9, session, translog
from .database import Database
from .instance import Instance

# --- code points (DDM, C114) ----------------------------------------------------------------
EXCSAT, EXCSATRD, ACCSEC, ACCSECRD, SECCHK, SECCHKRM = 0x1041, 0x1443, 0x106D, 0x14AC, 0x106E, 0x1219
ACCRDB, ACCRDBRM, RDBNFNRM, RDBAFLRM = 0x2001, 0x2201, 0x2211, 0x221A
EXCSQLIMM, EXCSQLSTT, EXCSQLSET, PRPSQLSTT, DSCSQLSTT = 0x200A, 0x200B, 0x2014, 0x200D, 0x2008
OPNQRY, CNTQRY, CLSQRY, RDBCMM, RDBRLLBCK = 0x200C, 0x2006, 0x2005, 0x200E, 0x200F
OPNQRYRM, OPNQFLRM, ENDQRYRM, ENDUOWRM, RDBUPDRM, SQLERRRM = 0x2205, 0x2212, 0x220B, 0x220C, 0x2218, 0x2213
CMDNSPRM, QRYNOPRM = 0x1250, 0x2202
SQLSTT, SQLATTR, SQLDTA, FDODSC, FDODTA, EXTDTA = 0x2414, 0x2450, 0x2412, 0x0010, 0x147A, 0x146C
SQLCARD, SQLDARD, QRYDSC, QRYDTA = 0x2408, 0x2411, 0x241A, 0x241B
EXTNAM, MGRLVLLS, SRVCLSNM, SRVNAM, SRVRLSLV = 0x115E, 0x1404, 0x1147, 0x116D, 0x115A
SECMEC, SECTKN, USRID, PASSWORD, SECCHKCD, SVRCOD = 0x11A2, 0x11DC, 0x11A0, 0x11A1, 0x11A4, 0x1149
RDBNAM, PRDID, TYPDEFNAM, TYPDEFOVR, CRRTKN = 0x2110, 0x112E, 0x002F, 0x0035, 0x2135
CCSIDSBC, CCSIDDBC, CCSIDMBC = 0x119C, 0x119D, 0x119E
PKGNAMCSN, RTNSQLDA, QRYBLKSZ, QRYINSID, QRYPRCTYP, UOWDSP, CODPNT = \
    0x2113, 0x2116, 0x2114, 0x215B, 0x2102, 0x2115, 0x000C
LMTBLKPRC, SQLCSRHLD = 0x2417, 0x211F
CLOSE_NO_REPLY = 0xC004  # sent by IBM's driver in a type-5 DSS at disconnect (facts 1)

# Manager levels we support: answered with min(asked, ours); 0 for managers we lack.
MANAGERS = {0x1403: 10, 0x2407: 11, 0x1474: 5, 0x240F: 12, 0x1440: 10, 0x1C08: 1208, 0x14CC: 1208}
SECMEC_USRIDPWD, SECMEC_EUSRIDPWD = 3, 9  # clear text; DES-encrypted user id and password
SECCHKCD_PASSWORD, SECCHKCD_USER = 0x0F, 0x13

BLOCK = 32000          # QRYDTA bytes per block: one DSS under 32767, no continuation headers
MAX_DSS = 32767
IDLE_SECONDS = 3600    # a silent connection is dropped (and rolled back) after this
VARCHAR_MAX = 32672
QUERY_VERBS = ("SELECT", "VALUES", "WITH")


class ProtocolError(Exception):
    """The client broke DSS/DDM framing: log it and drop that connection."""


class Disconnected(Exception):
    """The client closed the connection."""


# --- framing ----------------------------------------------------------------------------------

def recv_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            if data:
                raise ProtocolError("connection closed inside a DSS (%d of %d bytes)" % (len(data), count))
            raise Disconnected()
        data += chunk
    return data


def read_dss(sock):
    """(format byte, correlator, code point, object body) of one DSS."""
    header = recv_exact(sock, 6)
    length, magic, fmt, corr = struct.unpack(">HBBH", header)
    if magic != 0xD0:
        raise ProtocolError("not a DSS (byte 3 is 0x%02X, not 0xD0)" % magic)
    if length & 0x8000:
        raise ProtocolError("DSS continuation (length 0x%04X) is not supported" % length)
    if length < 10:
        raise ProtocolError("DSS length %d is shorter than a DDM object" % length)
    body = recv_exact(sock, length - 6)
    obj_len, code_point = struct.unpack(">HH", body[:4])
    if obj_len != length - 6:
        raise ProtocolError("DDM object length %d does not fill the DSS (%d)" % (obj_len, length - 6))
    return fmt, corr, code_point, body[4:]


def parameters(data):
    """{code point: [values]} of a DDM parameter list (a parameter may repeat, e.g. SECTKN)."""
    found, at = {}, 0
    while at < len(data):
        if len(data) - at < 4:
            raise ProtocolError("truncated DDM parameter")
        length, code_point = struct.unpack(">HH", data[at:at + 4])
        if length & 0x8000:
            size = length & 0x7FFF
            extra = int.from_bytes(data[at + 4:at + 4 + size - 4], "big")
            value, at = data[at + size:at + size + extra], at + size + extra
        else:
            if length < 4 or at + length > len(data):
                raise ProtocolError("DDM parameter length %d is out of bounds" % length)
            value, at = data[at + 4:at + length], at + length
        found.setdefault(code_point, []).append(value)
    return found


def ddm(code_point, body=b""):
    return struct.pack(">HH", len(body) + 4, code_point) + body


def param(code_point, value):
    return ddm(code_point, value)


def u16(code_point, value):
    return ddm(code_point, struct.pack(">H", value))


def chars(data, strip=True):
    """Character parameters are EBCDIC before ACCSECRD and UTF-8 after it (IBM's driver); pydrda
    keeps EBCDIC. EBCDIC letters and digits are not valid UTF-8: decode by the bytes. Names are
    blank padded (stripped); a password is taken as it is."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp500")
    return text.strip() if strip else text


def rdbnam(name):
    """RDBNAM: blank padded to 18 characters (the DDM fixed length), UTF-8 after ACCSEC."""
    return param(RDBNAM, name.ljust(18).encode("utf-8"))


def ebcdic(text):
    return text.encode("cp500")


# --- SQLCA, SQLDA, FD:OCA ------------------------------------------------------------------

def vcs(text):
    data = (text or "").encode("utf-8")
    return struct.pack(">H", len(data)) + data


def sqlcard(code=0, state="00000", tokens=(), rows=0, rdbname="", errd1=0):
    """SQLCARD at SQLAM 11 (C112; layout of drda-facts 3). Little-endian integers (QTDSQLX86)."""
    message = b"\xff".join(str(t).encode("utf-8") for t in tokens)
    return (b"\x00" + struct.pack("<i", code) + state.encode("ascii") + b"SQLSTDIN"
            + b"\x00" + struct.pack("<6i", errd1, 0, rows, 0, 0, 0) + b" " * 11
            + vcs(rdbname) + struct.pack(">H", len(message)) + message + b"\x00\x00" + b"\xff")


NULL_SQLCA = b"\xff"


def error_card(error, rdbname):
    """(SQLCODE, SQLSTATE, tokens) of a SqlError, from the stand-in's message catalog."""
    msg_id = error.msg_id
    template = messages.CATALOG.get(msg_id, "")
    code = int(re.sub(r"\D", "", msg_id[3:]) or 901)
    if msg_id.endswith(("N", "C", "E")):
        code = -code
    state = re.search(r"SQLSTATE=(\w{5})", template)
    state = state.group(1) if state else ("01000" if code > 0 else "58004")
    tokens = [error.values.get(name, "") for name in re.findall(r"\{(\w+)\}", template)]
    return sqlcard(code, state, tokens, rdbname=rdbname)


class Column:
    """One described column: SQLTYPE (nullable), FD:OCA type, length or (precision, scale)."""

    def __init__(self, name, kind, length=0, scale=0):
        self.name, self.kind, self.length, self.scale = name, kind, length, scale

    SQLTYPES = {"INTEGER": (497, 0x03), "SMALLINT": (501, 0x05), "BIGINT": (493, 0x17),
                "DOUBLE": (481, 0x0B), "DECIMAL": (485, 0x0F), "CHAR": (453, 0x31),
                "VARCHAR": (449, 0x33), "DATE": (385, 0x21), "TIME": (389, 0x23),
                "TIMESTAMP": (393, 0x25)}
    FIXED = {"INTEGER": 4, "SMALLINT": 2, "BIGINT": 8, "DOUBLE": 8, "DATE": 10, "TIME": 8,
             "TIMESTAMP": 26}

    @property
    def sqllength(self):
        if self.kind == "DECIMAL":
            return self.length << 8 | self.scale
        return self.FIXED.get(self.kind, self.length)

    def sqldag(self):
        """SQLDAGRP at SQLAM 11 (facts 3: extent, 2 undocumented bytes, a trailing null group)."""
        sqltype = self.SQLTYPES[self.kind][0]
        precision = self.length if self.kind == "DECIMAL" else 0
        scale = self.scale if self.kind in ("DECIMAL", "TIMESTAMP") else 0
        ccsid = 1208 if self.kind in ("CHAR", "VARCHAR") else 0
        name = self.name.encode("utf-8")
        return (struct.pack("<hhqh", precision, scale, self.sqllength, sqltype)
                + struct.pack(">H", ccsid) + b"\x00" * 10
                + b"\x00" + struct.pack("<h", 0) + struct.pack(">H", len(name)) + name
                + b"\x00\x00" * 5 + b"\xff\xff\xff")

    def triplet(self):
        fdoca = self.SQLTYPES[self.kind][1]
        if self.kind == "DECIMAL":
            return bytes([fdoca, self.length, self.scale])
        return bytes([fdoca]) + struct.pack(">H", self.sqllength)

    def encode(self, value):
        """The FD:OCA bytes of one value: X'FF' for NULL, else X'00' and the data."""
        if value is None:
            return b"\xff"
        return b"\x00" + self.data(value)

    @property
    def data(self):
        """A function value -> data bytes, made once per column (a result may have many rows)."""
        if "_data" not in self.__dict__:
            self._data = self._encoder()
        return self._data

    def _encoder(self):
        kind, length, scale = self.kind, self.length, self.scale
        if kind in ("INTEGER", "SMALLINT", "BIGINT"):
            pack = struct.Struct({"INTEGER": "<i", "SMALLINT": "<h", "BIGINT": "<q"}[kind]).pack
            return lambda value: pack(int(value))
        if kind == "DOUBLE":
            pack = struct.Struct("<d").pack
            return lambda value: pack(float(value))
        if kind == "DECIMAL":
            return lambda value: packed_decimal(value, length, scale)
        if kind == "CHAR":
            return lambda value: str(value).encode("utf-8")[:length].ljust(length, b" ")
        if kind == "VARCHAR":
            def varchar(value):
                text = value.hex().upper() if isinstance(value, bytes) else str(value)
                data = text.encode("utf-8")[:length]
                return struct.pack(">H", len(data)) + data
            return varchar
        return lambda value: db2_datetime(kind, str(value)).encode("ascii")


def packed_decimal(value, precision, scale):
    """Packed BCD of DECIMAL(precision, scale): digits, then the sign nibble C or D."""
    if isinstance(value, int) or (isinstance(value, float) and precision <= 15):
        scaled = value * 10 ** scale if isinstance(value, int) else round(value * 10 ** scale)
    else:
        scaled = int(decimal.Decimal(str(value)).scaleb(scale).to_integral_value(decimal.ROUND_HALF_EVEN))
    nibbles = ("%0*d" % (precision, abs(scaled)))[-precision:] + ("d" if scaled < 0 else "c")
    if len(nibbles) % 2:
        nibbles = "0" + nibbles
    return bytes.fromhex(nibbles)


def db2_datetime(kind, text):
    """DATE `YYYY-MM-DD`, TIME `HH.MM.SS`, TIMESTAMP `YYYY-MM-DD-HH.MM.SS.ffffff` (Db2's ISO forms)."""
    text = text.strip()
    if kind == "DATE":
        return text[:10]
    if kind == "TIME":
        return text.replace(":", ".")[:8]
    match = re.match(r"(\d{4}-\d\d-\d\d)[- T](\d\d)[.:](\d\d)[.:](\d\d)(?:\.(\d{1,6}))?", text)
    if not match:
        raise ValueError("not a timestamp: %r" % text)
    return "%s-%s.%s.%s.%s" % (match.group(1), match.group(2), match.group(3), match.group(4),
                               (match.group(5) or "").ljust(6, "0"))


def column_for(name, declared, samples):
    """The Db2 type of a result column: its declared type when known, else from its values."""
    match = re.match(r"^\s*([A-Z]+)(?:\s+[A-Z]+)?\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?", declared or "")
    if match:
        base, size, scale = match.group(1), match.group(2), match.group(3)
        if base in ("INT", "INTEGER"):
            return Column(name, "INTEGER")
        if base in ("SMALLINT", "BIGINT", "DATE", "TIME", "TIMESTAMP"):
            return Column(name, base)
        if base in ("DOUBLE", "FLOAT", "REAL"):
            return Column(name, "DOUBLE")
        if base in ("DECIMAL", "DEC", "NUMERIC"):
            return Column(name, "DECIMAL", int(size or 5), int(scale or 0))
        if base in ("CHAR", "CHARACTER") and "VARYING" not in declared:
            return Column(name, "CHAR", int(size or 1))
        if base == "VARCHAR" and size:
            return Column(name, "VARCHAR", int(size))
    present = [v for v in samples if v is not None]
    if present and all(isinstance(v, int) for v in present):
        small = all(-2 ** 31 <= v < 2 ** 31 for v in present)
        return Column(name, "INTEGER" if small else "BIGINT")
    if present and all(isinstance(v, (int, float)) for v in present):
        return Column(name, "DOUBLE")
    return Column(name, "VARCHAR", VARCHAR_MAX)


def sqldard(columns, card=None):
    """SQLDARD: the SQLCA (null for a parameter description), a null SQLDHGRP, the columns."""
    return ((card if card is not None else sqlcard()) + b"\xff"
            + struct.pack("<h", len(columns)) + b"".join(c.sqldag() for c in columns))


def qrydsc(columns):
    """QRYDSC: one N-GDA triplet (<= 84 columns), then the row and array RLO triplets."""
    if len(columns) > 84:
        raise dialect.SqlError("SQL0901N", reason="more than 84 result columns over DRDA")
    body = b"".join(c.triplet() for c in columns)
    return (bytes([3 + len(body), 0x76, 0xD0]) + body
            + bytes.fromhex("0971E0540001D00001") + bytes.fromhex("0671F0E00000"))


END_OF_DATA = sqlcard(100, "02000") + b"\xff"  # FD:OCA: the end-of-data SQLCA of a QRYDTA


# --- SQLDTA (parameter values) ---------------------------------------------------------------

def read_sqldta(data, extdta=()):
    """Values of an SQLDTA: the FDODSC triplets say each value's FD:OCA type. LOB values come
    after it in EXTDTA objects, in order (IBM's driver sends a Python str as a CLOB)."""
    objects = parameters(data)
    triplets = _fdodsc(objects.get(FDODSC, [b""])[0])[0]
    values = objects.get(FDODTA, [b""])[0]
    # A leading row indicator (DRDA) is present or not, depending on the client (facts 1,
    # pydrda's ddm.packSQLDTA): try both, keep the reading that uses every byte.
    for skip in (1, 0):
        try:
            result, end = _values(triplets, values, skip, list(extdta))
        except (ValueError, IndexError, struct.error, UnicodeDecodeError):
            continue
        if end == len(values) or (skip == 0 and end >= len(values) - 1):
            return result
    raise ProtocolError("SQLDTA values do not match their FDODSC description (%s)"
                        % objects.get(FDODSC, [b""])[0].hex())


def _fdodsc(data):
    if len(data) < 3 or data[1:3] != b"\x76\xd0":
        return [], data
    length = data[0]
    body = data[3:length]
    return [(body[i], body[i + 1:i + 3]) for i in range(0, len(body) - 2, 3)], data[length:]


def _values(triplets, data, at, extdta):
    values = []
    for fdoca, size in triplets:
        if fdoca & 1:  # nullable: an indicator byte first
            indicator = data[at]
            at += 1
            if indicator >= 0x80:
                values.append(None)
                continue
        kind, length = fdoca & 0xFE, int.from_bytes(size, "big")
        if kind in (0x02, 0x04, 0x16):
            width = {0x02: 4, 0x04: 2, 0x16: 8}[kind]
            values.append(int.from_bytes(data[at:at + width], "little", signed=True))
            at += width
        elif kind in (0x0A, 0x0C):
            width = 8 if kind == 0x0A else 4
            values.append(struct.unpack("<d" if width == 8 else "<f", data[at:at + width])[0])
            at += width
        elif kind == 0x0E:
            precision, scale = size[0], size[1]
            width = precision // 2 + 1
            nibbles = data[at:at + width].hex()
            at += width
            number = decimal.Decimal(int(nibbles[:-1])).scaleb(-scale)
            values.append(str(-number if nibbles[-1] in "bd" else number))
        elif kind in (0x30, 0x3C, 0x20, 0x22, 0x24):
            values.append(data[at:at + length].decode("utf-8").rstrip())
            at += length
        elif kind in (0x32, 0x3E, 0x34, 0x40, 0x28):
            count = int.from_bytes(data[at:at + 2], "big")
            raw = data[at + 2:at + 2 + count]
            values.append(raw if kind == 0x28 else raw.decode("utf-8"))
            at += 2 + count
        elif 0xC8 <= kind <= 0xCE:  # LOB: a placeholder holding the length, the data in EXTDTA
            width = length & 0x7FFF  # C8 BLOB, CA CLOB, CC DBCLOB (UTF-16, a character count), CE CLOB
            size_ = int.from_bytes(data[at + 1:at + width], "big") * (2 if kind == 0xCC else 1)
            at += width
            raw = extdta.pop(0) if size_ else b""
            raw = raw[1:] if len(raw) == size_ + 1 else raw  # nullable: a status byte first
            values.append(raw if kind == 0xC8 else raw.decode("utf-16-be" if kind == 0xCC else "utf-8"))
        elif kind in (0x38, 0x3A):  # VARGRAPHIC: a character count, then UTF-16BE
            count = int.from_bytes(data[at:at + 2], "big")
            values.append(data[at + 2:at + 2 + 2 * count].decode("utf-16-be"))
            at += 2 + 2 * count
        else:
            raise ValueError("FD:OCA type 0x%02X" % fdoca)
        if at > len(data):
            raise ValueError("past the end")
    return values, at


def sqlstt(data):
    """SQLSTT/SQLATTR: NOCM (00 + 4-byte length + UTF-8) then NOCS, either one null (FF)."""
    texts, at = [], 0
    while at < len(data):
        if data[at] == 0xFF:
            at += 1
            continue
        length = int.from_bytes(data[at + 1:at + 5], "big")
        texts.append(data[at + 5:at + 5 + length].decode("utf-8", "replace"))
        at += 5 + length
    return "".join(texts)


COMPARISONS = ("=", "<", ">", "<=", ">=", "<>", "!=")


def parameter_columns(conn, text):
    """How each `?` marker is described: the type of the column it is inserted into or compared
    with, as Db2 derives it; nullable VARCHAR where the stand-in cannot tell (clients then send
    text, which SQLite's column affinity converts as Db2 would assign it)."""
    tokens = [t for t in dialect.tokenize(text) if t.kind != "ws"]
    types, targets = {}, {}
    if tokens and tokens[0].upper == "CALL":
        return _call_parameters(tokens)
    insert = _insert_columns(conn, tokens)
    for index, token in enumerate(tokens):
        if token.text != "?":
            continue
        name = None
        if index in insert:
            name = insert[index]
        elif index >= 2 and tokens[index - 1].text in COMPARISONS and tokens[index - 2].kind in ("word", "qid"):
            name = dialect.identifier(tokens[index - 2])
        elif index + 2 < len(tokens) and tokens[index + 1].text in COMPARISONS and \
                tokens[index + 2].kind in ("word", "qid"):
            name = dialect.identifier(tokens[index + 2])
        targets[len(targets)] = name
    if any(targets.values()):
        types = clp.declared_types(conn, text)
        if insert:
            types.update(insert["types"])
    # One-character names: pydrda skips exactly 45 bytes per parameter (facts 3).
    return [column_for("P", types[name], []) if name in types else Column("P", "VARCHAR", VARCHAR_MAX)
            for name in targets.values()]


def _call_parameters(tokens):
    """CALL [schema.]procedure(...): each marker gets the type of its argument's parameter."""
    names = [dialect.identifier(t) for t in tokens[1:4] if t.kind in ("word", "qid")]
    key = tuple(names[:2]) if len(names) > 1 and tokens[2].text == "." else ("SYSPROC", names[0] if names else "")
    signature = ats.SIGNATURES.get(key, ())
    columns, depth, position = [], 0, 0
    for token in tokens:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        elif token.text == "," and depth == 1:
            position += 1
        elif token.text == "?":
            declared = signature[position] if depth == 1 and position < len(signature) else None
            columns.append(column_for("P", declared, []))
    return columns


def _insert_columns(conn, tokens):
    """{token index of a `?` in INSERT ... VALUES (...): column name} and "types": column types."""
    if len(tokens) < 4 or tokens[0].upper != "INSERT" or tokens[1].upper != "INTO":
        return {}
    at, name = 3, "".join(t.text for t in tokens[2:3])
    if tokens[3].text == "." and len(tokens) > 4:
        at, name = 5, "".join(t.text for t in tokens[2:5])
    types = clp.declared_types(conn, "SELECT * FROM " + name)
    names = list(types)
    if at < len(tokens) and tokens[at].text == "(":
        close = next((i for i in range(at, len(tokens)) if tokens[i].text == ")"), len(tokens))
        names = [dialect.identifier(t) for t in tokens[at + 1:close] if t.kind in ("word", "qid")]
        at = close + 1
    if at >= len(tokens) or tokens[at].upper != "VALUES":
        return {}
    found, depth, position = {"types": types}, 0, 0
    for index in range(at + 1, len(tokens)):
        text = tokens[index].text
        if text == "(":
            depth += 1
            if depth == 1:
                position = 0
        elif text == ")":
            depth -= 1
        elif text == "," and depth == 1:
            position += 1
        elif text == "?" and depth == 1 and position < len(names):
            found[index] = names[position]
    return found


def markers(text):
    return sum(1 for token in dialect.tokenize(text) if token.text == "?")


# --- one connection ---------------------------------------------------------------------------

class Statement:
    def __init__(self, text):
        self.text = text.strip()
        words = self.text.split(None, 1)
        self.verb = words[0].upper() if words else ""
        self.query = self.verb in QUERY_VERBS
        self.columns = None
        self.error = None
        self.hold = False  # WITH HOLD (SQLATTR): the cursor survives a commit


class Cursor:
    def __init__(self, statement, rows, block):
        self.statement, self.rows, self.block = statement, rows, block
        self.position = 0
        self.ended = False  # the end-of-data SQLCA was sent


class Connection:
    """The application server side of one client connection."""

    ids = itertools.count(1)

    def __init__(self, server, sock, peer):
        self.server, self.sock, self.peer = server, sock, peer
        self.instance = server.instance
        self.user = self.authid = None
        self.database = None
        self.conn = None          # SQLite, as the CLP's (read by commands.rewrite_sql hooks)
        self.statements = {}      # section key -> Statement
        self.cursors = {}         # QRYINSID -> Cursor
        self.closing = False
        self.exchange = self.client_token = None  # SECMEC 9 key agreement (secmec9.Exchange)

    # -- the loop --
    def serve(self):
        try:
            while not self.closing:
                replies = self.chain()
                if replies:
                    self.sock.sendall(replies)
        except Disconnected:
            pass
        except (ProtocolError, OSError) as error:
            self.server.log("Warning", "DRDA connection from %s dropped: %s" % (self.peer, error))
        except Exception as error:  # a server bug must not take the listener down
            self.server.log("Error", "DRDA connection from %s failed: %r" % (self.peer, error))
        finally:
            self.close()

    def close(self):
        """Work not committed by the client is rolled back: nothing is committed half way."""
        if self.database is not None:
            self.server.count(self.database.alias, -1)
            self.database = None
        if self.conn is not None:
            try:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                self.conn.close()
            except sqlite3.Error:
                pass
            self.conn = None
        try:
            self.sock.close()
        except OSError:
            pass

    def chain(self):
        """Read one request chain; answer it with one reply chain (same correlators)."""
        commands_ = []  # [fmt, corr, code point, params, objects]
        while True:
            fmt, corr, code_point, body = read_dss(self.sock)
            kind = fmt & 0x0F
            if kind in (1, 5):
                commands_.append([fmt, corr, code_point, parameters(body), {}])
            elif kind == 3 and commands_:
                commands_[-1][4].setdefault(code_point, []).append(body)
            else:
                raise ProtocolError("unexpected DSS type %d (code point 0x%04X)" % (kind, code_point))
            if not fmt & 0x40:
                break
        self.server.trace("<- " + " ".join(
            "%04X%s" % (c[2], "+" + ",".join("%04X" % o for o in c[4]) if c[4] else "") for c in commands_))
        replies = []  # (corr, type, object)
        for fmt, corr, code_point, params, objects in commands_:
            if code_point == CLOSE_NO_REPLY or fmt & 0x0F == 5:
                self.closing = True  # no reply; close once the chain is answered
                continue
            replies += [(corr, kind, obj) for kind, obj in self.command(code_point, params, objects)]
            if self.closing:
                break  # security check or ACCRDB failed: the rest of the chain is not run
        self.server.trace("-> " + " ".join("%04X" % int.from_bytes(r[2][2:4], "big") for r in replies))
        return frame(replies)

    def command(self, code_point, params, objects):
        handler = HANDLERS.get(code_point)
        if handler is None:
            return [(2, ddm(CMDNSPRM, u16(SVRCOD, 8) + u16(CODPNT, code_point)))]
        if code_point not in (EXCSAT, ACCSEC, SECCHK, ACCRDB) and self.conn is None:
            raise ProtocolError("command 0x%04X before ACCRDB" % code_point)
        return handler(self, params, objects)

    # -- connect --
    def excsat(self, params, _objects):
        asked = params.get(MGRLVLLS, [b""])[0]
        levels_ = b""
        for at in range(0, len(asked) - 3, 4):
            manager, level = struct.unpack(">HH", asked[at:at + 4])
            ours = MANAGERS.get(manager, 0)
            if manager in (0x1C08, 0x14CC):  # UNICODEMGR, CCSIDMGR: a CCSID, not a level
                answer = level if level == ours else 0
            else:
                answer = min(level, ours)
            levels_ += struct.pack(">HH", manager, answer)
        release = levels.installed().code_release
        body = (param(EXTNAM, ebcdic("db2sysc %d" % os.getpid())) + param(MGRLVLLS, levels_)
                + param(SRVCLSNM, ebcdic("QDB2/LINUXX8664")) + param(SRVNAM, ebcdic(socket.gethostname()))
                + param(SRVRLSLV, ebcdic(release)))
        return [(2, ddm(EXCSATRD, body))]

    def accsec(self, params, _objects):
        """SECMEC 9 (encrypted user id and password, IBM's driver asks for it first) or 3 (clear
        text); any other gets ACCSECRD listing the two, as DDM refuses a mechanism."""
        asked = int.from_bytes(params.get(SECMEC, [b"\x00\x00"])[0], "big")
        token = params.get(SECTKN, [b""])[0]
        self.exchange = None
        if asked == SECMEC_EUSRIDPWD and len(token) == 32:
            self.exchange, self.client_token = secmec9.Exchange(), token
            return [(2, ddm(ACCSECRD, u16(SECMEC, asked) + param(SECTKN, self.exchange.token)))]
        if asked == SECMEC_USRIDPWD:
            return [(2, ddm(ACCSECRD, u16(SECMEC, asked)))]
        return [(2, ddm(ACCSECRD, u16(SECMEC, SECMEC_EUSRIDPWD) + u16(SECMEC, SECMEC_USRIDPWD)))]

    def credentials(self, params):
        """(user, password) of a SECCHK, decrypted under SECMEC 9; None for a part missing."""
        if self.exchange is not None:
            tokens = params.get(SECTKN, [])
            if len(tokens) < 2:
                return None, None
            try:
                user, password = (self.exchange.decrypt(self.client_token, t) for t in tokens[:2])
            except ValueError:
                return None, None
        else:
            user, password = params.get(USRID, [None])[0], params.get(PASSWORD, [None])[0]
        return (chars(user) if user else None), (chars(password, strip=False) if password is not None else None)

    def secchk(self, params, _objects):
        user, password = self.credentials(params)
        failure, authid = auth.authenticate(self.instance, user, password) if user and password is not None \
            else (auth.PASSWORD_INVALID, None)
        if failure:
            self.server.log("Warning", "DRDA security check failed for user %s from %s (SQL30082N reason %s)"
                            % (user or "(none)", self.peer, failure[0]))
            code = SECCHKCD_USER if not user else SECCHKCD_PASSWORD
            self.closing = True
            return [(2, ddm(SECCHKRM, u16(SVRCOD, 8) + param(SECCHKCD, bytes([code]))))]
        self.user, self.authid = user, authid
        return [(2, ddm(SECCHKRM, u16(SVRCOD, 0) + param(SECCHKCD, b"\x00")))]

    def accrdb(self, params, _objects):
        name = chars(params.get(RDBNAM, [b""])[0]).upper()
        if self.authid is None:
            raise ProtocolError("ACCRDB before a successful SECCHK")
        error = None
        database = Database.lookup(self.instance, name) if name else None
        if database is None:
            error = dialect.SqlError("SQL1013N", name=name)
        else:
            try:
                commands.check_usable(database, "connect")
            except dialect.SqlError as refused:
                error = refused
        release = levels.installed().code_release
        override = u16(CCSIDSBC, 1208) + u16(CCSIDDBC, 1200) + u16(CCSIDMBC, 1208)
        if error is not None:
            # RDBAFLRM, then TYPDEFNAM and TYPDEFOVR as objects of their own (as Derby's network
            # server sends them): the client reads the SQLCARD with them.
            self.closing = True
            return [(2, ddm(RDBAFLRM, u16(SVRCOD, 8) + rdbnam(name))),
                    (3, param(TYPDEFNAM, b"QTDSQLX86")), (3, param(TYPDEFOVR, override)),
                    (3, ddm(SQLCARD, error_card(error, name)))]
        self.database = database
        self.server.count(database.alias, +1)  # seen by db2stop, LIST ACTIVE DATABASES, the ATS
        self.conn = database.open(self.authid)
        ats.ensure_catalog(database)
        # Attached now: SQLite cannot ATTACH inside the unit of work a statement may have begun.
        for schema in ("SYSIBM", "SYSCAT", "SYSTOOLS"):
            database.attach(self.conn, schema)
        token = params.get(CRRTKN, [b"standin.%d" % next(self.ids)])[0]
        body = (u16(SVRCOD, 0) + param(PRDID, release.encode("utf-8"))
                + param(TYPDEFNAM, b"QTDSQLX86") + param(TYPDEFOVR, override) + param(CRRTKN, token))
        return [(2, ddm(ACCRDBRM, body))]

    # -- SQL --
    def card(self, error):
        return [(2, ddm(SQLERRRM, u16(SVRCOD, 8))), (3, ddm(SQLCARD, error_card(error, self.database.name)))]

    def run(self, text, values=()):
        """(dialect.Statement or None, cursor or None, CALL return status) of one statement."""
        autocommit = text.split(None, 1)[0].upper() in QUERY_VERBS if text.split() else True
        autocommit = autocommit and not self.conn.in_transaction  # reads begin no unit of work
        done = ats.run(self.conn, self.database, text, self.authid, False, values)
        if done is not None:
            return None, None, done[1] if done[0] == "CALL" else 0
        statement, cursor = clp.execute_sql(self, self.database, text, self.authid, autocommit, values)
        return statement, cursor, 0

    def excsqlset(self, _params, _objects):
        return [(3, ddm(SQLCARD, NULL_SQLCA))]  # SET CLIENT / SET CURRENT LOCALE: accepted

    def prpsqlstt(self, params, objects):
        key = section(params)
        statement = Statement(sqlstt(b"".join(objects.get(SQLSTT, []))))
        statement.hold = "WITH HOLD" in " ".join(sqlstt(a) for a in objects.get(SQLATTR, [])).upper()
        self.statements[key] = statement
        try:
            if statement.query:
                statement.columns = self.describe(statement.text)
        except dialect.SqlError as error:
            statement.error = error
            return self.card(error)
        if params.get(RTNSQLDA, [b"\xf0"])[0] == b"\xf1":
            return [(3, ddm(SQLDARD, sqldard(statement.columns or [])))]
        return [(3, ddm(SQLCARD, NULL_SQLCA))]

    def describe(self, text):
        """Result columns of a query: run it with NULL parameters, read names and types."""
        statement, cursor, _count = self.run(text, [None] * markers(text))
        sample = cursor.fetchmany(100)
        cursor.close()
        return self.columns_of(statement, cursor.description, sample)

    def columns_of(self, statement, description, sample):
        names = dialect.result_names(description, statement.verb)
        declared = clp.declared_types(self.conn, statement.sql)
        return [column_for(name, declared.get(name) if name == raw[0].upper() else None,
                           [row[i] for row in sample])
                for i, (name, raw) in enumerate(zip(names, description))]

    def dscsqlstt(self, params, _objects):
        statement = self.statements.get(section(params))
        columns = parameter_columns(self.conn, statement.text) if statement else []
        return [(3, ddm(SQLDARD, sqldard(columns, card=NULL_SQLCA)))]

    def excsqlimm(self, _params, objects):
        return self.execute(Statement(sqlstt(b"".join(objects.get(SQLSTT, [])))), ())

    def excsqlstt(self, params, objects):
        key = section(params)
        if key[:2] == ("DB2LIC", "SYSLIC"):
            return [(3, ddm(SQLCARD, NULL_SQLCA))]  # the driver's licence call (facts 1, flow C)
        statement = self.statements.get(key)
        if statement is None:
            return self.card(dialect.SqlError("SQL0518N"))
        values = read_sqldta(objects[SQLDTA][0], objects.get(EXTDTA, ())) if SQLDTA in objects else ()
        return self.execute(statement, values)

    def execute(self, statement, values):
        try:
            done, cursor, status = self.run(statement.text, values)
        except dialect.SqlError as error:
            return self.card(error)
        rows = 0
        if cursor is not None:
            if cursor.description is not None:
                cursor.close()
            elif done.verb in ("UPDATE", "DELETE", "MERGE") and cursor.rowcount == 0:
                return [(3, ddm(SQLCARD, sqlcard(100, "02000", rdbname=self.database.name)))]
            else:
                rows = max(cursor.rowcount, 0)
        return [(2, ddm(RDBUPDRM, u16(SVRCOD, 0) + rdbnam(self.database.name))),
                (3, ddm(SQLCARD, sqlcard(0, "00000", rows=rows, rdbname=self.database.name,
                                         errd1=status)))]

    def opnqry(self, params, objects):
        key = section(params)
        statement = self.statements.get(key)
        if statement is None or statement.error is not None or not statement.query:
            error = statement.error if statement and statement.error else dialect.SqlError("SQL0518N")
            return [(2, ddm(OPNQFLRM, u16(SVRCOD, 8) + rdbnam(self.database.name))),
                    (3, ddm(SQLCARD, error_card(error, self.database.name)))]
        values = read_sqldta(objects[SQLDTA][0], objects.get(EXTDTA, ())) if SQLDTA in objects else ()
        try:
            done, cursor, _count = self.run(statement.text, values)
            rows = cursor.fetchall()
            if statement.columns is None:
                statement.columns = self.columns_of(done, cursor.description, rows[:100])
        except dialect.SqlError as error:
            return self.card(error)
        except sqlite3.Error as error:
            return self.card(dialect.map_error(error, statement.text, self.authid))
        size = int.from_bytes(params.get(QRYBLKSZ, [b"\x00\x00\x80\x00"])[0], "big")
        query_id = struct.pack(">Q", next(self.ids))
        state = Cursor(statement, rows, max(512, min(size, BLOCK)))
        self.cursors[query_id] = state
        # SQLCSRHLD tells the client the cursor stays open across a commit (DDM OPNQRYRM).
        held = param(SQLCSRHLD, b"\xf1" if statement.hold else b"\xf0")
        reply = [(2, ddm(OPNQRYRM, u16(SVRCOD, 0) + u16(QRYPRCTYP, LMTBLKPRC) + held + param(QRYINSID, query_id))),
                 (3, ddm(QRYDSC, qrydsc(statement.columns)))]
        try:
            return reply + [(3, ddm(QRYDTA, self.block(state)))]
        except (ValueError, TypeError, struct.error, decimal.InvalidOperation) as error:
            del self.cursors[query_id]
            return self.card(dialect.SqlError("SQL0901N", reason="value not convertible: %s" % error))

    def block(self, state):
        """The next rows that fit in one block; the end-of-data SQLCA after the last row."""
        out = bytearray()
        columns = state.statement.columns
        while state.position < len(state.rows):
            row = b"\xff\x00" + b"".join(c.encode(v) for c, v in zip(columns, state.rows[state.position]))
            if out and len(out) + len(row) > state.block - len(END_OF_DATA):
                return bytes(out)
            out += row
            state.position += 1
        state.ended = True
        return bytes(out + END_OF_DATA)

    def cntqry(self, params, _objects):
        query_id = params.get(QRYINSID, [b""])[0]
        state = self.cursors.get(query_id)
        if state is None and len(self.cursors) == 1 and not query_id:
            query_id, state = next(iter(self.cursors.items()))
        if state is None:
            return [(2, ddm(QRYNOPRM, u16(SVRCOD, 8)))]
        if state.ended:
            del self.cursors[query_id]
            return [(2, ddm(ENDQRYRM, u16(SVRCOD, 4))),
                    (3, ddm(SQLCARD, sqlcard(100, "02000", rdbname=self.database.name)))]
        return [(3, ddm(QRYDTA, self.block(state)))]

    def clsqry(self, params, _objects):
        self.cursors.pop(params.get(QRYINSID, [b""])[0], None)
        return [(3, ddm(SQLCARD, NULL_SQLCA))]

    def rdbcmm(self, _params, _objects):
        if self.conn.in_transaction:
            try:
                translog.end_unit(self, self.database, "COMMIT")  # logged, then committed
            except sqlite3.Error as error:  # e.g. still locked after the busy timeout
                return self.card(dialect.map_error(error, "COMMIT", self.authid))
            except dialect.SqlError as error:  # e.g. no longer an HADR primary: rolled back
                return self.card(error)
        return [(2, ddm(ENDUOWRM, u16(SVRCOD, 4) + param(UOWDSP, b"\x01"))), (3, ddm(SQLCARD, NULL_SQLCA))]

    def rdbrllbck(self, _params, _objects):
        translog.end_unit(self, self.database, "ROLLBACK")
        return [(2, ddm(ENDUOWRM, u16(SVRCOD, 4) + param(UOWDSP, b"\x02"))), (3, ddm(SQLCARD, NULL_SQLCA))]


HANDLERS = {EXCSAT: Connection.excsat, ACCSEC: Connection.accsec, SECCHK: Connection.secchk,
            ACCRDB: Connection.accrdb, EXCSQLSET: Connection.excsqlset,
            PRPSQLSTT: Connection.prpsqlstt, DSCSQLSTT: Connection.dscsqlstt,
            EXCSQLIMM: Connection.excsqlimm, EXCSQLSTT: Connection.excsqlstt,
            OPNQRY: Connection.opnqry, CNTQRY: Connection.cntqry, CLSQRY: Connection.clsqry,
            RDBCMM: Connection.rdbcmm, RDBRLLBCK: Connection.rdbrllbck}

messages.CATALOG.setdefault("SQL0518N", 'The statement named in the EXECUTE statement is not in a '
                            'prepared state or is a SELECT or VALUES statement.  SQLSTATE=07003')


def section(params):
    """(collection, package, section number) from PKGNAMCSN (fixed form: 18+18+18+8+2 bytes)."""
    raw = params.get(PKGNAMCSN, [b""])[0]
    if len(raw) == 64:
        return (chars(raw[18:36]).upper(), chars(raw[36:54]).upper(), int.from_bytes(raw[62:64], "big"))
    return ("", "", raw)


def frame(replies):
    """One reply chain: chained (0x40) but the last, +0x10 when the next has the same correlator."""
    out = bytearray()
    for index, (corr, kind, obj) in enumerate(replies):
        fmt = kind
        if index + 1 < len(replies):
            fmt |= 0x40
            if replies[index + 1][0] == corr:
                fmt |= 0x10
        if len(obj) + 6 > MAX_DSS:
            raise ProtocolError("reply object of %d bytes needs DSS continuation" % len(obj))
        out += struct.pack(">HBBH", len(obj) + 6, 0xD0, fmt, corr) + obj
    return bytes(out)


# --- the server ---------------------------------------------------------------------------------

class Server:
    def __init__(self, instance, listener, run):
        self.instance, self.listener, self.run = instance, listener, run
        self.stopping = threading.Event()
        self.counts, self.counts_lock = {}, threading.Lock()

    def log(self, level, message):
        self.instance.diag(level, "db2sysc", "DB2 UDB, DRDA Application Server, sqljsServe", message)

    def count(self, alias, delta):
        """Connections per database, in the file session.connections() reads."""
        with self.counts_lock:
            self.counts[alias] = self.counts.get(alias, 0) + delta
            path = self.instance.runtime / session.DRDA_CONNECTIONS
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps({"run": self.run, "counts": self.counts}))
            os.replace(tmp, path)

    def trace(self, line):
        """Code points in and out, when the file drda.trace exists in the instance's run directory
        (a debugging aid: `touch /run/db2standin/db2inst1/drda.trace`)."""
        path = self.instance.runtime / "drda.trace"
        if path.exists():
            with contextlib.suppress(OSError), open(path, "a") as out:
                out.write("%s %s\n" % (threading.current_thread().name, line))

    def still_started(self):
        state = self.instance.snapshot()
        return state["started"] and state["run"] == self.run

    def serve_forever(self):
        self.listener.settimeout(1.0)
        last_check = time.monotonic()
        while not self.stopping.is_set():
            if time.monotonic() - last_check >= 1.0:
                last_check = time.monotonic()
                if not self.still_started():
                    break  # db2stop (or a new db2start) happened without reaching us
            try:
                sock, peer = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            sock.settimeout(IDLE_SECONDS)
            connection = Connection(self, sock, "%s:%d" % peer[:2])
            threading.Thread(target=connection.serve, daemon=True).start()
        self.listener.close()


def port(instance):
    """SVCENAME of the dbm cfg (a port or a service name), else $DBPORT, else 50000."""
    service = instance.dbm_cfg().get("SVCENAME", "") or os.environ.get("DBPORT", "") or "50000"
    if service.isdigit():
        return int(service)
    try:
        return socket.getservbyname(service, "tcp")
    except OSError:
        return int(os.environ.get("DBPORT", "") or 50000)


def start(instance, run):
    """db2start: bind the port here (so it answers when db2start returns), serve in db2sysc."""
    import subprocess
    stop(instance)
    listener = socket.socket(socket.AF_INET)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port(instance)))
        listener.listen(64)
    except OSError as error:
        listener.close()
        instance.diag("Error", "db2sysc", "DB2 UDB, DRDA Application Server, sqljsStart",
                      "TCP/IP listener not started on port %d: %s" % (port(instance), error))
        return
    process = subprocess.Popen([os.path.join(str(levels.DB2DIR), "bin", "db2sysc"), str(listener.fileno()),
                                str(run)], pass_fds=(listener.fileno(),), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    listener.close()
    (instance.runtime / "db2sysc.pid").write_text("%d %d" % (process.pid, run))


def stop(instance):
    """db2stop: end the server (its connections roll back) and wait until the port is closed."""
    pid_file = instance.runtime / "db2sysc.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError, IndexError):
        return
    for _attempt in range(100):
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.05)
    for path in (pid_file, instance.runtime / session.DRDA_CONNECTIONS):
        try:
            path.unlink()
        except OSError:
            pass


def main(argv):
    """db2sysc FD RUN: serve DRDA on the listening socket FD for instance run RUN."""
    instance = Instance()
    listener = socket.socket(fileno=int(argv[0]))
    server = Server(instance, listener, int(argv[1]))

    def terminate(_signum, _frame):
        server.stopping.set()
    signal.signal(signal.SIGTERM, terminate)
    server.log("Info", "DRDA Application Server listening on port %d" % listener.getsockname()[1])
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
