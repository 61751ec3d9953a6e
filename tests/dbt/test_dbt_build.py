"""dbt staging, identity resolution and dim_customers on the hand-written raw fixture (raw_fixture.py).

Expected values are computed by hand from the fixture rows and seeds/fx_rates.csv; as-of date 2024-03-31.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from clm.pii import pii_hash
from tests.dbt.conftest import PG_SCHEMA_PREFIX, PII_KEY, run_dbt


def customer_id(anchor: str) -> str:
    return hashlib.md5(anchor.encode()).hexdigest()


# customer_id, email_hash, country, segment, acquisition_channel, first_seen_at, first_paid_at,
# current_mrr, lifetime_revenue, cac
# current_mrr: MRR of the as-of month 2024-03 (fct_mrr_movements). Only in_1's line il_1 has a service period
# (2024-02-10 to 2024-03-10): it covers February's end, not 2024-03-31, so every customer's current_mrr is 0.
# lifetime_revenue: succeeded charges net of refunds (only ch_1, cus_a) plus invoices paid without a charge
# (in_1 for cus_b, in_2 for cus_c).
# cac: channel-month spend / customers the channel acquired that month (first payment); the only spend is
# paid_search in 2024-02, when nobody came through paid_search: every acquired customer has cac 0, customers
# who never paid have cac null.
EXPECTED_DIM_CUSTOMERS = sorted(
    [
        # c1 + cus_a (linked by metadata.crm_contact_id): seen at c1's 2024-01-05T10:00:00+02:00 = 08:00
        # UTC (cus_a came on Jan 6); first paid 2024-03-10 00:00 (in_3's second version and charge ch_1;
        # ch_0 failed).
        (
            customer_id("crm:c1"),
            pii_hash("alice@example.com", PII_KEY),
            "US",
            "smb",
            "paid_search",
            datetime(2024, 1, 5, 8, 0),
            datetime(2024, 3, 10, 0, 0),
            Decimal("0.00"),
            # ch_1: 2500 USD cents succeeded, nothing refunded -> 25.00 (ch_0 failed)
            Decimal("25.00"),
            # acquired 2024-03 through paid_search; paid_search spent nothing in March -> 0
            Decimal("0.00"),
        ),
        # c2 + cus_b (email '  BOB@Example.COM '): segment of the 2024-02-29 version (the 2024-04-15 one
        # is after the as-of date); seen at cus_b's 2024-01-03; paid in_1 (JPY) at 1707526800 = 02-10 01:00.
        (
            customer_id("crm:c2"),
            pii_hash("bob@example.com", PII_KEY),
            "DE",
            "enterprise",
            "organic",
            datetime(2024, 1, 3, 0, 0),
            datetime(2024, 2, 10, 1, 0),
            # new in 2024-02 with 4980 JPY x 0.006805 = 33.89, churned in 2024-03 (period ended 03-10) -> 0
            Decimal("0.00"),
            # in_1 was paid without a charge (out of band): 4980 JPY x 0.006805 = 33.8889 -> 33.89
            Decimal("33.89"),
            # acquired 2024-02 through organic, which has no spend -> 0
            Decimal("0.00"),
        ),
        # c3 + cus_e (link to unknown c999 -> email) + ticket t1: seen at t1's 2024-01-15T08:00:00+01:00
        # = 07:00 UTC; in_4 (paid) landed 2024-04-10, after the as-of date: never paid.
        (
            customer_id("crm:c3"),
            pii_hash("carol@example.com", PII_KEY),
            "GB",
            "enterprise",
            "referral",
            datetime(2024, 1, 15, 7, 0),
            None,
            Decimal("0.00"),
            Decimal("0.00"),
            None,  # never paid: not acquired yet
        ),
        # cus_c matches no contact: its own customer; paid in_2 (EUR) at 1709600400 = 2024-03-05 01:00.
        (
            customer_id("billing:cus_c"),
            pii_hash("erin@example.com", PII_KEY),
            None,
            None,
            None,
            datetime(2024, 2, 1, 0, 0),
            datetime(2024, 3, 5, 1, 0),
            Decimal("0.00"),
            Decimal("21.62"),  # in_2 paid out of band: 19.99 EUR x 1.081708 = 21.62334292
            Decimal("0.00"),  # acquired 2024-03 without a channel: no spend attributed
        ),
        # cus_d links to the deleted contact c4 whose email it shares: deleted contacts match nothing.
        (
            customer_id("billing:cus_d"),
            pii_hash("dave@example.com", PII_KEY),
            None,
            None,
            None,
            datetime(2024, 1, 25, 0, 0),
            None,
            Decimal("0.00"),
            Decimal("0.00"),
            None,
        ),
    ]
)

DIM_COLUMNS = (
    "customer_id, email_hash, country, segment, acquisition_channel, first_seen_at, first_paid_at, "
    "current_mrr, lifetime_revenue, cac"
)


def test_dbt_build_passes(duckdb_build):
    _, run = duckdb_build
    run.assert_ok()
    by_status: dict[tuple[str, str], int] = {}
    for result in run.results:
        key = (result["unique_id"].split(".")[0], result["status"])
        by_status[key] = by_status.get(key, 0) + 1
    # every unit test of every model built (the CLV phase's: tests/test_end_to_end_clv.py)
    unit_tests = run.unit_test_statuses()
    assert len(unit_tests) >= 80 and set(unit_tests.values()) == {"pass"}, unit_tests
    assert not [r for r in run.results if r["status"] in ("error", "fail", "skipped")]
    # the only warning: cus_e names CRM contact c999, which does not exist (orphan keys load with a warning)
    warnings = [r["unique_id"] for r in run.results if r["status"] == "warn"]
    assert len(warnings) == 1 and "crm_contact_id" in warnings[0], warnings


def test_dim_customers_rows(duckdb_query):
    rows = duckdb_query(f"select {DIM_COLUMNS} from marts.dim_customers order by customer_id")
    assert rows == EXPECTED_DIM_CUSTOMERS


def test_identity_map_match_methods(duckdb_query):
    rows = dict(
        ((source, key), (cid, method))
        for source, key, cid, method in duckdb_query("select * from intermediate.int_identity__key_map")
    )
    assert rows[("billing_customer", "cus_a")] == (customer_id("crm:c1"), "crm_contact_id")
    assert rows[("billing_customer", "cus_b")] == (customer_id("crm:c2"), "email")
    assert rows[("billing_customer", "cus_c")] == (customer_id("billing:cus_c"), "unmatched")
    assert rows[("billing_customer", "cus_d")] == (customer_id("billing:cus_d"), "unmatched")
    assert rows[("billing_customer", "cus_e")] == (customer_id("crm:c3"), "email")
    assert rows[("crm_contact", "c4")] == (None, "deleted")
    assert rows[("support_ticket", "t1")] == (customer_id("crm:c3"), "email")
    assert rows[("support_ticket", "t2")] == (customer_id("billing:cus_c"), "email")  # via billing email
    assert rows[("support_ticket", "t3")] == (None, "unmatched")
    assert len(rows) == 4 + 5 + 3


def test_staged_currency_conversions(duckdb_query):
    rows = {
        r[0]: r[1:]
        for r in duckdb_query(
            "select invoice_id, currency, amount_paid, amount_paid_reporting "
            "from staging.stg_billing__invoices"
        )
    }
    # JPY has no minor unit: 4980 stays 4980 JPY; created 2024-02-10 -> rate 2024-02 JPY 0.00680500:
    # 4980 x 0.006805 = 33.8889 USD.
    assert rows["in_1"] == ("JPY", Decimal("4980"), Decimal("33.8889"))
    # EUR 1999 cents = 19.99 EUR; created 2024-03-05 -> rate 2024-03 EUR 1.081708:
    # 19.99 x 1.081708 = 21.62334292.
    assert rows["in_2"] == ("EUR", Decimal("19.99"), Decimal("21.62334292"))
    # USD 2500 cents = 25.00 USD at rate 1.
    assert rows["in_3"] == ("USD", Decimal("25"), Decimal("25"))
    # in_4 landed 2024-04-10, after the as-of date
    assert "in_4" not in rows
    # GBP marketing spend 100.50 on 2024-02-15 -> rate 2024-02 GBP 1.265250: 127.157625 USD.
    assert duckdb_query(
        "select currency, amount, amount_reporting from staging.stg_crm__marketing_spend"
    ) == [("GBP", Decimal("100.5"), Decimal("127.157625"))]


def test_staged_timestamps_are_utc(duckdb_query):
    contacts = dict(duckdb_query("select contact_id, created_at from staging.stg_crm__contacts"))
    assert contacts["c1"] == datetime(2024, 1, 5, 8, 0)  # 2024-01-05T10:00:00+02:00
    assert contacts["c2"] == datetime(2024, 1, 10, 14, 0)  # 2024-01-10T09:00:00-05:00
    assert contacts["c3"] == datetime(2024, 1, 20, 12, 0)  # 2024-01-20T12:00:00Z
    # unix seconds 1704240000 = 2024-01-03 00:00:00 UTC
    assert duckdb_query(
        "select created_at from staging.stg_billing__customers where billing_customer_id = 'cus_b'"
    ) == [(datetime(2024, 1, 3, 0, 0),)]


def test_newest_version_won(duckdb_query):
    assert duckdb_query(
        "select segment, country, _load_date from staging.stg_crm__contacts where contact_id = 'c2'"
    ) == [("enterprise", "DE", datetime(2024, 2, 29).date())]
    assert duckdb_query("select status from staging.stg_billing__invoices where invoice_id = 'in_3'") == [
        ("paid",)
    ]
    # only the lines of in_3's newest version (2024-03-15 drop), not the superseded il_3_old
    assert duckdb_query(
        "select invoice_line_id, line_type, amount from staging.stg_billing__invoice_lines "
        "where invoice_id = 'in_3' order by line_index"
    ) == [("il_3_a", "subscription", Decimal("20")), ("il_3_b", "invoiceitem", Decimal("5"))]
    assert duckdb_query(
        "select status, requester_email from staging.stg_support__tickets where ticket_id = 't1'"
    ) == [("solved", "carol@example.com")]


def test_no_personal_data_in_marts(duckdb_query):
    columns = duckdb_query(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and data_type = 'VARCHAR'"
    )
    assert columns
    assert not [c for t, c in columns if "email" in c and c != "email_hash"]
    for table, column in columns:
        leaked = duckdb_query(
            f"select {column} from marts.{table} where {column} like '%@%' "
            f"or lower({column}) in ('alice', 'bob', 'carol', 'dave', 'erin')"
        )
        assert not leaked, (table, column, leaked)


def private_copy(duckdb_build, tmp_path: Path) -> Path:
    """A copy of the shared build's file: dbt opens its database read-write, which the other workers'
    read-only connections to the shared file would refuse."""
    return Path(shutil.copy(duckdb_build[0], tmp_path / "build.duckdb"))


def test_as_of_defaults_to_newest_load_date(duckdb_build, tmp_path):
    database = private_copy(duckdb_build, tmp_path)
    run = run_dbt(
        ["compile", "--select", "stg_crm__contacts"], tmp_path, {"CLM_BUILD_DB": str(database)}, as_of=None
    )
    run.assert_ok()
    compiled = next((run.target_path / "compiled").rglob("stg_crm__contacts.sql")).read_text()
    # newest _load_date in the fixture's raw tables: the contacts drop of 2024-04-15
    assert "_load_date <= cast('2024-04-15' as date)" in compiled
    assert "current_date" not in compiled.lower()


def test_as_of_var_wins_over_the_environment(duckdb_build, tmp_path):
    """Plain `dbt build --vars '{as_of: ...}'` (macro clm_as_of_date): the var, when set, over CLM_AS_OF."""
    database = private_copy(duckdb_build, tmp_path)
    args = ["compile", "--select", "stg_crm__contacts", "--vars", '{"as_of": "2024-03-05"}']
    run = run_dbt(args, tmp_path, {"CLM_BUILD_DB": str(database)}, as_of="2024-03-02")
    run.assert_ok()
    compiled = next((run.target_path / "compiled").rglob("stg_crm__contacts.sql")).read_text()
    assert "_load_date <= cast('2024-03-05' as date)" in compiled


@pytest.mark.postgres
def test_postgres_unit_tests_pass(postgres_build, duckdb_build):
    """The unit tests run once per engine: the same ones as on DuckDB, all passing on Postgres."""
    run, _ = postgres_build
    unit_tests = run.unit_test_statuses()
    assert unit_tests == dict.fromkeys(duckdb_build[1].unit_test_statuses(), "pass"), unit_tests


@pytest.mark.postgres
def test_postgres_dim_customers_identical(postgres_build, duckdb_query):
    run, query = postgres_build
    run.assert_ok()
    assert [r for r in run.results if r["status"] in ("error", "fail", "skipped")] == []
    rows = query(f"select {DIM_COLUMNS} from {PG_SCHEMA_PREFIX}marts.dim_customers order by customer_id")
    assert rows == EXPECTED_DIM_CUSTOMERS
    assert rows == duckdb_query(f"select {DIM_COLUMNS} from marts.dim_customers order by customer_id")
    staged = "select invoice_id, amount_paid, amount_paid_reporting from {}stg_billing__invoices order by 1"
    assert query(staged.format(PG_SCHEMA_PREFIX + "staging.")) == duckdb_query(staged.format("staging."))


def test_as_of_from_the_environment_needs_no_new_parse(duckdb_build, tmp_path):
    """clm run passes the as-of date as CLM_AS_OF (clm.dbt_vars), read only when a model is compiled for
    execution: the next day's date re-parses nothing, where a changed --vars re-parses the whole project."""
    database = private_copy(duckdb_build, tmp_path)
    env = {"CLM_BUILD_DB": str(database), "CLM_AS_OF": "2024-03-01"}
    run_dbt(["parse"], tmp_path, env, as_of=None).assert_ok()
    args = ["--debug", "compile", "--select", "stg_crm__contacts"]
    run = run_dbt(args, tmp_path, env | {"CLM_AS_OF": "2024-03-02"}, as_of=None)
    run.assert_ok()
    compiled = next((run.target_path / "compiled").rglob("stg_crm__contacts.sql")).read_text()
    assert "_load_date <= cast('2024-03-02' as date)" in compiled
    assert "0 files deleted, 0 files added, 0 files changed" in run.output
    run = run_dbt(args, tmp_path, env | {"CLM_AS_OF": "March"}, as_of=None)
    assert run.returncode != 0
    assert "CLM_AS_OF must be a date YYYY-MM-DD, got 'March'" in run.output
