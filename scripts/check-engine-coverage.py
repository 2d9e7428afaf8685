"""Fail when an engine's line coverage from the unit tests alone drops below the floor.

`pytest --cov-fail-under` checks the total, not each file: one well-tested parser would hide an
engine that lost its tests. This reads coverage.py's JSON report (`--cov-report=json:FILE`) and
checks each engine file on its own. Run by `make unit`; figures in docs/testing.md.

Usage: python scripts/check-engine-coverage.py COVERAGE_JSON [FLOOR_PERCENT]
"""
import json
import sys

# The engines: the module_utils files that decide what a task changes (one per recipe or module).
ENGINES = (
    "plugins/module_utils/_upgrade/engine.py",
    "plugins/module_utils/_upgrade/version.py",
    "plugins/module_utils/_upgrade/hadr.py",
    "plugins/module_utils/_upgrade/fleet.py",
    "plugins/module_utils/_db2/run.py",
    "plugins/module_utils/_db2/users.py",
    "plugins/module_utils/_db2/backup.py",
    "plugins/module_utils/_db2/hadr_setup.py",
    "plugins/module_utils/_image/build.py",
    "plugins/module_utils/_ldap/server.py",
    "plugins/module_utils/_ldap/admin_ui.py",
    "plugins/module_utils/_ldap/db2_auth.py",
    "plugins/module_utils/_ats/module.py",
    "plugins/module_utils/_docker/recreate.py",
)
DEFAULT_FLOOR = 80.0


def percent_by_file(report):
    """{path relative to the checkout: percent of lines covered} from a coverage JSON report."""
    found = {}
    for name, data in report["files"].items():
        marker = name.find("plugins/module_utils/")
        if marker >= 0:
            found[name[marker:]] = data["summary"]["percent_covered"]
    return found


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1]) as handle:
        covered = percent_by_file(json.load(handle))
    floor = float(argv[2]) if len(argv) == 3 else DEFAULT_FLOOR
    low = []
    for engine in ENGINES:
        percent = covered.get(engine, 0.0)  # never imported by a unit test: 0
        print("[engine coverage] %5.1f%%  %s" % (percent, engine))
        if percent < floor:
            low.append("%s %.1f%%" % (engine, percent))
    if low:
        print("[engine coverage] below %.0f%% from unit tests: %s" % (floor, ", ".join(low)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
