"""Simulators: internal consistency, reproducibility and agreement with the models' own formulas."""

from __future__ import annotations

import numpy as np

from clm.clv import BgnbdParams, GammaGammaParams, SbgParams, sbg, simulate


def within(sample: np.ndarray, expected: float, k: float = 4.0) -> bool:
    """The sample mean is within k standard errors of ``expected``."""
    return abs(sample.mean() - expected) < k * sample.std() / np.sqrt(sample.size)


def test_sbg_sample_matches_the_survival_curve():
    params = SbgParams(0.704, 1.182)
    sample = simulate.sbg(params, 50_000, 7, seed=1)
    assert np.all(sample.renewals <= 7)
    assert np.array_equal(sample.alive, sample.renewals == 7)  # censored exactly at the horizon
    assert within(sample.alive.astype(float), float(sbg.survival(params, 7)))
    assert within((sample.renewals == 0).astype(float), float(sbg.churn_probability(params, 1)))


def test_sbg_per_customer_horizons_and_reproducibility():
    horizon = np.array([0, 1, 2, 3] * 25)
    a = simulate.sbg(SbgParams(1.0, 1.0), 100, horizon, seed=9)
    b = simulate.sbg(SbgParams(1.0, 1.0), 100, horizon, seed=np.random.default_rng(9))
    assert np.array_equal(a.renewals, b.renewals) and np.array_equal(a.alive, b.alive)
    assert np.all(a.renewals <= horizon) and np.all(a.alive[horizon == 0])


def test_bgnbd_transaction_times_are_consistent_with_the_summary():
    sample = simulate.bgnbd(BgnbdParams(0.243, 4.414, 0.793, 2.426), 5_000, np.linspace(1, 52, 5_000), seed=2)
    assert sample.offsets[-1] == sample.times.size == sample.frequency.sum()
    for i in range(0, 5_000, 7):
        times = sample.transaction_times(i)
        assert times.size == sample.frequency[i]
        assert np.all(np.diff(times) > 0) and np.all((times > 0) & (times <= sample.T[i]))
        assert sample.recency[i] == (times[-1] if times.size else 0.0)


def test_bgnbd_without_dropout_is_a_poisson_process():
    # b huge and a tiny: p is ~0, so x ~ NegBin with mean r T / alpha and purchase times uniform on (0, T].
    sample = simulate.bgnbd(BgnbdParams(2.0, 4.0, 1e-4, 1e4), 50_000, 10.0, seed=3)
    assert within(sample.frequency, 2.0 * 10.0 / 4.0)
    assert within(sample.times, 5.0)


def test_gamma_gamma_spend_has_the_population_mean():
    params = GammaGammaParams(6.25, 3.74, 15.44)
    frequency = np.tile([0.0, 1.0, 3.0, 10.0], 25_000)
    spend = simulate.gamma_gamma(params, frequency, seed=4)
    assert np.all(spend[frequency == 0] == 0) and np.all(spend[frequency > 0] > 0)
    # E[mbar] = E[p / nu] = p gamma / (q - 1) whatever x (q > 2 also gives the variance the 4-SE check needs).
    assert within(spend[frequency == 3], params.population_mean)
