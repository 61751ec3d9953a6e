"""Fit the CLV models on the warehouse's model inputs and predict per customer.

Inputs are the dbt models `int_clv__subscription_renewals` (sBG) and `int_clv__purchase_histories`
(BG/NBD, Gamma-Gamma), read as DataFrames. Outputs are two DataFrames that clm.clv.store writes into the
build database as `clv.customer_predictions` and `clv.model_parameters`, which the dbt marts
`fct_customer_clv` and `clv_model_parameters` publish (money and gross margin are applied in dbt).

A segment whose data cannot support an estimate (too few customers, no churn, no repeat buyers) is skipped
with a warning; the rest is fitted and published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from clm.clv import bgnbd, gamma_gamma, sbg
from clm.clv.errors import ClvFitError

# Horizon of the 12-month predictions, in the purchase models' time unit (days) and in months.
HORIZON_DAYS = 365
HORIZON_MONTHS = 12

PREDICTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("customer_id", "varchar"),
    ("sbg_segment", "varchar"),
    ("period_months", "integer"),
    ("renewals", "integer"),
    ("is_subscription_alive", "boolean"),
    ("expected_renewals_12m", "double precision"),
    ("discounted_expected_residual_lifetime", "double precision"),
    ("bg_nbd_segment", "varchar"),
    ("p_alive_purchases", "double precision"),
    ("expected_purchases_12m", "double precision"),
    ("expected_spend_per_purchase", "double precision"),
)

PARAMETER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("model", "varchar"),
    ("segment", "varchar"),
    ("parameter", "varchar"),
    ("value", "double precision"),
    ("standard_error", "double precision"),
    ("log_likelihood", "double precision"),
    ("n_customers", "integer"),
    ("time_unit", "varchar"),
    ("converged", "boolean"),
    ("fitted_at", "timestamp"),
)


@dataclass(frozen=True)
class ClvSettings:
    annual_discount_rate: float = 0.10
    min_customers: int = 30


def load_settings(dbt_project_yml: Path) -> ClvSettings:
    """The CLV vars of dbt_project.yml (clv_annual_discount_rate, clv_min_customers): one config place."""
    variables = (yaml.safe_load(dbt_project_yml.read_text()) or {}).get("vars") or {}
    defaults = ClvSettings()
    return ClvSettings(
        annual_discount_rate=float(variables.get("clv_annual_discount_rate", defaults.annual_discount_rate)),
        min_customers=int(variables.get("clv_min_customers", defaults.min_customers)),
    )


@dataclass
class ClvResult:
    predictions: pd.DataFrame
    parameters: pd.DataFrame
    warnings: list[tuple[str, str]] = field(default_factory=list)


def period_segment(period_months: int) -> str:
    """The sBG segment (and time unit) of a billing period: 1 -> month, 12 -> year, else '<n>_months'."""
    return {1: "month", 12: "year"}.get(int(period_months), f"{int(period_months)}_months")


def _segments(frame: pd.DataFrame, column: str, prefix: str) -> Iterator[tuple[str, pd.DataFrame]]:
    yield "all", frame
    for value, part in frame.groupby(column, sort=True):
        yield f"{prefix}:{value}", part


def _parameter_rows(
    model: str, segment: str, fit, names: tuple[str, ...], time_unit: str, fitted_at: datetime
) -> list[dict]:
    return [
        {
            "model": model,
            "segment": segment,
            "parameter": name,
            "value": float(getattr(fit, name)),
            "standard_error": float(fit.std_errors.get(name, np.nan)),
            "log_likelihood": float(fit.log_likelihood),
            "n_customers": int(round(fit.n_customers)),
            "time_unit": time_unit,
            "converged": bool(fit.converged),
            "fitted_at": fitted_at,
        }
        for name in names
    ]


def _try_fit(model: str, segment: str, fit: Callable, warnings: list[tuple[str, str]]):
    try:
        return fit()
    except ClvFitError as error:
        warnings.append((f"{model}:{segment}", f"not fitted: {error}"))
        return None


def _sbg_time_unit(frame: pd.DataFrame) -> str:
    periods = frame["period_months"].dropna().unique()
    return period_segment(periods[0]) if len(periods) == 1 else "billing_period"


def fit_sbg(
    renewals: pd.DataFrame, fitted_at: datetime, warnings: list, min_customers: int
) -> tuple[list[dict], dict]:
    """sBG per segment ('all', CRM segments, billing periods); returns parameter rows and fits by period."""
    rows: list[dict] = []
    by_period: dict[str, sbg.SbgFit] = {}
    frame = renewals.dropna(subset=["period_months"])
    if len(frame) < len(renewals):
        # int_clv__subscription_renewals knows month and year billing only; week/day plans are left out
        warnings.append(
            (
                "sbg:billing_period",
                f"sbg: {len(renewals) - len(frame)} subscriber(s) billed by week or day are not fitted",
            )
        )
    segments = [*_segments(frame, "segment", "segment")]
    segments += [
        (f"billing_period:{period_segment(p)}", part) for p, part in frame.groupby("period_months", sort=True)
    ]
    for segment, part in segments:
        fit = _try_fit(
            "sbg",
            segment,
            lambda part=part: sbg.fit(
                part["renewals"].to_numpy(),
                part["is_alive"].to_numpy(dtype=bool),
                min_customers=min_customers,
            ),
            warnings,
        )
        if fit is None:
            continue
        rows += _parameter_rows("sbg", segment, fit, ("alpha", "beta"), _sbg_time_unit(part), fitted_at)
        if segment.startswith("billing_period:"):
            by_period[segment.split(":", 1)[1]] = fit
    return rows, by_period


def predict_sbg(
    renewals: pd.DataFrame, by_period: dict[str, sbg.SbgFit], settings: ClvSettings
) -> pd.DataFrame:
    """Expected renewals in the next 12 months and DERL for alive subscribers, with their period's fit."""
    out = renewals[["customer_id", "period_months", "renewals", "is_alive"]].copy()
    out["sbg_segment"] = None
    out["expected_renewals_12m"] = np.where(out["is_alive"], np.nan, 0.0)
    out["discounted_expected_residual_lifetime"] = np.where(out["is_alive"], np.nan, 0.0)
    for period_months, part in out[out["is_alive"]].groupby("period_months"):
        name = period_segment(period_months)
        fit = by_period.get(name)
        if fit is None:
            continue
        # Renewal decisions within the horizon, and the per-period discount rate of the annual one.
        periods_ahead = HORIZON_MONTHS // int(period_months)
        discount = (1 + settings.annual_discount_rate) ** (int(period_months) / 12) - 1
        m = part["renewals"].to_numpy(dtype=float)
        out.loc[part.index, "sbg_segment"] = f"billing_period:{name}"
        out.loc[part.index, "expected_renewals_12m"] = sbg.expected_renewals(fit, m, periods_ahead)
        out.loc[part.index, "discounted_expected_residual_lifetime"] = sbg.derl(fit, discount, m)
    out.loc[~out["is_alive"], "sbg_segment"] = None
    return out.rename(columns={"is_alive": "is_subscription_alive"})


