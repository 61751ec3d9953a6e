"""sBG: Fader & Hardie (2007) "How to Project Customer Retention", J. Interactive Marketing 21(1)."""

from __future__ import annotations

import numpy as np
import pytest

from clm.clv import ClvFitError, SbgParams, sbg, simulate
from tests.clv.conftest import numeric_gradient

# Table 1 of the paper: customers still active at the start of years 0..7 of two cohorts of 1000.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize(
    ("survivors", "alpha", "beta"),
    [
        # Paper, section "Estimating the model parameters": fitted to years 1-7 of each segment.
        (REGULAR, 0.704, 1.182),
        (HIGH_END, 0.668, 3.806),
    ],
)
def test_reproduces_the_published_parameters(survivors, alpha, beta):
    fit = sbg.fit_survivors(survivors)
    assert (round(fit.alpha, 3), round(fit.beta, 3)) == (alpha, beta)
    assert fit.converged and fit.n_customers == 1000


@pytest.mark.parametrize(
    ("survivors", "params", "ll"), [(REGULAR, (0.704, 1.182), -1680.3), (HIGH_END, (0.668, 3.806), -1611.2)]
)
def test_log_likelihood_at_the_published_parameters(survivors, params, ll):
    # Recomputed from the paper's log-likelihood (appendix eq. B3) on Table 1 at the published parameters;
    # we could not check these figures against the paper's own text, so they pin our arithmetic only.
    m, alive, w = sbg.survivors_to_arrays(survivors)
    assert round(sbg.log_likelihood(SbgParams(*params), m, alive, w), 1) == ll
    assert round(sbg.fit_survivors(survivors).log_likelihood, 1) == ll


def test_survivor_table_and_one_row_per_customer_give_the_same_fit():
    m, alive, w = sbg.survivors_to_arrays(REGULAR)
    per_customer = sbg.fit(np.repeat(m, w.astype(int)), np.repeat(alive, w.astype(int)))
    table = sbg.fit_survivors(REGULAR)
    assert per_customer.alpha == pytest.approx(table.alpha, rel=1e-6)
    assert per_customer.beta == pytest.approx(table.beta, rel=1e-6)
    assert per_customer.log_likelihood == pytest.approx(table.log_likelihood, rel=1e-10)


def test_analytic_gradient_matches_finite_differences():
    m, alive, w = sbg.survivors_to_arrays(HIGH_END)
    theta = np.array([0.9, 2.5])
    _, grad = sbg._log_likelihood(theta, m, alive, w)
    expected = numeric_gradient(lambda th: sbg.log_likelihood(SbgParams(*th), m, alive, w), theta)
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


def test_churn_survival_and_retention_agree_with_the_papers_recursions():
    p = SbgParams(0.704, 1.182)
    t = np.arange(1, 13)
    churn = sbg.churn_probability(p, t)
    # The paper's recursion: P(T = 1) = alpha / (alpha + beta),
    # P(T = t) = (beta + t - 2) / (alpha + beta + t - 1) * P(T = t - 1) for t > 1.
    assert churn[0] == pytest.approx(0.704 / (0.704 + 1.182))
    np.testing.assert_allclose(churn[1:] / churn[:-1], (1.182 + t[1:] - 2) / (0.704 + 1.182 + t[1:] - 1))
    np.testing.assert_allclose(sbg.survival(p, t), 1 - np.cumsum(churn))
    np.testing.assert_allclose(sbg.retention_rate(p, t), sbg.survival(p, t) / sbg.survival(p, t - 1))
    assert np.all(np.diff(sbg.retention_rate(p, t)) > 0)  # heterogeneity: retention rises with tenure


def brute_force_derl(p: SbgParams, discount: float, renewals: int, terms: int = 5000) -> float:
    k = np.arange(terms)
    survive = sbg.survival(p, renewals + 1 + k) / sbg.survival(p, renewals)
    return float(np.sum(survive / (1 + discount) ** k))


