"""MRR per customer-month, fct_mrr_movements and rpt_mrr_bridge on the hand-written raw layer of
revenue_fixture.py, as of 2024-05-20, built with `dbt build` on DuckDB (and on Postgres when reachable).

Expected rows are computed by hand from the fixture and seeds/fx_rates.csv (rates of 2024-01..05:
EUR 1.081708 / 1.081792 / 1.081875 in March / April / May, JPY 0.00680500 / 0.00676167 / 0.00671833 in
February / March / April).
Every MRR is the month's snapshot (the last day; 2024-05-20 in May), rounded to the cent.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest

from tests.dbt import revenue_fixture
from tests.dbt.conftest import build_duckdb, build_postgres

# the revenue models, their parents and dim_customers (the relationships test of fct_mrr_movements)
SELECT = ["--select", "+rpt_mrr_bridge+", "+dim_customers", "--indirect-selection", "cautious"]
MY_UNIT_TESTS = {
    "test_int_invoice_lines__normalized_intervals_and_exclusions",
    "test_int_customer_months__mrr_month_end_snapshot",
    "test_fct_mrr_movements_every_movement_type",
    "test_rpt_mrr_bridge_reconciles_with_an_empty_month",
    "test_int_customer_months__mrr_next_month_rate",
    "test_fct_mrr_movements_constant_currency",
    "test_rpt_mrr_bridge_fx_impact",
}


def customer_id(anchor: str) -> str:
    return hashlib.md5(anchor.encode()).hexdigest()


A, B, C, D = (customer_id(k) for k in ("crm:c1", "billing:cus_b", "billing:cus_c", "billing:cus_d"))
E = customer_id("billing:cus_e")

JAN, FEB, MAR, APR, MAY = (date(2024, m, 1) for m in range(1, 6))


def money(text: str) -> Decimal:
    return Decimal(text)


# customer_id, month, mrr, previous_mrr, previous_mrr_at_current_rate, mrr_change, fx_impact, movement.
# Movements are at constant currency (docs/marts.md#movements): mrr_change = mrr - previous month's lines at
# this month's rate; fx_impact = that - previous_mrr. Changed by issue 14: A's April and May (+0.01 each, the
# EUR rate alone) were `expansion` and are `retained` with fx_impact 0.01; B's March (-0.22, the JPY rate
# alone) was `contraction` and is `retained` with fx_impact -0.22; B's April churn is 33.46 (March's yen at
# April's rate) with fx_impact -0.21, was 33.67.
EXPECTED_MOVEMENTS = sorted(
    (c, m, money(mrr), money(prev), money(prev_now), money(chg), money(fx), mv)
    for c, m, mrr, prev, prev_now, chg, fx, mv in [
        # A: cus_a1 50.00 USD a month (the invoiceitem onboarding fee and the void February duplicate ignored)
        (A, JAN, "50.00", "0.00", "0.00", "50.00", "0.00", "new"),
        (A, FEB, "50.00", "50.00", "50.00", "0.00", "0.00", "retained"),
        # + cus_a2's annual 1200.00 EUR from 03-01 = 100.00 EUR a month x 1.081708 = 108.1708:
        # 50 + 108.1708 = 158.1708 -> 158.17; February's lines (50 USD) at March's rate: 50.00
        (A, MAR, "158.17", "50.00", "50.00", "108.17", "0.00", "expansion"),
        # 50 + 100 x 1.081792 = 158.1792 -> 158.18; March's lines at April's rate: the same 158.18, so
        # retained; the FX rate alone moves MRR by a cent: fx_impact = 158.18 - 158.17 = 0.01
        (A, APR, "158.18", "158.17", "158.18", "0.00", "0.01", "retained"),
        # 50 + 100 x 1.081875 = 158.1875 -> 158.19 (half a cent rounds up); fx_impact 158.19 - 158.18 = 0.01
        (A, MAY, "158.19", "158.18", "158.19", "0.00", "0.01", "retained"),
        # B: 4980 JPY x 0.006805 = 33.8889 -> 33.89 (02-10..03-10 covers 02-29)
        (B, FEB, "33.89", "0.00", "0.00", "33.89", "0.00", "new"),
        # 4980 x 0.00676167 = 33.6731166 -> 33.67 (03-10..04-10 covers 03-31); February's 4980 JPY at March's
        # rate: the same 33.67, so retained; fx_impact = 33.67 - 33.89 = -0.22
        (B, MAR, "33.67", "33.89", "33.67", "0.00", "-0.22", "retained"),
        # nothing covers 04-30: churn of March's 4980 JPY at April's rate, 4980 x 0.00671833 = 33.4572834
        # -> 33.46; fx_impact = 33.46 - 33.67 = -0.21; May (0 -> 0) left out
        (B, APR, "0.00", "33.67", "33.46", "-33.46", "-0.21", "churn"),
        # C: quarterly 270.00 USD / 3 = 90.00; the uncollectible second quarter still counts
        (C, JAN, "90.00", "0.00", "0.00", "90.00", "0.00", "new"),
        (C, FEB, "90.00", "90.00", "90.00", "0.00", "0.00", "retained"),
        (C, MAR, "90.00", "90.00", "90.00", "0.00", "0.00", "retained"),
        (C, APR, "90.00", "90.00", "90.00", "0.00", "0.00", "retained"),
        (C, MAY, "90.00", "90.00", "90.00", "0.00", "0.00", "retained"),
        # D: 20.00 in January and February; 02-05..03-05 does not cover 03-31: churn
        (D, JAN, "20.00", "0.00", "0.00", "20.00", "0.00", "new"),
        (D, FEB, "20.00", "20.00", "20.00", "0.00", "0.00", "retained"),
        (D, MAR, "0.00", "20.00", "20.00", "-20.00", "0.00", "churn"),
        # new subscription 40.00 from 04-20: paid before, so reactivation
        (D, APR, "40.00", "0.00", "0.00", "40.00", "0.00", "reactivation"),
        # on the as-of date 05-20 only the upgrade line [05-10 14:30, 06-10) covers (40.00 line ends 05-20;
        # proration invoiceitems ignored): 60.00
        (D, MAY, "60.00", "40.00", "40.00", "20.00", "0.00", "expansion"),
    ]
)

# month, starting, new, expansion, reactivation, contraction, churned, fx_impact, ending
EXPECTED_BRIDGE = [
    (m, *(money(x) for x in amounts))
    for m, *amounts in [
        # A 50 + C 90 + D 20 = 160.00
        (JAN, "0.00", "160.00", "0.00", "0.00", "0.00", "0.00", "0.00", "160.00"),
        # + B 33.89 = 193.89
        (FEB, "160.00", "33.89", "0.00", "0.00", "0.00", "0.00", "0.00", "193.89"),
        # + A 108.17 - D 20.00 + B's fx -0.22 = 281.84 (was: B's -0.22 as contraction)
        (MAR, "193.89", "0.00", "108.17", "0.00", "0.00", "20.00", "-0.22", "281.84"),
        # + D 40.00 - B 33.46 + fx (A +0.01, B -0.21) -0.20 = 288.18 (was: A +0.01 expansion, B 33.67 churned)
        (APR, "281.84", "0.00", "0.00", "40.00", "0.00", "33.46", "-0.20", "288.18"),
        # + D 20.00 + A's fx 0.01 = 308.19 (was: expansion 20.01)
        (MAY, "288.18", "0.00", "20.00", "0.00", "0.00", "0.00", "0.01", "308.19"),
    ]
]

# month: starting, new, expansion, reactivation, contraction, churned, retained, ending customers
# (changed by issue 14: March B retained, not contraction; April A retained, not expansion; May A retained)
EXPECTED_BRIDGE_COUNTS = {
    JAN: (0, 3, 0, 0, 0, 0, 0, 3),
    FEB: (3, 1, 0, 0, 0, 0, 3, 4),
    MAR: (4, 0, 1, 0, 0, 1, 2, 3),
    APR: (3, 0, 0, 1, 0, 1, 2, 3),
    MAY: (3, 0, 1, 0, 0, 0, 2, 3),
}

MOVEMENT_SQL = (
    "select customer_id, month, mrr, previous_mrr, previous_mrr_at_current_rate, mrr_change, fx_impact, "
    "movement from {schema}.fct_mrr_movements order by customer_id, month"
)
BRIDGE_SQL = (
    "select month, starting_mrr, new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr, churned_mrr, "
    "fx_impact_mrr, ending_mrr from {schema}.rpt_mrr_bridge order by month"
)
COUNTS_SQL = (
    "select month, starting_customers, new_customers, expansion_customers, reactivation_customers, "
    "contraction_customers, churned_customers, retained_customers, ending_customers "
    "from {schema}.rpt_mrr_bridge order by month"
)


def assert_build_ok(run) -> None:
    run.assert_nothing_failed()
    tests = run.data_test_statuses()
    assert tests.get("assert_mrr_bridge_reconciles") == "pass", tests


@pytest.fixture(scope="module")
def revenue_duckdb(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("dbt_revenue_duckdb")
    build = build_duckdb(workdir, revenue_fixture.load, ["build", *SELECT], as_of=revenue_fixture.AS_OF)
    return build.run, build.query


def test_revenue_unit_tests_pass(duckdb_build):
    """The revenue models' unit tests, run once in the suite's session build (tests/dbt/conftest.py)."""
    unit_tests = duckdb_build[1].unit_test_statuses()
    assert {name: unit_tests.get(name) for name in MY_UNIT_TESTS} == dict.fromkeys(MY_UNIT_TESTS, "pass")


def test_revenue_build_passes(revenue_duckdb):
    run, _ = revenue_duckdb
    assert_build_ok(run)


def test_fct_mrr_movements_rows(revenue_duckdb):
    run, query = revenue_duckdb
    run.assert_ok()
    assert query(MOVEMENT_SQL.format(schema="marts")) == EXPECTED_MOVEMENTS
    # customer E only bought a one-off item: no MRR, no rows
    assert query(f"select count(*) from marts.fct_mrr_movements where customer_id = '{E}'") == [(0,)]


def test_rpt_mrr_bridge_rows(revenue_duckdb):
    run, query = revenue_duckdb
    run.assert_ok()
    assert query(BRIDGE_SQL.format(schema="marts")) == EXPECTED_BRIDGE
    counts = {row[0]: row[1:] for row in query(COUNTS_SQL.format(schema="marts"))}
    assert counts == EXPECTED_BRIDGE_COUNTS


def test_line_exclusions(revenue_duckdb):
    run, query = revenue_duckdb
    run.assert_ok()
    reasons = dict(
        query(
            "select invoice_line_id, mrr_exclusion_reason from intermediate.int_invoice_lines__normalized "
            "where not counts_towards_mrr"
        )
    )
    assert reasons == {
        "il_a1_onboarding": "not_a_subscription_line",
        "il_a1_void": "void_invoice",
        "il_d_4_credit": "not_a_subscription_line",
        "il_d_4_debit": "not_a_subscription_line",
        "il_e_1": "not_a_subscription_line",
    }
    # the annual plan: 1200.00 EUR / 12 = 100 EUR a month; the quarterly one: 270.00 / 3 = 90 USD
    monthly = dict(
        query(
            "select invoice_line_id, monthly_amount from intermediate.int_invoice_lines__normalized "
            "where invoice_line_id in ('il_a2_1', 'il_c_1', 'il_b_1')"
        )
    )
    assert monthly == {"il_a2_1": Decimal("100"), "il_c_1": Decimal("90"), "il_b_1": Decimal("4980")}


def test_no_wall_clock_in_revenue_models(revenue_duckdb):
    run, _ = revenue_duckdb
    for path in (run.target_path / "compiled").rglob("*.sql"):
        if "revenue" in str(path) or "mrr" in path.name:
            text = path.read_text().lower()
            assert "current_date" not in text and "now()" not in text, path


@pytest.mark.postgres
def test_postgres_revenue_identical(tmp_path_factory, revenue_duckdb):
    _, duckdb_query = revenue_duckdb
    workdir = tmp_path_factory.mktemp("dbt_revenue_postgres")
    args = ["build", *SELECT]
    with build_postgres("clm_revenue_test", workdir, revenue_fixture.load, args, revenue_fixture.AS_OF) as pg:
        assert_build_ok(pg.run)
        assert pg.query(MOVEMENT_SQL.format(schema=pg.marts)) == EXPECTED_MOVEMENTS
        assert pg.query(BRIDGE_SQL.format(schema=pg.marts)) == EXPECTED_BRIDGE
        assert pg.query(COUNTS_SQL.format(schema=pg.marts)) == duckdb_query(COUNTS_SQL.format(schema="marts"))
