#!/usr/bin/env python3
"""Time txlint on a folder: cold, warm cache, --jobs 1 and 2, and one small file (pre-commit case).

    python bench/bench.py PATH [--txlint CMD] [--small FILE] [--repeat N]

Prints wall time, CPU time (user+sys of txlint and its workers), peak memory (largest process)
and LOC/s (lines of the Python files txlint examines, per wall second and per CPU second).
Each scenario runs in a fresh child process; the cache lives in a temporary copy-free location
(TXLINT_CACHE_DIR is not used: the cache is removed between cold runs instead).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time


def count_loc(path: str) -> tuple[int, int]:
    files = lines = 0
    skip = {".git", ".venv", "venv", "node_modules", "build", "dist", "__pycache__", ".tox", ".eggs", ".txlint_cache"}
    for root, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in names:
            if name.endswith(".py"):
                files += 1
                try:
                    with open(os.path.join(root, name), "rb") as handle:
                        lines += handle.read().count(b"\n")
                except OSError:
                    pass
    return files, lines


# what users run has its bytecode cached (pip compiles it at install time): never measure a
# start-up that recompiles txlint's modules because the environment forbids .pyc files
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], cwd: str) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    findings = sum(1 for line in proc.stdout.decode(errors="replace").splitlines() if ": TXL" in line)
    return {"wall": wall, "cpu": cpu, "rss_mb": after.ru_maxrss / 1024, "rc": proc.returncode, "findings": findings,
            "stderr": proc.stderr.decode(errors="replace")[-300:]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--txlint", default=f"{sys.executable} -m txlint")
    ap.add_argument("--small", help="one small file for the pre-commit case (default: a generated one)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per scenario; the best is reported")
    args = ap.parse_args()
    path = os.path.abspath(args.path)
    base = args.txlint.split()
    files, loc = count_loc(path)
    print(f"corpus: {path}: {files} Python files, {loc} lines")
    # txlint keeps its cache at the project root: the nearest folder above PATH holding .git,
    # pyproject.toml, setup.py or setup.cfg (else PATH itself)
    root = path
    while not any(os.path.exists(os.path.join(root, m)) for m in (".git", "pyproject.toml", "setup.py", "setup.cfg")):
        parent = os.path.dirname(root)
        if parent == root:
            root = path
            break
        root = parent
    cache = os.path.join(root, ".txlint_cache")
    small = args.small
    if not small:
        small = os.path.join(os.environ.get("TMPDIR", "/tmp"), "txlint_bench_small.py")
        with open(small, "w") as handle:
            handle.write("import sqlite3\n\n\ndef count_rows(path):\n    conn = sqlite3.connect(path)\n"
                         "    return conn.execute('SELECT 1').fetchone()\n")
    scenarios = [
        ("cold --jobs 1", base + ["--quiet", "--no-cache", "--jobs", "1", "."], True),
        ("cold --jobs 2", base + ["--quiet", "--no-cache", "--jobs", "2", "."], True),
        ("cold, cache written (--jobs 2)", base + ["--quiet", "--jobs", "2", "."], True),
        ("warm cache (--jobs 2)", base + ["--quiet", "--jobs", "2", "."], False),
        ("one small file", base + ["--quiet", "--no-cache", small], False),
        ("start-up: txlint rules", base + ["rules"], False),
    ]
    subprocess.run(base + ["rules"], stdout=subprocess.DEVNULL, env=ENV)  # warm-up: bytecode caches
    print(f"{'scenario':34} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'LOC/s wall':>11} {'LOC/s cpu':>10} {'findings':>9}")
    for name, cmd, clear in scenarios:
        best = None
        for _ in range(max(args.repeat, 1)):
            if clear and os.path.isdir(cache):
                shutil.rmtree(cache)
            r = timed(cmd, path)
            if best is None or r["wall"] < best["wall"]:
                best = r
        n = loc if "small" not in name and "rules" not in name else None
        lw = f"{n / best['wall']:.0f}" if n else "-"
        lc = f"{n / best['cpu']:.0f}" if n and best["cpu"] else "-"
        print(f"{name:34} {best['wall']:8.2f} {best['cpu']:8.2f} {best['rss_mb']:8.0f} {lw:>11} {lc:>10} {best['findings']:9d}")
        if best["rc"] not in (0, 1):
            print(f"  !! exit {best['rc']}: {best['stderr']}")
    if os.path.isdir(cache):
        shutil.rmtree(cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
