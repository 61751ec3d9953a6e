"""Incremental staging (dbt_project/macros/clm_increments.sql, docs/commands.md#daily-runs): a build that adds
late rows to an earlier build gives the staging rows of a full build of the same raw rows, and rewrites only
the keys that changed.

The hand-written fixture of raw_fixture.py is built as of 2024-02-29. Then rows land late, each a case a daily
drop brings:
- in_1, first landed 2024-02-29 with one line, lands again (same load date, a later file) as void with no
  lines: the newest version has no child rows, so its old line must go (the pre-hook deletes by changed key,
  not by the keys of the new rows);
- an older version of in_3 (open, load date 2024-02-20) lands after its newer paid version (2024-03-15): the
  key is re-derived from all of its versions and the newer one still wins;
- sub_1 lands again, canceled, with its item, on 2024-03-20.
The build as of 2024-03-31 is incremental (CLM_INCREMENTAL_SINCE = the first build's as-of and newest
_loaded_at) and also picks up the March drops the first build's as-of left out.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from tests.dbt import raw_fixture
from tests.dbt.conftest import build_duckdb, run_dbt
from tests.dbt.raw_fixture import FEB_01, FEB_10

pytestmark = pytest.mark.slow

# Seeds and the staging models only: what the incremental path changes.
STAGING = ["build", "--select", "+staging", "--resource-type", "model", "seed"]
LANDED_LATE = dt.datetime(2024, 4, 20, 9, 30, 0, 123456)


def _late(table: str, load_date: str, rows: list[dict]) -> list[dict]:
    """Rows of a file landed on LANDED_LATE, whatever its load date."""
    return [
        r | {"_loaded_at": LANDED_LATE} for r in raw_fixture._drop(table, load_date, rows, name="part-late")
    ]


def late_rows() -> dict[str, list[dict]]:
    void_in_1 = _late(
        "billing__invoices",
        "2024-02-29",
        [
            {
                "id": "in_1",
                "customer": "cus_b",
                "subscription": "sub_1",
                "status": "void",
                "currency": "jpy",
                "created": str(FEB_10),
                "amount_due": "4980",
                "amount_paid": "0",
            }
        ],
    )
    stale_in_3 = _late(
        "billing__invoices",
        "2024-02-20",
        [
            {
                "id": "in_3",
                "customer": "cus_a",
                "status": "open",
                "currency": "usd",
                "created": str(FEB_01),
                "amount_due": "2500",
                "amount_paid": "0",
            }
        ],
    )
    canceled_sub_1 = _late(
        "billing__subscriptions",
        "2024-03-20",
        [
            {
                "id": "sub_1",
                "customer": "cus_b",
                "status": "canceled",
                "created": str(FEB_10),
                "start_date": str(FEB_10),
                "cancel_at_period_end": "false",
            }
        ],
    )
    items = raw_fixture._children(
        canceled_sub_1,
        "subscription_id",
        {"sub_1": [{"id": "si_1", "price__id": "price_jpy", "price__unit_amount": "4980",
                    "price__currency": "jpy", "price__recurring__interval": "month",
                    "price__recurring__interval_count": "1", "quantity": "1"}]},
        "item_index",
    )  # fmt: skip
    return {
        "billing__invoices": void_in_1 + stale_in_3,
        "billing__subscriptions": canceled_sub_1,
        "billing__subscription_items": items,
    }


def insert(database: Path, rows: dict[str, list[dict]]) -> None:
    con = duckdb.connect(str(database))
    try:
        for table, table_rows in rows.items():
            columns = raw_fixture.raw_tables()[table][0]
            for row in table_rows:
                con.execute(
                    f"insert into raw.{table} ({', '.join(columns)}) "
                    f"values ({', '.join('?' * len(columns))})",
                    [row.get(c) for c in columns],
                )
    finally:
        con.close()


def staging_tables(database: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'staging' order by 1"
        ).fetchall()]  # fmt: skip
        return {t: con.execute(f"select * from staging.{t} order by all").fetchall() for t in tables}
    finally:
        con.close()


def query(database: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    # Incremental: build as of 2024-02-29, add the late rows, mark an untouched key, build as of 2024-03-31.
    daily = build_duckdb(
        tmp_path_factory.mktemp("incremental"), raw_fixture.load, STAGING, as_of="2024-02-29"
    )
    daily.run.assert_nothing_failed()
    assert daily.database is not None
    seen = query(daily.database, "select max(_loaded_at) from raw.billing__invoices")[0][0]
    insert(daily.database, late_rows())
    # cus_e has one raw version, landed 2024-02-29: an incremental build must leave its row alone.
    con = duckdb.connect(str(daily.database))
    con.execute(
        "update staging.stg_billing__customers set email = 'untouched' where billing_customer_id = 'cus_e'"
    )
    con.close()
    since = {"CLM_INCREMENTAL_SINCE": f"2024-02-29|{seen.isoformat(sep=' ')}"}
    second = run_dbt(STAGING, daily.database.parent, daily.env | since, as_of="2024-03-31")
    second.assert_nothing_failed()
    # Full: the same raw rows in a fresh file, one build as of 2024-03-31.
    full_rows = raw_fixture.raw_rows()
    for table, rows in late_rows().items():
        full_rows[table] = full_rows.get(table, []) + rows
    full = build_duckdb(
        tmp_path_factory.mktemp("full"),
        lambda execute, placeholder: raw_fixture.load(execute, placeholder, full_rows),
        STAGING,
        as_of="2024-03-31",
    )
    full.run.assert_nothing_failed()
    assert full.database is not None
    return {"daily": daily.database, "full": full.database}


def test_incremental_build_gives_the_staging_rows_of_a_full_build(builds: dict) -> None:
    daily, full = staging_tables(builds["daily"]), staging_tables(builds["full"])
    assert sorted(daily) == sorted(full)
    assert len(daily) == 11
    untouched = "select email from staging.stg_billing__customers where billing_customer_id = 'cus_e'"
    assert query(builds["daily"], untouched) == [("untouched",)]
    assert query(builds["full"], untouched) == [("carol@example.com",)]
    daily["stg_billing__customers"] = [
        row for row in daily["stg_billing__customers"] if row[0] != "cus_e"
    ]  # fmt: skip
    full["stg_billing__customers"] = [row for row in full["stg_billing__customers"] if row[0] != "cus_e"]
    for table in daily:
        assert daily[table] == full[table], table


def test_late_versions_are_applied_by_key(builds: dict) -> None:
    database = builds["daily"]
    # in_1's newest version is void with no lines: its February line is gone.
    assert query(
        database, "select count(*) from staging.stg_billing__invoice_lines where invoice_id = 'in_1'"
    ) == [(0,)]
    assert query(database, "select status from staging.stg_billing__invoices where invoice_id = 'in_1'") == [
        ("void",)
    ]
    # in_3's older version landed last and still loses to the paid one of 2024-03-15, with its two lines.
    assert query(
        database, "select status, _load_date from staging.stg_billing__invoices where invoice_id = 'in_3'"
    ) == [("paid", dt.date(2024, 3, 15))]
    assert query(
        database, "select count(*) from staging.stg_billing__invoice_lines where invoice_id = 'in_3'"
    ) == [(2,)]
    assert query(database, "select status from staging.stg_billing__subscriptions") == [("canceled",)]
    assert query(database, "select count(*) from staging.stg_billing__subscription_items") == [(1,)]
