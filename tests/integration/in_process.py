"""Run one of the collection's modules in this process, as a fresh run each time.

Bad-input tables feed hundreds of cases; one ansible-playbook per case (or per table) costs minutes.
The module's main() runs here with `patch_module_args`; what it prints (its JSON result) is captured.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import traceback

from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args


def run_module(name: str, args: dict, check: bool = False) -> dict:
    """The module's result, as ansible-playbook would register it. Never raises for the module's sake:
    an exception becomes a failed, multi-line result (as the controller's MODULE FAILURE is)."""
    module = importlib.import_module("ansible_collections.db2ops.docker.plugins.modules." + name)
    args = json.loads(json.dumps(args))  # the module must not share (or change) the caller's lists
    if check:
        args["_ansible_check_mode"] = True
    # Warnings and deprecations are module-level in ansible: a run must not carry the previous one's.
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    ansible_warnings._global_deprecations.clear()  # pylint: disable=protected-access
    out = io.StringIO()
    try:
        with patch_module_args(args), contextlib.redirect_stdout(out):
            module.main()
    except SystemExit:
        pass
    except Exception:  # pylint: disable=broad-except
        return {"failed": True, "msg": "MODULE FAILURE (in process)\n" + traceback.format_exc()}
    text = out.getvalue().strip()
    if not text:
        return {"failed": True, "msg": "MODULE FAILURE (in process)\nthe module printed no result"}
    result = json.loads(text.splitlines()[-1])
    result.setdefault("changed", False)  # as the task executor does for a result that has none
    return result
