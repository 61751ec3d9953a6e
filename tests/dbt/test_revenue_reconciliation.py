"""rpt_revenue_reconciliation on the hand-written raw fixture (raw_fixture.py), as of 2024-03-31.

The dbt unit test test_rpt_revenue_reconciliation_waterfall (_reconciliation__unit_tests.yml) covers every
column on a richer story (annual prepayment, refund, uncollectible, open, prorations, draft, void); here the
whole chain from raw extracts: FX conversion, newest invoice versions, payments out of band, the MRR bridge.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from expectations.suites import RECONCILIATION_AMOUNTS
from tests.dbt.conftest import PG_SCHEMA_PREFIX

# the mart's amount columns, in its order: the list the GX suite checks
COLUMNS = RECONCILIATION_AMOUNTS
ZERO = Decimal("0.00")


def money(text: str) -> Decimal:
    return Decimal(text)


# Fixture story (billing, as of 2024-03-31; seeds/fx_rates.csv: JPY 2024-02 0.006805, EUR 2024-03 1.081708):
# * in_1 (cus_b = c2): issued 2024-02-10, 4980 JPY subscription line, paid the same day without a charge;
# * in_3 (cus_a = c1): issued 2024-02-01, newest version paid on 2024-03-10 by charge ch_1 (25.00 USD; ch_0
#   on 02-01 failed), lines 20.00 subscription (no service period: never MRR) + 5.00 invoice item;
# * in_2 (cus_c): issued 2024-03-05, 19.99 EUR subscription line, paid the same day without a charge;
# * in_4 lands after the as-of date; MRR: c2's 33.89 in February (new), 0 in March (churn).
EXPECTED = {
    # invoiced: in_1 4980 x 0.006805 = 33.88890 + in_3 20.00 = 53.8889 -> 53.89; in_3's item 5.00;
    # total 53.89 + 0 + 5.00 = 58.89. Collected: in_1 out of band 33.8889 -> 33.89 (ch_0 failed), no refund.
    # billing_timing = 53.89 - MRR 33.89 = 20.00 (in_3's line without a service period);
    # collection_timing = 33.89 - (58.89 - 0 - 0) = -25.00 (in_3 issued now, paid in March).
    # Check: 33.89 + 20.00 + 0 + 5.00 - 0 - 0 - 0 - 25.00 = 33.89 = collected_net.
    date(2024, 2, 1): {
        "invoiced_subscription": money("53.89"),
        "invoiced_prorations": ZERO,
        "invoiced_one_off": money("5.00"),
        "invoiced_total": money("58.89"),
        "collected_charges": ZERO,
        "collected_out_of_band": money("33.89"),
        "refunds": ZERO,
        "collected_net": money("33.89"),
        "recognised_mrr": money("33.89"),
        "billing_timing": money("20.00"),
        "invoiced_uncollectible": ZERO,
        "invoiced_open": ZERO,
        "collection_timing": money("-25.00"),
    },
    # invoiced: in_2 19.99 x 1.081708 = 21.62334292 -> 21.62. Collected: ch_1 25.00 + in_2 out of band
    # 21.62334292 -> 21.62 = 46.62. MRR 0 (c2 churned): billing_timing = 21.62 - 0 = 21.62;
    # collection_timing = 46.62 - (21.62 - 0 - 0) = 25.00 (in_3, issued in February).
    # Check: 0 + 21.62 + 0 + 0 - 0 - 0 - 0 + 25.00 = 46.62 = collected_net.
    date(2024, 3, 1): {
        "invoiced_subscription": money("21.62"),
        "invoiced_prorations": ZERO,
        "invoiced_one_off": ZERO,
        "invoiced_total": money("21.62"),
        "collected_charges": money("25.00"),
        "collected_out_of_band": money("21.62"),
        "refunds": ZERO,
        "collected_net": money("46.62"),
        "recognised_mrr": ZERO,
        "billing_timing": money("21.62"),
        "invoiced_uncollectible": ZERO,
        "invoiced_open": ZERO,
        "collection_timing": money("25.00"),
    },
}


def reconciliation_by_month(query, schema: str) -> dict[date, dict]:
    rows = query(f"select month, {', '.join(COLUMNS)} from {schema}rpt_revenue_reconciliation order by month")
    return {row[0]: dict(zip(COLUMNS, row[1:], strict=True)) for row in rows}


def test_reconciliation_tests_ran(duckdb_build):
    _, run = duckdb_build
    run.assert_ok()
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in run.results}
    assert statuses["test_rpt_revenue_reconciliation_waterfall"] == "pass"
    assert statuses["assert_revenue_reconciliation_ties_out"] == "pass"


def test_rpt_revenue_reconciliation_rows(duckdb_query):
    assert reconciliation_by_month(duckdb_query, "marts.") == EXPECTED


def test_collected_adds_up_to_lifetime_revenue(duckdb_query):
    """Over all months, cash collected = the customers' lifetime revenue: 33.89 + 46.62 = 80.51 =
    c1 25.00 + c2 33.89 + cus_c 21.62 (dim_customers rounds each customer to cents)."""
    [(collected,)] = duckdb_query("select sum(collected_net) from marts.rpt_revenue_reconciliation")
    [(lifetime,)] = duckdb_query("select sum(lifetime_revenue) from marts.dim_customers")
    assert collected == lifetime == money("80.51")


@pytest.mark.postgres
def test_postgres_reconciliation_identical(postgres_build, duckdb_query):
    run, query = postgres_build
    run.assert_ok()
    sql = "select * from {}rpt_revenue_reconciliation order by month"
    assert query(sql.format(PG_SCHEMA_PREFIX + "marts.")) == duckdb_query(sql.format("marts."))
    assert reconciliation_by_month(query, PG_SCHEMA_PREFIX + "marts.") == EXPECTED
