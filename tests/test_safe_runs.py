"""Safe runs through the console script (docs/commands.md#clm-run, docs/marts.md#publishing): usage errors
before any work, one run at a time, a blocked first run that BI can read, and only declared marts
published."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from clm import runs
from clm.config import load_settings
from clm.warehouse import connect_build
from tests.test_end_to_end import CLM, FIXTURE, ROOT, clm, make_env

STRICT_GATE = "default_max_fraction: 0.0"


def landing(tmp: Path) -> Path:
    raw = tmp / "raw"
    shutil.copytree(FIXTURE, raw, ignore=shutil.ignore_patterns("README.md"))
    return raw


def strict_gate(tmp: Path) -> Path:
    """Any quarantined row blocks publishing (thresholds are configuration, docs/bad-input.md#thresholds)."""
    path = tmp / "gate.yml"
    text = (ROOT / "expectations" / "gate.yml").read_text()
    assert "default_max_fraction: 0.5" in text
    path.write_text(text.replace("default_max_fraction: 0.5", STRICT_GATE))
    return path


def add_bad_deal(raw: Path, load_date: str = "2024-03-02") -> None:
    # One good deal and one with a negative amount: 2 rows read, 1 quarantined -> fraction 0.5 > 0.0.
    drop = raw / "crm" / "deals" / f"load_date={load_date}"
    drop.mkdir(parents=True)
    (drop / "deals.csv").write_text(
        "deal_id,contact_id,deal_stage,amount,currency,created_at,closed_at\n"
        "d3,c2,open,99.00,USD,2024-03-02T08:00:00+00:00,\n"
        "d4,c3,open,-5.00,USD,2024-03-02T08:00:00+00:00,\n"
    )


# --------------------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("as_of", "says"),
    [
        ("1999-01-01", "--as-of 1999-01-01 is before the oldest drop landed (2024-03-01)"),
        ("2024-04-15", "--as-of 2024-04-15 is after the newest drop landed (2024-03-02)"),
    ],
)
def test_as_of_outside_the_landed_drops_is_a_usage_error_before_any_work(
    tmp_path: Path, as_of: str, says: str
) -> None:
    env = make_env(tmp_path, landing(tmp_path))
    run = clm("run", "--as-of", as_of, env=env)
    assert run.returncode == 2
    assert says in run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert len((run.stdout + run.stderr).strip().splitlines()) == 1
    # no pipeline ran: nothing was built, logged or handed to Dagster
    assert list((tmp_path / "warehouse").glob("*")) == []


def test_a_drop_dated_in_the_future_never_moves_the_default_as_of(tmp_path: Path) -> None:
    raw = landing(tmp_path)
    future = raw / "crm" / "nps_responses" / "load_date=2099-01-01"
    future.mkdir(parents=True)
    (future / "nps.jsonl").write_text("")
    run = clm("run", "--as-of", "2099-01-01", env=make_env(tmp_path, raw))
    assert run.returncode == 2
    assert "after the newest drop landed (2024-03-02)" in run.stderr


def test_a_default_as_of_far_past_the_last_published_one_must_be_asked_for(tmp_path: Path) -> None:
    """docs/landing-zone.md#drops-and-incremental-loads: a mislabelled drop two months ahead does not move the
    marts to it by default."""
    raw = landing(tmp_path)  # drops of 2024-03-01 and 2024-03-02
    env = make_env(tmp_path, raw)
    settings = load_settings(env)
    settings.ensure_dirs()
    with connect_build(settings) as con:  # a run published as of 2024-01-15: 2024-03-02 is 47 days later
        runs.start_run(con, "earlier-run", date(2024, 1, 15), "duckdb")
        runs.finish_run(con, "earlier-run", runs.PUBLISHED, "published 13 marts")

    run = clm("run", env=env)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.strip() == (
        "Error: the newest drop (2024-03-02) is 47 days after the last published as-of (2024-01-15), "
        "more than CLM_MAX_AS_OF_GAP_DAYS=45: run with --as-of 2024-03-02 if that is right"
    )
    assert list(settings.logs_dir.glob("*")) == []  # nothing ran
    # the lock was released: the next command is not turned away with exit 3
    wider = clm("run", "--as-of", "1999-01-01", env={**env, "CLM_MAX_AS_OF_GAP_DAYS": "47"})
    assert wider.returncode == 2 and "before the oldest drop" in wider.stderr


# ---------------------------------------------------- one run at a time; a blocked first run BI can read


@pytest.mark.slow
def test_a_blocked_first_run_is_audited_for_bi_and_a_concurrent_run_is_skipped(tmp_path: Path) -> None:
    raw = landing(tmp_path)
    add_bad_deal(raw)
    env = {**make_env(tmp_path, raw), "CLM_GATE_CONFIG": str(strict_gate(tmp_path))}
    first = subprocess.Popen(
        [CLM, "run"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    header = first.stdout.readline()  # printed once the lock is held
    assert header.startswith("clm run "), header
    holder = header.split()[2].rstrip(":")

    # A second run while the first holds the data directory: one line, exit 3, at once.
    second = clm("run", env=env)
    assert first.poll() is None, "the first run ended before the second returned: nothing was concurrent"
    assert second.returncode == 3
    lines = (second.stdout + second.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "SKIPPED" in lines[0] and f"run {holder}" in lines[0]
    skipped = lines[0].split()[2].rstrip(":")

    out, err = first.communicate(timeout=600)
    assert first.returncode == 1, out + err
    assert "BLOCKED" in out and "crm/deals" in out
    assert "Traceback" not in out + err
    assert "full log: " in out

    serving = tmp_path / "warehouse" / "serving.duckdb"
    # Another process, read-only, as a BI tool opens it.
    probe = (
        "import duckdb, json, sys; c = duckdb.connect(sys.argv[1], read_only=True); print(json.dumps(["
        "c.execute('select run_id, status, message from audit.runs order by status').fetchall(),"
        "c.execute(\"select count(*) from duckdb_tables() where schema_name = 'marts'\").fetchall(),"
        "c.execute(\"select count(*) from information_schema.schemata where schema_name = 'marts'\")"
        ".fetchall(),"
        "c.execute('select count(*), sum(rows_quarantined) from audit.load_manifest').fetchall(),"
        "c.execute('select count(*) from audit.quarantine').fetchall()]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(serving)], capture_output=True, text=True, check=True
    ).stdout
    runs, mart_tables, marts_schema, manifest, quarantine = json.loads(out)
    [(blocked_id, blocked, message), (skipped_id, skip, skip_message)] = runs
    assert (blocked_id[:8], blocked) == (holder, "blocked")
    # the fixture's 2 deals and the 2 new ones, one of them negative: 25.0% > 0.0% allowed
    assert "quarantine.max_fraction failed on crm/deals: 1 of 4 rows read" in message
    # The blocked run took the skipped run's record in before it updated the serving audit.
    assert (skipped_id[:8], skip) == (skipped, "skipped") and f"run {holder}" in skip_message
    assert mart_tables == [[0]] and marts_schema == [[1]]  # the schema exists, nothing is published
    assert manifest == [[11, 1]]  # the fixture's 10 files plus the new deals file
    assert quarantine == [[1]]
