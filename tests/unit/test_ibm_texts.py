"""IBM's own texts as the reference: the stand-in's messages against the catalogs of IBM's client
driver (the ibm_db wheel's clidriver/msg), and the collection's parsers against IBM's db2level.

The catalogs are 12.1's; the images the collection meets are 11.x, so a few texts may differ. Each
accepted difference is listed with its reason; a difference not listed, or a listed one that no
longer differs, fails the test (the list stays true).
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import parse_db2level

REPO = Path(__file__).resolve().parents[2]
STANDIN = REPO / "tests" / "images" / "db2-standin"
MESSAGE_ID = r"(?:SQL|DB2|DBI|DBA|ADM|CLI)\d{4,5}[IWNEC]"


def _clidriver():
    import ibm_db  # noqa: F401 - the wheel that ships clidriver/ beside it
    return Path(sys.modules["ibm_db"].__file__).parent / "clidriver"


CLIDRIVER = _clidriver()

# Texts that differ from the 12.1 catalogs on purpose, with the reason.
ACCEPTED = {
    "SQL0803N": "12.1 starts the text with 'An error or warning occurred.'; 11.x prints it without "
                "(the SQL0803N text users quote from 11.1 and 11.5)",
    "SQL1116N": "12.1 rewrote it ('failed because the database is in BACKUP PENDING state'); 11.x "
                "says 'cannot be made because of BACKUP PENDING', as SQL1117N still does for "
                "ROLL-FORWARD PENDING in the 12.1 catalog",
    "DBI1069E": "an installer message: not in the client driver's catalogs; text from the 11.1.4.4 "
                "install log the stand-in README cites (idx 14416154560)",
    "DBI1070I": "installer message, as DBI1069E",
    "DBI1303W": "installer message, as DBI1069E",
    "DBI1446I": "installer message, as DBI1069E",
    "ADM7505I": "a db2diag record: not in the client driver's catalogs",
    "ADM8000I": "a db2diag record: not in the client driver's catalogs",
    "ADM8001I": "a db2diag record: not in the client driver's catalogs",
}


def ibm_catalog():
    """Message id -> text of every IBM message in the English catalogs (first occurrence)."""
    texts = {}
    for path in sorted((CLIDRIVER / "msg" / "en_US.iso88591").glob("*.mo")):
        for chunk in path.read_bytes().split(b"\x00"):
            match = re.fullmatch(r"(%s)  (.*)" % MESSAGE_ID, chunk.decode("latin-1"), re.S)
            if match:
                texts.setdefault(match.group(1), match.group(2))
    return texts


def standin_texts():
    """Message id -> text the stand-in prints: its catalog, and ids written out in its code."""
    sys.path.insert(0, str(STANDIN))
    try:
        package = importlib.import_module("standin")
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module("standin." + module.name)  # modules register their texts
        messages = sys.modules["standin.messages"]
        texts = dict(messages.CATALOG)
    finally:
        sys.path.remove(str(STANDIN))
    for path in list(STANDIN.rglob("*.py")) + list((STANDIN / "setup").rglob("*")):
        if path.is_file():
            for match in re.finditer(r"(%s)  ([^\"'%%{\n]+)" % MESSAGE_ID, path.read_text(errors="replace")):
                texts.setdefault(match.group(1), match.group(2) + "{rest}")
    return texts


def _flat(text):
    return " ".join(re.sub(r"\s*SQLSTATE=\w+\s*$", "", text.strip()).split())


def same_text(standin, ibm):
    """The stand-in's text (its {placeholders} filled) is an instance of IBM's (%1S any text)."""
    regex = "(?:.+?)".join(re.escape(part) for part in re.split(r"%\d+S", _flat(ibm)))
    if standin.endswith("{rest}"):  # a text written out in code, up to its first value: IBM's start
        start = _flat(standin[:-len("{rest}")])
        return _flat(ibm).startswith(start) or re.match(regex, start) is not None
    return re.fullmatch(regex, _flat(re.sub(r"\{[a-z_]+\}", "X", standin))) is not None


def test_every_standin_message_is_ibms_text_or_an_accepted_difference():
    ibm = ibm_catalog()
    assert len(ibm) > 4000, "IBM's catalogs were read"
    differ = {}
    for msg_id, text in sorted(standin_texts().items()):
        if msg_id == "DB21085I":  # db2level: one numbered line and two unnumbered catalog lines
            continue
        if msg_id not in ibm or not same_text(text, ibm[msg_id]):
            differ[msg_id] = (text, ibm.get(msg_id))
    unexplained = {k: v for k, v in differ.items() if k not in ACCEPTED}
    assert not unexplained, "texts that differ from IBM's catalog: %r" % unexplained
    assert set(ACCEPTED) == set(differ), "accepted differences that no longer differ: %s" % (set(ACCEPTED) - set(differ))


def ibm_db2level():
    env = dict(os.environ, LD_LIBRARY_PATH=str(CLIDRIVER / "lib"))
    result = subprocess.run([str(CLIDRIVER / "bin" / "db2level")], capture_output=True, text=True, env=env, check=True)
    return result.stdout


def test_db2level_parser_reads_ibms_own_db2level():
    text = ibm_db2level()
    facts = parse_db2level(text)
    assert facts is not None, text
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", facts["version"]) and facts["version"].startswith("12.1.")
    assert facts["code_release"].startswith("SQL12") and facts["bits"] == 64
    assert facts["level"] == facts["version"] and facts["install_path"].endswith("clidriver")


@pytest.mark.parametrize("spelling", ["DB2", "Db2", "db2"])
def test_db2level_parser_takes_db2_in_any_case(spelling):
    text = ibm_db2level().replace("DB2 v", spelling + " v").replace("DB2 code", spelling + " code")
    assert parse_db2level(text)["version"].startswith("12.1.")


def test_standin_db2level_lines_are_ibms_catalog_lines():
    ibm = " ".join(ibm_catalog().values())
    raw = (CLIDRIVER / "msg" / "en_US.iso88591" / "db2clp.mo").read_bytes().decode("latin-1")
    for line in ('Informational tokens are "%1S", "%2S", "%3S", and Fix Pack "%4S".',
                 'Product is installed at "%1S".'):
        assert line in raw, "IBM's db2level prints these unnumbered catalog lines"
    assert 'uses "%2S" bits and DB2 code release "%3S" with level identifier "%4S".' in ibm
    standin = standin_texts()["DB21085I"]
    assert 'Informational tokens are "DB2 v{version}", "{build}", "DYN{dyn}AMD64", and Fix Pack "{fixpack}".' in standin
    assert 'Product is installed at "{path}".' in standin
