"""notebooks/clv.ipynb runs top to bottom against a serving file, draws its three charts, evaluates the
published sBG and BG/NBD parameters as computed here by hand, and skips (with a printed line) the chart of a
model that was not fitted.

The serving file is built by hand with the published marts' columns (docs/marts.md#the-marts): the
notebook must read nothing else.
    sBG 'billing_period:month' alpha = 1, beta = 1: S(t) = B(1, 1 + t) / B(1, 1) = 1 / (1 + t), S(2) = 1/3.
    sBG 'all' alpha = 2, beta = 3: S(1) = beta / (alpha + beta) = 3/5, S(2) = 3/5 x 4/6 = 2/5.
    BG/NBD 'all' r = 1, alpha = 182 days, a = 1, b = 3; the grid's age T is 52 weeks = 364 days:
        x = 1, t_x = T: 1 / (1 + a / b) = 3/4;
        x = 2, t_x = 26 weeks = 182 days: 1 / (1 + a / (b + 1) x (546 / 364)^3) = 1 / (1 + 27/32) = 32/59.
    Logo retention (rpt_cohort_retention), cohorts of 10 (2023-12), 40 (2024-01) and 20 (2024-02) customers:
        month 1: (10 x 0.9 + 40 x 0.5 + 20 x 1.0) / 70 = 0.7; month 2: (10 x 0.8 + 40 x 0.25) / 50 = 0.36;
        month 3 holds only the 10 customers of 2023-12, fewer than the 30 the notebook draws.
    By billing interval (rpt_cohort_retention_by_dimension): 'month' (35 customers) 1, 0.4, 0.2; 'year' has
    only 5 customers and is not drawn; the segment cut is ignored.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.notebooks.runner import execute_with_probe

MODELS = ("sbg", "bg_nbd", "gamma_gamma")
BGNBD_SKIPPED = "BG/NBD is not fitted for segment 'all'"
SBG_SKIPPED = "sBG is not fitted for any segment"

# model, segment, parameter, value, time_unit
PARAMETERS = [
    ("sbg", "all", "alpha", 2.0, "billing_period"),
    ("sbg", "all", "beta", 3.0, "billing_period"),
    ("sbg", "billing_period:month", "alpha", 1.0, "month"),
    ("sbg", "billing_period:month", "beta", 1.0, "month"),
    ("sbg", "billing_period:3_months", "alpha", 0.5, "3_months"),
    ("sbg", "billing_period:3_months", "beta", 4.0, "3_months"),
    ("bg_nbd", "all", "r", 1.0, "day"),
    ("bg_nbd", "all", "alpha", 182.0, "day"),
    ("bg_nbd", "all", "a", 1.0, "day"),
    ("bg_nbd", "all", "b", 3.0, "day"),
    ("gamma_gamma", "all", "p", 6.0, "reporting_currency"),
    ("gamma_gamma", "all", "q", 4.0, "reporting_currency"),
    ("gamma_gamma", "all", "gamma", 15.0, "reporting_currency"),
]


def _serving(path: Path, models: tuple[str, ...]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        # Five customers: f1 never bought (no prediction), f2 has not paid back its CAC, f5 is a whale.
        con.execute(
            """
            create table marts.fct_customer_clv as
            select customer_id,
                   lifetime_revenue::decimal(18, 2) as lifetime_revenue, cac::decimal(18, 2) as cac,
                   historical_clv_net::decimal(18, 2) as historical_clv_net,
                   clv_cac_ratio::decimal(18, 4) as clv_cac_ratio,
                   cac_payback_months::decimal(10, 1) as cac_payback_months,
                   p_alive::decimal(10, 6) as p_alive,
                   expected_purchases_12m::decimal(18, 6) as expected_purchases_12m,
                   expected_spend_per_purchase::decimal(18, 2) as expected_spend_per_purchase,
                   expected_renewals_12m::decimal(18, 6) as expected_renewals_12m,
                   expected_subscription_revenue_12m::decimal(18, 2) as expected_subscription_revenue_12m,
                   expected_purchase_revenue_12m::decimal(18, 2) as expected_purchase_revenue_12m,
                   predicted_clv_12m::decimal(18, 2) as predicted_clv_12m,
                   discounted_expected_residual_lifetime::decimal(18, 6)
                       as discounted_expected_residual_lifetime,
                   discounted_expected_residual_value::decimal(18, 2) as discounted_expected_residual_value
            from (values
                ('f1', 0, null, 0, null, null, null, null, null, null, null, null, null, null, null),
                ('f2', 50, 200, -150, 0.25, 8.0, 1.0, null, null, 5.5, 275, null, 275, 9.0, 450),
                ('f3', 300, 100, 200, 3.0, 2.0, 0.0, null, null, 0.0, 0, null, 0, 0.0, 0),
                ('f4', 120, 0, 120, null, 0.0, 0.6, 1.5, 40, null, null, 60, 60, null, null),
                ('f5', 250000, 1000, 249000, 250.0, 0.5, 1.0, 3.0, 900, 11.0, 22000, 2700, 24700, 20.0, 40000)
            ) as t(customer_id, lifetime_revenue, cac, historical_clv_net, clv_cac_ratio, cac_payback_months,
                   p_alive, expected_purchases_12m, expected_spend_per_purchase, expected_renewals_12m,
                   expected_subscription_revenue_12m, expected_purchase_revenue_12m, predicted_clv_12m,
                   discounted_expected_residual_lifetime, discounted_expected_residual_value)
            """
        )
        con.execute(
            """
            create table marts.clv_model_parameters (
                model varchar, segment varchar, parameter varchar, value double precision,
                standard_error double precision, log_likelihood double precision, n_customers integer,
                time_unit varchar, converged boolean, fitted_at timestamp
            )
            """
        )
        rows = [row for row in PARAMETERS if row[0] in models]
        if rows:
            con.executemany(
                "insert into marts.clv_model_parameters "
                "values (?, ?, ?, ?, 0.1, -100.0, 50, ?, true, timestamp '2024-03-31 06:00:00')",
                rows,
            )
        con.execute(
            """
            create table marts.rpt_cohort_retention as
            select cohort_month::date as cohort_month, months_since_start::integer as months_since_start,
                   cohort_customers::bigint as cohort_customers, active_customers::bigint as active_customers,
                   logo_retention::decimal(10, 6) as logo_retention,
                   starting_mrr::decimal(18, 2) as starting_mrr,
                   mrr::decimal(18, 2) as mrr, net_revenue_retention::decimal(10, 6) as net_revenue_retention,
                   gross_revenue_retention::decimal(10, 6) as gross_revenue_retention
            from (values
                ('2023-12-01', 0, 10, 10, 1.0, 1000.00, 1000.00, 1.0, 1.0),
                ('2023-12-01', 1, 10, 9, 0.9, 1000.00, 900.00, 0.9, 0.9),
                ('2023-12-01', 2, 10, 8, 0.8, 1000.00, 800.00, 0.8, 0.8),
                ('2023-12-01', 3, 10, 7, 0.7, 1000.00, 700.00, 0.7, 0.7),
                ('2024-01-01', 0, 40, 40, 1.0, 4000.00, 4000.00, 1.0, 1.0),
                ('2024-01-01', 1, 40, 20, 0.5, 4000.00, 2000.00, 0.5, 0.5),
                ('2024-01-01', 2, 40, 10, 0.25, 4000.00, 1000.00, 0.25, 0.25),
                ('2024-02-01', 0, 20, 20, 1.0, 2000.00, 2000.00, 1.0, 1.0),
                ('2024-02-01', 1, 20, 20, 1.0, 2000.00, 2000.00, 1.0, 1.0)
            ) as t(cohort_month, months_since_start, cohort_customers, active_customers, logo_retention,
                   starting_mrr, mrr, net_revenue_retention, gross_revenue_retention)
            """
        )
        con.execute(
            """
            create table marts.rpt_cohort_retention_by_dimension as
            select dimension, dimension_value, cohort_month::date as cohort_month,
                   months_since_start::integer as months_since_start,
                   cohort_customers::bigint as cohort_customers, active_customers::bigint as active_customers,
                   logo_retention::decimal(10, 6) as logo_retention
            from (values
                ('billing_interval', 'month', '2024-01-01', 0, 35, 35, 1.0),
                ('billing_interval', 'month', '2024-01-01', 1, 35, 14, 0.4),
                ('billing_interval', 'month', '2024-01-01', 2, 35, 7, 0.2),
                ('billing_interval', 'year', '2024-01-01', 0, 5, 5, 1.0),
                ('billing_interval', 'year', '2024-01-01', 1, 5, 5, 1.0),
                ('segment', 'smb', '2024-01-01', 0, 40, 40, 1.0),
                ('segment', 'smb', '2024-01-01', 1, 40, 1, 0.025)
            ) as t(dimension, dimension_value, cohort_month, months_since_start, cohort_customers,
                   active_customers, logo_retention)
            """
        )


# Run after the notebook in the same kernel: what it computed, as JSON on stdout.
PROBE = """
import json
_names = globals()
print("PROBE" + json.dumps({
    "historical": sorted(historical.tolist()),
    "predicted": sorted(predicted.tolist()),
    "actual": [[int(m), round(s, 12)] for m, s in zip(actual["months_since_start"], actual["survival"])],
    "actual_by_interval": {
        interval: [[int(m), round(s, 12)] for m, s in zip(rows["months_since_start"], rows["survival"])]
        for interval, rows in actual_by_interval.items()
    } if "actual_by_interval" in _names else None,
    "curves": {k: v[:3].tolist() for k, v in _names["curves"].items()} if "curves" in _names else None,
    "p_alive_grid": _names["p_alive_grid"].tolist() if "p_alive_grid" in _names else None,
}))
"""


def _run(tmp_path: Path, monkeypatch, models: tuple[str, ...]) -> tuple[list, str, dict]:
    """Execute the notebook on a serving file with ``models`` fitted: (outputs, printed text, probe)."""
    serving = tmp_path / "serving.duckdb"
    _serving(serving, models)
    monkeypatch.setenv("CLM_SERVING_DB", str(serving))
    outputs, probe_text = execute_with_probe("clv.ipynb", tmp_path, PROBE)
    printed = "".join(o.text for o in outputs if o.output_type == "stream")
    return outputs, printed, json.loads(probe_text.split("PROBE", 1)[1])


def _images(outputs: list) -> int:
    return sum("image/png" in o.get("data", {}) for o in outputs)


def test_clv_notebook_draws_and_evaluates_the_published_models(tmp_path: Path, monkeypatch) -> None:
    outputs, printed, computed = _run(tmp_path, monkeypatch, MODELS)

    assert _images(outputs) == 3  # the CLV histograms, the P(alive) heatmap and the survival curves
    assert BGNBD_SKIPPED not in printed and SBG_SKIPPED not in printed
    assert "5 customers" in printed
    # Nulls dropped: f1 has no prediction.
    assert computed["historical"] == [-150.0, 0.0, 120.0, 200.0, 249000.0]
    assert computed["predicted"] == [0.0, 60.0, 275.0, 24700.0]

    curves = computed["curves"]
    assert set(curves) == {"all", "billing_period:month", "billing_period:3_months"}
    assert curves["billing_period:month"] == pytest.approx([1.0, 1 / 2, 1 / 3], abs=1e-12)
    assert curves["all"] == pytest.approx([1.0, 3 / 5, 2 / 5], abs=1e-12)
    # alpha = 0.5, beta = 4: S(1) = 4 / 4.5, S(2) = S(1) x 5 / 5.5
    assert curves["billing_period:3_months"] == pytest.approx([1.0, 8 / 9, 8 / 9 * 10 / 11], abs=1e-12)

    grid = computed["p_alive_grid"]  # frequency 0..20 x recency 0..52 weeks
    assert (len(grid), len(grid[0])) == (21, 53)
    assert grid[0] == [1.0] * 53  # no repeat purchase: alive
    assert grid[1][52] == pytest.approx(3 / 4, abs=1e-12)
    assert grid[2][26] == pytest.approx(32 / 59, abs=1e-12)
    # Longer silence after the same number of purchases: less likely alive.
    assert grid[5][10] < grid[5][30] < grid[5][52]

    assert computed["actual"] == [[0, 1.0], [1, 0.7], [2, 0.36]]
    assert computed["actual_by_interval"] == {"month": [[0, 1.0], [1, 0.4], [2, 0.2]]}


@pytest.mark.parametrize(
    ("models", "images", "skipped"),
    [
        (("sbg", "gamma_gamma"), 2, (BGNBD_SKIPPED,)),  # BG/NBD 'all' did not converge
        (("bg_nbd", "gamma_gamma"), 2, (SBG_SKIPPED,)),
        ((), 1, (BGNBD_SKIPPED, SBG_SKIPPED)),
    ],
)
def test_clv_notebook_skips_the_chart_of_a_model_not_fitted(
    tmp_path: Path, monkeypatch, models: tuple[str, ...], images: int, skipped: tuple[str, ...]
) -> None:
    outputs, printed, computed = _run(tmp_path, monkeypatch, models)

    assert _images(outputs) == images
    for line in skipped:
        assert line in printed
    assert (computed["p_alive_grid"] is None) is ("bg_nbd" not in models)
    assert (computed["curves"] is None) is ("sbg" not in models)


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
