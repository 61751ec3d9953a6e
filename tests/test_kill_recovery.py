"""A run killed (SIGKILL) in any step never harms BI and never blocks the next run
(docs/commands.md#one-run-at-a-time, docs/marts.md#publishing).

Through the real console script: four runs, each killed as one step starts (the publish step once its
temporary file exists), chained so that every run first settles the one killed before it; then a run to
completion. The killed runs end up ``failed`` ("interrupted")
in the serving ``audit.runs`` (or ``published``, for the run killed in the publish step after its rename),
nothing of a killed publish is left beside the serving file, and a second process can read the serving file
between any two runs.

The run's log keeps Dagster's INFO lines only (clm.pipeline), which do not include STEP_START; the step a run
is in is read from the same events in the run's own Dagster event log under $CLM_DATA_DIR/dagster.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_end_to_end import CLM, FIXTURE, ROOT, make_env, marts_digest, query

pytestmark = pytest.mark.slow

KILLED_AT = ("raw_extracts", "clm_dbt_models", "quality_gate", "serving_database")
HEADER = re.compile(r"^clm run ([0-9a-f]{8}): as of \S+, target duckdb; full log: (\S+)$")
EXIT_LOCKED = 3

# A BI tool in another process: open read-only, read every mart and the run history.
PROBE = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
marts = [t for (t,) in con.execute(
    "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()]
rows = {t: con.execute(f'select count(*) from marts."{t}"').fetchall()[0][0] for t in marts}
runs = con.execute("select run_id, status from audit.runs order by started_at").fetchall()
print(json.dumps({"marts": rows, "runs": runs}))
"""


def _start(env: dict[str, str]) -> tuple[subprocess.Popen, str, Path]:
    proc = subprocess.Popen(
        [CLM, "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the run and its dbt subprocesses: one group to kill
    )
    header = proc.stdout.readline().strip()  # printed once the run holds the data directory's lock
    if not HEADER.match(header):
        out, err = proc.communicate(timeout=60)
        pytest.fail(f"run did not start (exit {proc.returncode}): {header}\n{out}{err}")
    log_path = Path(HEADER.match(header).group(2))
    if not log_path.is_absolute():
        log_path = ROOT / log_path
    run_id = log_path.stem
    assert run_id.startswith(HEADER.match(header).group(1))
    assert log_path.parent == Path(env["CLM_DATA_DIR"]) / "logs"
    return proc, run_id, log_path


def _step_started(data_dir: Path, run_id: str, step: str) -> bool:
    events = data_dir / "dagster" / "history" / "runs" / f"{run_id}.db"
    if not events.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{events}?mode=ro", uri=True, timeout=1)) as con:
            found = con.execute(
                "select 1 from event_logs where dagster_event_type = 'STEP_START' and step_key = ?", [step]
            ).fetchall()
    except sqlite3.OperationalError:  # not created yet, or being written
        return False
    return bool(found)


def _kill_when_step_starts(
    proc: subprocess.Popen, data_dir: Path, run_id: str, step: str, serving: Path
) -> tuple[float, bool]:
    """SIGKILL the run's process group as ``step`` starts; for the publish step, as soon as its temporary
    serving file appears (the publish is then half done), or at once if it never does within 10 s.
    Returns the seconds since the call and whether the kill landed while a temporary file existed."""
    started = time.monotonic()
    deadline = started + 300
    while not _step_started(data_dir, run_id, step):
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"run {run_id[:8]} ended (exit {proc.returncode}) before {step} started:\n{out}{err}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"run {run_id[:8]}: {step} did not start within 300 s")
        time.sleep(0.02)
    mid_publish = False
    if step == "serving_database":
        until = time.monotonic() + 10
        while time.monotonic() < until and proc.poll() is None:
            if list(serving.parent.glob(".serving.duckdb.*.publishing")):
                mid_publish = True
                break
            time.sleep(0.002)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, (
        f"run {run_id[:8]} ended (exit {proc.returncode}) before the kill"
    )
    return time.monotonic() - started, mid_publish


def _bi_reads(serving: Path) -> dict | None:
    """What another process reads from the serving file; None when there is none yet."""
    if not serving.exists():
        return None
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(serving)], capture_output=True, text=True, timeout=120
    )
    assert probe.returncode == 0, f"a reader could not open {serving}: {probe.stderr}"
    return json.loads(probe.stdout)


