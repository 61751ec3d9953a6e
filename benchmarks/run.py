"""Benchmark `clm generate` and `clm run` (not a test: shared machines are noisy).

Usage: .venv/bin/python benchmarks/run.py [--customers 100000] [--seed 7]
Measures wall seconds and peak resident memory of each command's whole process tree (dbt runs as a
subprocess), sampled every 0.1 s with psutil, and appends a row to benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import json
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


def dbt_node_seconds(target_dir: Path, since: float) -> dict[str, float]:
    """Execution seconds of every model, seed and test in the dbt invocations that finished after `since`
    (dagster-dbt gives each invocation its own target directory with a run_results.json)."""
    seconds: dict[str, float] = {}
    for results in target_dir.rglob("run_results.json"):
        if results.stat().st_mtime < since:
            continue
        for result in json.loads(results.read_text()).get("results", []):
            seconds[result["unique_id"]] = seconds.get(result["unique_id"], 0.0) + result["execution_time"]
    return seconds


def layer_shares(seconds: dict[str, float]) -> list[str]:
    """Node seconds of the lifecycle and CLV models against the whole dbt build (models, seeds, tests)."""
    total = sum(seconds.values())
    models = {uid: v for uid, v in seconds.items() if uid.startswith("model.")}
    lines = [
        f"dbt node time, both phases: {total:.1f} s (models {sum(models.values()):.1f} s; "
        f"unit tests {sum(v for u, v in seconds.items() if u.startswith('unit_test.')):.1f} s)."
    ]
    for label, marker in (("lifecycle stage models", "lifecycle"), ("CLV models", "clv")):
        part = sum(v for uid, v in models.items() if marker in uid)
        share = 100 * part / total if total else 0
        lines.append(f"- {label}: {part:.1f} s = {share:.1f} % of the whole dbt build's node time")
    slowest = sorted(models.items(), key=lambda kv: -kv[1])[:8]
    lines.append("- slowest models: " + ", ".join(f"{uid.split('.')[-1]} {v:.1f} s" for uid, v in slowest))
    return lines


def clv_fit_seconds(build_db: Path) -> str:
    """Time clm.clv on the build database's model inputs, in this process (the Dagster asset's work)."""
    from datetime import datetime as _datetime

    import duckdb

    from clm.clv import pipeline, store

    start = time.perf_counter()
    with duckdb.connect(str(build_db), read_only=True) as con:
        renewals, purchases = store.read_inputs_duckdb(con)
    read = time.perf_counter() - start
    result = pipeline.run(renewals, purchases, _datetime(2000, 1, 1))
    fit = time.perf_counter() - start - read
    fits = len(result.parameters[["model", "segment"]].drop_duplicates())
    return (
        f"CLV fits (clm.clv on the build's inputs): {len(renewals):,} subscribers, "
        f"{len(purchases):,} one-off buyers; read {read:.1f} s, fit + predict {fit:.1f} s for {fits} "
        f"model-segment fits ({len(result.warnings)} segment(s) not fitted)."
    )


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
    notes: list[str] = []
    for name, cmd in steps:
        started = time.time()
        seconds, peak_mib, code = measure(cmd, env)
        if name == "clm run (first)" and code == 0:
            notes += layer_shares(dbt_node_seconds(data / "dbt_target", started))
            notes.append(clv_fit_seconds(data / "build" / "serving.duckdb"))
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
    lines += ["", *notes] if notes else []
    print("\n".join(notes))
    with results.open("a") as out:
        out.write("\n".join(lines) + "\n")
    print(f"appended to {results}")


if __name__ == "__main__":
    main()
