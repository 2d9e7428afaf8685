# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.report import (
    ReportError,
    upgrade_rows,
    upgrade_table,
)
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.report import fleet_report as _fleet_report

# The variable upgrade.yml of role db2_fixpack records each host's outcome in.
OUTCOME_VAR = "_db2_fixpack_summary"


def fleet_report(items, target_level=None, now=None):
    try:
        return _fleet_report(items, target_level or None, now)
    except ReportError as exc:
        raise AnsibleFilterError(str(exc))


def fleet_upgrade_rows(hosts_all, hosts_left, hostvars, outcome_var=OUTCOME_VAR):
    """The rows of the upgrade summary, from each host's recorded outcome in hostvars."""
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("fleet_upgrade_rows expects hostvars as its second argument")
    known = {}
    for host in hosts_all or []:
        try:
            host_vars = hostvars[host]
        except KeyError:
            host_vars = {}
        known[host] = dict(outcome=host_vars.get(outcome_var), docker_host=host_vars.get("db2ops_docker_host"),
                           container=host_vars.get("db2_container"))
    return upgrade_rows(list(hosts_all or []), list(hosts_left or []), known)


def fleet_upgrade_table(rows):
    return upgrade_table(rows or [])


class FilterModule(object):
    def filters(self):
        return {"fleet_report": fleet_report, "fleet_upgrade_rows": fleet_upgrade_rows,
                "fleet_upgrade_table": fleet_upgrade_table}
