"""Benchmark clm end to end on the generator's data (issue 15): `make bench` (not a test: shared machines are
noisy, so compare the ratios measured within one run).

Usage: python benchmarks/run.py [--customers 10000,100000,1000000] [--seed 7] [--work DIR] [--keep]
                                [--memory-limit 2GB] [--target duckdb|postgres|spark]

Per size, every command as a subprocess whose whole process tree (with a Spark run's local Thrift server) is
sampled for resident memory every 0.1 s (measure()):
1. `clm generate` (with --keep, a zone generated earlier for the same size and seed is reused);
2. the floor, benchmarks/floor.py: DuckDB reading every landed file once into a table in a fresh file;
3. `clm run` from an empty data directory, with the time of each Dagster step (from the run's step stats in
   $CLM_DATA_DIR/dagster), the startup before the first step, and dbt's node time per model layer;
4. `clm run` again with nothing new (expected: UNCHANGED);
5. the plain pandas revenue marts, benchmarks/pandas_marts.py, on the same zone;
6. when `clm generate --append-day` exists: one more daily drop, then `clm run` on it.
Appends a section to benchmarks/results.md and replaces this size's row of the table in README.md (between
the bench markers). With ``--target`` other than duckdb, every `clm run` builds and publishes there (the floor
and pandas stay what they are) and only results.md gets the section: the README's table is DuckDB's.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CLM = str(Path(sys.executable).with_name("clm"))
RESULTS = ROOT / "benchmarks" / "results.md"
README = ROOT / "README.md"
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
SAMPLE_SECONDS = 0.1
# Dagster step keys of the clm_pipeline job (orchestration/assets) in words.
STEP_NAMES = {
    "raw_extracts": "ingest",
    "clm_dbt_models": "dbt build",
    "clv_fits": "CLV fits",
    "clm_dbt_clv_models": "dbt build of the CLV marts",
    "quality_gate": "quality gate (GX)",
    "serving_database": "publish",
}
LAYERS = ("staging", "intermediate", "marts", "clv", "seeds", "data tests", "hooks")
README_HEADER = (
    "| customers | landing zone | `clm generate` | floor | `clm run` | rerun, nothing new | one new day "
    "| pandas marts | clm / floor | clm / pandas | measured |"
)


# ------------------------------------------------------------------------------------------- measuring ---


@dataclass
class Measured:
    seconds: float
    peak_mib: float
    code: int
    started: float = 0.0  # epoch seconds when the process was started
    samples: list[tuple[float, float]] = field(default_factory=list)  # (epoch seconds, MiB of the tree)
    output: str = ""  # stdout and stderr
    capped: bool = False  # stopped because the tree went over the memory cap


def run_measured(cmd: list[str], env: dict[str, str], cap_mib: float | None = None) -> Measured:
    """Run `cmd`, sampling the RSS of its whole process tree; above `cap_mib` the tree is killed."""
    with tempfile.TemporaryFile() as out:
        started = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        parent = psutil.Process(proc.pid)
        samples: list[tuple[float, float]] = []
        capped = False
        while proc.poll() is None:
            try:
                tree = [parent, *parent.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20
                samples.append((time.time(), rss))
                if cap_mib is not None and rss > cap_mib:
                    capped = True
                    for p in reversed(tree):
                        p.kill()
            except psutil.Error:
                pass
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - start
        out.seek(0)
        output = out.read().decode(errors="replace")
    peak = max((rss for _, rss in samples), default=0.0)
    return Measured(seconds, peak, proc.returncode, started, samples, output, capped)


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds, peak RSS of the process tree in MiB, exit code)."""
    m = run_measured(cmd, env)
    return m.seconds, m.peak_mib, m.code


def peak_between(samples: list[tuple[float, float]], start: float, end: float) -> float | None:
    """Highest sample taken while a step ran (one sampling interval of slack each side: a step shorter than
    the interval still gets the sample nearest to it); None without one."""
    inside = [rss for t, rss in samples if start - SAMPLE_SECONDS <= t <= end + SAMPLE_SECONDS]
    return max(inside) if inside else None


# ----------------------------------------------------------------------------------------- report rows ---


@dataclass(frozen=True)
class Row:
    name: str
    seconds: float | None
    peak_mib: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Step:
    key: str
    start: float  # epoch seconds
    end: float


