"""Constant-currency MRR movements, fx_impact and the bridge (docs/marts.md#fx-impact, issue 14) on
fx_fixture.py, as of 2024-03-31, with the user's own FX table (var fx_rates_relation = fx_user.monthly_rates,
not the seed), in reporting currency USD and EUR (var reporting_currency), on DuckDB and Postgres.

Every number is computed by hand from fx_fixture.py's rates and amounts; each customer-month figure is the
exact amount x rate rounded once to the cent (half away from zero). EUR reporting uses cross rates
rate / rate(EUR) rounded at the 10th decimal (macro clm_fx_rates): USD 1 / 1.10 = 0.9090909091 (Jan),
1 / 1.20 = 0.8333333333 (Feb), 1 / 1.15 = 0.8695652174 (Mar); JPY 0.0070 / 1.10 = 0.0063636364,
0.0069 / 1.20 = 0.00575, 0.00685 / 1.15 = 0.0059565217; GBP 1.30 / 1.20 = 1.0833333333,
1.30 / 1.15 = 1.1304347826.
Cohort retention by segment: fx_fixture.SEGMENTS (F enterprise, I smb, every other customer unknown).
"""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from tests.dbt import fx_fixture, raw_fixture
from tests.dbt.conftest import WITHOUT_CLV_PHASE, build_duckdb, build_postgres, run_dbt

SELECT = [
    "--select", "+rpt_mrr_bridge+", "+rpt_cohort_retention", "+rpt_kpis_monthly", "+dim_customers",
    "--indirect-selection", "cautious",
]  # fmt: skip
JAN, FEB, MAR = (date(2024, m, 1) for m in (1, 2, 3))
CF, CG, CH, CI, CJ, CK, CM = ("cus_f", "cus_g", "cus_h", "cus_i", "cus_j", "cus_k", "cus_m")


def d(text: str) -> Decimal:
    return Decimal(text)


