"""Simulators that draw customers from the three models with known parameters.

Tests use them to check that a fit recovers the parameters it was given; benchmarks use them for size.
Everything is vectorized and reproducible from ``seed`` (an int or a numpy Generator).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clm.clv.bgnbd import BgnbdParams
from clm.clv.gamma_gamma import GammaGammaParams
from clm.clv.sbg import SbgParams

Seed = int | np.random.Generator
_TINY = 1e-12  # floor for Beta draws: numpy's geometric needs p > 0, and 1e-12 is "never" at any horizon


def _rng(seed: Seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


@dataclass(frozen=True)
class SbgSample:
    renewals: np.ndarray  # renewals made by the end of observation
    alive: np.ndarray  # still active (right-censored) at the horizon


def sbg(params: SbgParams, n_customers: int, horizon, seed: Seed) -> SbgSample:
    """theta ~ Beta(alpha, beta); the churn period T ~ Geometric(theta) on 1, 2, ...; observed for ``horizon``
    renewal decisions (an int, or one per customer for cohorts of different ages)."""
    rng = _rng(seed)
    theta = np.clip(rng.beta(params.alpha, params.beta, n_customers), _TINY, 1.0)
    churn_period = rng.geometric(theta)
    h = np.broadcast_to(np.asarray(horizon), (n_customers,))
    alive = churn_period > h
    return SbgSample(renewals=np.where(alive, h, churn_period - 1).astype(float), alive=alive)


@dataclass(frozen=True)
class BgnbdSample:
    frequency: np.ndarray  # x: repeat purchases in (0, T]
    recency: np.ndarray  # t_x: time of the last repeat purchase, 0 if none
    T: np.ndarray
    times: np.ndarray  # every repeat purchase time, customer by customer, ascending within each
    offsets: np.ndarray  # customer i's times are times[offsets[i]:offsets[i + 1]]

    def transaction_times(self, customer: int) -> np.ndarray:
        return self.times[self.offsets[customer] : self.offsets[customer + 1]]


def bgnbd(params: BgnbdParams, n_customers: int, T, seed: Seed) -> BgnbdSample:
    """lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); Poisson purchases at rate lambda, dropout with
    probability p right after each repeat purchase; observed on (0, T] (an age, or one per customer).

    Drawn without a per-customer loop: a customer makes J ~ Geometric(p) repeat purchases before dropping out
    and N ~ Poisson(lambda T) would happen in (0, T] if she never did, so she shows x = min(N, J). Given N,
    Poisson arrival times are N sorted uniforms on (0, T], whose first x are cumulative sums of x standard
    exponentials divided by the sum of N + 1 of them (the remaining N + 1 - x summed as one Gamma draw).
    """
    rng = _rng(seed)
    age = np.broadcast_to(np.asarray(T, dtype=float), (n_customers,)).copy()
    lam = rng.gamma(params.r, 1.0 / params.alpha, n_customers)
    p = np.clip(rng.beta(params.a, params.b, n_customers), _TINY, 1.0)
    n_events = rng.poisson(lam * age)
    x = np.minimum(n_events, rng.geometric(p))

    offsets = np.r_[0, np.cumsum(x)]
    owner = np.repeat(np.arange(n_customers), x)
    partial = np.cumsum(rng.exponential(size=offsets[-1]))
    before = np.r_[0.0, partial][offsets[:-1]]  # running total up to each customer's first draw
    partial -= before[owner]
    first_x = np.r_[0.0, partial][offsets[1:]]  # sum of each customer's own x draws
    first_x[x == 0] = 0.0
    total = first_x + rng.gamma(n_events - x + 1.0)
    times = age[owner] * partial / total[owner]
    recency = np.zeros(n_customers)
    has = x > 0
    recency[has] = times[offsets[1:][has] - 1]
    return BgnbdSample(frequency=x.astype(float), recency=recency, T=age, times=times, offsets=offsets)


def gamma_gamma(params: GammaGammaParams, frequency, seed: Seed) -> np.ndarray:
    """Mean repeat-transaction value per customer: nu ~ Gamma(q, rate gamma), each z ~ Gamma(p, rate nu).

    The sum of x such values is Gamma(p x, rate nu), so the mean is drawn directly; 0 where x = 0.
    """
    rng = _rng(seed)
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(params.q, 1.0 / params.gamma, x.shape)
    has = x > 0
    out = np.zeros(x.shape)
    out[has] = rng.gamma(params.p * x[has], 1.0 / nu[has]) / x[has]
    return out