def step_rows(
    steps: list[Step], samples: list[tuple[float, float]], started: float, ended: float, prefix: str
) -> list[Row]:
    """One row per Dagster step in execution order, plus the startup before the first step (imports, lock,
    dbt parse) and the wrap-up after the last (the summary, exit)."""
    if not steps:
        return []
    ordered = sorted(steps, key=lambda s: s.start)
    first, last = ordered[0].start, max(s.end for s in ordered)
    rows = [
        Row(
            f"{prefix}: startup (process start to first step)",
            first - started,
            peak_between(samples, started, first),
        )
    ]
    rows += [
        Row(
            f"{prefix}: {STEP_NAMES.get(s.key, s.key)}",
            s.end - s.start,
            peak_between(samples, s.start, s.end),
        )
        for s in ordered
    ]
    rows.append(
        Row(f"{prefix}: wrap-up (last step end to exit)", ended - last, peak_between(samples, last, ended))
    )
    return rows


def node_layer(unique_id: str, fqn: list[str]) -> str:
    """A dbt node's layer: models by their folder (staging, intermediate, marts), CLV models (any folder
    named clv) apart; seeds, data tests and hooks on their own."""
    kind = unique_id.split(".", 1)[0]
    if kind == "model":
        return "clv" if "clv" in fqn[1:-1] else fqn[1]
    return {"seed": "seeds", "test": "data tests"}.get(kind, "hooks")


def layer_seconds(results: list[dict], fqns: dict[str, list[str]]) -> dict[str, float]:
    """Node execution seconds summed per layer (LAYERS order), over every result of every invocation."""
    totals = dict.fromkeys(LAYERS, 0.0)
    for result in results:
        uid = result["unique_id"]
        layer = node_layer(uid, fqns.get(uid, ["", "other", uid]))
        totals[layer] = totals.get(layer, 0.0) + result["execution_time"]
    return {layer: seconds for layer, seconds in totals.items() if seconds}


@dataclass(frozen=True)
class DbtInvocation:
    label: str
    elapsed: float
    results: list[dict]
    fqns: dict[str, list[str]]


def dbt_invocations(target_dir: Path, since: float, until: float) -> list[DbtInvocation]:
    """The dbt invocations of one run: dagster-dbt gives each its own directory under the target path, with
    run_results.json (build) or sources.json (source freshness); picked by the time they were written."""
    found = []
    written = [*target_dir.glob("*/run_results.json"), *target_dir.glob("*/sources.json")]
    for results_file in sorted(written, key=lambda p: p.stat().st_mtime):
        if not since <= results_file.stat().st_mtime <= until:
            continue
        data = json.loads(results_file.read_text())
        manifest = results_file.with_name("manifest.json")
        nodes = json.loads(manifest.read_text())["nodes"] if manifest.exists() else {}
        fqns = {uid: node.get("fqn", []) for uid, node in nodes.items()}
        label = (
            "source freshness"
            if results_file.name == "sources.json"
            else STEP_NAMES.get(results_file.parent.name.split("-")[0], results_file.parent.name)
        )
        results = data["results"] if results_file.name == "run_results.json" else []
        found.append(DbtInvocation(label, data.get("elapsed_time", 0.0), results, fqns))
    return found


def dbt_rows(invocations: list[DbtInvocation], prefix: str) -> list[Row]:
    rows = [
        Row(
            f"{prefix}: dbt wall, {inv.label}",
            inv.elapsed,
            note="dbt's elapsed time; the step adds Dagster's",
        )
        for inv in invocations
    ]
    results = [r for inv in invocations for r in inv.results]
    fqns = {uid: fqn for inv in invocations for uid, fqn in inv.fqns.items()}
    rows += [
        Row(f"{prefix}: dbt node time, {layer}", seconds, note="summed over dbt's threads")
        for layer, seconds in layer_seconds(results, fqns).items()
    ]
    return rows


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class Ratios:
    clm_floor_time: float | None
    clm_floor_peak: float | None
    rerun_full: float | None
    one_day_full: float | None
    clm_pandas_time: float | None
    clm_pandas_peak: float | None