# billing customer, month: mrr, previous_mrr, previous_mrr_at_current_rate, mrr_change, fx_impact, movement
MOVEMENTS = {
    "USD": [
        # F: EUR 100 x 1.10 = 110.00
        (CF, JAN, "110.00", "0.00", "0.00", "110.00", "0.00", "new"),
        # EUR 100 x 1.20 = 120.00 = January's EUR 100 at February's rate: retained (the old comparison with
        # 110.00 called it expansion); fx_impact = 120.00 - 110.00 = +10.00
        (CF, FEB, "120.00", "110.00", "120.00", "0.00", "10.00", "retained"),
        # 100 x 1.15 = 115.00; fx_impact = 115.00 - 120.00 = -5.00
        (CF, MAR, "115.00", "120.00", "115.00", "0.00", "-5.00", "retained"),
        (CG, JAN, "110.00", "0.00", "0.00", "110.00", "0.00", "new"),
        # EUR 150 x 1.20 = 180.00 vs 120.00: expansion +60.00 (= EUR 50 x 1.20), fx_impact +10.00
        (CG, FEB, "180.00", "110.00", "120.00", "60.00", "10.00", "expansion"),
        # 150 x 1.15 = 172.50; fx_impact = 172.50 - 180.00 = -7.50
        (CG, MAR, "172.50", "180.00", "172.50", "0.00", "-7.50", "retained"),
        # H: EUR 80 x 1.10 = 88.00; x 1.20 = 96.00 (fx_impact +8.00)
        (CH, JAN, "88.00", "0.00", "0.00", "88.00", "0.00", "new"),
        (CH, FEB, "96.00", "88.00", "96.00", "0.00", "8.00", "retained"),
        # churn of February's EUR 80 at March's rate, 80 x 1.15 = 92.00; fx_impact = 92.00 - 96.00 = -4.00
        (CH, MAR, "0.00", "96.00", "92.00", "-92.00", "-4.00", "churn"),
        # I: USD, no FX effect
        (CI, JAN, "50.00", "0.00", "0.00", "50.00", "0.00", "new"),
        (CI, FEB, "50.00", "50.00", "50.00", "0.00", "0.00", "retained"),
        (CI, MAR, "50.00", "50.00", "50.00", "0.00", "0.00", "retained"),
        (CJ, JAN, "110.00", "0.00", "0.00", "110.00", "0.00", "new"),
        # EUR 95 x 1.20 = 114.00 vs 120.00: contraction -6.00 (in dollars it went up from 110.00); fx +10.00
        (CJ, FEB, "114.00", "110.00", "120.00", "-6.00", "10.00", "contraction"),
        # 95 x 1.15 = 109.25; fx_impact = 109.25 - 114.00 = -4.75
        (CJ, MAR, "109.25", "114.00", "109.25", "0.00", "-4.75", "retained"),
        # K: 4980 x 0.0070 = 34.86; x 0.0069 = 34.362 -> 34.36 (fx -0.50);
        # x 0.00685 = 34.113 -> 34.11 (fx -0.25)
        (CK, JAN, "34.86", "0.00", "0.00", "34.86", "0.00", "new"),
        (CK, FEB, "34.36", "34.86", "34.36", "0.00", "-0.50", "retained"),
        (CK, MAR, "34.11", "34.36", "34.11", "0.00", "-0.25", "retained"),
        # M: GBP 200 x 1.30 = 260.00 in February and March (GBP flat): fx 0
        (CM, FEB, "260.00", "0.00", "0.00", "260.00", "0.00", "new"),
        (CM, MAR, "260.00", "260.00", "260.00", "0.00", "0.00", "retained"),
    ],
    "EUR": [
        # EUR customers in EUR: no FX effect at all
        (CF, JAN, "100.00", "0.00", "0.00", "100.00", "0.00", "new"),
        (CF, FEB, "100.00", "100.00", "100.00", "0.00", "0.00", "retained"),
        (CF, MAR, "100.00", "100.00", "100.00", "0.00", "0.00", "retained"),
        (CG, JAN, "100.00", "0.00", "0.00", "100.00", "0.00", "new"),
        (CG, FEB, "150.00", "100.00", "100.00", "50.00", "0.00", "expansion"),
        (CG, MAR, "150.00", "150.00", "150.00", "0.00", "0.00", "retained"),
        (CH, JAN, "80.00", "0.00", "0.00", "80.00", "0.00", "new"),
        (CH, FEB, "80.00", "80.00", "80.00", "0.00", "0.00", "retained"),
        (CH, MAR, "0.00", "80.00", "80.00", "-80.00", "0.00", "churn"),
        # I: USD 50 x 0.9090909091 = 45.454545455 -> 45.45
        (CI, JAN, "45.45", "0.00", "0.00", "45.45", "0.00", "new"),
        # 50 x 0.8333333333 = 41.666666665 -> 41.67: retained, fx_impact = 41.67 - 45.45 = -3.78
        (CI, FEB, "41.67", "45.45", "41.67", "0.00", "-3.78", "retained"),
        # 50 x 0.8695652174 = 43.47826087 -> 43.48: fx_impact = 43.48 - 41.67 = +1.81
        (CI, MAR, "43.48", "41.67", "43.48", "0.00", "1.81", "retained"),
        (CJ, JAN, "100.00", "0.00", "0.00", "100.00", "0.00", "new"),
        (CJ, FEB, "95.00", "100.00", "100.00", "-5.00", "0.00", "contraction"),
        (CJ, MAR, "95.00", "95.00", "95.00", "0.00", "0.00", "retained"),
        # K: 4980 x 0.0063636364 = 31.690909272 -> 31.69
        (CK, JAN, "31.69", "0.00", "0.00", "31.69", "0.00", "new"),
        # 4980 x 0.00575 = 28.635 -> 28.64 (half up); fx_impact = 28.64 - 31.69 = -3.05
        (CK, FEB, "28.64", "31.69", "28.64", "0.00", "-3.05", "retained"),
        # 4980 x 0.0059565217 = 29.663478066 -> 29.66; fx_impact = 29.66 - 28.64 = +1.02
        (CK, MAR, "29.66", "28.64", "29.66", "0.00", "1.02", "retained"),
        # M: GBP 200 x 1.0833333333 = 216.66666666 -> 216.67
        (CM, FEB, "216.67", "0.00", "0.00", "216.67", "0.00", "new"),
        # 200 x 1.1304347826 = 226.08695652 -> 226.09; fx_impact = 226.09 - 216.67 = +9.42
        (CM, MAR, "226.09", "216.67", "226.09", "0.00", "9.42", "retained"),
    ],
}

