"""Benchmark `clm generate` and `clm run` (not a test: shared machines are noisy).

Usage: .venv/bin/python benchmarks/run.py [--customers 100000] [--seed 7]
Measures wall seconds and peak resident memory of each command's whole process tree (dbt runs as a
subprocess), sampled every 0.1 s with psutil, and appends a row to benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CLM = str(Path(sys.executable).with_name("clm"))


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds, peak RSS of the process tree in MiB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.1)
    return time.perf_counter() - start, peak / 2**20, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    raw, data = args.work / "raw", args.work / "warehouse"
    env = {**os.environ, "CLM_RAW_DIR": str(raw), "CLM_DATA_DIR": str(data)}
    env.pop("CLM_SERVING_DB", None)

    steps = [
        (
            "clm generate",
            [
                CLM,
                "generate",
                "--out",
                str(raw),
                "--customers",
                str(args.customers),
                "--seed",
                str(args.seed),
            ],
        ),
        ("clm run (first)", [CLM, "run"]),
        ("clm run (rerun, nothing new)", [CLM, "run"]),
    ]
    rows = []
    for name, cmd in steps:
        seconds, peak_mib, code = measure(cmd, env)
        print(f"{name}: {seconds:.1f} s, peak {peak_mib:.0f} MiB, exit {code}", flush=True)
        rows.append((name, seconds, peak_mib, code))
        if code != 0:
            break
    files = sum(1 for p in raw.rglob("*") if p.is_file())
    raw_mib = sum(p.stat().st_size for p in raw.rglob("*") if p.is_file()) / 2**20

    results = ROOT / "benchmarks" / "results.md"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    memory = psutil.virtual_memory().total / 2**30
    machine = f"{os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}"
    lines = [
        f"\n## {stamp}: {args.customers:,} customers, seed {args.seed} ({machine})",
        f"Landing zone: {files} files, {raw_mib:.0f} MiB.",
        "",
        "| step | seconds | peak RSS (MiB) | exit |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {n} | {s:.1f} | {m:.0f} | {c} |" for n, s, m, c in rows]
    with results.open("a") as out:
        out.write("\n".join(lines) + "\n")
    print(f"appended to {results}")


if __name__ == "__main__":
    main()
