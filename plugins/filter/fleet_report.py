# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.report import ReportError
from ansible_collections.db2ops.docker.plugins.module_utils._upgrade.report import fleet_report as _fleet_report


def fleet_report(items, target_level=None, now=None):
    try:
        return _fleet_report(items, target_level or None, now)
    except ReportError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"fleet_report": fleet_report}
