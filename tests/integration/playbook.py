"""Run the collection's modules and playbooks through real `ansible-playbook` and read results."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def ansible_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    })
    env.update(extra or {})
    return env


def run_module(tmp_path: Path, module: str, args: dict, check: bool = False, diff: bool = False,
               env: dict | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    """One task on localhost; returns (process, registered result). Failures do not raise."""
    out = tmp_path / f"result-{module}-{os.urandom(4).hex()}.json"
    play = [{
        "hosts": "localhost", "gather_facts": False, "connection": "local",
        "tasks": [
            {"name": "module under test", f"db2ops.docker.{module}": args, "register": "r",
             "ignore_errors": True, "check_mode": check, "diff": diff},
            {"name": "save result", "ansible.builtin.copy": {"content": "{{ r | to_json }}", "dest": str(out)},
             "check_mode": False},
        ],
    }]
    book = tmp_path / f"play-{out.stem}.json"
    book.write_text(json.dumps(play))
    proc = run_playbook(book, inventory="localhost,", env=env)
    assert out.exists(), f"playbook did not run the module:\n{proc.stdout}\n{proc.stderr}"
    return proc, json.loads(out.read_text())


def run_playbook(playbook: Path, inventory: str, extra_vars: dict | None = None, env: dict | None = None,
                 args: tuple = ()) -> subprocess.CompletedProcess:
    cmd = [str(BIN / "ansible-playbook"), "-i", inventory, str(playbook), *args]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    return subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(env), cwd=REPO, check=False)