# month: starting, new, expansion, reactivation, contraction, churned, fx_impact, ending
BRIDGE = {
    "USD": [
        # 110 + 110 + 88 + 50 + 110 + 34.86 = 502.86
        (JAN, "0.00", "502.86", "0.00", "0.00", "0.00", "0.00", "0.00", "502.86"),
        # 502.86 + 260.00 + 60.00 - 6.00 + (10 + 10 + 8 + 10 - 0.50 = 37.50) = 854.36
        # = 120 + 180 + 96 + 50 + 114 + 34.36 + 260
        (FEB, "502.86", "260.00", "60.00", "0.00", "6.00", "0.00", "37.50", "854.36"),
        # 854.36 - 92.00 + (-5 - 7.50 - 4 - 4.75 - 0.25 = -21.50) = 740.86
        # = 115 + 172.50 + 50 + 109.25 + 34.11 + 260
        (MAR, "854.36", "0.00", "0.00", "0.00", "0.00", "92.00", "-21.50", "740.86"),
    ],
    "EUR": [
        # 100 + 100 + 80 + 45.45 + 100 + 31.69 = 457.14
        (JAN, "0.00", "457.14", "0.00", "0.00", "0.00", "0.00", "0.00", "457.14"),
        # 457.14 + 216.67 + 50.00 - 5.00 + (-3.78 - 3.05 = -6.83) = 711.98
        # = 100 + 150 + 80 + 41.67 + 95 + 28.64 + 216.67
        (FEB, "457.14", "216.67", "50.00", "0.00", "5.00", "0.00", "-6.83", "711.98"),
        # 711.98 - 80.00 + (1.81 + 1.02 + 9.42 = 12.25) = 644.23 = 100 + 150 + 43.48 + 95 + 29.66 + 226.09
        (MAR, "711.98", "0.00", "0.00", "0.00", "0.00", "80.00", "12.25", "644.23"),
    ],
}

# month: starting, new, expansion, reactivation, contraction, churned, retained, ending customers; the same in
# both currencies. February: 1 expansion (G) and 1 contraction (J); comparing dollars month to month would
# have given 4 expansions (F, G, H, J) and 1 contraction (K).
COUNTS = {
    JAN: (0, 6, 0, 0, 0, 0, 0, 6),
    FEB: (6, 1, 1, 0, 1, 0, 4, 7),
    MAR: (7, 0, 0, 0, 0, 1, 6, 6),
}

# cohort_month, k: starting_mrr, mrr, net_revenue_retention, starting_mrr_at_current_rate,
# net_revenue_retention_constant_currency. The January cohort's starting lines are F, G, J EUR 100, H EUR 80,
# I USD 50, K JPY 4980; February's is M's GBP 200.
COHORTS = {
    "USD": [
        (JAN, 0, "502.86", "502.86", "1.000000", "502.86", "1.000000"),
        # mrr 120 + 180 + 96 + 50 + 114 + 34.36 = 594.36; 594.36 / 502.86 = 1.18195919... -> 1.181959;
        # starting lines at Feb's rate 120 + 120 + 96 + 50 + 120 + 34.36 = 540.36; 594.36 / 540.36 = 1.0999333
        (JAN, 1, "502.86", "594.36", "1.181959", "540.36", "1.099933"),
        # mrr 115 + 172.50 + 0 + 50 + 109.25 + 34.11 = 480.86; / 502.86 = 0.95625025 -> 0.956250;
        # at Mar's rate 115 + 115 + 92 + 50 + 115 + 34.11 = 521.11; 480.86 / 521.11 = 0.92276103 -> 0.922761
        (JAN, 2, "502.86", "480.86", "0.956250", "521.11", "0.922761"),
        (FEB, 0, "260.00", "260.00", "1.000000", "260.00", "1.000000"),
        (FEB, 1, "260.00", "260.00", "1.000000", "260.00", "1.000000"),
    ],
    "EUR": [
        (JAN, 0, "457.14", "457.14", "1.000000", "457.14", "1.000000"),
        # mrr 100 + 150 + 80 + 41.67 + 95 + 28.64 = 495.31; / 457.14 = 1.08349739 -> 1.083497;
        # at Feb's rates 100 + 100 + 80 + 41.67 + 100 + 28.64 = 450.31;
        # 495.31 / 450.31 = 1.09993116 -> 1.099931
        (JAN, 1, "457.14", "495.31", "1.083497", "450.31", "1.099931"),
        # mrr 100 + 150 + 0 + 43.48 + 95 + 29.66 = 418.14; / 457.14 = 0.91468697 -> 0.914687;
        # at Mar's rates 100 + 100 + 80 + 43.48 + 100 + 29.66 = 453.14;
        # 418.14 / 453.14 = 0.92276117 -> 0.922761
        (JAN, 2, "457.14", "418.14", "0.914687", "453.14", "0.922761"),
        (FEB, 0, "216.67", "216.67", "1.000000", "216.67", "1.000000"),
        # 226.09 / 216.67 = 1.04347626 -> 1.043476; at March's rate both are 226.09: 1
        (FEB, 1, "216.67", "226.09", "1.043476", "226.09", "1.000000"),
    ],
}

