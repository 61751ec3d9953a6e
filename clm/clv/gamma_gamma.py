"""Gamma-Gamma model of average transaction value.

Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", Journal of
Marketing Research 42(4), section on the spend submodel; Fader & Hardie (2013), "The Gamma-Gamma Model of
Monetary Value" (note). Each transaction value z ~ Gamma(p, nu) (nu a rate); nu ~ Gamma(q, gamma) across
customers. Fitted on the customers with x > 0 repeat transactions, using mbar = their mean *repeat*
transaction value (the note's and lifetimes' convention: the first purchase is left out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from clm.clv.fitting import MIN_CUSTOMERS, as_weights, compress, maximize_log_likelihood, require, wsum

NAMES = ("p", "q", "gamma")


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float

    @property
    def population_mean(self) -> float:
        """E[M] = p * gamma / (q - 1): the expected average spend of a customer we know nothing about."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("inf")


@dataclass(frozen=True)
class GammaGammaFit(GammaGammaParams):
    log_likelihood: float
    n_customers: float  # repeat buyers only: the others carry no spend information
    converged: bool
    iterations: int
    std_errors: dict[str, float]


def _validate(frequency, monetary_value) -> tuple[np.ndarray, np.ndarray]:
    x, m = np.asarray(frequency, dtype=float), np.asarray(monetary_value, dtype=float)
    if x.ndim != 1 or x.shape != m.shape:
        raise ValueError("frequency and monetary_value must be 1-d arrays of the same length")
    if not np.all(np.isfinite(x)) or np.any(x < 0) or np.any(x != np.floor(x)):
        raise ValueError("frequency must be a non-negative whole number")
    repeat = x > 0
    if not np.all(np.isfinite(m[repeat])) or np.any(m[repeat] <= 0):
        raise ValueError("monetary_value must be positive for every customer with frequency > 0")
    return x, m


@dataclass(frozen=True)
class _Data:
    """Repeat buyers' rows, arranged so each evaluation does one log and one division per row.

    The gamma functions depend on x alone, so they run once per distinct frequency; the terms in ln(mbar)
    and ln(x) do not involve the parameters' nonlinearity and are summed once, here.
    """

    xm: np.ndarray  # x * mbar, the customer's total repeat spend
    x: np.ndarray
    w: np.ndarray
    wx: np.ndarray
    x_unique: np.ndarray
    x_weight: np.ndarray
    sum_w_x_log_xm: float  # sum of w x (ln mbar + ln x) = sum of w x ln(x mbar)
    sum_w_log_m: float

    @classmethod
    def build(cls, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> _Data:
        (x, m), w = compress([x, m], w)
        x_unique, x_index = np.unique(x, return_inverse=True)
        xm = x * m
        return cls(
            xm=xm,
            x=x,
            w=w,
            wx=w * x,
            x_unique=x_unique,
            x_weight=np.bincount(x_index, weights=w, minlength=x_unique.size),
            sum_w_x_log_xm=wsum(w, x * np.log(xm)),
            sum_w_log_m=wsum(w, np.log(m)),
        )


def _log_likelihood(theta: np.ndarray, d: _Data) -> tuple[float, np.ndarray]:
    p, q, g = theta
    # x * mbar ~ Gamma(p x, nu), nu ~ Gamma(q, gamma): integrate nu out and change variables to mbar:
    # ln f = lnG(px + q) - lnG(px) - lnG(q) + q ln g + (px - 1) ln mbar + px ln x - (px + q) ln(g + x mbar).
    pxu = p * d.x_unique
    n = d.x_weight.sum()
    per_x = gammaln(pxu + q) - gammaln(pxu) - gammaln(q)
    log_gm = np.log(g + d.xm)
    sum_log_gm, sum_x_log_gm = wsum(d.w, log_gm), wsum(d.wx, log_gm)
    ll = wsum(d.x_weight, per_x) + n * q * np.log(g) + p * d.sum_w_x_log_xm - d.sum_w_log_m
    ll -= p * sum_x_log_gm + q * sum_log_gm
    psi = digamma(pxu + q)
    d_p = wsum(d.x_weight, d.x_unique * (psi - digamma(pxu))) + d.sum_w_x_log_xm - sum_x_log_gm
    d_q = wsum(d.x_weight, psi - digamma(q)) + n * np.log(g) - sum_log_gm
    d_g = n * q / g - wsum(d.w, (p * d.x + q) / (g + d.xm))
    return float(ll), np.array([d_p, d_q, d_g])


def _repeat_rows(frequency, monetary_value, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, m = _validate(frequency, monetary_value)
    w = as_weights(weights, x.size)
    repeat = x > 0
    return x[repeat], m[repeat], w[repeat]


def log_likelihood(params: GammaGammaParams, frequency, monetary_value, weights=None) -> float:
    x, m, w = _repeat_rows(frequency, monetary_value, weights)
    return _log_likelihood(np.array([params.p, params.q, params.gamma]), _Data.build(x, m, w))[0]


def fit(
    frequency,
    monetary_value,
    weights=None,
    *,
    min_customers: float = MIN_CUSTOMERS,
    strict: bool = True,
) -> GammaGammaFit:
    """Maximum-likelihood fit; customers with frequency 0 are accepted and ignored (they carry no spend)."""
    x, m, w = _repeat_rows(frequency, monetary_value, weights)
    n = float(w.sum())
    require(n > 0, "Gamma-Gamma cannot be fitted: no customer has a repeat purchase, so no spend is observed")
    require(n >= min_customers, f"Gamma-Gamma needs at least {min_customers:g} repeat buyers, got {n:g}")
    # Fit in units of the mean spend: gamma is in currency units (CDNOW 15 dollars, 1,500 cents, 2,000 yen),
    # so this keeps it inside the optimiser's bounds in any currency. Rescaling spend by c multiplies gamma
    # by 1/c and each customer's density of mbar by 1/c.
    unit = wsum(w, m) / n
    starts = ((1.0, 2.0, 1.0), (5.0, 3.0, 0.4), (2.0, 5.0, 2.0))
    data = _Data.build(x, m / unit, w)
    result = maximize_log_likelihood(
        lambda th: _log_likelihood(th, data), starts, NAMES, model="Gamma-Gamma", n_obs=n, strict=strict
    )
    p, q, g = (float(v) for v in result.params)
    errors = result.std_errors * np.array([1.0, 1.0, unit])
    return GammaGammaFit(
        p=p,
        q=q,
        gamma=g * unit,
        log_likelihood=float(result.log_likelihood - n * np.log(unit)),
        n_customers=n,
        converged=result.converged,
        iterations=result.iterations,
        std_errors=dict(zip(NAMES, (float(s) for s in errors), strict=True)),
    )


def conditional_expected_average_spend(params: GammaGammaParams, frequency, monetary_value) -> np.ndarray:
    """E[M | x, mbar] = p (gamma + x mbar) / (p x + q - 1) (FHL 2005 JMR eq. 3; the 2013 note eq. 5).

    A weighted average of the population mean and the customer's own mean, weight p x on her own; with
    x = 0 it is the population mean (needs q > 1), whatever ``monetary_value`` holds.
    """
    x = np.asarray(frequency, dtype=float)
    m = np.where(x > 0, np.asarray(monetary_value, dtype=float), 0.0)
    p, q, g = params.p, params.q, params.gamma
    with np.errstate(divide="ignore", invalid="ignore"):
        out = p * (g + x * m) / (p * x + q - 1)
    return np.where(p * x + q - 1 > 0, out, np.inf)
