"""Shared maximum-likelihood machinery for the CLV models.

Every model here has strictly positive parameters, so we optimise their logarithms with L-BFGS-B (box bounds
on the log scale keep the search away from 0 and infinity, where the likelihoods overflow). Each model
supplies its log-likelihood *and* analytic gradient, because numeric gradients at a million customers would
multiply the cost by the number of parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeResult, minimize
from scipy.special import betaln, digamma

from clm.clv.errors import ClvFitError

LogLikelihood = Callable[[np.ndarray], tuple[float, np.ndarray]]
"""Natural-scale parameters -> (total log-likelihood, its gradient with respect to those parameters)."""

PARAM_BOUNDS: tuple[float, float] = (1e-4, 1e4)
MIN_CUSTOMERS = 30
# A log-parameter this close to a bound is "stuck": the data want it at 0 or infinity, so the model is
# degenerate for this segment and the number would be meaningless.
_AT_BOUND_TOL = 1e-3
# L-BFGS-B sometimes reports a line-search stall at the optimum (round-off in a flat objective); a gradient
# of the per-customer log-likelihood this small is an optimum all the same.
_FLAT_GRADIENT = 1e-4
_HESSIAN_STEP = 1e-4
_OPTIONS = {"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9}


@dataclass(frozen=True)
class MleResult:
    params: np.ndarray  # natural scale
    std_errors: np.ndarray  # natural scale, from the inverse observed information; NaN if singular
    log_likelihood: float
    converged: bool
    iterations: int
    message: str


def require(condition: bool, message: str) -> None:
    """Raise ClvFitError(message) unless condition holds: the models' data checks read as a list of rules."""
    if not condition:
        raise ClvFitError(message)


def as_weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"weights must be {n} finite non-negative numbers")
    return w


def compress(columns: Sequence[np.ndarray], weights: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Collapse identical rows, summing their weights: the likelihood is then evaluated once per distinct row.

    Real data are in whole days or periods, so a million customers typically have far fewer distinct rows.
    """
    keep = weights > 0
    cols = [np.asarray(c)[keep] for c in columns]
    w = weights[keep]
    if w.size == 0:
        return [c[:0] for c in cols], w
    order = np.lexsort(cols[::-1])
    cols = [c[order] for c in cols]
    change = np.zeros(w.size, dtype=bool)
    change[0] = True
    for c in cols:
        change[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(change)
    return [c[starts] for c in cols], np.add.reduceat(w[order], starts)


def maximize_log_likelihood(
    loglik: LogLikelihood,
    starts: Sequence[Sequence[float]],
    names: Sequence[str],
    *,
    model: str,
    n_obs: float,
    bounds: tuple[float, float] = PARAM_BOUNDS,
    strict: bool = True,
) -> MleResult:
    """Maximise ``loglik`` from each start (log scale, L-BFGS-B) and keep the best.

    With ``strict`` a fit that did not converge, or whose best point sits on a bound, raises ClvFitError;
    otherwise it is returned with ``converged=False`` for the caller to judge.
    """
    lo, hi = float(np.log(bounds[0])), float(np.log(bounds[1]))
    scale = max(float(n_obs), 1.0)  # per-customer scale: tolerances mean the same at 100 or 1M customers

    def objective(u: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.exp(u)
        ll, grad = loglik(theta)
        if not np.isfinite(ll) or not np.all(np.isfinite(grad)):
            return 1e100, np.zeros_like(u)  # pushes the line search back towards finite territory
        return -ll / scale, -grad * theta / scale

    best = None
    for start in starts:
        u0 = np.clip(np.log(np.asarray(start, dtype=float)), lo + 1e-6, hi - 1e-6)
        res = minimize(
            objective, u0, jac=True, method="L-BFGS-B", bounds=[(lo, hi)] * u0.size, options=_OPTIONS
        )
        if np.isfinite(res.fun) and res.fun < 1e100 and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise ClvFitError(f"{model} fit failed: the log-likelihood is not finite at any starting value")

    u = best.x
    theta = np.exp(u)
    ll, grad = loglik(theta)
    problems = _convergence_problems(best, u, grad * theta / scale, ll, names, lo, hi, bounds)
    if problems and strict:
        raise ClvFitError(f"{model} fit did not converge: {'; '.join(problems)}")
    return MleResult(
        params=theta,
        std_errors=_std_errors(loglik, u),
        log_likelihood=float(ll),
        converged=not problems,
        iterations=int(best.nit),
        message="; ".join(problems) or "converged",
    )


def _convergence_problems(
    res: OptimizeResult,
    u: np.ndarray,
    grad_u: np.ndarray,
    ll: float,
    names: Sequence[str],
    lo: float,
    hi: float,
    bounds: tuple[float, float],
) -> list[str]:
    problems = []
    if not np.isfinite(ll):
        problems.append("log-likelihood is not finite at the optimum")
    for name, value in zip(names, u, strict=True):
        if value <= lo + _AT_BOUND_TOL:
            problems.append(f"{name} ran to the lower bound {bounds[0]:g} (the data push it to 0)")
        elif value >= hi - _AT_BOUND_TOL:
            problems.append(f"{name} ran to the upper bound {bounds[1]:g} (the data push it to infinity)")
    if not res.success and not np.max(np.abs(grad_u)) < _FLAT_GRADIENT:
        problems.append(f"optimizer stopped after {res.nit} iterations: {res.message}")
    return problems


def _std_errors(loglik: LogLikelihood, u: np.ndarray) -> np.ndarray:
    """Standard errors from the observed information, by central differences of the analytic gradient.

    Differencing on the log scale and mapping back (delta method) keeps the step relative to each parameter.
    """
    k = u.size

    def grad_u(v: np.ndarray) -> np.ndarray:
        theta = np.exp(v)
        return loglik(theta)[1] * theta

    hessian = np.empty((k, k))
    for j in range(k):
        step = np.zeros(k)
        step[j] = _HESSIAN_STEP
        hessian[:, j] = (grad_u(u + step) - grad_u(u - step)) / (2 * _HESSIAN_STEP)
    info = -(hessian + hessian.T) / 2
    try:
        if np.any(np.linalg.eigvalsh(info) <= 0):
            return np.full(k, np.nan)
        cov_u = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    return np.exp(u) * np.sqrt(np.diag(cov_u))


def wsum(weights: np.ndarray, values: np.ndarray) -> float:
    """Weighted sum. einsum rather than ``@``: on a busy 2-core machine OpenBLAS's threads take milliseconds
    to wake for each dot product, which dominated the fit time at 20k customers."""
    return float(np.einsum("i,i->", weights, values))


def lbeta_grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ln B(x, y) and its partial derivatives: every beta-function likelihood here is built from these."""
    both = digamma(np.add(x, y))
    return betaln(x, y), digamma(x) - both, digamma(y) - both
