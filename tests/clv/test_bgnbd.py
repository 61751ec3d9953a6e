"""BG/NBD: Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way", Marketing Science 24(2)."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np
import pytest

from clm.clv import BgnbdParams, ClvFitError, bgnbd, simulate
from tests.clv.conftest import numeric_gradient

# FHL (2005) section 4 and Fader & Hardie's note "Implementing the BG/NBD Model for Customer Base Analysis
# in Excel": the CDNOW sample, 2,357 customers over a 39-week calibration period (time unit: weeks).
PUBLISHED = BgnbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_reproduces_the_published_cdnow_fit(cdnow):
    fit = bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert fit.n_customers == 2357 and fit.converged
    assert (round(fit.r, 3), round(fit.alpha, 3), round(fit.a, 3), round(fit.b, 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert round(fit.log_likelihood, 1) == -9582.4  # the Excel note's maximised log-likelihood


def test_published_conditional_expectation(cdnow):
    # FHL (2005) section 4 / the Excel note: a customer with x = 2, t_x = 30.43, T = 38.86 (customer 1 of the
    # sample) is expected to make 1.226 purchases in the next 39 weeks.
    assert round(float(bgnbd.conditional_expected_purchases(PUBLISHED, 39, 2, 30.43, 38.86)), 3) == 1.226


def test_analytic_gradient_matches_finite_differences(cdnow):
    data = bgnbd._Data.build(cdnow["x"], cdnow["t_x"], cdnow["T"], np.ones(cdnow["x"].size))
    theta = np.array([0.3, 5.0, 0.9, 2.0])
    _, grad = bgnbd._log_likelihood(theta, data)
    expected = numeric_gradient(lambda th: bgnbd._log_likelihood(th, data)[0], theta)
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


def test_the_time_unit_does_not_matter(cdnow):
    # Days instead of weeks: alpha (a rate's rate) scales by 7, r, a and b do not; each purchase time's
    # density is per day instead of per week, so the log-likelihood drops by ln 7 per repeat purchase.
    weeks = bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    days = bgnbd.fit(cdnow["x"], cdnow["t_x"] * 7, cdnow["T"] * 7)
    assert days.alpha == pytest.approx(7 * weeks.alpha, rel=1e-5)
    assert (days.r, days.a, days.b) == pytest.approx((weeks.r, weeks.a, weeks.b), rel=1e-5)
    assert days.log_likelihood == pytest.approx(weeks.log_likelihood - np.log(7) * cdnow["x"].sum(), rel=1e-9)
    assert days.std_errors["alpha"] == pytest.approx(7 * weeks.std_errors["alpha"], rel=1e-3)


def test_weights_are_counts(cdnow):
    x, t_x, T = (cdnow[k][:400] for k in ("x", "t_x", "T"))
    w = np.random.default_rng(0).integers(0, 4, x.size)
    weighted = bgnbd.log_likelihood(PUBLISHED, x, t_x, T, weights=w)
    expanded = bgnbd.log_likelihood(PUBLISHED, np.repeat(x, w), np.repeat(t_x, w), np.repeat(T, w))
    assert weighted == pytest.approx(expanded, rel=1e-12)


def paper_form_expected_if_active(p: BgnbdParams, t: float, x: int, T: float) -> float:
    """FHL eq. (10)'s numerator as printed, in 60-digit decimals: its 2F1 series cannot overflow there."""
    with localcontext() as ctx:
        ctx.prec = 60
        r, alpha, a, b = (Decimal(repr(v)) for v in (p.r, p.alpha, p.a, p.b))
        t_, x_, T_ = Decimal(repr(t)), Decimal(x), Decimal(repr(T))
        z = t_ / (alpha + T_ + t_)
        term, total, k = Decimal(1), Decimal(0), 0
        while k < 10 or term > total * Decimal("1e-40"):
            total += term
            term *= (r + x_ + k) * (b + x_ + k) / ((a + b + x_ - 1 + k) * (k + 1)) * z
            k += 1
        tail = ((alpha + T_) / (alpha + T_ + t_)) ** (r + x_) * total
        return float((a + b + x_ - 1) / (a - 1) * (1 - tail))


@pytest.mark.parametrize("x", [0, 1, 2, 10, 150, 1000])
def test_stable_conditional_expectation_matches_the_papers_formula(x):
    # A customer who bought at the very end (t_x = T) is surely active, so E[Y] is the "if active" part;
    # for large x the paper's form multiplies ~0 by a 2F1 that overflows doubles, ours does not.
    got = bgnbd.conditional_expected_purchases(PUBLISHED, 39.0, x, 38.86, 38.86)
    alive = bgnbd.probability_alive(PUBLISHED, x, 38.86, 38.86)
    assert float(got) == pytest.approx(
        float(alive) * paper_form_expected_if_active(PUBLISHED, 39.0, x, 38.86)
    )
    assert np.isfinite(got) and got >= 0


