"""Predictive CLV through `clm generate` and `clm run`: the published clv_model_parameters recover the
parameters the extracts were simulated from (the outside check of the CLV issue, on our own generator).

The generator records its ground truth in _clm_generate.json (sBG theta ~ Beta(alpha, beta) per billing
period; BG/NBD in days; Gamma-Gamma in USD). Each fitted 'all' parameter must lie within 3.5 of its own
published standard errors of the truth (9 parameters: a false alarm about 0.4 % of the time if the estimates
were normal; one off by a quarter fails). 3,000 customers give ~1,000 subscribers and ~600 one-off buyers.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.dbt.conftest import run_dbt
from tests.test_end_to_end import clm, make_env, query

pytestmark = pytest.mark.slow

Z_MAX = 3.5


@pytest.fixture(scope="module")
def clv_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("e2e_clv")
    raw = tmp / "raw"
    env = make_env(tmp, raw)
    generated = clm("generate", "--out", str(raw), "--customers", "3000", "--seed", "5", env=env)
    assert generated.returncode == 0, generated.stderr
    run = clm("run", env=env)
    return {
        "run": run,
        "serving": tmp / "warehouse" / "serving.duckdb",
        "truth": json.loads((raw / "_clm_generate.json").read_text())["clv_ground_truth"],
    }


def test_the_run_publishes_the_clv_marts(clv_run: dict) -> None:
    run = clv_run["run"]
    assert run.returncode == 0, run.stdout + run.stderr
    counts = dict(
        query(
            clv_run["serving"],
            "select 'customers', count(*) from marts.dim_customers "
            "union all select 'clv', count(*) from marts.fct_customer_clv",
        )
    )
    assert counts["clv"] == counts["customers"] > 0


def test_the_clv_phase_unit_tests_pass_on_the_runs_build(clv_run: dict, tmp_path) -> None:
    # Production runs leave dbt unit tests to CI. Those of the CLV phase read the fits' tables, which only a
    # run writes (the other unit tests run in tests/dbt's fixture builds): they run here, on this run's build.
    build = clv_run["serving"].parent / "build" / "serving.duckdb"
    run = run_dbt(
        ["test", "--select", "test_type:unit,source:clv+"],
        tmp_path,
        {"CLM_BUILD_DB": str(build), "CLM_TARGET": "duckdb"},
        as_of="2026-10-31",
    )
    run.assert_ok()
    passed = sorted(r["unique_id"].rsplit(".", 1)[-1] for r in run.results if r["status"] == "pass")
    assert passed == [  # the unit tests of dbt_project/models/marts/clv/_clv__unit_tests.yml
        "test_fct_customer_clv_gross_margin",
        "test_fct_customer_clv_historical_and_predicted",
        "test_rpt_clv_by_cohort_channel_gross_margin",
        "test_rpt_clv_by_cohort_channel_rollup",
    ]


def test_fitted_at_is_the_as_of_date_not_the_clock(clv_run: dict) -> None:
    # the generator's default --end 2026-10-31 is the newest load date, hence the default as-of
    rows = query(clv_run["serving"], "select distinct fitted_at from marts.clv_model_parameters")
    assert rows == [(datetime(2026, 10, 31),)]


@pytest.mark.parametrize(
    ("model", "parameter"),
    [
        ("sbg", "alpha"),
        ("sbg", "beta"),
        ("bg_nbd", "r"),
        ("bg_nbd", "alpha"),
        ("bg_nbd", "a"),
        ("bg_nbd", "b"),
        ("gamma_gamma", "p"),
        ("gamma_gamma", "q"),
        ("gamma_gamma", "gamma"),
    ],
)
def test_segment_all_recovers_the_simulated_parameters(clv_run: dict, model: str, parameter: str) -> None:
    rows = query(
        clv_run["serving"],
        "select value, standard_error, time_unit, converged from marts.clv_model_parameters "
        f"where model = '{model}' and segment = 'all' and parameter = '{parameter}'",
    )
    assert len(rows) == 1, f"{model}.{parameter} was not fitted for segment 'all'"
    value, standard_error, time_unit, converged = rows[0]
    truth = clv_run["truth"][model]
    assert converged
    if "time_unit" in truth:
        assert time_unit == truth["time_unit"]
    z = abs(value - truth[parameter]) / standard_error
    fitted = f"{model}.{parameter}: fitted {value:.4g} +- {standard_error:.3g}"
    assert z < Z_MAX, f"{fitted}, truth {truth[parameter]}"


def test_customers_with_predictions_have_consistent_values(clv_run: dict) -> None:
    serving = clv_run["serving"]
    bad = query(
        serving,
        "select count(*) from marts.fct_customer_clv "
        "where p_alive < 0 or p_alive > 1 or expected_purchases_12m < 0 or expected_renewals_12m < 0 "
        "or expected_renewals_12m > 12",
    )
    assert bad == [(0,)]
    # one-off buyers get a BG/NBD P(alive) strictly between 0 and 1; repeat buyers an expected spend
    modelled = query(
        serving,
        "select count(*) from marts.fct_customer_clv where p_alive > 0 and p_alive < 1 "
        "and expected_spend_per_purchase > 0",
    )
    assert modelled[0][0] > 100
