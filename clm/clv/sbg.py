"""Shifted-beta-geometric (sBG) model of contract renewals.

Fader & Hardie (2007), "How to Project Customer Retention", Journal of Interactive Marketing 21(1).
Each customer renews at the end of every period with her own probability 1 - theta, theta ~ Beta(alpha, beta).

Conventions (the paper's):
- time is in contract periods; a customer is acquired at t = 0 and decides to renew at the end of periods
  1, 2, ...; ``T`` is the period in which she churns, so P(T = 1) = alpha / (alpha + beta);
- ``renewals`` is how many renewals a customer has made: a churned customer with ``renewals = m`` has
  T = m + 1, an active (right-censored) one has T > m;
- S(t) = P(T > t) is the share of a cohort still active after t renewals, r(t) = S(t) / S(t - 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, hyp2f1

from clm.clv.fitting import (
    MIN_CUSTOMERS,
    as_weights,
    compress,
    lbeta_grad,
    maximize_log_likelihood,
    require,
    wsum,
)

_STARTS = ((1.0, 1.0), (0.5, 2.0), (2.0, 0.5), (5.0, 5.0))


@dataclass(frozen=True)
class SbgParams:
    alpha: float
    beta: float


@dataclass(frozen=True)
class SbgFit(SbgParams):
    log_likelihood: float
    n_customers: float  # sum of weights (a head count when unweighted)
    converged: bool
    iterations: int
    std_errors: dict[str, float]  # from the inverse observed information


def _validate(renewals: np.ndarray, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = np.asarray(renewals)
    if m.ndim != 1 or not np.all(np.isfinite(m)) or np.any(m < 0) or np.any(m != np.floor(m)):
        raise ValueError("renewals must be a 1-d array of non-negative whole numbers")
    a = np.asarray(alive, dtype=bool)
    if a.shape != m.shape:
        raise ValueError("renewals and alive must have the same length")
    return m.astype(float), a


def _log_likelihood(
    theta: np.ndarray, m: np.ndarray, alive: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    alpha, beta = theta
    # Churned: P(T = m + 1) = B(alpha + 1, beta + m) / B(alpha, beta); active: S(m) = B(alpha, beta + m) / ...
    lb, da, db = lbeta_grad(alpha + ~alive, beta + m)
    lb0, da0, db0 = lbeta_grad(alpha, beta)
    n = w.sum()
    ll = wsum(w, lb) - n * lb0
    grad = np.array([wsum(w, da) - n * da0, wsum(w, db) - n * db0])
    return ll, grad


def log_likelihood(params: SbgParams, renewals: np.ndarray, alive: np.ndarray, weights=None) -> float:
    m, a = _validate(renewals, alive)
    return _log_likelihood(np.array([params.alpha, params.beta]), m, a, as_weights(weights, m.size))[0]


def fit(
    renewals: np.ndarray,
    alive: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    min_customers: float = MIN_CUSTOMERS,
    strict: bool = True,
) -> SbgFit:
    """Maximum-likelihood sBG fit on one row per customer (or per distinct row, ``weights`` as counts)."""
    m, a = _validate(renewals, alive)
    w = as_weights(weights, m.size)
    n = float(w.sum())
    require(n >= min_customers, f"sBG needs at least {min_customers:g} customers, got {n:g}")
    require(
        w[~a].sum() > 0,
        f"sBG cannot be fitted: none of the {n:g} customers has churned, so the churn rate is not identified",
    )
    require(w[m >= 1].sum() > 0, "sBG cannot be fitted: no customer has renewed even once")
    # Heterogeneity shows only as a falling retention rate: at least two renewal decisions must be observed.
    second = (~a & (m >= 1)) | (a & (m >= 2))
    require(
        w[second].sum() > 0,
        "sBG cannot be fitted: only the first renewal decision is observed, so alpha and beta are not "
        "separately identified (wait for a second period)",
    )
    (mu, au), wu = compress([m, a], w)
    result = maximize_log_likelihood(
        lambda th: _log_likelihood(th, mu, au, wu),
        _STARTS,
        ("alpha", "beta"),
        model="sBG",
        n_obs=n,
        strict=strict,
    )
    return SbgFit(
        alpha=float(result.params[0]),
        beta=float(result.params[1]),
        log_likelihood=result.log_likelihood,
        n_customers=n,
        converged=result.converged,
        iterations=result.iterations,
        std_errors={"alpha": float(result.std_errors[0]), "beta": float(result.std_errors[1])},
    )


def survivors_to_arrays(survivors: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A cohort's survivor table (active counts after 0, 1, ..., n renewals) as (renewals, alive, weights)."""
    s = np.asarray(survivors, dtype=float)
    if s.ndim != 1 or s.size < 2 or s[0] <= 0 or np.any(np.diff(s) > 0) or s[-1] < 0:
        raise ValueError("survivors must start with the cohort size and never increase")
    n = s.size - 1
    renewals = np.arange(n + 1, dtype=float)  # churners after t - 1 renewals for t = 1..n, then the survivors
    alive = np.r_[np.zeros(n, dtype=bool), True]
    return renewals, alive, np.r_[s[:-1] - s[1:], s[-1]]