def _leftovers(serving: Path) -> list[str]:
    folder = serving.parent
    return sorted(p.name for p in folder.glob(".serving.duckdb.*.publishing*")) + (
        ["serving.duckdb.wal"] if (folder / "serving.duckdb.wal").exists() else []
    )


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Four runs, each killed as its step starts, then one run to completion, in one data directory."""
    tmp = tmp_path_factory.mktemp("kill_recovery")
    raw = tmp / "raw"
    shutil.copytree(FIXTURE, raw, ignore=shutil.ignore_patterns("README.md"))
    env = make_env(tmp, raw)
    data_dir = Path(env["CLM_DATA_DIR"])
    serving = data_dir / "serving.duckdb"

    killed: dict[str, str] = {}  # step -> run id
    logs: dict[str, Path] = {}
    timings: dict[str, float] = {}
    seen_after: dict[str, dict | None] = {}  # step -> what a reader saw right after that kill
    leftovers_after: dict[str, list[str]] = {}
    published_at_kill: str | None = None  # marts digest, if the run killed while publishing got them in
    mid_publish = False
    for step in KILLED_AT:
        # _start fails unless the run starts at once (not exit 3) although the previous run died holding
        # the lock: the kernel released its flock.
        proc, run_id, log_path = _start(env)
        timings[step], mid_publish = _kill_when_step_starts(proc, data_dir, run_id, step, serving)
        killed[step], logs[step] = run_id, log_path
        leftovers_after[step] = _leftovers(serving)
        seen_after[step] = seen = _bi_reads(serving)
        if seen is not None and step == "serving_database" and [run_id, "published"] in seen["runs"]:
            published_at_kill = marts_digest(serving)

    started = time.monotonic()
    # Read as `clm run | head -1` does: the reader leaves after the first line, so the closing report meets
    # a broken pipe. The run's outcome and exit code must not depend on it.
    proc = subprocess.Popen(
        [CLM, "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    first_line = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.wait(timeout=600)
    final = subprocess.CompletedProcess(proc.args, proc.returncode, first_line, stderr)
    timings["final"] = time.monotonic() - started
    print(
        "\nseconds from start to each kill, and of the final run:",
        {k: round(v, 1) for k, v in timings.items()},
        f"; killed mid-publish: {mid_publish}; leftovers after each kill: {leftovers_after}",
    )
    return {
        "serving": serving,
        "killed": killed,
        "logs": logs,
        "seen_after": seen_after,
        "leftovers_after": leftovers_after,
        "published_at_kill": published_at_kill,
        "mid_publish": mid_publish,
        "final": final,
    }


def _final_run(chain: dict) -> tuple[str, Path]:
    final = chain["final"]
    assert final.returncode == 0, final.stdout + final.stderr
    match = HEADER.match(final.stdout.splitlines()[0])
    assert match, final.stdout
    log_path = Path(match.group(2))
    log_path = log_path if log_path.is_absolute() else ROOT / log_path
    return log_path.stem, log_path


def _serving_runs(chain: dict) -> dict[str, tuple[str, str]]:
    rows = query(chain["serving"], "select run_id, status, message from audit.runs order by started_at")
    return {run_id: (status, message) for run_id, status, message in rows}


def test_a_run_after_killed_runs_publishes_whatever_its_reader_does(chain: dict) -> None:
    final = chain["final"]
    # not 3: no killed run holds the lock; not 1: the reader that left early changes nothing
    assert final.returncode == 0, final.stdout + final.stderr
    assert final.stderr == "", final.stderr  # no traceback, no FAILED line about the broken pipe
    run_id, _ = _final_run(chain)
    assert _serving_runs(chain)[run_id][0] == "published"
    seen = _bi_reads(chain["serving"])
    # The marts are whole: as in a run that was never interrupted (tests/test_end_to_end.py).
    assert seen["marts"]["dim_customers"] == 5
    assert seen["marts"]["fct_mrr_movements"] == 6


def test_a_reader_can_open_the_serving_file_after_every_kill(chain: dict) -> None:
    for step, seen in chain["seen_after"].items():
        if seen is None:
            continue  # nothing published or audited yet: no serving file
        assert "dim_customers" in seen["marts"], (step, seen)
        assert all(isinstance(n, int) for n in seen["marts"].values()), (step, seen)


def test_no_publish_leftovers_remain(chain: dict) -> None:
    if chain["mid_publish"] and chain["seen_after"]["serving_database"] is None:
        # the kill left the half-written temporary file: the next run removed it
        assert chain["leftovers_after"]["serving_database"], chain["leftovers_after"]
    assert _leftovers(chain["serving"]) == []


def test_every_killed_run_is_recorded_as_interrupted(chain: dict) -> None:
    """The CLI printed each run's id while it held the lock: none may vanish from audit.runs, not even the
    one killed as ingestion starts (the CLI records the run before dbt parse and Dagster)."""
    runs = _serving_runs(chain)
    for step in KILLED_AT:
        run_id = chain["killed"][step]
        assert run_id in runs, f"the run killed at {step} ({run_id[:8]}) is not in audit.runs: {runs}"
        status, message = runs[run_id]
        if step == "serving_database" and status == "published":
            # its rename completed before the kill: the marts it published were whole
            assert chain["published_at_kill"] is not None
            continue
        assert status == "failed", (step, status, message)
        assert message.startswith("interrupted"), (step, message)


def test_each_run_first_settles_the_run_killed_before_it(chain: dict) -> None:
    _, final_log = _final_run(chain)
    after = [*(chain["logs"][step] for step in KILLED_AT[1:]), final_log]
    for previous, log_path in zip(KILLED_AT, after, strict=True):
        run_id = chain["killed"][previous]
        text = log_path.read_text(errors="replace")
        assert f"run {run_id[:8]}: recorded as " in text, (
            f"the run after the one killed at {previous} ({run_id[:8]}) did not settle it; see {log_path}"
        )


def test_audit_runs_holds_exactly_the_killed_runs_and_the_final_one(chain: dict) -> None:
    final_id, _ = _final_run(chain)
    assert set(_serving_runs(chain)) == {*chain["killed"].values(), final_id}
