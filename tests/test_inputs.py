"""clm.inputs: what tells a run with nothing new from one that must rebuild (the CLI path is covered by
tests/test_end_to_end.py::test_rerun_with_nothing_new_publishes_nothing_and_is_recorded_unchanged)."""

from __future__ import annotations

import dataclasses
import os
from datetime import date
from pathlib import Path

import pytest

from clm import inputs, runs
from clm.config import load_settings
from clm.warehouse import connect_build

AS_OF = date(2024, 3, 2)
TODAY = date(2024, 3, 5)


@pytest.fixture
def settings(tmp_path: Path):
    raw = tmp_path / "raw"
    drop = raw / "crm" / "deals" / "load_date=2024-03-02"
    drop.mkdir(parents=True)
    (drop / "deals.csv").write_text("deal_id,contact_id\nd1,c1\n")
    found = load_settings({"CLM_RAW_DIR": str(raw), "CLM_DATA_DIR": str(tmp_path / "data")})
    found.ensure_dirs()
    return found


def digest(settings, **changes) -> str:
    return inputs.inputs_digest(dataclasses.replace(settings, **changes), AS_OF, "duckdb", today=TODAY)


def test_the_digest_is_stable_and_follows_every_input(settings) -> None:
    first = digest(settings)
    assert digest(settings) == first
    # What a run does not depend on leaves it as it is: memory and threads.
    assert digest(settings, duckdb_memory_limit="1GB", duckdb_threads=1) == first
    # Each of these can change the published marts, so each changes the digest.
    assert inputs.inputs_digest(settings, date(2024, 3, 1), "duckdb", today=TODAY) != first
    assert inputs.inputs_digest(settings, AS_OF, "postgres", today=TODAY) != first
    assert digest(settings, dbt_vars={"revenue_churn_recognition": "cancellation"}) != first
    assert digest(settings, pii_key="another key") != first
    deals = settings.raw_dir / "crm/deals/load_date=2024-03-02/deals.csv"
    stat = deals.stat()
    os.utime(deals, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # touched: rewritten in place
    touched = digest(settings)
    assert touched != first
    late = settings.raw_dir / "crm/deals/load_date=2024-03-03"
    late.mkdir()
    (late / "deals.csv").write_text("deal_id,contact_id\nd2,c1\n")
    assert digest(settings) != touched


def test_a_future_drop_changes_the_digest_on_the_day_it_falls_due(settings) -> None:
    future = settings.raw_dir / "crm/deals/load_date=2024-03-07"
    future.mkdir()
    (future / "deals.csv").write_text("deal_id,contact_id\nd3,c1\n")
    days = [date(2024, 3, 5), date(2024, 3, 6), date(2024, 3, 7)]
    before_due, day_before, due = (inputs.inputs_digest(settings, AS_OF, "duckdb", today=d) for d in days)
    assert before_due == day_before != due


def _record_runs(settings, *rows: tuple[str, str]) -> None:
    with connect_build(settings) as con:
        for run_id, status in rows:
            runs.start_run(con, run_id, AS_OF, "duckdb")
            runs.finish_run(con, run_id, status, "test")


def test_unchanged_only_when_the_recorded_run_is_the_newest_and_still_published(settings) -> None:
    current = digest(settings)
    assert inputs.unchanged_since(settings, current, "duckdb", {"r1"}) is None  # nothing recorded yet
    _record_runs(settings, ("r1", runs.PUBLISHED))
    inputs.record_published(settings, inputs.PublishedInputs("r1", current, AS_OF.isoformat(), "duckdb"))
    assert inputs.unchanged_since(settings, current, "duckdb", {"r1"}) == "r1"
    # Another digest or target, or BI no longer reading r1 (the serving file was replaced): rebuild.
    assert inputs.unchanged_since(settings, "0" * 64, "duckdb", {"r1"}) is None
    assert inputs.unchanged_since(settings, current, "postgres", {"r1"}) is None
    assert inputs.unchanged_since(settings, current, "duckdb", set()) is None
    # Skipped and unchanged runs did nothing: r1 is still the newest run that did.
    _record_runs(settings, ("r2", runs.UNCHANGED), ("r3", runs.SKIPPED))
    assert inputs.unchanged_since(settings, current, "duckdb", {"r1"}) == "r1"
    # A failed run since (it may have half-loaded raw tables or dropped them for a full refresh): rebuild.
    _record_runs(settings, ("r4", runs.FAILED))
    assert inputs.unchanged_since(settings, current, "duckdb", {"r1"}) is None


def test_a_damaged_record_means_a_full_run(settings) -> None:
    (settings.data_dir / inputs.RECORD_NAME).write_text("{not json")
    assert inputs.last_published(settings) is None
    assert inputs.unchanged_since(settings, digest(settings), "duckdb", {"r1"}) is None


def test_the_dbt_parse_key_follows_arguments_and_the_dbt_environment_only() -> None:
    args = ["parse", "--vars", '{"as_of": "2024-03-02"}', "--target", "duckdb"]
    env = {"CLM_BUILD_DB": "/x/serving.duckdb", "DBT_TARGET_PATH": "/x/target", "HOME": "/root"}
    key = inputs.dbt_parse_key(args, env)
    assert inputs.dbt_parse_key(list(args), dict(env)) == key
    # what dbt cannot see does not matter
    assert inputs.dbt_parse_key(args, {**env, "HOME": "/home/other", "TERM": "dumb"}) == key
    # a new as-of var, another target, a profile variable: dbt must parse again
    assert inputs.dbt_parse_key([*args[:2], '{"as_of": "2024-03-03"}', *args[3:]], env) != key
    assert inputs.dbt_parse_key([*args[:4], "postgres"], env) != key
    assert inputs.dbt_parse_key(args, {**env, "CLM_DUCKDB_MEMORY_LIMIT": "2GB"}) != key
    assert inputs.dbt_parse_key(args, {**env, "PGHOST": "db"}) != key
    # the as-of date travels as CLM_AS_OF, which dbt reads only when it compiles a model for execution
    assert inputs.dbt_parse_key(args, {**env, "CLM_AS_OF": "2024-03-03"}) == key
