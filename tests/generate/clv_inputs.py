"""The CLV models' inputs computed straight from a generated landing tree, by the warehouse's rules.

Mirrors dbt_project/models/intermediate/clv/int_clv__subscription_renewals.sql (sBG) and
int_clv__purchase_histories.sql (BG/NBD, Gamma-Gamma) at the as-of date ``end`` (the newest load date), so the
generator's ground truth can be checked without running the pipeline. One billing customer is one customer
here: the generator gives every person at most one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from tests.generate.helpers import latest

_MONTHS = {"month": 1, "year": 12}


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


@dataclass(frozen=True)
class Renewals:
    """sBG input: one row per customer with a paid period of its first subscription."""

    renewals: np.ndarray
    alive: np.ndarray
    period_months: np.ndarray


@dataclass(frozen=True)
class Purchases:
    """BG/NBD input in days (frequency, recency, T) and the mean repeat-transaction value (USD)."""

    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary: np.ndarray  # NaN without repeats


def model_inputs(root: Path, as_of: date) -> tuple[Renewals, Purchases]:
    invoices = latest(root, "invoices", "id")
    return _renewals(invoices.values(), as_of), _purchases(invoices.values(), as_of)


def _renewals(invoices, as_of: date) -> Renewals:
    # (customer, subscription) -> [first paid start, paid period starts, covers as-of, period months]
    subs: dict[tuple[str, str], dict] = {}
    for inv in invoices:
        if inv["subscription"] is None or inv["status"] == "void":
            continue
        for line in inv["lines"]:
            if line["type"] != "subscription":
                continue
            start, end = _day(line["period"]["start"]), _day(line["period"]["end"])
            if start > as_of or end <= start:
                continue
            s = subs.setdefault(
                (inv["customer"], inv["subscription"]), {"paid": set(), "alive": False, "months": None}
            )
            recurring = line["price"]["recurring"]
            s["months"] = _MONTHS[recurring["interval"]] * recurring["interval_count"]
            # int_clv__subscription_renewals: a paid or open (in dunning) line of amount > 0 covers the as-of
            # date; an uncollectible last period is the one an involuntary churner never paid
            s["alive"] |= end > as_of and inv["status"] in ("paid", "open") and line["amount"] > 0
            if inv["status"] == "paid" and line["amount"] > 0 and not line["proration"]:
                s["paid"].add(start)
    first: dict[str, tuple[date, str]] = {}
    for (cus, sid), s in subs.items():
        if s["paid"]:
            key = (min(s["paid"]), sid)
            if cus not in first or key < first[cus]:
                first[cus] = key
    rows = [subs[(cus, sid)] for cus, (_, sid) in sorted(first.items())]
    return Renewals(
        renewals=np.array([len(s["paid"]) - 1 for s in rows], dtype=float),
        alive=np.array([s["alive"] for s in rows], dtype=bool),
        period_months=np.array([s["months"] for s in rows], dtype=int),
    )


def _purchases(invoices, as_of: date) -> Purchases:
    days: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for inv in invoices:
        if inv["subscription"] is not None or inv["amount_paid"] <= 0:
            continue
        paid_at = inv["status_transitions"]["paid_at"]
        if paid_at is None and inv["status"] != "paid":
            continue
        day = _day(paid_at if paid_at is not None else inv["created"])
        if day > as_of:
            continue
        assert inv["currency"] == "usd", f"one-off purchases are generated in USD: {inv['id']}"
        days[inv["customer"]][day] += inv["amount_paid"] / 100
    x, t_x, age, m = [], [], [], []
    for cus in sorted(days):
        ordered = sorted(days[cus].items())
        first_day, last_day = ordered[0][0], ordered[-1][0]
        x.append(len(ordered) - 1)
        t_x.append((last_day - first_day).days)
        age.append((as_of - first_day).days)
        m.append(sum(v for _, v in ordered[1:]) / (len(ordered) - 1) if len(ordered) > 1 else np.nan)
    return Purchases(
        frequency=np.array(x, dtype=float),
        recency=np.array(t_x, dtype=float),
        T=np.array(age, dtype=float),
        monetary=np.array(m, dtype=float),
    )
