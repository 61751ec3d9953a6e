"""clm.increments: when a dbt build may add to the previous one, and what it records for the next (the dbt
side: tests/dbt/test_incremental_staging.py; a daily schedule end to end: tests/test_incremental_runs.py)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from clm import increments
from clm.config import load_settings
from clm.ingest.load import ensure_raw_tables
from clm.ingest.schemas import ENTITIES

AS_OF = date(2024, 3, 31)
FIRST_LOAD = datetime(2024, 3, 31, 6, 0, 0, 250000)
ROLLED_BACK = "raw's newest row is older than the last build's (raw emptied or rolled back)"


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings({"CLM_RAW_DIR": str(tmp_path / "raw"), "CLM_DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("create schema raw")
    for ent in ENTITIES:
        ensure_raw_tables(connection, ent)
    connection.execute(
        "insert into raw.crm__deals (deal_id, _load_date, _loaded_at) values ('d1', '2024-03-31', ?)",
        [FIRST_LOAD],
    )
    yield connection
    connection.close()


def built(con, settings, as_of: date = AS_OF, full_refresh: bool = False) -> increments.BuildPlan:
    """Plan a build and record it as successful."""
    plan = increments.plan_build(con, settings, "duckdb", as_of, full_refresh)
    increments.record_build(con, plan.now)
    return plan


def test_the_first_build_is_full_and_the_next_adds_to_it(con, settings) -> None:
    first = built(con, settings)
    assert first.full_refresh and first.reason == "no earlier build to add to"
    assert first.since_env() == ""
    assert first.now.loaded_at == FIRST_LOAD
    con.execute(
        "insert into raw.billing__invoices (id, _load_date, _loaded_at) values ('in_9', '2024-04-01', ?)",
        [datetime(2024, 4, 1, 7, 0)],
    )
    second = increments.plan_build(con, settings, "duckdb", date(2024, 4, 1), False)
    assert not second.full_refresh
    # What the first build saw: its as-of and the newest _loaded_at of any raw table, to the microsecond.
    assert second.since_env() == "2024-03-31|2024-03-31 06:00:00.250000"
    assert second.now.loaded_at == datetime(2024, 4, 1, 7, 0)
    # The same day again (a late file, say): incremental as well.
    assert not increments.plan_build(con, settings, "duckdb", AS_OF, False).full_refresh


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"full_refresh": True}, "clm run --full-refresh"),
        ({"as_of": date(2024, 3, 30)}, "the as-of date moved back from 2024-03-31"),
        ({"target": "postgres"}, "the code, settings or target changed since the last build"),
        ({"dbt_vars": {"revenue_churn_recognition": "cancellation"}}, "the code, settings or target changed"),
        ({"dbt_vars": {"fx_rates_relation": "finance.fx"}}, "a user FX relation"),
    ],
)
def test_anything_but_new_raw_rows_makes_a_full_build(con, settings, change: dict, reason: str) -> None:
    built(con, settings)
    changed = dataclasses.replace(settings, dbt_vars=change["dbt_vars"]) if "dbt_vars" in change else settings
    plan = increments.plan_build(
        con,
        changed,
        change.get("target", "duckdb"),
        change.get("as_of", AS_OF),
        change.get("full_refresh", False),
    )
    assert plan.full_refresh and plan.reason.startswith(reason)
    assert plan.since_env() == ""


def test_memory_and_threads_leave_the_build_incremental(con, settings) -> None:
    built(con, settings)
    roomier = dataclasses.replace(settings, duckdb_memory_limit="4GB", duckdb_threads=1)
    assert not increments.plan_build(con, roomier, "duckdb", AS_OF, False).full_refresh


def test_raw_emptied_without_a_full_refresh_is_rebuilt(con, settings) -> None:
    built(con, settings)
    con.execute("delete from raw.crm__deals")
    plan = increments.plan_build(con, settings, "duckdb", AS_OF, False)
    assert plan.full_refresh and plan.reason == ROLLED_BACK


def test_raw_rolled_back_to_an_older_day_is_rebuilt(con, settings) -> None:
    """A build file restored from the day before: the rows it still holds are older than what the last
    build read, so keys that build derived from the lost rows would be kept without a full build."""
    con.execute(
        "insert into raw.crm__deals (deal_id, _load_date, _loaded_at) values ('d2', '2024-04-01', ?)",
        [datetime(2024, 4, 1, 6, 0)],
    )
    built(con, settings, date(2024, 4, 1))
    con.execute("delete from raw.crm__deals where _load_date = '2024-04-01'")
    plan = increments.plan_build(con, settings, "duckdb", date(2024, 4, 1), False)
    assert plan.full_refresh and plan.reason == ROLLED_BACK


def test_a_failed_build_leaves_the_older_record(con, settings) -> None:
    """Only a successful build is recorded: after a failed one the next build starts from the older state,
    re-deriving the keys the failed one may have half written."""
    built(con, settings)
    con.execute(
        "insert into raw.crm__deals (deal_id, _load_date, _loaded_at) values ('d2', '2024-04-01', ?)",
        [datetime(2024, 4, 1, 6, 0)],
    )
    increments.plan_build(
        con, settings, "duckdb", date(2024, 4, 1), False
    )  # the build fails: nothing recorded
    retry = increments.plan_build(con, settings, "duckdb", date(2024, 4, 1), False)
    assert retry.since_env() == "2024-03-31|2024-03-31 06:00:00.250000"


def test_the_build_after_an_unfinished_one_is_full(con, settings) -> None:
    """A build that failed or was stopped may have updated the models that keep the previous build's answers
    (int_increments__billing_customer_keys, int_increments__lifecycle_customers) and not what depends on
    them: the next build rebuilds everything, and the one after it adds to that again."""
    built(con, settings)
    increments.begin_build(con)  # ... and no record_build: dbt failed
    again = increments.plan_build(con, settings, "duckdb", AS_OF, False)
    assert again.full_refresh and again.reason == increments.UNFINISHED
    increments.begin_build(con)
    increments.record_build(con, again.now)
    assert not increments.plan_build(con, settings, "duckdb", AS_OF, False).full_refresh