def fit_survivors(survivors: Sequence[float], **kwargs) -> SbgFit:
    """Fit from a survivor table such as Fader & Hardie (2007) Table 1: 1000, 631, 468, ..."""
    return fit(*survivors_to_arrays(survivors), **kwargs)


def churn_probability(params: SbgParams, t) -> np.ndarray:
    """P(T = t), t = 1, 2, ...: the share of a new cohort lost at the end of period t (paper eq. 5)."""
    t = np.asarray(t, dtype=float)
    return np.exp(betaln(params.alpha + 1, params.beta + t - 1) - betaln(params.alpha, params.beta))


def survival(params: SbgParams, t) -> np.ndarray:
    """S(t) = P(T > t), t = 0, 1, ...: the share of a new cohort still active after t renewals."""
    t = np.asarray(t, dtype=float)
    return np.exp(betaln(params.alpha, params.beta + t) - betaln(params.alpha, params.beta))


def retention_rate(params: SbgParams, t) -> np.ndarray:
    """r(t) = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1), t = 1, 2, ... (rises with t)."""
    t = np.asarray(t, dtype=float)
    return (params.beta + t - 1) / (params.alpha + params.beta + t - 1)


def derl(params: SbgParams, discount: float, renewals) -> np.ndarray:
    """Discounted expected residual lifetime of an active customer who has made ``renewals`` renewals.

    Fader & Hardie (2010), "Customer-Base Valuation in a Contractual Setting: The Perils of Ignoring
    Heterogeneity", Marketing Science 29(1), eq. for DERL(d | alpha, beta, n - 1 renewals): the customer is
    at the end of period n = renewals + 1, just before her next renewal decision, and

        DERL = (beta + n - 1) / (alpha + beta + n - 1) * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))
             = sum_{k >= 0} P(she makes the next k + 1 renewals) / (1 + d)^k,

    i.e. the expected number of future renewal payments, the imminent one undiscounted. Multiply by the
    per-period margin for the residual value. ``discount`` is the per-period rate d; d = 0 gives the
    undiscounted expected residual lifetime, finite only when alpha > 1.
    """
    if discount < 0:
        raise ValueError("discount must be >= 0")
    n = np.asarray(renewals, dtype=float) + 1.0
    a, b = params.alpha, params.beta
    if discount == 0:  # Gauss: 2F1(1, b'; c'; 1) = (c' - 1) / (c' - b' - 1), convergent only when alpha > 1
        return (b + n - 1) / (a - 1) if a > 1 else np.full_like(n, np.inf)
    return (b + n - 1) / (a + b + n - 1) * hyp2f1(1.0, b + n, a + b + n, 1.0 / (1.0 + discount))


def expected_residual_lifetime(params: SbgParams, renewals) -> np.ndarray:
    """Expected number of future renewals of an active customer (DERL at d = 0); infinite if alpha <= 1."""
    return derl(params, 0.0, renewals)


def expected_renewals(params: SbgParams, renewals, periods: int) -> np.ndarray:
    """Expected renewals in the next ``periods`` periods of an active customer with ``renewals`` renewals.

    The sum over j = 1..periods of S(m + j) / S(m), the conditional survival: the expected number of paid
    periods for a ``periods``-period revenue projection (e.g. 12 months). Computed once per distinct count.
    """
    if periods < 0:
        raise ValueError("periods must be >= 0")
    m = np.asarray(renewals, dtype=float)
    unique, inverse = np.unique(m, return_inverse=True)
    steps = unique[:, None] + np.arange(1, periods + 1)[None, :]
    per_count = np.cumprod(retention_rate(params, steps), axis=1).sum(axis=1)
    return per_count[inverse].reshape(m.shape)