def ratios(
    full: Measured,
    floor: Measured | None,
    rerun: Measured | None,
    one_day: Measured | None,
    pandas: Measured | None,
) -> Ratios:
    """The comparisons issue 15 asks for, from one run's measurements (None where a part did not run)."""

    def ok(m: Measured | None) -> Measured | None:
        return m if m is not None and m.code == 0 and not m.capped else None

    floor, rerun, one_day, pandas = ok(floor), ok(rerun), ok(one_day), ok(pandas)
    return Ratios(
        ratio(full.seconds, floor and floor.seconds),
        ratio(full.peak_mib, floor and floor.peak_mib),
        ratio(rerun and rerun.seconds, full.seconds),
        ratio(one_day and one_day.seconds, full.seconds),
        ratio(full.seconds, pandas and pandas.seconds),
        ratio(full.peak_mib, pandas and pandas.peak_mib),
    )


def times(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def ratio_line(r: Ratios) -> str:
    return (
        f"Ratios: clm run / floor {times(r.clm_floor_time)} time, {times(r.clm_floor_peak)} peak memory; "
        f"rerun with nothing new / full run {percent(r.rerun_full)}; one new day / full run "
        f"{percent(r.one_day_full)}; clm run / pandas marts {times(r.clm_pandas_time)} time, "
        f"{times(r.clm_pandas_peak)} peak memory."
    )


def markdown_table(rows: list[Row]) -> list[str]:
    def cell(value: float | None, fmt: str) -> str:
        return "-" if value is None or math.isnan(value) else format(value, fmt)

    lines = ["| step | seconds | peak RSS (MiB) | note |", "|---|---:|---:|---|"]
    lines += [
        f"| {r.name} | {cell(r.seconds, '.1f')} | {cell(r.peak_mib, ',.0f')} | {r.note} |" for r in rows
    ]
    return lines


# --------------------------------------------------------------------------------------------- README ---


def upsert_readme_row(text: str, customers: int, cells: list[str]) -> str:
    """README with this size's row of the bench table replaced (or added), other sizes' rows kept, rows in
    size order; the table lives between README_START and README_END, created before `## License` (or at the
    end) when the markers are missing."""
    row = "| " + " | ".join([f"{customers:,}", *cells]) + " |"
    if README_START not in text or README_END not in text:
        block = f"## Performance\n\n{README_START}\n{README_END}\n\n"
        at = text.find("\n## License")
        text = text + "\n" + block if at < 0 else text[: at + 1] + block + text[at + 1 :]
    head, rest = text.split(README_START, 1)
    body, tail = rest.split(README_END, 1)
    rows = {}
    for line in body.splitlines():
        first = line.strip("| ").split("|", 1)[0].strip().replace(",", "")
        if line.startswith("|") and first.isdigit():
            rows[int(first)] = line
    rows[customers] = row
    separator = "|" + "---:|" * (README_HEADER.count("|") - 2) + "---|"
    table = [README_HEADER, separator, *(rows[size] for size in sorted(rows))]
    return head + README_START + "\n" + "\n".join(table) + "\n" + README_END + tail


# ----------------------------------------------------------------------------------------------- runs ---


def run_status(output: str) -> tuple[str | None, str | None]:
    """(8-character run id, final status word) from `clm run`'s terminal lines `clm run <id8>: STATUS ...`."""
    found = re.findall(r"^clm run ([0-9a-f]{8}): ([A-Z]+)\b", output, flags=re.MULTILINE)
    ids = re.findall(r"^clm run ([0-9a-f]{8}):", output, flags=re.MULTILINE)
    return (ids[0] if ids else None), (found[-1][1] if found else None)


def dagster_steps(dagster_home: Path, id8: str) -> list[Step]:
    """Start and end of each step of the Dagster run whose id starts with `id8` (clm's run id is the
    Dagster run id; its storage is the SQLite under DAGSTER_HOME)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = next((r for r in instance.get_runs(limit=20) if r.run_id.startswith(id8)), None)
        if run is None:
            return []
        stats = instance.get_run_step_stats(run.run_id)
    return [Step(s.step_key, s.start_time, s.end_time) for s in stats if s.start_time and s.end_time]


def help_has(command: list[str], option: str, env: dict[str, str]) -> bool:
    proc = subprocess.run([*command, "--help"], env=env, cwd=ROOT, capture_output=True, text=True)
    return option in proc.stdout


@dataclass
class Zone:
    raw: Path
    generate: Row
    files: int
    mib: float


def zone_files(raw: Path) -> dict[str, int]:
    return {p.relative_to(raw).as_posix(): p.stat().st_size for p in sorted(raw.rglob("*")) if p.is_file()}


def reuse_zone(raw: Path, stamp: Path, customers: int, seed: int, version: int | None = None) -> dict | None:
    """The stamp of a zone generated earlier for this size, seed and generator version, after removing what
    was added to it since (the appended daily drop) and restoring the generator's metadata; None when it
    cannot be reused."""
    if not stamp.exists() or not raw.exists():
        return None
    saved = json.loads(stamp.read_text())
    if (saved["customers"], saved["seed"]) != (customers, seed):
        return None
    if version is not None and json.loads(saved["metadata"]).get("generator_version") != version:
        return None
    for rel in set(zone_files(raw)) - set(saved["files"]):
        (raw / rel).unlink()
    for folder in sorted(raw.rglob("*"), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    (raw / "_clm_generate.json").write_text(saved["metadata"])
    return saved if zone_files(raw) == saved["files"] else None


def prepare_zone(
    size_dir: Path, customers: int, seed: int, keep: bool, env: dict[str, str], version: int
) -> Zone:
    raw, stamp = size_dir / "raw", size_dir / "zone.json"
    saved = reuse_zone(raw, stamp, customers, seed, version) if keep else None
    if saved is not None:
        generate = Row(
            "clm generate", saved["seconds"], saved["peak_mib"], f"reused (--keep), measured {saved['at']}"
        )
    else:
        shutil.rmtree(raw, ignore_errors=True)
        m = run_measured(
            [CLM, "generate", "--out", str(raw), "--customers", str(customers), "--seed", str(seed)], env
        )
        if m.code != 0:
            raise SystemExit(f"clm generate failed ({m.code}):\n{m.output[-2000:]}")
        generate = Row("clm generate", m.seconds, m.peak_mib)
        saved = {
            "customers": customers,
            "seed": seed,
            "seconds": m.seconds,
            "peak_mib": m.peak_mib,
            "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "metadata": (raw / "_clm_generate.json").read_text(),
            "files": zone_files(raw),
        }
        stamp.write_text(json.dumps(saved))
    files = saved["files"]
    data_files = [rel for rel in files if not Path(rel).name.startswith(("_", "."))]
    return Zone(raw, generate, len(data_files), sum(files[rel] for rel in data_files) / 2**20)


def say(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


def measured_row(name: str, m: Measured, note: str = "") -> Row:
    failed = f"exit {m.code}" if m.code != 0 else ""
    capped = "stopped at the memory cap" if m.capped else ""
    return Row(name, m.seconds, m.peak_mib, "; ".join(x for x in (note, failed, capped) if x))


@dataclass
class SizeResult:
    customers: int
    zone: Zone
    rows: list[Row]
    full: Measured
    floor: Measured
    rerun: Measured | None
    rerun_status: str | None
    one_day: Measured | None
    pandas: Measured | None
    ratios: Ratios
    wall: float  # seconds of the whole bench of this size


def clm_run(
    env: dict[str, str], data: Path, name: str, prefix: str, target: str = "duckdb"
) -> tuple[Measured, str | None, list[Row]]:
    """`clm run`, measured, with its per-step rows (none for a run that did not start Dagster)."""
    m = run_measured([CLM, "run", "--target", target], env)
    id8, status = run_status(m.output)
    say(f"{name}: {m.seconds:.1f} s, peak {m.peak_mib:,.0f} MiB, exit {m.code}, {status}")
    rows = [measured_row(name, m, status or "")]
    steps = dagster_steps(data / "dagster", id8) if id8 and (data / "dagster" / "storage").exists() else []
    rows += step_rows(steps, m.samples, m.started, m.started + m.seconds, prefix)
    if steps:
        rows += dbt_rows(dbt_invocations(data / "dbt_target", m.started, m.started + m.seconds + 1), prefix)
    if m.code != 0:
        say(m.output[-3000:])
    return m, status, rows


def bench_size(customers: int, args: argparse.Namespace, can_append: bool) -> SizeResult:
    began = time.perf_counter()
    size_dir = args.work / f"{customers}c-s{args.seed}"
    size_dir.mkdir(parents=True, exist_ok=True)
    data = size_dir / ("warehouse" if args.target == "duckdb" else f"warehouse-{args.target}")
    shutil.rmtree(data, ignore_errors=True)
    env = {**os.environ, "CLM_DATA_DIR": str(data), "CLM_RAW_DIR": str(size_dir / "raw")}
    env.pop("CLM_SERVING_DB", None)
    if args.memory_limit:
        env["CLM_DUCKDB_MEMORY_LIMIT"] = args.memory_limit

    say(f"{customers:,} customers: generating (or reusing with --keep) in {size_dir}")
    zone = prepare_zone(size_dir, customers, args.seed, args.keep, env, args.generator_version)
    say(f"landing zone: {zone.files} files, {zone.mib:,.0f} MiB; generate {zone.generate.seconds:.1f} s")
    rows = [zone.generate]

    floor_cmd = [
        sys.executable,
        "benchmarks/floor.py",
        "--raw",
        str(zone.raw),
        "--db",
        str(size_dir / "floor.duckdb"),
    ]
    floor = run_measured(
        floor_cmd + (["--memory-limit", args.memory_limit] if args.memory_limit else []), env
    )
    (size_dir / "floor.duckdb").unlink(missing_ok=True)
    say(
        f"floor: {floor.seconds:.1f} s, peak {floor.peak_mib:,.0f} MiB, exit {floor.code}: "
        f"{floor.output.strip()[-300:]}"
    )
    rows.append(measured_row("floor: DuckDB reads every extract once into a table", floor))

    full, _, full_rows = clm_run(env, data, "clm run, full (empty data directory)", "full run", args.target)
    rows += full_rows
    rerun = rerun_status = None
    if full.code == 0:
        rerun, rerun_status, rerun_rows = clm_run(
            env, data, "clm run again, nothing new", "rerun", args.target
        )
        rows += rerun_rows

    pandas_cmd = [
        sys.executable,
        "benchmarks/pandas_marts.py",
        "--raw",
        str(zone.raw),
        "--out",
        str(size_dir / "pandas"),
    ]
    pandas = run_measured(pandas_cmd, env, cap_mib=args.pandas_cap_mib)
    say(f"pandas marts: {pandas.seconds:.1f} s, peak {pandas.peak_mib:,.0f} MiB, exit {pandas.code}")
    rows.append(measured_row("pandas revenue marts (benchmarks/pandas_marts.py)", pandas))

    one_day = None
    if not can_append:
        rows.append(Row("one new day", None, None, "`clm generate --append-day` not available"))
    elif full.code == 0:
        append = run_measured([CLM, "generate", "--append-day", "--out", str(zone.raw)], env)
        say(f"append one day: {append.seconds:.1f} s, exit {append.code}")
        rows.append(measured_row("clm generate --append-day", append))
        if append.code == 0:
            one_day, _, day_rows = clm_run(env, data, "clm run, one new day", "one new day", args.target)
            rows += day_rows
        else:
            say(append.output[-2000:])
    return SizeResult(
        customers,
        zone,
        rows,
        full,
        floor,
        rerun,
        rerun_status,
        one_day,
        pandas,
        ratios(full, floor, rerun, one_day, pandas),
        time.perf_counter() - began,
    )


# --------------------------------------------------------------------------------------------- output ---


def clm_code(env: dict[str, str]) -> tuple[Path, int]:
    """The checkout whose clm package `clm` runs (PYTHONPATH decides, as for the console script: -P keeps
    the working directory off sys.path) and its generator version."""
    probe = "import pathlib, clm, clm.generate as g; print(pathlib.Path(clm.__file__).resolve().parents[1]);"
    probe += "print(g.GENERATOR_VERSION)"
    out = subprocess.run(
        [sys.executable, "-P", "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True
    )
    root, version = out.stdout.split()
    return Path(root), int(version)


def git_commit(root: Path = ROOT) -> str:
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=root, capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if dirty else "")


def machine(code_root: Path) -> str:
    import duckdb

    memory = psutil.virtual_memory().total / 2**30
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores, {memory:.0f} GiB RAM, Python {platform.python_version()}, duckdb "
        f"{duckdb.__version__}, {platform.system()} {platform.release()}, clm commit {git_commit(code_root)}"
        f"{'' if code_root == ROOT else f' (from {code_root})'}, "
        f"load average {load:.1f} at the start"
    )


def seconds_and_peak(m: Measured | None) -> str:
    if m is None:
        return "-"
    if m.code != 0 or m.capped:
        return f"failed ({'memory cap' if m.capped else f'exit {m.code}'})"
    return f"{m.seconds:.1f} s, {m.peak_mib / 1024:.2f} GiB"


def readme_cells(result: SizeResult, stamp: str, args: argparse.Namespace) -> list[str]:
    r = result.ratios
    gen = result.zone.generate
    rerun = "-" if result.rerun is None else f"{result.rerun.seconds:.1f} s ({result.rerun_status or '?'})"
    limit = f", memory limit {args.memory_limit}" if args.memory_limit else ""
    return [
        f"{result.zone.files} files, {result.zone.mib:,.0f} MiB",
        f"{gen.seconds:.1f} s" if gen.seconds is not None else "-",
        seconds_and_peak(result.floor),
        seconds_and_peak(result.full),
        rerun,
        "-" if result.one_day is None else f"{result.one_day.seconds:.1f} s ({percent(r.one_day_full)})",
        seconds_and_peak(result.pandas),
        f"{times(r.clm_floor_time)} time, {times(r.clm_floor_peak)} memory",
        f"{times(r.clm_pandas_time)} time, {times(r.clm_pandas_peak)} memory",
        f"{stamp}, seed {args.seed}{limit}, commit {args.commit}",
    ]


def section(result: SizeResult, stamp: str, args: argparse.Namespace, host: str) -> list[str]:
    unset = "clm's default (CLM_DUCKDB_MEMORY_LIMIT unset); the floor's, DuckDB's (80 % of RAM)"
    limit = args.memory_limit or unset
    lines = [
        f"\n## {stamp}: `make bench`, {result.customers:,} customers, seed {args.seed}"
        + ("" if args.target == "duckdb" else f", `clm run --target {args.target}`"),
        f"Machine: {host}. DuckDB memory limit: {limit}.",
        f"Landing zone: {result.zone.files} files, {result.zone.mib:,.0f} MiB (generator version "
        f"{args.generator_version}). Everything below for this size took {result.wall:.0f} s.",
        "",
        *markdown_table(result.rows),
        "",
        ratio_line(result.ratios),
    ]
    if result.rerun_status and result.rerun_status != "UNCHANGED":
        lines.append(f"The rerun with nothing new ended {result.rerun_status}, not UNCHANGED.")
    return lines


def parse_sizes(text: str) -> list[int]:
    """'10000,100000' or '10k,1M' -> [10000, 100000] / [10000, 1000000]."""
    scale = {"k": 1_000, "m": 1_000_000}
    sizes = []
    for part in text.replace("_", "").split(","):
        part = part.strip().lower()
        if part:
            sizes.append(int(float(part[:-1]) * scale[part[-1]]) if part[-1] in scale else int(part))
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--customers", type=parse_sizes, default=[10_000], help="sizes, e.g. 10000,100000,1000000"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work", help="zones and data dirs")
    parser.add_argument(
        "--keep", action="store_true", help="reuse a zone generated earlier (same size, seed)"
    )
    parser.add_argument(
        "--memory-limit", default=None, help="CLM_DUCKDB_MEMORY_LIMIT (and the floor's), e.g. 2GB"
    )
    parser.add_argument(
        "--pandas-cap-mib",
        type=float,
        default=psutil.virtual_memory().total / 2**20 * 0.6,
        help="stop the pandas baseline above this resident memory (default 60 %% of RAM)",
    )
    parser.add_argument("--no-readme", action="store_true", help="append to results.md only")
    parser.add_argument(
        "--target", choices=("duckdb", "postgres", "spark"), default="duckdb", help="clm run --target"
    )
    args = parser.parse_args(argv)

    began = time.perf_counter()
    args.code_root, args.generator_version = clm_code(dict(os.environ))
    host = machine(args.code_root)
    args.commit = git_commit(args.code_root).split()[0]  # the code measured, even if HEAD moves meanwhile
    say(f"machine: {host}")
    can_append = help_has([CLM, "generate"], "--append-day", dict(os.environ))
    for customers in args.customers:
        result = bench_size(customers, args, can_append)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = section(result, stamp, args, host)
        with RESULTS.open("a") as out:
            out.write("\n".join(lines) + "\n")
        if not args.no_readme and args.target == "duckdb":
            README.write_text(
                upsert_readme_row(README.read_text(), customers, readme_cells(result, stamp, args))
            )
        print("\n".join(lines), flush=True)
    say(f"bench done in {time.perf_counter() - began:.0f} s; appended to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