@pytest.mark.parametrize("renewals", [0, 1, 4, 7, 30])
def test_derl_closed_form_equals_the_discounted_sum_it_stands_for(renewals):
    # Fader & Hardie (2010), Marketing Science 29(1): DERL for a customer with n - 1 = renewals renewals.
    p = SbgParams(0.668, 3.806)
    assert sbg.derl(p, 0.1, renewals) == pytest.approx(brute_force_derl(p, 0.1, renewals), rel=1e-9)


def test_derl_convention_matches_an_independent_implementation():
    # Cross-check of the renewal-count convention (not a paper figure): the README of the open-source
    # jdmaturen/shifted_beta_geometric_py prints DERL = 7.530 for the high-end fit, d = 10%, after 7 renewals.
    assert round(float(sbg.derl(sbg.fit_survivors(HIGH_END), 0.1, 7)), 3) == 7.530


def test_undiscounted_residual_lifetime():
    # Gauss's theorem: (beta + n - 1) / (alpha - 1) when alpha > 1, and infinite otherwise.
    assert sbg.expected_residual_lifetime(SbgParams(3.0, 2.0), 4) == pytest.approx(6 / 2)
    assert brute_force_derl(SbgParams(3.0, 2.0), 0.0, 4, terms=200_000) == pytest.approx(3.0, rel=1e-4)
    assert np.isinf(sbg.expected_residual_lifetime(SbgParams(0.704, 1.182), 2))


def test_expected_renewals_over_a_12_period_projection():
    p = SbgParams(0.704, 1.182)
    got = sbg.expected_renewals(p, np.array([0, 3, 3, 10]), 12)
    expected = [
        float(np.sum(sbg.survival(p, m + np.arange(1, 13)) / sbg.survival(p, m))) for m in (0, 3, 3, 10)
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert np.all(got < 12) and got[3] > got[1] > got[0]  # longer-tenured customers are better risks
    # Over a long horizon it becomes the undiscounted residual lifetime (alpha > 1 so that it is finite).
    q = SbgParams(2.5, 4.0)
    assert sbg.expected_renewals(q, 5, 20_000) == pytest.approx(
        sbg.expected_residual_lifetime(q, 5), rel=1e-3
    )


def test_recovers_known_parameters_from_simulated_cohorts():
    truth = SbgParams(0.9, 2.2)
    horizon = np.random.default_rng(1).integers(1, 13, 20_000)  # cohorts acquired 1 to 12 periods ago
    sample = simulate.sbg(truth, 20_000, horizon, seed=2)
    fit = sbg.fit(sample.renewals, sample.alive)
    # Four standard errors (from the observed information) leave a 1-in-15,000 chance of a false alarm per
    # parameter; the standard errors themselves must be small enough for that to mean something.
    for name, se in fit.std_errors.items():
        assert 0 < se < 0.1 * getattr(truth, name)
        assert abs(getattr(fit, name) - getattr(truth, name)) < 4 * se


def test_no_churn_is_a_clear_error():
    with pytest.raises(ClvFitError, match="none of the 100 customers has churned"):
        sbg.fit(np.full(100, 3.0), np.ones(100, dtype=bool))


def test_too_few_customers_is_a_clear_error():
    with pytest.raises(ClvFitError, match="at least 30 customers, got 12"):
        sbg.fit(np.r_[np.zeros(6), np.full(6, 2.0)], np.r_[np.zeros(6, dtype=bool), np.ones(6, dtype=bool)])


def test_a_single_observed_renewal_decision_is_a_clear_error():
    # 40 lost at the first decision, 60 renewed once and still active: only alpha / (alpha + beta) is known.
    renewals = np.r_[np.zeros(40), np.ones(60)]
    alive = np.r_[np.zeros(40, dtype=bool), np.ones(60, dtype=bool)]
    with pytest.raises(ClvFitError, match="not separately identified"):
        sbg.fit(renewals, alive)


def test_nobody_ever_renewing_is_a_clear_error():
    with pytest.raises(ClvFitError, match="no customer has renewed"):
        sbg.fit(np.zeros(50), np.zeros(50, dtype=bool))


def test_malformed_input_is_a_value_error():
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        sbg.fit(np.array([1.5, 2.0]), np.array([True, False]))
    with pytest.raises(ValueError, match="never increase"):
        sbg.fit_survivors([100, 120])
