"""clm.clv.pipeline: segments fitted, parameter rows, per-customer predictions, settings from dbt_project.yml.

The fits run on customers drawn with clm.clv.simulate (fixed seeds, so every fit converges the same way each
time); the edge cases use frames of a few hand-written rows. Expectations are recomputed from the published
parameter rows with the model modules (whose maths tests/clv/test_sbg.py etc. check against the papers) and,
for DERL and the 12-month renewals, by brute-force sums over the sBG survival function written out here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln

from clm.clv import bgnbd, gamma_gamma, pipeline, sbg, simulate
from clm.clv.bgnbd import BgnbdParams
from clm.clv.gamma_gamma import GammaGammaParams
from clm.clv.sbg import SbgParams

FITTED_AT = datetime(2024, 6, 30, 12, 30, 15)
REPO = Path(__file__).resolve().parents[2]
PREDICTION_NAMES = [name for name, _ in pipeline.PREDICTION_COLUMNS]
PARAMETER_NAMES = [name for name, _ in pipeline.PARAMETER_COLUMNS]
MONTHLY_DISCOUNT = 1.1 ** (1 / 12) - 1  # the default 10 % a year, per monthly period


# ------------------------------------------------------------------------------------------- input frames


def renewals_frame(rows: list[tuple]) -> pd.DataFrame:
    """(customer_id, segment, period_months, renewals, is_alive) rows, typed as store.read_inputs_* gives."""
    frame = pd.DataFrame(rows, columns=["customer_id", "segment", "period_months", "renewals", "is_alive"])
    frame["current_mrr"] = 10.0
    return frame.astype({"renewals": "int64", "is_alive": "bool", "current_mrr": "float64"})


def purchases_frame(rows: list[tuple]) -> pd.DataFrame:
    """(customer_id, segment, frequency, recency_days, age_days, monetary_value) rows."""
    frame = pd.DataFrame(
        rows, columns=["customer_id", "segment", "frequency", "recency_days", "age_days", "monetary_value"]
    )
    frame = frame.astype({"frequency": "int64", "recency_days": "int64", "age_days": "int64"})
    frame["monetary_value"] = frame["monetary_value"].astype("float64")
    return frame


def _simulated_subscribers(prefix, n, params, max_horizon, period, rng) -> pd.DataFrame:
    horizon = rng.integers(1, max_horizon + 1, n)  # cohorts of different ages
    sample = simulate.sbg(params, n, horizon, rng)
    return pd.DataFrame(
        {
            "customer_id": [f"{prefix}{i:04d}" for i in range(n)],
            "segment": rng.choice(["smb", "mid_market"], n),
            "period_months": period,
            "renewals": sample.renewals.astype("int64"),
            "is_alive": sample.alive,
            "current_mrr": 50.0,
        }
    )


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.DataFrame, pd.DataFrame]:
    """300 monthly and 150 annual subscribers, 400 one-off buyers (10 of them also subscribers, same ids);
    segments smb and mid_market of ~200 each, and 'enterprise' with 5 subscribers and 6 buyers (< 30)."""
    rng = np.random.default_rng(20240630)
    renewals = pd.concat(
        [
            _simulated_subscribers("m", 300, SbgParams(0.9, 3.0), 24, 1, rng),
            _simulated_subscribers("y", 150, SbgParams(1.2, 4.0), 4, 12, rng),
        ],
        ignore_index=True,
    )
    renewals.loc[[0, 1, 2, 300, 301], "segment"] = "enterprise"
    renewals = renewals.astype({"renewals": "int64", "is_alive": "bool", "current_mrr": "float64"})

    n = 400
    age = rng.integers(30, 731, n)
    sample = simulate.bgnbd(BgnbdParams(r=0.5, alpha=40.0, a=0.8, b=3.0), n, age.astype(float), rng)
    spend = simulate.gamma_gamma(GammaGammaParams(p=6.0, q=4.0, gamma=150.0), sample.frequency, rng)
    ids = [f"m{i:04d}" for i in range(10)] + [f"p{i:04d}" for i in range(10, n)]  # m0000-m0009 in both
    purchases = pd.DataFrame(
        {
            "customer_id": ids,
            "segment": rng.choice(["smb", "mid_market"], n),
            "frequency": sample.frequency.astype("int64"),
            "recency_days": np.floor(sample.recency).astype("int64"),  # whole days, as dbt gives them
            "age_days": age.astype("int64"),
            "monetary_value": np.where(sample.frequency > 0, np.round(spend, 4), np.nan),
        }
    )
    purchases.loc[10:15, "segment"] = "enterprise"
    return renewals, purchases


@pytest.fixture(scope="module")
def result(simulated) -> pipeline.ClvResult:
    return pipeline.run(*simulated, FITTED_AT)


def fitted_params(parameters: pd.DataFrame, model: str, segment: str) -> dict[str, float]:
    rows = parameters[(parameters["model"] == model) & (parameters["segment"] == segment)]
    return dict(zip(rows["parameter"], rows["value"], strict=True))


def by_id(predictions: pd.DataFrame) -> pd.DataFrame:
    return predictions.set_index("customer_id")


def sbg_survival(alpha: float, beta: float, t: np.ndarray) -> np.ndarray:
    """S(t) = B(alpha, beta + t) / B(alpha, beta), written out (Fader & Hardie 2007 eq. 6)."""
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def brute_force_derl(alpha: float, beta: float, discount: float, renewals: int, terms: int = 20_000) -> float:
    """Fader & Hardie (2010): DERL = sum_{k >= 0} S(n + k) / S(n - 1) / (1 + d)^k, n = renewals + 1."""
    n = renewals + 1
    k = np.arange(terms, dtype=float)
    discounting = np.exp(-k * np.log1p(discount))  # (1 + d)^-k without overflow
    return float(np.sum(sbg_survival(alpha, beta, n + k) / sbg_survival(alpha, beta, n - 1) * discounting))


def brute_force_renewals(alpha: float, beta: float, renewals: int, periods: int) -> float:
    """sum_{j = 1..periods} S(m + j) / S(m): expected renewals in the next `periods` decisions."""
    j = np.arange(1, periods + 1, dtype=float)
    return float(np.sum(sbg_survival(alpha, beta, renewals + j) / sbg_survival(alpha, beta, renewals)))


# ------------------------------------------------------------------------------------- segments and rows


def test_every_segment_with_enough_customers_is_fitted(result):
    fits = result.parameters.groupby(["model", "segment"])["parameter"].apply(tuple).to_dict()
    assert fits == {
        ("sbg", "all"): ("alpha", "beta"),
        ("sbg", "segment:mid_market"): ("alpha", "beta"),
        ("sbg", "segment:smb"): ("alpha", "beta"),
        ("sbg", "billing_period:month"): ("alpha", "beta"),
        ("sbg", "billing_period:year"): ("alpha", "beta"),
        ("bg_nbd", "all"): ("r", "alpha", "a", "b"),
        ("bg_nbd", "segment:mid_market"): ("r", "alpha", "a", "b"),
        ("bg_nbd", "segment:smb"): ("r", "alpha", "a", "b"),
        ("gamma_gamma", "all"): ("p", "q", "gamma"),
        ("gamma_gamma", "segment:mid_market"): ("p", "q", "gamma"),
        ("gamma_gamma", "segment:smb"): ("p", "q", "gamma"),
    }
    assert list(result.parameters.columns) == PARAMETER_NAMES
    assert result.parameters["converged"].all()
    assert (result.parameters["fitted_at"] == FITTED_AT).all()
    assert result.parameters[["value", "standard_error", "log_likelihood"]].notna().all().all()


def test_parameter_rows_carry_time_unit_and_customer_counts(result, simulated):
    renewals, purchases = simulated
    fits = result.parameters.drop_duplicates(["model", "segment"]).set_index(["model", "segment"])
    smb = renewals[renewals["segment"] == "smb"]
    assert fits.loc[("sbg", "all"), ["time_unit", "n_customers"]].tolist() == ["billing_period", 450]
    # A CRM segment mixes monthly and annual subscribers: its sBG time unit is the billing period.
    assert fits.loc[("sbg", "segment:smb"), ["time_unit", "n_customers"]].tolist() == [
        "billing_period",
        len(smb),
    ]
    assert fits.loc[("sbg", "billing_period:month"), ["time_unit", "n_customers"]].tolist() == ["month", 300]
    assert fits.loc[("sbg", "billing_period:year"), ["time_unit", "n_customers"]].tolist() == ["year", 150]
    assert fits.loc[("bg_nbd", "all"), ["time_unit", "n_customers"]].tolist() == ["day", 400]
    # Gamma-Gamma counts repeat buyers only.
    repeat_buyers = int((purchases["frequency"] > 0).sum())
    assert fits.loc[("gamma_gamma", "all"), ["time_unit", "n_customers"]].tolist() == [
        "reporting_currency",
        repeat_buyers,
    ]
    assert result.parameters["n_customers"].map(type).eq(int).all()


def test_parameter_rows_are_the_maximum_likelihood_fits_of_each_segment(result, simulated):
    renewals, purchases = simulated
    monthly = renewals[renewals["period_months"] == 1]
    direct = sbg.fit(monthly["renewals"].to_numpy(), monthly["is_alive"].to_numpy(), min_customers=30)
    rows = result.parameters[
        (result.parameters["model"] == "sbg") & (result.parameters["segment"] == "billing_period:month")
    ].set_index("parameter")
    assert rows.loc["alpha", "value"] == direct.alpha
    assert rows.loc["beta", "value"] == direct.beta
    assert rows.loc["alpha", "standard_error"] == direct.std_errors["alpha"]
    assert (rows["log_likelihood"] == direct.log_likelihood).all()

    smb = purchases[purchases["segment"] == "smb"]
    direct_bg = bgnbd.fit(smb["frequency"], smb["recency_days"], smb["age_days"], min_customers=30)
    assert fitted_params(result.parameters, "bg_nbd", "segment:smb") == {
        "r": direct_bg.r,
        "alpha": direct_bg.alpha,
        "a": direct_bg.a,
        "b": direct_bg.b,
    }


def test_segment_below_min_customers_is_skipped_with_a_warning_naming_it(result):
    assert not result.parameters["segment"].eq("segment:enterprise").any()
    warnings = dict(result.warnings)
    assert set(warnings) == {
        "sbg:segment:enterprise",
        "bg_nbd:segment:enterprise",
        "gamma_gamma:segment:enterprise",
    }
    assert warnings["sbg:segment:enterprise"] == (
        "not fitted: sBG needs at least 30 customers, got 5"
    )
    assert warnings["bg_nbd:segment:enterprise"].startswith("not fitted: ")
    assert "got 6" in warnings["bg_nbd:segment:enterprise"]
    # Its customers are still predicted, with their billing period's fit.
    enterprise = by_id(result.predictions).loc[["m0000", "m0001", "m0002", "y0000", "y0001"]]
    alive = enterprise[enterprise["is_subscription_alive"].astype(bool)]
    assert len(alive) > 0 and alive["expected_renewals_12m"].notna().all()


def test_min_customers_setting_decides_which_segments_are_fitted(simulated):
    renewals, _ = simulated
    settings = pipeline.ClvSettings(annual_discount_rate=0.10, min_customers=200)
    result = pipeline.run(*simulated, FITTED_AT, settings)
    sbg_segments = set(result.parameters.loc[result.parameters["model"] == "sbg", "segment"])
    sizes = renewals["segment"].value_counts()
    # 'all' (450) and billing_period:month (300) stay; year (150) and each CRM segment below 200 go.
    assert sbg_segments == {"all", "billing_period:month"} | {
        f"segment:{name}" for name, size in sizes.items() if size >= 200
    }
    assert "sbg:billing_period:year" in dict(result.warnings)
    assert "sBG needs at least 200 customers, got 150" in dict(result.warnings)["sbg:billing_period:year"]
    # Annual subscribers have no fit: alive ones get no expectation, churned ones still 0.
    annual = result.predictions[result.predictions["period_months"] == 12]
    alive = annual["is_subscription_alive"].astype(bool)
    assert annual.loc[alive, "expected_renewals_12m"].isna().all()
    assert annual.loc[alive, "sbg_segment"].isna().all()
    assert (annual.loc[~alive, "expected_renewals_12m"] == 0).all()


# ------------------------------------------------------------------------------------------ predictions


def test_one_row_per_customer_in_either_input(result, simulated):
    renewals, purchases = simulated
    predictions = result.predictions
    ids = set(renewals["customer_id"]) | set(purchases["customer_id"])
    assert len(ids) == 450 + 400 - 10
    assert list(predictions.columns) == PREDICTION_NAMES
    assert predictions["customer_id"].is_unique
    assert set(predictions["customer_id"]) == ids
    assert predictions["customer_id"].tolist() == sorted(ids)
    assert predictions.index.tolist() == list(range(len(ids)))


def test_customer_in_both_inputs_has_both_predictions(result, simulated):
    renewals, purchases = simulated
    row = by_id(result.predictions).loc["m0005"]
    source = renewals.set_index("customer_id").loc["m0005"]
    assert row["period_months"] == 1
    assert row["renewals"] == source["renewals"]
    assert bool(row["is_subscription_alive"]) == bool(source["is_alive"])
    assert row["bg_nbd_segment"] == "all"
    assert np.isfinite(row["p_alive_purchases"]) and np.isfinite(row["expected_purchases_12m"])
    # Subscription-only and purchase-only customers have nulls on the other side.
    only_sub = by_id(result.predictions).loc["y0100"]
    assert pd.isna(only_sub["bg_nbd_segment"]) and np.isnan(only_sub["p_alive_purchases"])
    only_purchase = by_id(result.predictions).loc["p0100"]
    assert pd.isna(only_purchase["period_months"]) and pd.isna(only_purchase["is_subscription_alive"])
    assert pd.isna(only_purchase["sbg_segment"]) and np.isnan(only_purchase["expected_renewals_12m"])


def test_monthly_alive_subscriber_expects_twelve_renewal_decisions(result):
    params = fitted_params(result.parameters, "sbg", "billing_period:month")
    fit = SbgParams(params["alpha"], params["beta"])
    monthly = result.predictions[
        (result.predictions["period_months"] == 1) & result.predictions["is_subscription_alive"].eq(True)
    ]
    assert len(monthly) > 20
    assert (monthly["sbg_segment"] == "billing_period:month").all()
    m = monthly["renewals"].to_numpy(dtype=float)
    np.testing.assert_array_equal(monthly["expected_renewals_12m"], sbg.expected_renewals(fit, m, 12))
    first = monthly.iloc[0]
    assert first["expected_renewals_12m"] == pytest.approx(
        brute_force_renewals(fit.alpha, fit.beta, int(first["renewals"]), 12), rel=1e-12
    )
    assert (monthly["expected_renewals_12m"] < 12).all()


def test_annual_alive_subscriber_expects_one_renewal_decision(result):
    params = fitted_params(result.parameters, "sbg", "billing_period:year")
    fit = SbgParams(params["alpha"], params["beta"])
    annual = result.predictions[
        (result.predictions["period_months"] == 12) & result.predictions["is_subscription_alive"].eq(True)
    ]
    assert len(annual) > 20
    assert (annual["sbg_segment"] == "billing_period:year").all()
    m = annual["renewals"].to_numpy(dtype=float)
    np.testing.assert_array_equal(annual["expected_renewals_12m"], sbg.expected_renewals(fit, m, 1))
    # One decision: the retention rate r(m + 1) = (beta + m) / (alpha + beta + m).
    np.testing.assert_allclose(
        annual["expected_renewals_12m"], (fit.beta + m) / (fit.alpha + fit.beta + m), rtol=1e-13
    )


def test_churned_subscribers_expect_nothing(result):
    churned = result.predictions[result.predictions["is_subscription_alive"].eq(False)]
    assert len(churned) > 100
    assert (churned["expected_renewals_12m"] == 0).all()
    assert (churned["discounted_expected_residual_lifetime"] == 0).all()
    assert churned["sbg_segment"].isna().all()


@pytest.mark.parametrize(("period", "segment"), [(1, "billing_period:month"), (12, "billing_period:year")])
def test_derl_uses_the_per_period_discount_rate(result, period, segment):
    params = fitted_params(result.parameters, "sbg", segment)
    fit = SbgParams(params["alpha"], params["beta"])
    discount = 1.1 ** (period / 12) - 1  # 0.7974 % a month, 10 % a year
    alive = result.predictions[
        (result.predictions["period_months"] == period) & result.predictions["is_subscription_alive"].eq(True)
    ]
    m = alive["renewals"].to_numpy(dtype=float)
    np.testing.assert_array_equal(alive["discounted_expected_residual_lifetime"], sbg.derl(fit, discount, m))
    # sbg.derl's convention (docstring): n = renewals + 1, the imminent renewal undiscounted.
    for _, row in alive.head(3).iterrows():
        expected = brute_force_derl(fit.alpha, fit.beta, discount, int(row["renewals"]))
        assert row["discounted_expected_residual_lifetime"] == pytest.approx(expected, rel=1e-9)


def test_derl_follows_the_annual_discount_rate_setting(simulated):
    result = pipeline.run(*simulated, FITTED_AT, pipeline.ClvSettings(annual_discount_rate=0.2))
    params = fitted_params(result.parameters, "sbg", "billing_period:year")
    alive = result.predictions[
        (result.predictions["period_months"] == 12) & result.predictions["is_subscription_alive"].eq(True)
    ]
    row = alive.iloc[0]
    expected = brute_force_derl(params["alpha"], params["beta"], 0.2, int(row["renewals"]))
    assert row["discounted_expected_residual_lifetime"] == pytest.approx(expected, rel=1e-9)


def test_brute_force_derl_matches_the_closed_form_on_known_parameters():
    # The check above relies on brute_force_derl; pin it on the 2007 paper's "regular" segment too.
    fit = SbgParams(0.704, 1.182)
    for renewals in (0, 1, 4):
        assert sbg.derl(fit, 0.1, renewals) == pytest.approx(brute_force_derl(0.704, 1.182, 0.1, renewals))
    # A customer just acquired (0 renewals) has her first renewal with probability beta / (alpha + beta).
    assert brute_force_derl(0.704, 1.182, 1e6, 0) == pytest.approx(1.182 / 1.886, rel=1e-5)


def test_purchase_predictions_use_the_all_fits(result, simulated):
    _, purchases = simulated
    bg = BgnbdParams(**fitted_params(result.parameters, "bg_nbd", "all"))
    gg = GammaGammaParams(**fitted_params(result.parameters, "gamma_gamma", "all"))
    predicted = by_id(result.predictions).loc[purchases["customer_id"]]
    x, t_x, age = (purchases[c].to_numpy(dtype=float) for c in ("frequency", "recency_days", "age_days"))
    assert (predicted["bg_nbd_segment"] == "all").all()
    np.testing.assert_allclose(predicted["p_alive_purchases"], bgnbd.probability_alive(bg, x, t_x, age))
    np.testing.assert_allclose(
        predicted["expected_purchases_12m"], bgnbd.conditional_expected_purchases(bg, 365, x, t_x, age)
    )
    # E[M | x, mbar] = p (gamma + x mbar) / (p x + q - 1), FHL 2005 eq. 3.
    repeat = x > 0
    mbar = purchases["monetary_value"].to_numpy(dtype=float)
    np.testing.assert_allclose(
        predicted["expected_spend_per_purchase"].to_numpy()[repeat],
        gg.p * (gg.gamma + x[repeat] * mbar[repeat]) / (gg.p * x[repeat] + gg.q - 1),
        rtol=1e-12,
    )


def test_zero_repeat_buyers_get_the_population_mean_spend(result, simulated):
    _, purchases = simulated
    gg = GammaGammaParams(**fitted_params(result.parameters, "gamma_gamma", "all"))
    one_off = by_id(result.predictions).loc[purchases.loc[purchases["frequency"] == 0, "customer_id"]]
    assert len(one_off) > 50
    # Population mean of a purchase: p gamma / (q - 1); P(alive) of a customer without repeats is 1.
    np.testing.assert_allclose(
        one_off["expected_spend_per_purchase"], gg.p * gg.gamma / (gg.q - 1), rtol=1e-12
    )
    assert (one_off["p_alive_purchases"] == 1).all()
    assert (one_off["expected_purchases_12m"] > 0).all()


# ------------------------------------------------------------------------------------------- edge cases


def test_tiny_inputs_fit_nothing_and_still_predict_what_is_known():
    renewals = renewals_frame(
        [
            ("a_alive", "smb", 1, 3, True),
            ("b_churned", "smb", 1, 2, False),
            ("c_annual", None, 12, 0, True),
        ]
    )
    renewals.loc[2, "segment"] = "unknown"
    purchases = purchases_frame(
        [
            ("d_once", "smb", 0, 0, 40, None),
            ("e_repeat", "smb", 2, 30, 90, 25.5),
            ("a_alive", "smb", 1, 10, 20, 12.0),
        ]
    )
    result = pipeline.run(renewals, purchases, FITTED_AT)

    assert result.parameters.empty
    assert list(result.parameters.columns) == PARAMETER_NAMES
    assert [key for key, _ in result.warnings] == [
        "sbg:all",
        "sbg:segment:smb",
        "sbg:segment:unknown",
        "sbg:billing_period:month",
        "sbg:billing_period:year",
        "bg_nbd:all",
        "gamma_gamma:all",
        "bg_nbd:segment:smb",
        "gamma_gamma:segment:smb",
    ]
    predictions = by_id(result.predictions)
    assert predictions.index.tolist() == ["a_alive", "b_churned", "c_annual", "d_once", "e_repeat"]
    # Alive without a fit: unknown (null); churned: 0 either way.
    assert np.isnan(predictions.loc["a_alive", "expected_renewals_12m"])
    assert np.isnan(predictions.loc["c_annual", "discounted_expected_residual_lifetime"])
    assert predictions.loc["b_churned", "expected_renewals_12m"] == 0
    assert predictions.loc["b_churned", "discounted_expected_residual_lifetime"] == 0
    assert predictions["sbg_segment"].isna().all()
    assert predictions["bg_nbd_segment"].isna().all()
    purchase_columns = ["p_alive_purchases", "expected_purchases_12m", "expected_spend_per_purchase"]
    assert predictions[purchase_columns].isna().all().all()


def test_empty_inputs_give_empty_frames():
    result = pipeline.run(renewals_frame([]), purchases_frame([]), FITTED_AT)
    assert result.predictions.empty and list(result.predictions.columns) == PREDICTION_NAMES
    assert result.parameters.empty and list(result.parameters.columns) == PARAMETER_NAMES
    assert {key for key, _ in result.warnings} == {"sbg:all", "bg_nbd:all", "gamma_gamma:all"}


def test_subscriber_without_billing_period_is_not_fitted_but_kept():
    # period_months is null when dbt meets an unknown billing_interval: left out of the fits, still a row.
    renewals = renewals_frame([("a", "smb", None, 2, True), ("b", "smb", 1, 1, False)])
    result = pipeline.run(renewals, purchases_frame([]), FITTED_AT)
    predictions = by_id(result.predictions)
    assert predictions.index.tolist() == ["a", "b"]
    assert np.isnan(predictions.loc["a", "expected_renewals_12m"])
    assert "sBG needs at least 30 customers, got 1" in dict(result.warnings)["sbg:all"]


def test_non_finite_prediction_is_published_as_null_with_a_warning(simulated, monkeypatch):
    def overflowing(params, frequency, monetary_value):
        out = np.full(np.shape(frequency), 42.0)
        out[0] = np.inf
        return out

    monkeypatch.setattr(gamma_gamma, "conditional_expected_average_spend", overflowing)
    result = pipeline.run(*simulated, FITTED_AT)
    spend = result.predictions["expected_spend_per_purchase"]
    assert spend.isna().sum() == 450 - 10 + 1  # subscription-only customers, and the overflowing one
    assert not np.isinf(spend).any()
    assert ("clv:predictions", "1 non-finite CLV prediction(s) published as null") in result.warnings


# -------------------------------------------------------------------------------------------- settings


def test_load_settings_reads_the_dbt_project_vars(tmp_path: Path):
    project = tmp_path / "dbt_project.yml"
    project.write_text(
        "name: clm\nvars:\n  gross_margin: 0.8\n  clv_annual_discount_rate: 0.08\n  clv_min_customers: 50\n"
    )
    assert pipeline.load_settings(project) == pipeline.ClvSettings(
        annual_discount_rate=0.08, min_customers=50
    )
    settings = pipeline.load_settings(project)
    assert isinstance(settings.annual_discount_rate, float) and isinstance(settings.min_customers, int)


@pytest.mark.parametrize(
    "text",
    ["", "name: clm\n", "name: clm\nvars:\n", "name: clm\nvars:\n  gross_margin: 1.0\n"],
    ids=["empty-file", "no-vars", "null-vars", "other-vars"],
)
def test_load_settings_defaults_when_vars_are_missing(tmp_path: Path, text: str):
    project = tmp_path / "dbt_project.yml"
    project.write_text(text)
    assert pipeline.load_settings(project) == pipeline.ClvSettings(
        annual_discount_rate=0.10, min_customers=30
    )


def test_load_settings_of_the_repo_project():
    settings = pipeline.load_settings(REPO / "dbt_project.yml")
    assert settings == pipeline.ClvSettings(annual_discount_rate=0.10, min_customers=30)


@pytest.mark.parametrize(
    ("period", "name"), [(1, "month"), (12, "year"), (3, "3_months"), (24.0, "24_months")]
)
def test_period_segment_names(period, name):
    assert pipeline.period_segment(period) == name
