"""BG/NBD model of repeat purchasing in a non-contractual setting.

Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An Alternative to the Pareto/NBD
Model", Marketing Science 24(2); formulas as in Fader & Hardie, "Implementing the BG/NBD Model for Customer
Base Analysis in Excel" (2005 note). While active a customer buys at Poisson rate lambda ~ Gamma(r, alpha)
(alpha a rate); after each *repeat* purchase she drops out with probability p ~ Beta(a, b).

Per customer: ``frequency`` x = number of repeat purchases, ``recency`` t_x = time of the last repeat
purchase since the first purchase (0 when x = 0), ``T`` = time since the first purchase. All three in one
time unit of the caller's choosing (CDNOW uses weeks); alpha and every forecast horizon are in that unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1

from clm.clv.fitting import MIN_CUSTOMERS, as_weights, compress, maximize_log_likelihood, require, wsum

NAMES = ("r", "alpha", "a", "b")
_A_STEP = 1e-5  # E[Y(t)] is 0/0 at a = 1: evaluate this far either side instead


@dataclass(frozen=True)
class BgnbdParams:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class BgnbdFit(BgnbdParams):
    log_likelihood: float
    n_customers: float
    converged: bool
    iterations: int
    std_errors: dict[str, float]  # from the inverse observed information


def _validate(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, t_x, age = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    if not (x.ndim == 1 and x.shape == t_x.shape == age.shape):
        raise ValueError("frequency, recency and T must be 1-d arrays of the same length")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(age))):
        raise ValueError("frequency, recency and T must be finite")
    if np.any(x < 0) or np.any(x != np.floor(x)):
        raise ValueError("frequency must be a non-negative whole number")
    if np.any(t_x < 0) or np.any(t_x > age * (1 + 1e-12)):
        raise ValueError("recency must lie between 0 and T")
    if np.any(t_x[x == 0] != 0):
        raise ValueError("recency must be 0 for customers with no repeat purchase")
    return x, t_x, age


@dataclass(frozen=True)
class _Data:
    """Distinct rows plus the distinct frequencies, whose gamma-function terms are computed once each."""

    t_x: np.ndarray
    T: np.ndarray
    w: np.ndarray
    x_unique: np.ndarray
    x_index: np.ndarray
    x_weight: np.ndarray

    @classmethod
    def build(cls, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray) -> _Data:
        (x, t_x, T), w = compress([x, t_x, T], w)
        x_unique, x_index = np.unique(x, return_inverse=True)
        return cls(t_x, T, w, x_unique, x_index, np.bincount(x_index, weights=w, minlength=x_unique.size))


def _log_likelihood(theta: np.ndarray, d: _Data) -> tuple[float, np.ndarray]:
    r, alpha, a, b = theta
    xu, idx = d.x_unique, d.x_index
    # ln L = A1 + A2 + ln(exp(A3) + [x > 0] exp(A4)), the Excel note's decomposition.
    a1 = gammaln(r + xu) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + xu) - gammaln(b) - gammaln(a + b + xu)
    repeat = xu > 0
    with np.errstate(divide="ignore"):  # x = 0 has no second term: log(0) = -inf is exactly right
        log_odds_u = np.where(repeat, np.log(a) - np.log(np.where(repeat, b + xu - 1, 1.0)), -np.inf)
    inv_bx1_u = np.where(repeat, 1.0 / np.where(repeat, b + xu - 1, 1.0), 0.0)

    rx = (r + xu)[idx]
    log_T = np.log(alpha + d.T)
    log_tx = np.log(alpha + d.t_x)
    a3 = -rx * log_T
    a4 = log_odds_u[idx] - rx * log_tx
    lse = np.logaddexp(a3, a4)
    w4 = np.exp(a4 - lse)  # share of the likelihood from "dropped out after the last purchase"
    w3 = 1.0 - w4
    ww4 = d.w * w4

    xw, w = d.x_weight, d.w
    ll = wsum(xw, a1 + a2) + wsum(w, lse)
    d_r = wsum(xw, digamma(r + xu) - digamma(r) + np.log(alpha)) - wsum(w, w3 * log_T + w4 * log_tx)
    d_alpha = xw.sum() * r / alpha - wsum(w, rx * (w3 / (alpha + d.T) + w4 / (alpha + d.t_x)))
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + xu)
    d_a = wsum(xw, psi_ab - psi_abx) + ww4.sum() / a
    d_b = wsum(xw, psi_ab + digamma(b + xu) - digamma(b) - psi_abx) - wsum(ww4, inv_bx1_u[idx])
    return float(ll), np.array([d_r, d_alpha, d_a, d_b])


def log_likelihood(params: BgnbdParams, frequency, recency, T, weights=None) -> float:
    x, t_x, age = _validate(frequency, recency, T)
    data = _Data.build(x, t_x, age, as_weights(weights, x.size))
    return _log_likelihood(_theta(params), data)[0]


def _theta(params: BgnbdParams) -> np.ndarray:
    return np.array([params.r, params.alpha, params.a, params.b])


def _starts(x: np.ndarray, age: np.ndarray, w: np.ndarray) -> list[tuple[float, ...]]:
    # alpha is a time scale: anchor it on the observed purchase rate.
    rate = max(wsum(w, x) / max(wsum(w, age), 1e-12), 1e-6)
    return [(1.0, 1.0 / rate, 1.0, 1.0), (0.5, 0.5 / rate, 0.5, 2.0), (2.0, 2.0 / rate, 2.0, 5.0)]


def fit(
    frequency,
    recency,
    T,
    weights=None,
    *,
    min_customers: float = MIN_CUSTOMERS,
    strict: bool = True,
) -> BgnbdFit:
    """Maximum-likelihood BG/NBD fit; customers with no repeat purchase (x = 0, t_x = 0) are welcome."""
    x, t_x, age = _validate(frequency, recency, T)
    w = as_weights(weights, x.size)
    n = float(w.sum())
    require(n >= min_customers, f"BG/NBD needs at least {min_customers:g} customers, got {n:g}")
    require(
        w[x > 0].sum() > 0, f"BG/NBD cannot be fitted: none of the {n:g} customers has made a repeat purchase"
    )
    require(np.any(age[w > 0] > 0), "BG/NBD cannot be fitted: every customer has T = 0 (no time observed)")
    # Fit in units of the mean age: alpha scales with the time unit (weeks 4.4, days 31, minutes 44,000),
    # so this keeps it inside the optimiser's bounds whatever unit the caller uses. Rescaling time by c
    # multiplies alpha by 1/c and each customer's likelihood by c^-x (x purchase-time densities).
    unit = wsum(w, age) / n
    data = _Data.build(x, t_x / unit, age / unit, w)
    result = maximize_log_likelihood(
        lambda th: _log_likelihood(th, data),
        _starts(x, age / unit, w),
        NAMES,
        model="BG/NBD",
        n_obs=n,
        strict=strict,
    )
    r, alpha, a, b = (float(v) for v in result.params)
    errors = result.std_errors * np.array([1.0, unit, 1.0, 1.0])
    return BgnbdFit(
        r=r,
        alpha=alpha * unit,
        a=a,
        b=b,
        log_likelihood=float(result.log_likelihood - np.log(unit) * wsum(w, x)),
        n_customers=n,
        converged=result.converged,
        iterations=result.iterations,
        std_errors=dict(zip(NAMES, (float(s) for s in errors), strict=True)),
    )


def _log_dropout_odds(params: BgnbdParams, x, t_x, T) -> np.ndarray:
    """ln of P(dropped out after the last purchase) / P(active), given (x, t_x, T); -inf when x = 0."""
    x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, t_x, T)))
    repeat = x > 0
    safe = np.where(repeat, params.b + x - 1, 1.0)
    lo = (
        np.log(params.a)
        - np.log(safe)
        + (params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + t_x))
    )
    return np.where(repeat, lo, -np.inf)


def probability_alive(params: BgnbdParams, frequency, recency, T) -> np.ndarray:
    """P(active at T | x, t_x, T) (FHL 2005 eq. 11), via the log-odds so that large x cannot overflow."""
    return expit(-_log_dropout_odds(params, frequency, recency, T))


def _tail_factor(params: BgnbdParams, x: np.ndarray, t: np.ndarray, T: np.ndarray) -> np.ndarray:
    """((alpha + T) / (alpha + T + t))^(r + x) * 2F1(r + x, b + x; a + b + x - 1; z), z = t / (alpha + T + t).

    Written by Euler's transformation as (1 - z)^(a - 1) * 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z): the
    paper's form multiplies a vanishing power by a 2F1 that overflows for large x; this one has bounded
    numerator parameters and a denominator parameter that grows with x, so it tends smoothly to (1 - z)^(a-1).
    When a is large (hundreds) Euler's form overflows instead and the paper's form is used; nan if neither
    evaluates, so that a caller never publishes an infinite expectation.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    with np.errstate(all="ignore"):
        euler = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        # For a large a (b large too: nearly homogeneous dropout) Euler's form is 0 x inf, while the paper's
        # form is well behaved for the small x such fits come with: take whichever evaluates.
        paper = np.exp((r + x) * np.log1p(-z)) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    return np.where(np.isfinite(euler), euler, np.where(np.isfinite(paper), paper, np.nan))