def fit_purchases(
    purchases: pd.DataFrame, fitted_at: datetime, warnings: list, min_customers: int
) -> tuple[list[dict], bgnbd.BgnbdFit | None, gamma_gamma.GammaGammaFit | None]:
    """BG/NBD and Gamma-Gamma per segment ('all' and CRM segments); returns rows and the 'all' fits."""
    rows: list[dict] = []
    all_bgnbd = all_gg = None
    for segment, part in _segments(purchases, "segment", "segment"):
        x = part["frequency"].to_numpy(dtype=float)
        t_x = part["recency_days"].to_numpy(dtype=float)
        age = part["age_days"].to_numpy(dtype=float)
        fit = _try_fit(
            "bg_nbd",
            segment,
            lambda x=x, t_x=t_x, age=age: bgnbd.fit(x, t_x, age, min_customers=min_customers),
            warnings,
        )
        if fit is not None:
            rows += _parameter_rows("bg_nbd", segment, fit, ("r", "alpha", "a", "b"), "day", fitted_at)
            if segment == "all":
                all_bgnbd = fit
        repeat = part[part["frequency"] > 0]
        gg = _try_fit(
            "gamma_gamma",
            segment,
            lambda repeat=repeat: gamma_gamma.fit(
                repeat["frequency"].to_numpy(dtype=float),
                repeat["monetary_value"].to_numpy(dtype=float),
                min_customers=min_customers,
            ),
            warnings,
        )
        if gg is not None:
            rows += _parameter_rows(
                "gamma_gamma", segment, gg, ("p", "q", "gamma"), "reporting_currency", fitted_at
            )
            if segment == "all":
                all_gg = gg
    return rows, all_bgnbd, all_gg