@pytest.mark.parametrize("x", [0, 1, 2, 5])
def test_large_a_and_b_stay_finite_and_match_the_papers_formula(x):
    # A fit on nearly homogeneous dropout (found at 100k generated customers: a 508, b 1469, in days) makes
    # Euler's form 0 x inf for a new customer (T = 54 days, t = 365); the paper's form is then used.
    params = BgnbdParams(r=0.3032, alpha=60.4023, a=508.117, b=1468.66)
    got = bgnbd.conditional_expected_purchases(params, 365.0, x, 54.0, 54.0)
    alive = bgnbd.probability_alive(params, x, 54.0, 54.0)
    assert np.isfinite(got) and got >= 0
    assert float(got) == pytest.approx(float(alive) * paper_form_expected_if_active(params, 365.0, x, 54.0))


def test_step_around_the_removable_singularity_at_a_equal_1():
    near = [
        bgnbd.conditional_expected_purchases(BgnbdParams(0.3, 4.0, a, 2.0), 39, 3, 20, 38)
        for a in (1 - 1e-3, 1.0, 1 + 3e-6, 1 + 1e-3)
    ]
    assert np.all(np.isfinite(near))
    assert near[1] == pytest.approx((near[0] + near[3]) / 2, rel=1e-5)  # smooth through a = 1
    assert near[2] == pytest.approx(near[1], rel=1e-5)


def test_probability_alive():
    p_alive = bgnbd.probability_alive(PUBLISHED, [0, 2, 2, 5000], [0, 30.43, 5.0, 38.86], 38.86)
    assert p_alive[0] == 1.0  # BG/NBD: no repeat purchase, no chance to drop out
    assert 0 < p_alive[2] < p_alive[1] < 1  # a long silence since the last purchase makes death likelier
    assert p_alive[3] == pytest.approx(1 / (1 + 0.793 / (2.426 + 5000 - 1)))  # huge x, t_x = T: no overflow


def test_unconditional_expectation_matches_simulation():
    # E[X(t)] (FHL eq. 9) against the mean repeat-purchase count of 200,000 simulated new customers.
    sample = simulate.bgnbd(PUBLISHED, 200_000, 39.0, seed=3)
    mean, se = sample.frequency.mean(), sample.frequency.std() / np.sqrt(sample.frequency.size)
    assert abs(float(bgnbd.expected_purchases(PUBLISHED, 39.0)) - mean) < 4 * se
    assert bgnbd.expected_purchases(PUBLISHED, 0.0) == 0.0


def test_customers_with_no_repeat_purchase_never_crash(cdnow):
    x0 = np.zeros(100)
    fit = bgnbd.fit(
        np.r_[x0, cdnow["x"][:200]],
        np.r_[x0, cdnow["t_x"][:200]],
        np.r_[np.full(100, 38.0), cdnow["T"][:200]],
    )
    assert fit.converged
    e = bgnbd.conditional_expected_purchases(fit, 39, np.zeros(3), np.zeros(3), np.array([0.0, 1.0, 38.0]))
    assert np.all(np.isfinite(e)) and e[0] > e[1] > e[2] > 0  # the longer the silence, the lower the forecast


def test_recovers_known_parameters_from_simulated_customers():
    truth = BgnbdParams(r=0.5, alpha=6.0, a=1.2, b=3.0)
    ages = np.random.default_rng(4).uniform(20, 60, 20_000)  # customers acquired over 40 weeks
    sample = simulate.bgnbd(truth, 20_000, ages, seed=5)
    fit = bgnbd.fit(sample.frequency, sample.recency, sample.T)
    # Four standard errors from the observed information; they must be small enough to be a real test.
    for name in ("r", "alpha", "a", "b"):
        se = fit.std_errors[name]
        assert 0 < se < 0.25 * getattr(truth, name)
        assert abs(getattr(fit, name) - getattr(truth, name)) < 4 * se, name


def test_too_small_a_segment_is_a_clear_error(cdnow):
    with pytest.raises(ClvFitError, match="BG/NBD needs at least 30 customers, got 29"):
        bgnbd.fit(cdnow["x"][:29], cdnow["t_x"][:29], cdnow["T"][:29])


def test_no_repeat_buyers_is_a_clear_error():
    with pytest.raises(ClvFitError, match="none of the 50 customers has made a repeat purchase"):
        bgnbd.fit(np.zeros(50), np.zeros(50), np.full(50, 10.0))


def test_malformed_input_is_a_value_error():
    with pytest.raises(ValueError, match="recency must lie between 0 and T"):
        bgnbd.fit(np.array([1.0]), np.array([5.0]), np.array([4.0]))
    with pytest.raises(ValueError, match="recency must be 0"):
        bgnbd.fit(np.array([0.0]), np.array([1.0]), np.array([4.0]))
