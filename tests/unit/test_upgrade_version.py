"""The version-upgrade rules of db2_container_upgrade (plugins/module_utils/_upgrade/version.py)."""
from __future__ import annotations

import pytest

from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.version import check_path, is_version_upgrade


@pytest.mark.parametrize("current, target, expected", [
    ("11.1.3.3a", "11.1.4.4", False),   # a fix pack
    ("11.5.8.0", "11.5.9.0", False),    # a mod pack: still 11.5
    ("11.1.4.4", "11.5.8.0", True),
    ("11.5.9.0", "12.1.0.0", True),
    ("11.5.8.0", "11.5.8.0", False),
    ("12.1.0.0", "11.5.9.0", False),    # older: refused elsewhere, never a version upgrade
    ("11.5.8.0", "latest", False),
])
def test_a_version_upgrade_is_a_newer_version_or_release(current, target, expected):
    assert is_version_upgrade(current, target) is expected


@pytest.mark.parametrize("current, target", [("11.1.4.4", "11.5.9.0"), ("10.5.0.11", "11.5.9.0"),
                                             ("11.1.4.7", "12.1.0.0"), ("11.5.9.0", "12.1.0.0")])
def test_paths_ibm_supports_pass(current, target):
    assert check_path(current, target) is None


def test_a_jump_ibm_does_not_support_is_refused_with_the_way_round():
    assert check_path("10.5.0.11", "12.1.0.0") == ("Db2 10.5 cannot be upgraded to 12.1 directly (IBM supports 11.1 "
                                                   "or 11.5); upgrade in steps")
