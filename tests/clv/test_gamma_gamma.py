"""Gamma-Gamma spend model: Fader, Hardie & Lee (2005, JMR) and Fader & Hardie (2013) "The Gamma-Gamma Model
of Monetary Value"."""

from __future__ import annotations

import numpy as np
import pytest

from clm.clv import ClvFitError, GammaGammaParams, gamma_gamma, simulate
from tests.clv.conftest import numeric_gradient


def test_reproduces_the_published_cdnow_fit(cdnow):
    # Fader & Hardie (2013) note, on CDNOW's 946 repeat buyers and their mean repeat-transaction value (zbar):
    # p = 6.25, q = 3.74, gamma = 15.44. The maximum is at gamma = 15.448 (lifetimes' documented fit prints
    # v: 15.45); the note's 15.44 is 0.0015 log-likelihood units from it, a solver stopping early on a flat
    # ridge, so gamma is held to 0.01 of the note and to the printed precision of lifetimes.
    fit = gamma_gamma.fit(cdnow["x"], cdnow["zbar"])
    assert fit.n_customers == 946 and fit.converged
    assert (round(fit.p, 2), round(fit.q, 2), round(fit.gamma, 2)) == (6.25, 3.74, 15.45)
    assert abs(fit.gamma - 15.44) < 0.01
    note = GammaGammaParams(6.25, 3.74, 15.44)
    assert 0 < fit.log_likelihood - gamma_gamma.log_likelihood(note, cdnow["x"], cdnow["zbar"]) < 0.01


def test_the_currency_unit_does_not_matter(cdnow):
    # Cents instead of dollars (or yen): gamma scales by 100, p and q do not, and so do the forecasts.
    dollars = gamma_gamma.fit(cdnow["x"], cdnow["zbar"])
    cents = gamma_gamma.fit(cdnow["x"], cdnow["zbar"] * 100)
    assert cents.gamma == pytest.approx(100 * dollars.gamma, rel=1e-5)
    assert (cents.p, cents.q) == pytest.approx((dollars.p, dollars.q), rel=1e-5)
    assert cents.log_likelihood == pytest.approx(dollars.log_likelihood - 946 * np.log(100), rel=1e-9)
    spend = gamma_gamma.conditional_expected_average_spend(cents, cdnow["x"][:5], cdnow["zbar"][:5] * 100)
    np.testing.assert_allclose(
        spend,
        100 * gamma_gamma.conditional_expected_average_spend(dollars, cdnow["x"][:5], cdnow["zbar"][:5]),
        rtol=1e-5,
    )


def test_conditional_expected_spend(cdnow):
    # Cross-check against lifetimes' documented output for the first three CDNOW customers (x = 2, 1, 0):
    # 24.658619, 18.911489, 35.170981; its optimiser stops at a slightly different point, hence 1e-4.
    fit = gamma_gamma.fit(cdnow["x"], cdnow["zbar"])
    got = gamma_gamma.conditional_expected_average_spend(fit, cdnow["x"][:3], cdnow["zbar"][:3])
    np.testing.assert_allclose(got, [24.658619, 18.911489, 35.170981], atol=1e-4)
    # With no repeat purchase the forecast is the population mean p gamma / (q - 1).
    assert got[2] == pytest.approx(fit.population_mean)


def test_spend_forecast_shrinks_towards_the_population_mean():
    params = GammaGammaParams(6.25, 3.74, 15.44)
    own = 100.0
    forecasts = gamma_gamma.conditional_expected_average_spend(
        params, np.array([1, 5, 50, 5000]), np.full(4, own)
    )
    assert np.all(np.diff(forecasts) > 0)  # the more purchases, the more her own mean counts
    assert params.population_mean < forecasts[0] and forecasts[-1] == pytest.approx(own, rel=1e-3)


def test_analytic_gradient_matches_finite_differences(cdnow):
    repeat = cdnow["x"] > 0
    x, m = cdnow["x"][repeat], cdnow["zbar"][repeat]
    data = gamma_gamma._Data.build(x, m, np.ones(x.size))
    theta = np.array([4.0, 3.0, 20.0])
    _, grad = gamma_gamma._log_likelihood(theta, data)
    expected = numeric_gradient(lambda th: gamma_gamma._log_likelihood(th, data)[0], theta)
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


def test_recovers_known_parameters_from_simulated_spend():
    truth = GammaGammaParams(p=4.0, q=3.0, gamma=12.0)
    frequency = np.random.default_rng(6).integers(0, 8, 20_000).astype(float)  # one in eight has x = 0
    spend = simulate.gamma_gamma(truth, frequency, seed=7)
    fit = gamma_gamma.fit(frequency, spend)
    assert fit.n_customers == np.count_nonzero(frequency)
    # Four standard errors from the observed information, each small enough to be a real test.
    for name in ("p", "q", "gamma"):
        se = fit.std_errors[name]
        assert 0 < se < 0.2 * getattr(truth, name)
        assert abs(getattr(fit, name) - getattr(truth, name)) < 4 * se, name


def test_no_repeat_buyers_is_a_clear_error():
    with pytest.raises(ClvFitError, match="no customer has a repeat purchase"):
        gamma_gamma.fit(np.zeros(100), np.zeros(100))


def test_too_few_repeat_buyers_is_a_clear_error():
    with pytest.raises(ClvFitError, match="at least 30 repeat buyers, got 10"):
        gamma_gamma.fit(np.r_[np.zeros(500), np.ones(10)], np.r_[np.zeros(500), np.full(10, 20.0)])


def test_non_positive_spend_of_a_repeat_buyer_is_a_value_error():
    with pytest.raises(ValueError, match="monetary_value must be positive"):
        gamma_gamma.fit(np.array([1.0, 2.0]), np.array([10.0, 0.0]))