# rpt_cohort_retention_by_dimension, dimension segment (fx_fixture.SEGMENTS: F enterprise, I smb, the others
# unknown): segment value, cohort_month, k: starting_mrr, mrr, starting_mrr_at_current_rate,
# net_revenue_retention_constant_currency. Per cell the three values add up to the whole base's COHORTS row.
COHORT_SEGMENTS = {
    "USD": [
        # F: EUR 100 at 1.10 / 1.20 / 1.15, its starting line revalued the same: 1 throughout
        ("enterprise", JAN, 0, "110.00", "110.00", "110.00", "1.000000"),
        ("enterprise", JAN, 1, "110.00", "120.00", "120.00", "1.000000"),
        ("enterprise", JAN, 2, "110.00", "115.00", "115.00", "1.000000"),
        # I: USD 50, no FX
        ("smb", JAN, 0, "50.00", "50.00", "50.00", "1.000000"),
        ("smb", JAN, 1, "50.00", "50.00", "50.00", "1.000000"),
        ("smb", JAN, 2, "50.00", "50.00", "50.00", "1.000000"),
        # G, H, J, K: starting 110 + 88 + 110 + 34.86 = 342.86;
        # k1 mrr 180 + 96 + 114 + 34.36 = 424.36, starting lines at Feb's rate 120 + 96 + 120 + 34.36 =
        # 370.36,
        # 424.36 / 370.36 = 1.1458040825 -> 1.145804 (with F's 120 and I's 50: 540.36, the whole base's);
        # k2 mrr 172.50 + 0 + 109.25 + 34.11 = 315.86, at Mar's rate 115 + 92 + 115 + 34.11 = 356.11,
        # 315.86 / 356.11 = 0.8869731263 -> 0.886973 (+ 115 + 50 = 521.11)
        ("unknown", JAN, 0, "342.86", "342.86", "342.86", "1.000000"),
        ("unknown", JAN, 1, "342.86", "424.36", "370.36", "1.145804"),
        ("unknown", JAN, 2, "342.86", "315.86", "356.11", "0.886973"),
        # M: GBP 200 x 1.30 both months
        ("unknown", FEB, 0, "260.00", "260.00", "260.00", "1.000000"),
        ("unknown", FEB, 1, "260.00", "260.00", "260.00", "1.000000"),
    ],
    "EUR": [
        ("enterprise", JAN, 0, "100.00", "100.00", "100.00", "1.000000"),
        ("enterprise", JAN, 1, "100.00", "100.00", "100.00", "1.000000"),
        ("enterprise", JAN, 2, "100.00", "100.00", "100.00", "1.000000"),
        # I: USD 50 = 45.45 / 41.67 / 43.48 EUR, its starting line revalued the same: 1 throughout
        ("smb", JAN, 0, "45.45", "45.45", "45.45", "1.000000"),
        ("smb", JAN, 1, "45.45", "41.67", "41.67", "1.000000"),
        ("smb", JAN, 2, "45.45", "43.48", "43.48", "1.000000"),
        # G, H, J, K: starting 100 + 80 + 100 + 31.69 = 311.69;
        # k1 mrr 150 + 80 + 95 + 28.64 = 353.64, at Feb's rates 100 + 80 + 100 + 28.64 = 308.64,
        # 353.64 / 308.64 = 1.1458009331 -> 1.145801 (+ 100 + 41.67 = 450.31);
        # k2 mrr 150 + 0 + 95 + 29.66 = 274.66, at Mar's rates 100 + 80 + 100 + 29.66 = 309.66,
        # 274.66 / 309.66 = 0.8869728089 -> 0.886973 (+ 100 + 43.48 = 453.14)
        ("unknown", JAN, 0, "311.69", "311.69", "311.69", "1.000000"),
        ("unknown", JAN, 1, "311.69", "353.64", "308.64", "1.145801"),
        ("unknown", JAN, 2, "311.69", "274.66", "309.66", "0.886973"),
        # M: 216.67, then 226.09 = its starting GBP 200 at March's cross rate
        ("unknown", FEB, 0, "216.67", "216.67", "216.67", "1.000000"),
        ("unknown", FEB, 1, "216.67", "226.09", "226.09", "1.000000"),
    ],
}

