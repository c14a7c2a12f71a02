#!/usr/bin/env python3
"""Run generated programs (hypothesmith) through txlint and report what went wrong.

    python bench/fuzz.py [--count 2000] [--seed 0] [--txlint CMD] [--keep DIR]

The programs are those of tests/test_property.py: hypothesmith's valid-but-strange Python, mostly
embedded in small database programs so that the rules, the control flow and the fixes run over them.
Two passes:
  1. in-process, each program analysed as `txlint --fix --unsafe-fixes` would (fixes re-analysed
     until stable): exceptions, internal errors (TXL000 "internal error"), messages over 120
     characters, JSON that does not round-trip, fixed files that do not parse;
  2. the real command line once over a folder holding every program (`--format json --jobs 2`),
     then `--fix` over it: exit status, tracebacks, JSON validity, fixed files that do not parse.
Prints counts and times; exits 1 when anything went wrong.  Needs the `test` extra (hypothesis,
hypothesmith, pytest).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))


def generate(count: int, seed: int) -> list[str]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    from test_property import programs

    out: list[str] = []

    @hseed(seed)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(programs())
    def collect(source):
        out.append(source)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collect()
    return out[:count]


def compiles(data: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "<fixed>", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--txlint", default=f"{sys.executable} -m txlint", help="command for the CLI pass")
    ap.add_argument("--keep", help="write the programs (and the failing ones) into this folder")
    args = ap.parse_args()

    from test_property import check_in_process

    t0 = time.perf_counter()
    sources = generate(args.count, args.seed)
    t_gen = time.perf_counter() - t0
    print(f"generated {len(sources)} programs in {t_gen:.1f} s (seed {args.seed}); "
          f"{sum(len(s) for s in sources) / max(len(sources), 1):.0f} characters on average")

    kinds: collections.Counter = collections.Counter()
    failing: list[tuple[int, list[str]]] = []
    noted: list[tuple[int, list[str]]] = []
    t0 = time.perf_counter()
    slowest = (0.0, -1)
    for i, source in enumerate(sources):
        t = time.perf_counter()
        notes: list[str] = []
        problems = check_in_process(source, notes=notes)
        dt = time.perf_counter() - t
        if notes:
            noted.append((i, notes))
        slowest = max(slowest, (dt, i))
        if problems:
            failing.append((i, problems))
            for p in problems:
                kinds[p.split(":")[0]] += 1
    t_in = time.perf_counter() - t0
    print(f"in-process: {len(sources)} programs in {t_in:.1f} s ({1000 * t_in / max(len(sources), 1):.0f} ms each, "
          f"slowest {slowest[0]:.2f} s: #{slowest[1]}); {len(failing)} with problems")
    for kind, n in sorted(kinds.items()):
        print(f"  {n:5d}  {kind}")
    if noted:  # not a failure of the properties, but findings lost on valid code
        print(f"  {len(noted):5d}  programs CPython accepts that txlint reports as TXL000 (not counted as failures): "
              + ", ".join(f"#{i}" for i, _ in noted[:10]) + (" ..." if len(noted) > 10 else ""))
        print(f"         e.g. #{noted[0][0]}: {noted[0][1][0]}")

    # the command line over one folder holding every program
    cli_problems: collections.Counter = collections.Counter()
    work = args.keep or tempfile.mkdtemp(prefix="txlint-fuzz-")
    os.makedirs(work, exist_ok=True)
    folder = os.path.join(work, "programs")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    names = []
    for i, source in enumerate(sources):
        name = f"gen_{i:05d}.py"
        names.append(name)
        with open(os.path.join(folder, name), "w", encoding="utf-8", errors="surrogatepass", newline="") as handle:
            handle.write(source)
    cmd = args.txlint.split()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd + ["--no-cache", "--jobs", "2", "--format", "json", "."], cwd=folder,
                          capture_output=True, stdin=subprocess.DEVNULL)
    t_cli = time.perf_counter() - t0
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode not in (0, 1):
        cli_problems[f"exit status {proc.returncode}"] += 1
    if "Traceback (most recent call last)" in err:
        cli_problems["traceback on stderr"] += 1
    try:
        report = json.loads(proc.stdout)
        if report.get("files_checked") != len(sources):
            cli_problems[f"files_checked {report.get('files_checked')} != {len(sources)}"] += 1
        codes = collections.Counter(d["code"] for d in report["diagnostics"])
        internal = [d for d in report["diagnostics"] if d["code"] == "TXL000" and "internal error" in d["message"]]
        cli_problems["internal error (TXL000)"] += len(internal)
    except (ValueError, KeyError, TypeError):
        cli_problems["output is not valid JSON"] += 1
        codes = collections.Counter()
    fix_folder = os.path.join(work, "fixed")
    shutil.rmtree(fix_folder, ignore_errors=True)
    shutil.copytree(folder, fix_folder)
    fix_args = ["--no-cache", "--jobs", "2", "--fix", "--quiet"]
    help_text = subprocess.run(cmd + ["--help"], capture_output=True, text=True).stdout
    if "--unsafe-fixes" in help_text:
        fix_args.append("--unsafe-fixes")
    t0 = time.perf_counter()
    fix = subprocess.run(cmd + fix_args + ["."], cwd=fix_folder, capture_output=True, stdin=subprocess.DEVNULL)
    t_fix = time.perf_counter() - t0
    if fix.returncode not in (0, 1):
        cli_problems[f"--fix exit status {fix.returncode}"] += 1
    if "Traceback (most recent call last)" in fix.stderr.decode("utf-8", "replace"):
        cli_problems["--fix: traceback on stderr"] += 1
    changed = bad_fixes = 0
    for i, name in enumerate(names):
        with open(os.path.join(fix_folder, name), "rb") as handle:
            data = handle.read()
        if data != sources[i].encode("utf-8", "surrogatepass"):
            changed += 1
            if not compiles(data):
                bad_fixes += 1
    if bad_fixes:
        cli_problems["--fix wrote a file that does not parse"] += bad_fixes
    print(f"command line: {len(sources)} files in {t_cli:.1f} s (exit {proc.returncode}); findings by code: "
          + (", ".join(f"{c} {n}" for c, n in sorted(codes.items())) or "none"))
    print(f"command line --fix: {t_fix:.1f} s (exit {fix.returncode}), {changed} files changed, "
          f"{bad_fixes} of them do not parse")
    for kind, n in sorted(cli_problems.items()):
        if n:
            print(f"  {n:5d}  {kind}")

    total = len(failing) + sum(cli_problems.values())
    summary = {"programs": len(sources), "seed": args.seed, "crashes": kinds.get("raised", 0),
               "internal_errors": kinds.get("internal error", 0) + cli_problems.get("internal error (TXL000)", 0),
               "non_json": kinds.get("JSON report does not round-trip", 0) + cli_problems.get("output is not valid JSON", 0),
               "fixes_not_parsing": kinds.get("--fix output does not parse", 0) + bad_fixes,
               "long_messages": kinds.get("message longer than 120 characters", 0),
               "txl000_on_valid_python": len(noted),
               "seconds": {"generate": round(t_gen, 1), "in_process": round(t_in, 1), "cli": round(t_cli, 1),
                           "cli_fix": round(t_fix, 1)}}
    print("summary: " + json.dumps(summary))
    if failing:
        print("first failing programs:")
        for i, problems in failing[:5]:
            print(f"--- #{i}: {problems}\n{sources[i]}")
        if args.keep:
            with open(os.path.join(work, "failing.json"), "w", encoding="utf-8") as handle:
                json.dump([{"index": i, "problems": p, "source": sources[i]} for i, p in failing], handle, indent=1)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
