# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The Db2 target contract of the modules that work on one Db2 container (module_utils/_db2/module.py).
    # A module whose work takes longer documents its own O(exec_timeout) default over this one.
    DOCUMENTATION = r"""
options:
  container:
    description:
      - Name or id of the running Db2 container. The instance owner is read from its C(DB2INSTANCE)
        environment variable (V(db2inst1) when unset), as IBM's image sets it.
    type: str
    required: true
  exec_timeout:
    description:
      - Seconds one C(docker exec) in the container may take. When it runs out the command may still
        be running in the container, and the task says so.
    type: int
    default: 300
"""
