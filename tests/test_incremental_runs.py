"""A daily schedule (issue 15): `clm run` on a generated zone, then twice `clm generate --append-day` and
`clm run`, publishes the same marts as one `clm run --full-refresh` of the final zone in a fresh data
directory. Each appended drop carries late updates to records first landed in earlier drops (renewals paid,
tickets solved, subscriptions canceled, ...), so the incremental runs must upsert them exactly as a
rebuild from scratch does. Four `clm run`s in all, the fewest that show it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.generate.helpers import records
from tests.test_end_to_end import ROOT, clm, make_env

pytestmark = pytest.mark.slow

CUSTOMERS, SEED = "300", "23"
START, END = "2026-05-01", "2026-09-30"  # five months: enough renewals and churn, quick runs
KEYS = {
    "contacts": "contact_id",
    "deals": "deal_id",
    "nps_responses": "response_id",
    "customers": "id",
    "subscriptions": "id",
    "invoices": "id",
    "charges": "id",
    "tickets": "ticket_id",
}


def published_marts(serving: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table of schema marts: (column types, rows sorted) read from the served file."""
    out: dict[str, tuple[list[str], list[tuple]]] = {}
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall()
        for (table,) in tables:
            types = [row[1] for row in con.execute(f"describe marts.{table}").fetchall()]
            out[table] = (types, con.execute(f"select * from marts.{table} order by all").fetchall())
    return out


@pytest.fixture(scope="module")
def schedule(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("daily")
    raw = tmp / "raw"
    daily_env = make_env(tmp / "daily", raw)
    generated = clm(
        "generate", "--out", str(raw), "--customers", CUSTOMERS, "--seed", SEED,
        "--start", START, "--end", END, env=daily_env,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    runs = [clm("run", env=daily_env)]
    for _ in range(2):
        appended = clm("generate", "--append-day", "--out", str(raw), env=daily_env)
        assert appended.returncode == 0, appended.stderr
        runs.append(clm("run", env=daily_env))
    refresh_env = make_env(tmp / "refresh", raw)
    refresh = clm("run", "--full-refresh", env=refresh_env)
    return {
        "raw": raw,
        "runs": runs,
        "refresh": refresh,
        "daily_serving": tmp / "daily" / "warehouse" / "serving.duckdb",
        "refresh_serving": tmp / "refresh" / "warehouse" / "serving.duckdb",
    }


def test_every_run_publishes_the_newest_day(schedule: dict) -> None:
    for run, as_of in zip(schedule["runs"], ["2026-09-30", "2026-10-01", "2026-10-02"], strict=True):
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"PUBLISHED (as of {as_of})" in run.stdout
    refresh = schedule["refresh"]
    assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    assert "PUBLISHED (as of 2026-10-02)" in refresh.stdout
    # Each daily run ingests only its own drop: the nine entity files of one load date.
    for run in schedule["runs"][1:]:
        assert "ingested 9 new file(s)" in run.stdout


def run_log(run) -> str:
    """The full log of a run, whose path `clm run` prints first (relative to the working directory)."""
    found = re.search(r"full log: (\S+)", run.stdout)
    assert found, run.stdout
    return (ROOT / found.group(1)).read_text()


def test_daily_runs_build_staging_incrementally(schedule: dict) -> None:
    """clm.increments decides: the first build and --full-refresh build everything, each daily run adds to
    the build before it (docs/commands.md#daily-runs)."""
    assert "dbt build: full (no earlier build to add to)" in run_log(schedule["runs"][0])
    for run, previous in zip(schedule["runs"][1:], ["2026-09-30", "2026-10-01"], strict=True):
        assert f"dbt build: incremental (incremental since the build as of {previous})" in run_log(run)
    assert "dbt build: full (clm run --full-refresh)" in run_log(schedule["refresh"])


def test_appended_drops_update_records_of_earlier_drops(schedule: dict) -> None:
    """The equivalence below is only worth something if the appended days carry late updates: records whose
    key landed in an earlier drop, landed again in a newer state. With seed 23, read from the drops: on
    2026-10-01 a trial of 2026-09-17 lapses (canceled after its 14 days) and two tickets move on; on
    2026-10-02 two subscriptions renew, and contacts and tickets change."""
    raw: Path = schedule["raw"]
    seen: dict[str, set[str]] = {entity: set() for entity in KEYS}
    late: dict[str, set[str]] = {"2026-10-01": set(), "2026-10-02": set()}
    for path in sorted(raw.glob("*/*/load_date=*/*"), key=lambda p: p.parent.name):
        entity, day = path.parts[-3], path.parent.name.removeprefix("load_date=")
        if entity not in KEYS:
            continue
        for _, rec in records(path):
            key = rec[KEYS[entity]]
            if day in late and key in seen[entity]:
                late[day].add(entity)
            seen[entity].add(key)
    assert all("subscriptions" in entities for entities in late.values()), late


def test_incremental_runs_publish_the_marts_of_a_full_refresh(schedule: dict) -> None:
    daily = published_marts(schedule["daily_serving"])
    refreshed = published_marts(schedule["refresh_serving"])
    assert sorted(daily) == sorted(refreshed)
    assert {"dim_customers", "fct_mrr_movements", "rpt_mrr_bridge", "fct_customer_clv"} <= set(daily)
    for table, (types, rows) in daily.items():
        assert types == refreshed[table][0], table
        assert len(rows) == len(refreshed[table][1]), table
        # Exact equality: money is DECIMAL (compared as Decimal, to the last digit), the rest as read.
        assert rows == refreshed[table][1], table
    money = [v for row in daily["rpt_mrr_bridge"][1] for v in row if isinstance(v, Decimal)]
    assert money and any(v != 0 for v in money)
