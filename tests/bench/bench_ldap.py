#!/usr/bin/env python
"""Benchmark: N LDAP users + 10 groups in one db2_ldap_user and one db2_ldap_group task, against
community.general.ldap_entry in a loop doing the same work, on the same real slapd.

    /work/main/.venv/bin/python tests/bench/bench_ldap.py           # 1,000 users; writes docs/benchmarks.md
    /work/main/.venv/bin/python tests/bench/bench_ldap.py --quick   # small N, prints only (CI smoke)

community.general runs from its own venv (--cg-venv, default /tmp/bench-cg), made with
`python3 -m venv /tmp/bench-cg && /tmp/bench-cg/bin/pip install ansible-core==2.19.14 'ansible==12.*' python-ldap`;
without it the baseline is skipped and says so. Wall times are of whole `ansible-playbook`
runs, so they include Ansible's own start-up, measured separately as an empty play.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "tests" / "integration")]
_LINK = importlib.util.spec_from_file_location("collection_link", REPO / "tests" / "conftest.py")
_LINK.loader.exec_module(importlib.util.module_from_spec(_LINK))  # makes the collection importable

import docker  # noqa: E402
from ansible_collections.db2ops.docker.plugins.module_utils._ldap.passwords import hash_password  # noqa: E402
from benchmarks_doc import write_section  # noqa: E402
from conftest import _build_images  # noqa: E402
from ldap_server import ADMIN, ADMIN_PW, BASE, start_slapd  # noqa: E402
from playbook import ansible_env  # noqa: E402

GROUPS = 10
RERUNS = 5  # the rerun figure is their median
SECTION = "## LDAP users and groups"


def play(tasks, vars_=None):
    return [{"hosts": "localhost", "gather_facts": False, "connection": "local", "vars": vars_ or {}, "tasks": tasks}]


def run(bindir: Path, book: list, workdir: Path, env: dict) -> float:
    path = workdir / f"play-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(book))
    start = time.monotonic()
    proc = subprocess.run([str(bindir / "ansible-playbook"), "-i", "localhost,", str(path)], capture_output=True,
                          text=True, env=env, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"playbook failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def users_and_groups(n: int, tag: str):
    users = [{"uid": f"u{tag}{i:05d}", "uid_number": 100000 + i, "password": f"pw-{i}"} for i in range(n)]
    groups = [{"name": f"g{tag}{g}", "members": [u["uid"] for u in users[g::GROUPS]] or [users[0]["uid"]]}
              for g in range(GROUPS)]
    return users, groups


def ours(slapd, n: int, workdir: Path, one_task: bool) -> dict:
    """one_task: db2_ldap_directory with users and groups; else db2_ldap_user then db2_ldap_group."""
    tag = uuid.uuid4().hex[:4]
    users_ou, groups_ou = f"ou=BU{tag}", f"ou=BG{tag}"
    slapd.add_ou(f"{users_ou},{BASE}")
    slapd.add_ou(f"{groups_ou},{BASE}")
    users, groups = users_and_groups(n, tag)
    conn = {"server_uri": slapd.uri, "ca_path": str(slapd.ca_path), "bind_dn": ADMIN, "bind_pw": ADMIN_PW,
            "base_dn": BASE}
    if one_task:
        tasks = [{"db2ops.docker.db2_ldap_directory": dict(
            conn, users_ou=users_ou, groups_ou=groups_ou, members_base=f"{users_ou},{BASE}",
            users=[dict(u, gid_number=1000) for u in users], groups=groups)}]
    else:
        tasks = [
            {"db2ops.docker.db2_ldap_user": dict(conn, users_ou=users_ou, gid_number=1000, users=users)},
            {"db2ops.docker.db2_ldap_group": dict(conn, groups_ou=groups_ou, members_base=f"{users_ou},{BASE}",
                                                  groups=groups)},
        ]
    bindir, env = Path(sys.executable).parent, ansible_env()
    first = run(bindir, play(tasks), workdir, env)
    reruns = [run(bindir, play(tasks), workdir, env) for _rerun in range(RERUNS)]
    assert len(slapd.tree(f"{users_ou},{BASE}", ["uid"])) == n + 1
    return {"first": first, "rerun": statistics.median(reruns), "reruns": reruns,
            "empty": statistics.median(run(bindir, play([]), workdir, env) for _rerun in range(RERUNS))}


def community_general(slapd, n: int, workdir: Path, cg_venv: Path) -> dict | None:
    if not (cg_venv / "bin" / "ansible-playbook").exists():
        return None
    tag = uuid.uuid4().hex[:4]
    users_ou, groups_ou = f"ou=CU{tag},{BASE}", f"ou=CG{tag},{BASE}"
    slapd.add_ou(users_ou)
    slapd.add_ou(groups_ou)
    users, groups = users_and_groups(n, tag)
    conn = {"server_uri": slapd.uri, "start_tls": True, "ca_path": str(slapd.ca_path), "bind_dn": ADMIN,
            "bind_pw": ADMIN_PW}
    # ldap_entry writes userPassword verbatim: hashes are made beforehand (a fresh salt each run
    # would make every rerun a change, see docs), objectClass/attributes as the modules write them.
    entries = [{"dn": f"cn={u['uid']},{users_ou}", "objectClass": ["top", "posixAccount", "inetOrgPerson"],
                "attributes": {"uid": u["uid"], "cn": u["uid"], "sn": u["uid"], "uidNumber": u["uid_number"],
                               "gidNumber": 1000, "homeDirectory": f"/home/{u['uid']}",
                               "userPassword": hash_password(u["password"])}} for u in users]
    entries += [{"dn": f"cn={g['name']},{groups_ou}", "objectClass": ["top", "groupOfUniqueNames"],
                 "attributes": {"cn": g["name"], "uniqueMember": [f"cn={m},{users_ou}" for m in g["members"]]}}
                for g in groups]
    task = {"community.general.ldap_entry": dict(conn, dn="{{ item.dn }}", objectClass="{{ item.objectClass }}",
                                                 attributes="{{ item.attributes }}"),
            "loop": "{{ entries }}", "loop_control": {"label": "{{ item.dn }}"}}
    env = ansible_env({"ANSIBLE_COLLECTIONS_PATH": str(workdir / "none"), "ANSIBLE_PYTHON_INTERPRETER":
                       str(cg_venv / "bin" / "python")})
    bindir = cg_venv / "bin"
    first = run(bindir, play([task], {"entries": entries}), workdir, env)
    rerun = run(bindir, play([task], {"entries": entries}), workdir, env)
    assert len(slapd.tree(users_ou, ["uid"])) == n + 1
    return {"first": first, "rerun": rerun, "entries": len(entries), "empty": run(bindir, play([]), workdir, env)}


def cg_version(cg_venv: Path) -> str:
    proc = subprocess.run([str(cg_venv / "bin" / "ansible-galaxy"), "collection", "list", "community.general"],
                          capture_output=True, text=True, check=False)
    match = re.search(r"community\.general\s+(\S+)", proc.stdout)
    return match.group(1) if match else "?"


def report(n: int, m: int, one: dict, ours_t: dict, cg: dict | None, cg_venv: Path) -> str:
    entries = n + GROUPS
    lines = [SECTION, "",
             f"- Date: {datetime.date.today().isoformat()}; machine: {platform.machine()}, {os.cpu_count()} cores, "
             f"{platform.platform()}; Python {platform.python_version()}, ansible-core 2.19.14.",
             "- slapd: the test image `db2ops/openldap:test` (Debian OpenLDAP 2.5, mdb), on the same host, StartTLS "
             "with certificate verification for both sides, bound as the rootDN.",
             "- Command: `/work/main/.venv/bin/python tests/bench/bench_ldap.py` (community.general from "
             f"`{cg_venv}`, see the script's docstring).",
             f"- Work: {n} users (with passwords) + {GROUPS} groupOfUniqueNames groups holding all of them; "
             "times are whole `ansible-playbook` runs.", "",
             "| what | entries | first run (s) | idempotent rerun (s; ours: median of %d) | per entry, first (ms) | "
             "per entry, rerun (ms) |" % RERUNS,
             "|---|---|---|---|---|---|",  # rerun: median of RERUNS
             f"| db2_ldap_directory, 1 task | {entries} | {one['first']:.2f} | {one['rerun']:.2f} | "
             f"{1000 * one['first'] / entries:.2f} | {1000 * one['rerun'] / entries:.2f} |",
             f"| db2_ldap_user + db2_ldap_group, 2 tasks | {entries} | {ours_t['first']:.2f} | {ours_t['rerun']:.2f} | "
             f"{1000 * ours_t['first'] / entries:.2f} | {1000 * ours_t['rerun'] / entries:.2f} |"]
    if cg:
        lines.append(f"| community.general {cg_version(cg_venv)} ldap_entry in a loop | {cg['entries']} | "
                     f"{cg['first']:.2f} | {cg['rerun']:.2f} | {1000 * cg['first'] / cg['entries']:.1f} | "
                     f"{1000 * cg['rerun'] / cg['entries']:.1f} |")
    met = one["first"] < 5 and one["rerun"] < 2
    lines += ["", f"An empty play takes {one['empty']:.2f} s (Ansible start-up, included in every row). "
              f"Targets for one task: first run under 5 s, idempotent rerun under 2 s: "
              f"{'met' if met else 'NOT met'} ({one['first']:.2f} s, {one['rerun']:.2f} s; the reruns: "
              f"{', '.join('%.2f' % r for r in one['reruns'])} s). Two tasks pay Ansible's "
              "per-task cost (worker, module packaging and start, connection, bind, schema read) twice."]
    if cg:
        ratio_first = (cg["first"] / cg["entries"]) / (one["first"] / entries)
        ratio_rerun = (cg["rerun"] / cg["entries"]) / (one["rerun"] / entries)
        lines += [f"Per entry, the loop is {ratio_first:.0f}x slower on the first run and {ratio_rerun:.0f}x on the "
                  f"rerun; it ran {m} users rather than {n} to keep the benchmark short, so its per-entry figure "
                  "is the fair comparison (its cost grows linearly: one module run, connection and bind per entry).",
                  "ldap_entry also does less: it never modifies an existing entry (so its rerun only proves "
                  "existence), and its pre-hashed passwords are not checked."]
    else:
        lines += ["community.general was not available (no venv at the given path): baseline skipped."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N, print only (CI smoke)")
    parser.add_argument("--users", type=int, help="users for our modules (default 1000, quick 50)")
    parser.add_argument("--cg-users", type=int, help="users for the ldap_entry loop (default 100, quick 10)")
    parser.add_argument("--cg-venv", type=Path, default=Path("/tmp/bench-cg"))
    args = parser.parse_args()
    n = args.users or (50 if args.quick else 1000)
    m = args.cg_users or (10 if args.quick else 100)
    client = docker.from_env()
    _build_images("openldap")
    with tempfile.TemporaryDirectory(prefix="bench-ldap-") as tmp:
        workdir = Path(tmp)
        slapd = start_slapd(client, workdir, "db2ops-bench-ldap-" + uuid.uuid4().hex[:6])
        try:
            one = ours(slapd, n, workdir, one_task=True)
            ours_t = ours(slapd, n, workdir, one_task=False)
            cg = community_general(slapd, m, workdir, args.cg_venv)
        finally:
            slapd.stop()
    text = report(n, m, one, ours_t, cg, args.cg_venv)
    print(text)
    if not args.quick:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
