#!/usr/bin/env python
"""Benchmark: rows per second of one query fetched over ibm_db (IBM's driver, DRDA on the
stand-in's published port 50000) against the same query through the CLP over `docker exec`,
on the same stand-in container, in one run.

    .venv/bin/python tests/bench/bench_drda.py           # 100,000 rows, 3 runs each; writes docs/benchmarks.md (DRDA section)
    .venv/bin/python tests/bench/bench_drda.py --quick   # 2,000 rows, 1 run each, prints only (CI smoke)

ibm_db times include its connect (as a module's would); the CLP times include `docker exec`, the
CLP's connect and printing the rows, which the caller then has to parse.
"""
from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "tests" / "integration")]

import docker  # noqa: E402
import ibm_db  # noqa: E402
from benchmarks_doc import write_section  # noqa: E402
from conftest import BASE_DB2_ENV, STANDIN_REPO, _build_images, shared_standin  # noqa: E402

SECTION = "## DRDA: ibm_db against the CLP"
QUERY = "SELECT N, T, D FROM BIG"


def clp(container, script):
    command = '. "$HOME/sqllib/db2profile" && db2 -t +p -x -f /dev/stdin'
    start = time.monotonic()
    result = subprocess.run(["docker", "exec", "-i", "-u", "db2inst1", container.id, "bash", "-c", command],
                            input="CONNECT TO TESTDB;\n" + script, capture_output=True, text=True, check=False)
    return time.monotonic() - start, result


def over_clp(container, count):
    elapsed, result = clp(container, QUERY + ";\n")
    body = result.stdout.split("Local database alias   = TESTDB\n", 1)[-1]
    lines = [line for line in body.splitlines() if line.strip()]
    if len(lines) != count:
        raise SystemExit("the CLP printed %d rows, not %d:\n%s" % (len(lines), count, result.stdout[-2000:]))
    return elapsed


def over_ibm_db(port, count):
    start = time.monotonic()
    conn = ibm_db.connect("DATABASE=TESTDB;HOSTNAME=127.0.0.1;PORT=%d;PROTOCOL=TCPIP;UID=db2inst1;PWD=%s;"
                          % (port, BASE_DB2_ENV["DB2INST1_PASSWORD"]), "", "")
    connected = time.monotonic()
    stmt = ibm_db.exec_immediate(conn, QUERY)
    fetched = 0
    while ibm_db.fetch_tuple(stmt):
        fetched += 1
    ibm_db.close(conn)
    if fetched != count:
        raise SystemExit("ibm_db fetched %d rows, not %d" % (fetched, count))
    return time.monotonic() - start, connected - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="2,000 rows, one run each, print only")
    args = parser.parse_args()
    count, runs = (2000, 1) if args.quick else (100000, 3)
    _build_images("standin")
    image = "%s:11.5.8.0" % STANDIN_REPO
    with shared_standin(docker.from_env(), image, "db2ops-bench-drda", ports={"50000/tcp": ("127.0.0.1", None)},
                        ARCHIVE_LOGS="false") as container:
        port = int(container.ports["50000/tcp"][0]["HostPort"])
        _rc, made = clp(container, "CREATE TABLE BIG (N INTEGER, T VARCHAR(40), D DECIMAL(9,2));\n"
                                   "INSERT INTO BIG WITH RECURSIVE R(N) AS (SELECT 1 UNION ALL SELECT N + 1 FROM R "
                                   "WHERE N < %d) SELECT N, 'row number ' || N, N / 100.0 FROM R;\n" % count)
        if made.returncode != 0:
            raise SystemExit(made.stdout)
        drda, cli, connects = [], [], []
        for _run in range(runs):  # interleaved, so that both see the same machine load
            total, connect = over_ibm_db(port, count)
            drda.append(total)
            connects.append(connect)
            cli.append(over_clp(container, count))
    d, c = statistics.median(drda), statistics.median(cli)
    table = ["| path | rows | median (s) | rows/s | all runs (s) |", "|---|---|---|---|---|",
             "| ibm_db over DRDA (port 50000), connect included | %d | %.2f | %.0f | %s |"
             % (count, d, count / d, ", ".join("%.2f" % t for t in drda)),
             "| CLP over `docker exec` (`db2 -x`), connect included | %d | %.2f | %.0f | %s |"
             % (count, c, count / c, ", ".join("%.2f" % t for t in cli))]
    text = "\n".join([
        SECTION, "",
        "- Date: %s; machine: %s, Linux %s; Python %s; ibm_db %s."
        % (datetime.date.today(), platform.machine(), platform.release(), platform.python_version(),
           getattr(ibm_db, "__version__", "3.3.0")),
        "- Db2: the stand-in `%s` (SQLite), same host; ibm_db connects to its published port." % image,
        "- Command: `.venv/bin/python tests/bench/bench_drda.py` (`--quick`: 2,000 rows, one run, no file written).",
        "- Work: `%s` over %d rows (INTEGER, VARCHAR, DECIMAL), %d runs each, interleaved." % (QUERY, count, runs),
        "",
    ] + table + [
        "",
        "ibm_db fetches %.2fx as many rows per second as the CLP path (ratio of the medians, one run of this "
        "script); its connect (EXCSAT, security, ACCRDB, the driver's licence call) takes %.2f s of its time "
        "(median). The DRDA server sends rows in blocks of at most 32,000 bytes that the driver asks for with "
        "CNTQRY, encoding each value in Python; the CLP prints every row as text that a caller must parse "
        "again (not timed here). On a machine shared with other work the runs vary (see the last column): "
        "compare the medians of one run, not figures of different runs." % (c / d, statistics.median(connects)),
        "",
    ])
    print(text)
    if not args.quick:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
