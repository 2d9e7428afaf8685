"""Db2 levels: the facts each stand-in image reports, and how levels compare.

Values: 11.1.3.3a and 11.1.4.4 from the cookbook's db2level transcripts, 11.5.8.0 and 11.5.9.0
from the facts file (2.1). 12.1.0.0: code release SQL12010 as a public 12.1.0.0 client reports it
(the facts file's code release pattern SQL+VV+RR+M agrees); its build token and level identifier
are ASSUMPTIONS (no 12.1 db2level transcript was found), see README "Levels". The image's own
level is written to LEVEL next to this package at build time.
"""
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DB2DIR = PACKAGE_DIR.parents[1]  # /opt/ibm/db2/V11.x (package lives in $DB2DIR/lib/standin)


# Internal release numbers of the configuration files and databases per Db2 version.
# 12.1's 16 follows the pattern (assumption: no 12.1 `list db directory` transcript was found).
_RELEASE_LEVEL = {(11, 1): 14, (11, 5): 15, (12, 1): 16}


@dataclass(frozen=True)
class Level:
    name: str          # image tag form, e.g. 11.1.3.3a
    build: str         # "s1804271300"
    fixpack: str       # "3a"
    code_release: str  # "SQL11013"
    identifier: str    # "0204010F"

    @property
    def vrmf(self):
        v, r, m, f = re.match(r"(\d+)\.(\d+)\.(\d+)\.(\d+)", self.name).groups()
        return int(v), int(r), int(m), int(f)

    @property
    def server_version(self):  # "11.1.3.3": what `Database server = DB2/LINUXX8664 ...` shows
        return "%d.%d.%d.%d" % self.vrmf

    @property
    def version_release(self):  # "11.1": a new one means an upgrade, not a fix pack
        return "%d.%d" % self.vrmf[:2]

    @property
    def install_path(self):
        return "/opt/ibm/db2/V" + self.version_release

    @property
    def versionnumber(self):
        """SYSIBM.SYSVERSIONS.VERSIONNUMBER: 11.1.4.4 -> 11010404."""
        return int("%02d%02d%02d%02d" % self.vrmf)

    @property
    def dbm_release(self):  # "Database manager configuration release level": 0x1400 / 0x1500
        return "0x%d00" % _RELEASE_LEVEL[self.vrmf[:2]]

    @property
    def db_release(self):  # "Database release level" in the database directory: 14.00 / 15.00
        return "%d.00" % _RELEASE_LEVEL[self.vrmf[:2]]

    @property
    def wrap_keeps_space(self):
        """11.1 tools leave the space at which a message wraps at the line end; 11.5 drop it."""
        return self.vrmf[:2] < (11, 5)


LEVELS = {level.name: level for level in (
    Level("11.1.3.3a", "s1804271300", "3a", "SQL11013", "0204010F"),
    Level("11.1.4.4", "s1811091400", "4", "SQL11014", "0205010F"),
    Level("11.5.8.0", "s2209201700", "0", "SQL11058", "0609010F"),
    Level("11.5.9.0", "s2310270807", "0", "SQL11059", "060A010F"),
    Level("12.1.0.0", "s2411151100", "0", "SQL12010", "0701010F"),  # build, identifier: assumed
)}


@lru_cache(maxsize=None)
def installed():
    """The level of this image (baked in at build time)."""
    return LEVELS[(PACKAGE_DIR / "LEVEL").read_text().strip()]


def parse(name):
    """A level recorded on storage; unknown names (from other images) still compare."""
    if name in LEVELS:
        return LEVELS[name]
    if not re.match(r"^\d+\.\d+\.\d+\.\d+[a-z]?$", name or ""):
        raise ValueError("not a Db2 level: %r" % name)
    return Level(name, "", "", "", "")
