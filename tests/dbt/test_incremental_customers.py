"""Incremental customer-level models (dbt_project/macros/clm_increments.sql, docs/commands.md#daily-runs): a
build that adds late rows to an earlier build gives the revenue chain's rows of a full build of the same raw
rows (int_invoice_lines__normalized -> __paying_periods -> int_customer_months__mrr ->
int_customer_cohorts__starting_mrr_revalued, and the mart fct_mrr_movements) and of the lifecycle stages
(int_lifecycle__stage_points -> __stage_spells, and the mart fct_lifecycle_stages), and recomputes only the
customers that changed.

The hand-written fixture of raw_fixture.py, plus three subscriptions landed early, is built as of 2024-02-29:
- cus_c (erin, matches no contact: its own customer md5('billing:cus_c')) pays EUR 19.99 for 2024-02-01 to
  2024-03-01 (in_c1);
- cus_d (its own customer too) pays USD 1,200 a year from 2024-01-25 (in_d): first paying month January,
  and no raw row of it lands later, so the second build keeps its January and February rows and adds March;
- cus_f (frank) was invoiced on 2024-02-20 for a month starting 2024-03-10 (in_f): not paying as of
  2024-02-29, paying as of 2024-03-31 with nothing new landed (the as-of date alone moves it);
- cus_g (gina) paid for 2024-01-29 to 2024-02-29 (in_g) and its subscription stays active with no renewal
  landed: as of 2024-02-29 its line is renewal-pending (it ends on the as-of date), as of 2024-03-31 it is not
  and the customer has churned, again with nothing new landed.
Then rows land late:
- CRM contact c5, erin@example.com (2024-03-05): cus_c now matches it by email, so its lines move to customer
  md5('crm:c5'); the incremental build must delete the old customer's rows, which no new raw row names;
- cus_b's renewal in_1b (2024-03-10 to 2024-04-10), and the fixture's March drops (in_2, in_3, in_4).
The second build, as of 2024-03-31, is incremental (CLM_INCREMENTAL_SINCE = the first build's as-of and newest
_loaded_at): a new month for every customer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.dbt import raw_fixture
from tests.dbt.conftest import PG_SCHEMA_PREFIX, _pg_params, build_duckdb, build_postgres, run_dbt
from tests.dbt.raw_fixture import FEB_01, FEB_10, JAN_25
from tests.dbt.test_incremental_staging import _late, insert, query

pytestmark = pytest.mark.slow

CHAIN = [
    "build", "--select", "+int_customer_cohorts__starting_mrr_revalued", "+fct_mrr_movements",
    "+fct_lifecycle_stages", "--resource-type", "model", "seed",
]  # fmt: skip
INCREMENTAL = [
    "intermediate.int_invoice_lines__normalized",
    "intermediate.int_invoice_lines__paying_periods",
    "intermediate.int_customer_months__mrr",
    "intermediate.int_customer_cohorts__starting_mrr_revalued",
    "marts.fct_mrr_movements",
    "intermediate.int_lifecycle__stage_points",
    "intermediate.int_lifecycle__stage_spells",
]
COMPARED = INCREMENTAL + ["marts.fct_lifecycle_stages"]
DAY = 86400
MAR_01 = FEB_01 + 29 * DAY  # 2024 is a leap year
FEB_20 = FEB_01 + 19 * DAY
MAR_10 = FEB_10 + 29 * DAY
APR_10 = MAR_10 + 31 * DAY
JAN_25_2025 = JAN_25 + 366 * DAY
JAN_29 = JAN_25 + 4 * DAY
FEB_29 = FEB_01 + 28 * DAY
PENDING_G = (
    "select is_renewal_pending from intermediate.int_invoice_lines__paying_periods where invoice_id = 'in_g'"
)
FIRST_AS_OF, SECOND_AS_OF = "2024-02-29", "2024-03-31"
LIFECYCLE_CUSTOMERS = "intermediate.int_increments__lifecycle_customers"


def customer_id(kind: str, key: str) -> str:
    return hashlib.md5(f"{kind}:{key}".encode()).hexdigest()


def _invoices(load_date: str, invoices: list[tuple[str, str, str, int, str, str, int, int, str]], late: bool):
    """(id, customer, subscription, created, currency, amount, period start, end, interval) -> invoice
    rows and their one subscription line each."""
    drop = _late if late else lambda table, day, rows: raw_fixture._drop(table, day, rows, name="part-early")
    rows = drop(
        "billing__invoices",
        load_date,
        [
            {"id": i, "customer": c, "subscription": s, "status": "paid", "currency": cur, "created": str(t),
             "status_transitions__paid_at": str(t), "amount_due": a, "amount_paid": a}
            for i, c, s, t, cur, a, _, _, _ in invoices
        ],
    )  # fmt: skip
    lines = raw_fixture._children(
        rows,
        "invoice_id",
        {
            i: [{"id": f"il_{i}", "type": "subscription", "proration": "false", "quantity": "1", "amount": a,
                 "currency": cur, "period__start": str(start), "period__end": str(end),
                 "price__recurring__interval": interval, "price__recurring__interval_count": "1"}]
            for i, _, _, _, cur, a, start, end, interval in invoices
        },
        "line_index",
    )  # fmt: skip
    return {"billing__invoices": rows, "billing__invoice_lines": lines}


def early_rows() -> dict[str, list[dict]]:
    """Landed by 2024-02-20, before the first build."""
    early = _invoices(
        "2024-02-20",
        [
            ("in_c1", "cus_c", "sub_c", FEB_01, "eur", "1999", FEB_01, MAR_01, "month"),
            ("in_d", "cus_d", "sub_d", JAN_25, "usd", "120000", JAN_25, JAN_25_2025, "year"),
            ("in_f", "cus_f", "sub_f", FEB_20, "usd", "5000", MAR_10, APR_10, "month"),
            ("in_g", "cus_g", "sub_g", JAN_29, "usd", "3000", JAN_29, FEB_29, "month"),
        ],
        late=False,
    )
    early["billing__customers"] = raw_fixture._drop(
        "billing__customers",
        "2024-02-20",
        [
            {"id": "cus_f", "email": "frank@example.com", "created": str(FEB_01), "currency": "usd"},
            {"id": "cus_g", "email": "gina@example.com", "created": str(JAN_25), "currency": "usd"},
        ],
        name="part-early",
    )
    early["billing__subscriptions"] = raw_fixture._drop(
        "billing__subscriptions",
        "2024-02-20",
        [
            {"id": s, "customer": c, "status": "active", "created": str(t), "start_date": str(t),
             "cancel_at_period_end": "false"}
            for s, c, t in [
                ("sub_c", "cus_c", FEB_01), ("sub_d", "cus_d", JAN_25), ("sub_f", "cus_f", FEB_20),
                ("sub_g", "cus_g", JAN_29),
            ]
        ],
    )  # fmt: skip
    return early


def late_rows() -> dict[str, list[dict]]:
    """Landed after the first build."""
    late = _invoices(
        "2024-03-10",
        [("in_1b", "cus_b", "sub_1", MAR_10, "jpy", "4980", MAR_10, APR_10, "month")],
        late=True,
    )
    late["crm__contacts"] = _late(
        "crm__contacts",
        "2024-03-05",
        [
            {
                "contact_id": "c5",
                "email": "erin@example.com",
                "first_name": "Erin",
                "country": "ie",
                "segment": "smb",
                "acquisition_channel": "organic",
                "created_at": "2024-03-05T08:00:00Z",
                "updated_at": "2024-03-05T08:00:00Z",
                "is_deleted": "false",
            }
        ],
    )
    return late


def with_rows(*extra: dict[str, list[dict]]) -> dict[str, list[dict]]:
    rows = raw_fixture.raw_rows()
    for more in extra:
        for table, table_rows in more.items():
            rows[table] = rows.get(table, []) + table_rows
    return rows


def tables(database: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in COMPARED}
    finally:
        con.close()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    early = with_rows(early_rows())
    daily = build_duckdb(
        tmp_path_factory.mktemp("daily"),
        lambda execute, placeholder: raw_fixture.load(execute, placeholder, early),
        CHAIN,
        as_of=FIRST_AS_OF,
    )
    daily.run.assert_nothing_failed()
    assert daily.database is not None
    first = tables(daily.database)
    first_pending = query(daily.database, PENDING_G)
    seen = query(daily.database, "select max(_loaded_at) from raw.billing__invoices")[0][0]
    insert(daily.database, late_rows())
    since = {"CLM_INCREMENTAL_SINCE": f"{FIRST_AS_OF}|{seen.isoformat(sep=' ')}"}
    second = run_dbt(CHAIN, daily.database.parent, daily.env | since, as_of=SECOND_AS_OF)
    second.assert_nothing_failed()
    full_rows = with_rows(early_rows(), late_rows())
    full = build_duckdb(
        tmp_path_factory.mktemp("full"),
        lambda execute, placeholder: raw_fixture.load(execute, placeholder, full_rows),
        CHAIN,
        as_of=SECOND_AS_OF,
    )
    full.run.assert_nothing_failed()
    assert full.database is not None
    return {
        "first": first,
        "first_pending": first_pending,
        "daily": daily.database,
        "full": full.database,
        "second": second,
    }


def test_the_second_build_is_incremental(builds: dict) -> None:
    """Guards the comparison below: a full rebuild would pass it trivially."""
    log = builds["second"].output
    for model in INCREMENTAL:
        assert f"incremental model {model}" in log, log


def test_an_incremental_build_gives_the_rows_of_a_full_build(builds: dict) -> None:
    daily, full = tables(builds["daily"]), tables(builds["full"])
    for table in COMPARED:
        assert daily[table], table
        assert daily[table] == full[table], table


def test_a_customer_identity_moved_away_from_loses_its_rows(builds: dict) -> None:
    """cus_c's EUR 19.99 line (in_2) belonged to md5('billing:cus_c') as of 2024-02-29 and to md5('crm:c5')
    after c5 landed: the old customer has no row left in any model of the chain."""
    old, new = customer_id("billing", "cus_c"), customer_id("crm", "c5")
    months_before = [r for r in builds["first"]["intermediate.int_customer_months__mrr"] if r[0] == old]
    assert months_before, "cus_c had customer months of its own before c5 landed"
    for table in COMPARED:
        database = builds["daily"]
        with duckdb.connect(str(database), read_only=True) as con:
            assert con.execute(f"select count(*) from {table} where customer_id = ?", [old]).fetchall() == [
                (0,)
            ], table
            assert (
                con.execute(f"select count(*) from {table} where customer_id = ?", [new]).fetchall()[0][0] > 0
            ), table
    keys = query(
        builds["daily"],
        "select customer_id, previous_customer_id from intermediate.int_increments__billing_customer_keys "
        "where billing_customer_id = 'cus_c'",
    )
    assert keys == [(new, old)]


def test_only_the_changed_customers_are_recomputed(builds: dict) -> None:
    """By hand from the rows landed after the first build: cus_a (in_3's March version, landed 2024-03-15),
    cus_b (its renewal in_1b), cus_c (now c5's: both customers), and, by the as-of date alone, cus_f (its line
    starts 2024-03-10) and cus_g (its line ended on the first as-of date). Not cus_d (nothing landed, its line
    neither starts nor ends in the window) nor cus_e (in_4 lands after 2024-03-31)."""
    changed = query(
        builds["daily"],
        "select billing_customer_id, customer_id from intermediate.int_increments__changed_customers",
    )
    assert sorted(changed) == sorted(
        [
            ("cus_a", customer_id("crm", "c1")),
            ("cus_b", customer_id("crm", "c2")),
            ("cus_c", customer_id("billing", "cus_c")),
            ("cus_c", customer_id("crm", "c5")),
            ("cus_f", customer_id("billing", "cus_f")),
            ("cus_g", customer_id("billing", "cus_g")),
        ]
    )


def test_unchanged_and_as_of_moved_customers(builds: dict) -> None:
    """cus_d: USD 1,200 a year = 100.00 a month from January, kept, and March added. cus_f: USD 50.00 from
    March, its first paying month. cus_g: USD 30.00 in January (the line covers 2024-01-31, not 2024-02-29:
    end exclusive), 0.00 after; its line was renewal-pending as of 2024-02-29 and is no longer."""
    months = (
        "select month, mrr, first_paid_month from intermediate.int_customer_months__mrr where customer_id = ?"
    )
    with duckdb.connect(str(builds["daily"]), read_only=True) as con:
        rows = {
            key: con.execute(months + " order by month", [customer_id("billing", key)]).fetchall()
            for key in ("cus_d", "cus_f", "cus_g")
        }
        pending = con.execute(PENDING_G).fetchall()
    jan, feb, mar = (dt.date(2024, m, 1) for m in (1, 2, 3))
    assert rows["cus_d"] == [(m, Decimal("100.00"), jan) for m in (jan, feb, mar)]
    assert rows["cus_f"] == [(mar, Decimal("50.00"), mar)]
    assert rows["cus_g"] == [
        (jan, Decimal("30.00"), jan),
        (feb, Decimal("0.00"), jan),
        (mar, Decimal("0.00"), jan),
    ]
    assert pending == [(False,)]
    assert builds["first_pending"] == [(True,)]


def test_only_customers_whose_signals_changed_get_new_stages(builds: dict) -> None:
    """int_increments__lifecycle_customers, by hand from the signals of the two builds:
    - recomputed: cus_f (its paying signal starts 2024-03-10, reached by the second as-of date), cus_g (paying
      ended 2024-02-29: open as of then, renewal pending), cus_a = c1 (its March invoice in_3 landed: paid on
      2024-03-10), c5 (new: erin's contact) and md5('billing:cus_c') (gone into c5: no fingerprint);
    - kept: cus_b = c2 (its renewal in_1b landed, but it pays on without a break: the same signals), cus_d
      (nothing landed; its onboarding window ends 2024-04-24, after the second as-of date) and c3 (a lead)."""
    rows = query(
        builds["daily"],
        "select customer_id, fingerprint is null, changed_in_run = (select max(changed_in_run) from "
        f"{LIFECYCLE_CUSTOMERS}) from {LIFECYCLE_CUSTOMERS}",
    )
    assert sorted(rows) == sorted(
        [
            (customer_id("billing", "cus_f"), False, True),
            (customer_id("billing", "cus_g"), False, True),
            (customer_id("crm", "c1"), False, True),
            (customer_id("crm", "c5"), False, True),
            (customer_id("billing", "cus_c"), True, True),
            (customer_id("crm", "c2"), False, False),
            (customer_id("billing", "cus_d"), False, False),
            (customer_id("crm", "c3"), False, False),
        ]
    )


def _pg_rows(build, tables: list[str]) -> dict[str, list[tuple]]:
    """Each table's rows (build_ schemas), sorted in Python: Postgres has no `order by all`."""
    return {t: sorted(build.query(f"select * from {build.schema_prefix}{t}"), key=repr) for t in tables}


@pytest.mark.postgres
def test_on_postgres_an_incremental_build_gives_the_rows_of_a_full_build(tmp_path_factory) -> None:
    """The same two builds and the full one on Postgres, the second target: its DELETE and the append of
    dbt-postgres, and the models' SQL in its dialect."""
    import psycopg2

    early, full_rows = with_rows(early_rows()), with_rows(early_rows(), late_rows())
    with build_postgres(
        "clm_incremental_daily",
        tmp_path_factory.mktemp("pg_daily"),
        lambda execute, placeholder: raw_fixture.load(execute, placeholder, early),
        CHAIN,
        as_of=FIRST_AS_OF,
    ) as daily:
        daily.run.assert_nothing_failed()
        (seen,) = daily.query("select max(_loaded_at) from raw.billing__invoices")[0]
        conn = psycopg2.connect(**_pg_params(daily.env["PGDATABASE"]))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                for table, rows in late_rows().items():
                    columns = raw_fixture.raw_tables()[table][0]
                    values = ", ".join(["%s"] * len(columns))
                    insert_sql = f"insert into raw.{table} ({', '.join(columns)}) values ({values})"
                    for row in rows:
                        cur.execute(insert_sql, [row.get(c) for c in columns])
        finally:
            conn.close()
        since = {"CLM_INCREMENTAL_SINCE": f"{FIRST_AS_OF}|{seen.isoformat(sep=' ')}"}
        second = run_dbt(
            CHAIN,
            tmp_path_factory.mktemp("pg_second"),
            daily.env | since,
            as_of=SECOND_AS_OF,
            schema_prefix=PG_SCHEMA_PREFIX,
        )
        second.assert_nothing_failed()
        for model in INCREMENTAL:
            assert f"incremental model {PG_SCHEMA_PREFIX}{model}" in second.output, second.output
        incremental = _pg_rows(daily, COMPARED)
    with build_postgres(
        "clm_incremental_full",
        tmp_path_factory.mktemp("pg_full"),
        lambda execute, placeholder: raw_fixture.load(execute, placeholder, full_rows),
        CHAIN,
        as_of=SECOND_AS_OF,
    ) as full:
        full.run.assert_nothing_failed()
        rebuilt = _pg_rows(full, COMPARED)
    for table in COMPARED:
        assert incremental[table], table
        assert incremental[table] == rebuilt[table], table
