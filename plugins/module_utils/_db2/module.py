# -*- coding: utf-8 -*-
# Copyright: db2ops.docker contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Db2 target contract of the modules that work on one Db2 container: the options that name
it (O(container), O(exec_timeout), documented in doc_fragments/db2_target.py), the module built
from them, and one client that opens the running container and its CLP and turns every error of
the collection into one line with the right `changed`.

PRIVATE to the db2ops.docker collection: not a public API, it may change in any release.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.db2ops.docker.plugins.module_utils._db2.backup import DATABASE_NAME
from ansible_collections.db2ops.docker.plugins.module_utils._db2.clp import Db2Clp, Db2Error
from ansible_collections.db2ops.docker.plugins.module_utils._db2.target import (
    db2_facts,
    instance_owner,
    open_running_db2,
)
from ansible_collections.db2ops.docker.plugins.module_utils._docker.client import (
    CONTAINER_NAME,
    DockerModuleClient,
    docker_module,
)

DATABASE_RULE = (DATABASE_NAME, "a Db2 database name (1-8 letters, digits, @ # $ _)")


def db2_target_module(options, exec_timeout=300, rules=None, **input_checks):
    """The AnsibleModule of a Db2 container module: Docker options, O(container), O(exec_timeout),
    the module's own `options`; its input checked by the shared gate before anything connects."""
    spec = dict(container=dict(type="str", required=True), exec_timeout=dict(type="int", default=exec_timeout))
    spec.update(options)
    return docker_module(spec, rules=dict(rules or {}, container=CONTAINER_NAME), **input_checks)


class Db2Target:
    """The Docker connection, the running Db2 container and its CLP, and one-line failures."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.docker = DockerModuleClient(module)
        self.api = self.docker.api
        self.inspect = None
        self.clp = None

    def open(self):
        """The running Db2 container (inspect data); its CLP as self.clp. DockerOperationError if not."""
        self.inspect = open_running_db2(self.api, self.params["container"])
        self.clp = Db2Clp(self.api, self.inspect["Id"], instance_owner(self.inspect),
                          timeout=self.params["exec_timeout"])
        return self.inspect

    def facts(self):
        return db2_facts(self.api, self.inspect)

    def fail_on(self, exc, doing="the task", **result):
        """End the task on one of the collection's errors (ActionFailed or an input error).

        Db2's own errors say what failed and carry Db2's message id; an error after a change says
        so (changed=true, no "nothing was changed"); any other says whether anything changed.
        """
        if isinstance(exc, Db2Error):
            result.setdefault("commands", list(getattr(exc, "commands", ()) or ()))
            result.update(db2_message=exc.code, sqlcode=exc.sqlcode)
            self.docker.fail("%s failed: %s" % (doing, exc), changed=bool(exc.changed), **result)
        self.docker.fail_on(exc, **result)

    def close(self):
        self.docker.close()