MOVEMENT_SQL = (
    "select billing_customer_id, m.month, m.mrr, m.previous_mrr, m.previous_mrr_at_current_rate, "
    "m.mrr_change, m.fx_impact, m.movement from {marts}.fct_mrr_movements as m "
    "inner join {intermediate}.int_identity__billing_customer_matches as b on b.customer_id = m.customer_id "
    "order by billing_customer_id, m.month"
)
BRIDGE_SQL = (
    "select month, starting_mrr, new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr, churned_mrr, "
    "fx_impact_mrr, ending_mrr from {marts}.rpt_mrr_bridge order by month"
)
COUNTS_SQL = (
    "select month, starting_customers, new_customers, expansion_customers, reactivation_customers, "
    "contraction_customers, churned_customers, retained_customers, ending_customers "
    "from {marts}.rpt_mrr_bridge order by month"
)
COHORT_SQL = (
    "select cohort_month, months_since_start, starting_mrr, mrr, net_revenue_retention, "
    "starting_mrr_at_current_rate, net_revenue_retention_constant_currency from {marts}.rpt_cohort_retention "
    "order by cohort_month, months_since_start"
)

COHORT_SEGMENT_SQL = (
    "select dimension_value, cohort_month, months_since_start, starting_mrr, mrr, "
    "starting_mrr_at_current_rate, net_revenue_retention_constant_currency "
    "from {marts}.rpt_cohort_retention_by_dimension "
    "where dimension = 'segment' order by dimension_value, cohort_month, months_since_start"
)


def expected_movements(currency: str) -> list[tuple]:
    return sorted((c, m, *(d(x) for x in amounts[:5]), amounts[5]) for c, m, *amounts in MOVEMENTS[currency])


def expected_bridge(currency: str) -> list[tuple]:
    return [(m, *(d(x) for x in amounts)) for m, *amounts in BRIDGE[currency]]


def expected_cohorts(currency: str) -> list[tuple]:
    return [(c, k, *(d(x) for x in amounts)) for c, k, *amounts in COHORTS[currency]]


def expected_cohort_segments(currency: str) -> list[tuple]:
    return [(v, c, k, *(d(x) for x in amounts)) for v, c, k, *amounts in COHORT_SEGMENTS[currency]]


def dbt_vars(currency: str) -> dict[str, str]:
    return {"reporting_currency": currency, "fx_rates_relation": fx_fixture.FX_RATES_RELATION}


def assert_build_ok(run) -> None:
    run.assert_nothing_failed()
    tests = run.data_test_statuses()
    # the invariant, and the coverage test applied to the user's FX table
    assert tests.get("assert_mrr_bridge_reconciles") == "pass", tests
    assert tests.get("assert_fx_rates_cover_every_currency_and_month") == "pass", tests
    assert tests.get("assert_cohort_cuts_add_up_to_all") == "pass", tests


@pytest.fixture(scope="module", params=["USD", "EUR"])
def fx_duckdb(request, tmp_path_factory):
    currency = request.param
    workdir = tmp_path_factory.mktemp(f"dbt_fx_duckdb_{currency}")
    build = build_duckdb(
        workdir, fx_fixture.load, ["build", *SELECT], as_of=fx_fixture.AS_OF, **dbt_vars(currency)
    )
    return currency, build.run, build.query, build.database, build.env


def test_fx_build_passes(fx_duckdb):
    _, run, _, _, _ = fx_duckdb
    assert_build_ok(run)


def test_movements_at_constant_currency(fx_duckdb):
    currency, run, query, _, _ = fx_duckdb
    run.assert_ok()
    rows = query(MOVEMENT_SQL.format(marts="marts", intermediate="intermediate"))
    assert rows == expected_movements(currency)