def predict_purchases(
    purchases: pd.DataFrame, fit: bgnbd.BgnbdFit | None, gg: gamma_gamma.GammaGammaFit | None
) -> pd.DataFrame:
    """P(alive), expected purchases in the next 365 days and expected spend per purchase ('all' fits)."""
    out = purchases[["customer_id"]].copy()
    out["bg_nbd_segment"] = "all" if fit is not None else None
    x = purchases["frequency"].to_numpy(dtype=float)
    t_x = purchases["recency_days"].to_numpy(dtype=float)
    age = purchases["age_days"].to_numpy(dtype=float)
    if fit is not None and len(out):
        out["p_alive_purchases"] = bgnbd.probability_alive(fit, x, t_x, age)
        out["expected_purchases_12m"] = bgnbd.conditional_expected_purchases(fit, HORIZON_DAYS, x, t_x, age)
    else:
        out["p_alive_purchases"] = np.nan
        out["expected_purchases_12m"] = np.nan
    if gg is not None and len(out):
        monetary = purchases["monetary_value"].to_numpy(dtype=float)
        out["expected_spend_per_purchase"] = gamma_gamma.conditional_expected_average_spend(
            gg, x, np.where(x > 0, monetary, np.nan)
        )
    else:
        out["expected_spend_per_purchase"] = np.nan
    return out


def _null_non_finite(predictions: pd.DataFrame, warnings: list[tuple[str, str]]) -> pd.DataFrame:
    """An expectation that does not evaluate (overflow at extreme parameters) is published as null, said."""
    numeric = predictions.select_dtypes("number").columns
    values = predictions[numeric].to_numpy(dtype=float)
    bad = ~np.isfinite(values) & ~np.isnan(values)
    if bad.any():
        warnings.append(
            ("clv:predictions", f"{int(bad.sum())} non-finite CLV prediction(s) published as null")
        )
        predictions = predictions.copy()
        predictions[numeric] = predictions[numeric].where(~bad)
    return predictions


def run(
    renewals: pd.DataFrame,
    purchases: pd.DataFrame,
    fitted_at: datetime,
    settings: ClvSettings | None = None,
) -> ClvResult:
    """Fit every model and segment, predict per customer; one row per customer in either input."""
    settings = settings or ClvSettings()
    warnings: list[tuple[str, str]] = []
    sbg_rows, by_period = fit_sbg(renewals, fitted_at, warnings, settings.min_customers)
    purchase_rows, fit, gg = fit_purchases(purchases, fitted_at, warnings, settings.min_customers)
    subscription = predict_sbg(renewals, by_period, settings)
    purchase = predict_purchases(purchases, fit, gg)
    predictions = subscription.merge(purchase, on="customer_id", how="outer")
    predictions = predictions[[name for name, _ in PREDICTION_COLUMNS]].sort_values("customer_id")
    predictions = _null_non_finite(predictions, warnings)
    parameters = pd.DataFrame(sbg_rows + purchase_rows, columns=[name for name, _ in PARAMETER_COLUMNS])
    return ClvResult(predictions.reset_index(drop=True), parameters, warnings)