def _expected_if_active(params: BgnbdParams, x: np.ndarray, t: np.ndarray, T: np.ndarray) -> np.ndarray:
    """(a + b + x - 1) / (a - 1) * [1 - tail], with a removable singularity at a = 1 that we step around."""

    def formula(a: float) -> np.ndarray:
        p = BgnbdParams(params.r, params.alpha, a, params.b)
        return (a + params.b + x - 1) / (a - 1) * (1 - _tail_factor(p, x, t, T))

    if abs(params.a - 1) < _A_STEP:  # average both sides: the error is second order in the step
        return (formula(1 - _A_STEP) + formula(1 + _A_STEP)) / 2
    return formula(params.a)


def conditional_expected_purchases(params: BgnbdParams, t, frequency, recency, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected repeat purchases in (T, T + t] (FHL 2005 eq. 10)."""
    x, t_x, age, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (frequency, recency, T, t)))
    if np.any(t < 0):
        raise ValueError("t must be >= 0")
    return _expected_if_active(params, x, t, age) * probability_alive(params, x, t_x, age)


def expected_purchases(params: BgnbdParams, t) -> np.ndarray:
    """E[X(t)]: expected repeat purchases by a new customer in (0, t] (FHL 2005 eq. 9).

    It is the conditional expectation of a customer observed for no time at all (x = t_x = T = 0).
    """
    t = np.asarray(t, dtype=float)
    zero = np.zeros_like(t)
    return conditional_expected_purchases(params, t, zero, zero, zero)