def test_bridge_with_fx_impact(fx_duckdb):
    currency, run, query, _, _ = fx_duckdb
    run.assert_ok()
    assert query(BRIDGE_SQL.format(marts="marts")) == expected_bridge(currency)
    counts = {row[0]: row[1:] for row in query(COUNTS_SQL.format(marts="marts"))}
    assert counts == COUNTS


def test_cohort_constant_currency_nrr(fx_duckdb):
    currency, run, query, _, _ = fx_duckdb
    run.assert_ok()
    assert query(COHORT_SQL.format(marts="marts")) == expected_cohorts(currency)


def test_cohort_constant_currency_nrr_by_segment(fx_duckdb):
    currency, run, query, _, _ = fx_duckdb
    run.assert_ok()
    assert query(COHORT_SEGMENT_SQL.format(marts="marts")) == expected_cohort_segments(currency)


def test_current_mrr_and_kpis_agree_with_the_bridge(fx_duckdb):
    currency, run, query, _, _ = fx_duckdb
    run.assert_ok()
    ending = {month: amounts[-1] for month, *amounts in expected_bridge(currency)}
    # dim_customers.current_mrr is the as-of month's MRR: 740.86 USD / 644.23 EUR in all
    assert query("select sum(current_mrr) from marts.dim_customers") == [(ending[MAR],)]
    # rpt_kpis_monthly.mrr is each month's ending MRR
    kpis = dict(query("select month, mrr from marts.rpt_kpis_monthly where month >= date '2024-01-01'"))
    assert kpis == ending


def test_user_fx_table_gap_fails_the_coverage_test(fx_duckdb, tmp_path):
    currency, run, _, database, env = fx_duckdb
    run.assert_ok()
    copy = tmp_path / "gap.duckdb"
    shutil.copy(database, copy)
    conn = duckdb.connect(str(copy))
    try:
        conn.execute("delete from fx_user.monthly_rates where month = date '2024-02-01' and currency = 'CHF'")
    finally:
        conn.close()
    select = ["--select", "assert_fx_rates_cover_every_currency_and_month"]
    failed = run_dbt(
        ["test", *select],
        tmp_path,
        env | {"CLM_BUILD_DB": str(copy)},
        as_of=fx_fixture.AS_OF,
        **dbt_vars(currency),
    )
    statuses = [
        (r["status"], r.get("failures")) for r in failed.results if r["unique_id"].startswith("test.")
    ]
    # one (month, currency) without a rate: 2024-02 CHF
    assert statuses == [("fail", 1)], failed.output[-3000:]


@pytest.mark.postgres
@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_postgres_fx_identical(tmp_path_factory, currency):
    workdir = tmp_path_factory.mktemp(f"dbt_fx_postgres_{currency}")
    name = f"clm_fx_test_{currency.lower()}"
    args = ["build", *SELECT]
    with build_postgres(name, workdir, fx_fixture.load, args, fx_fixture.AS_OF, **dbt_vars(currency)) as pg:
        assert_build_ok(pg.run)
        movements = pg.query(MOVEMENT_SQL.format(marts=pg.marts, intermediate=pg.intermediate))
        assert movements == expected_movements(currency)
        assert pg.query(BRIDGE_SQL.format(marts=pg.marts)) == expected_bridge(currency)
        assert {row[0]: row[1:] for row in pg.query(COUNTS_SQL.format(marts=pg.marts))} == COUNTS
        assert pg.query(COHORT_SQL.format(marts=pg.marts)) == expected_cohorts(currency)
        assert pg.query(COHORT_SEGMENT_SQL.format(marts=pg.marts)) == expected_cohort_segments(currency)


def test_whole_project_builds_in_eur(tmp_path):
    """`dbt build` of every model, test and unit test on the raw_fixture.py layer with reporting_currency EUR
    and the seed's rates: unit tests pin their own currency (overrides), so a user's reporting currency
    never fails them, and every data test holds in EUR (the bridge reconciles, the FX seed covers)."""
    args = ["build", *WITHOUT_CLV_PHASE]
    # one of the few builds with unit tests (tests/dbt/conftest.py): what they pin is what this test is about
    run = build_duckdb(tmp_path, raw_fixture.load, args, unit_tests=True, reporting_currency="EUR").run
    run.assert_nothing_failed()
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in run.results}
    assert statuses["assert_mrr_bridge_reconciles"] == "pass"
    assert statuses["test_int_customer_months__mrr_reads_paying_periods"] == "pass"
