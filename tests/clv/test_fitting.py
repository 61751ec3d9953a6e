"""The shared MLE machinery: log-scale L-BFGS-B, multi-start, convergence checks, standard errors."""

from __future__ import annotations

import numpy as np
import pytest

from clm.clv import ClvFitError
from clm.clv.fitting import as_weights, compress, lbeta_grad, maximize_log_likelihood, require
from tests.clv.conftest import numeric_gradient


def exponential_loglik(sample: np.ndarray):
    """Exponential(rate) log-likelihood: the MLE is 1 / mean and its standard error rate / sqrt(n)."""
    n, total = sample.size, sample.sum()

    def loglik(theta: np.ndarray) -> tuple[float, np.ndarray]:
        (rate,) = theta
        return n * np.log(rate) - rate * total, np.array([n / rate - total])

    return loglik


def test_recovers_a_closed_form_mle_and_its_standard_error():
    sample = np.random.default_rng(0).exponential(1 / 3.0, 500)
    res = maximize_log_likelihood(
        exponential_loglik(sample), [(1.0,), (50.0,)], ["rate"], model="exp", n_obs=500
    )
    mle = 1 / sample.mean()
    assert res.converged
    assert res.params[0] == pytest.approx(mle, rel=1e-7)
    assert res.std_errors[0] == pytest.approx(mle / np.sqrt(500), rel=1e-4)
    assert res.log_likelihood == pytest.approx(500 * np.log(mle) - 500, rel=1e-12)


def test_keeps_the_best_of_several_starts():
    # Two local maxima in log(theta): near theta = 1 (LL 0) and theta = 100 (LL 1, the global one).
    def loglik(theta):
        u = np.log(theta[0])
        bumps = np.exp(-((u - 0.0) ** 2)) + 2 * np.exp(-((u - np.log(100)) ** 2))
        d_bumps = -2 * u * np.exp(-(u**2)) - 4 * (u - np.log(100)) * np.exp(-((u - np.log(100)) ** 2))
        return float(bumps), np.array([d_bumps / theta[0]])

    res = maximize_log_likelihood(loglik, [(1.0,), (80.0,)], ["theta"], model="toy", n_obs=1)
    assert res.params[0] == pytest.approx(100, rel=1e-3)


def test_a_parameter_running_to_a_bound_is_a_clear_error():
    # Ever-increasing likelihood: the data push theta to infinity, so there is no interior optimum.
    def loglik(theta):
        return float(np.log(theta[0])), np.array([1 / theta[0]])

    with pytest.raises(ClvFitError, match="theta ran to the upper bound 10000"):
        maximize_log_likelihood(loglik, [(1.0,)], ["theta"], model="toy", n_obs=50)
    res = maximize_log_likelihood(loglik, [(1.0,)], ["theta"], model="toy", n_obs=50, strict=False)
    assert not res.converged and "upper bound" in res.message


def test_non_finite_likelihood_everywhere_is_a_clear_error():
    def loglik(theta):
        return float("nan"), np.array([np.nan])

    with pytest.raises(ClvFitError, match="not finite"):
        maximize_log_likelihood(loglik, [(1.0,), (2.0,)], ["theta"], model="toy", n_obs=50)


def test_compress_sums_weights_of_identical_rows_and_drops_zero_weights():
    (a, b), w = compress(
        [np.array([1.0, 2.0, 1.0, 1.0, 3.0]), np.array([0.5, 0.5, 0.5, 0.7, 9.0])],
        np.array([1.0, 2.0, 3.0, 4.0, 0.0]),
    )
    rows = sorted(zip(a.tolist(), b.tolist(), w.tolist(), strict=True))
    assert rows == [(1.0, 0.5, 4.0), (1.0, 0.7, 4.0), (2.0, 0.5, 2.0)]


def test_weights_and_require_validate_their_input():
    assert as_weights(None, 3).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="non-negative"):
        as_weights(np.array([1.0, -1.0]), 2)
    with pytest.raises(ClvFitError, match="too few"):
        require(False, "too few")


def test_lbeta_gradient_matches_finite_differences():
    xy = np.array([0.7, 3.2])
    _, dx, dy = lbeta_grad(xy[0], xy[1])
    expected = numeric_gradient(lambda v: float(lbeta_grad(v[0], v[1])[0]), xy)
    np.testing.assert_allclose([dx, dy], expected, rtol=1e-7)
