"""An independent, plain pandas implementation of clm's revenue marts, for comparison.

Written from the interface alone (now docs/landing-zone.md, docs/identity.md and docs/marts.md#definitions),
without reading clm's dbt models, so that a difference between the two is evidence about one of them. It
reads a raw landing zone (`clm generate` output, any of the landing formats) and `seeds/fx_rates.csv`, and
computes:

- `customer_months`: per customer and month, MRR at the month's rate and the same lines at the next month's
  rate;
- `mrr_movements`: the movements at constant currency (new, expansion, contraction, churn, reactivation,
  retained), `previous_mrr`, `previous_mrr_at_current_rate`, `mrr_change` and `fx_impact`;
- `mrr_bridge`: per month starting + new + expansion + reactivation - contraction - churned + fx_impact =
  ending, with customer counts;
- `cohort_retention`: logo, net and gross revenue retention by cohort month and months since start.

Money is kept as integer cents of the reporting currency (USD). Each customer-month figure is the exact sum of
its lines' monthly amounts times the rate, rounded once to the cent, half away from zero (the convention clm
documents); `--rounding` selects the alternatives an outside check might use, to measure what they change.
`--monthly-decimals 10` reproduces clm's actual rule (monthly amounts rounded to 10 decimals before
conversion), added after the comparison found it (benchmarks/results.md). pyarrow is used only to read Parquet
files; all logic is pandas / numpy / Python integers and fractions.

Usage: python benchmarks/pandas_marts.py --raw DIR [--as-of YYYY-MM-DD] [--fx seeds/fx_rates.csv]
       [--rounding customer_month|customer_month_half_even|float|line|none] [--monthly-decimals S] --out DIR
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FX = ROOT / "seeds" / "fx_rates.csv"
DEFAULT_CURRENCIES = ROOT / "seeds" / "currencies.csv"
EPOCH = date(1970, 1, 1)
# Rounding conventions: "customer_month" is clm's documented one (the exact sum of a customer-month's lines x
# rate, rounded once to the cent, half away from zero); "customer_month_half_even" rounds those ties to even
# (Python's Decimal default); "float" is a float64 pandas computation (amount / 10^digits / months x rate per
# line, summed, numpy's round to 2 decimals); "line" rounds each line's converted monthly amount first; "none"
# keeps exact values and rounds only report totals. Independently, `monthly_decimals=S` rounds each line's
# monthly amount (yearly / 12, quarterly / 3) half away from zero to S decimals before conversion, as a
# DECIMAL division of fixed scale does (clm: S = 10); the definition (docs/marts.md#mrr) does not ask for
# it, this reproduces it.
ROUNDINGS = ("customer_month", "customer_month_half_even", "float", "line", "none")


# ---------------------------------------------------------------------------------------------- reading ---


def landing_files(raw: Path, source: str, entity: str, as_of: date) -> list[tuple[date, Path]]:
    """Data files of one entity with their load date, oldest drop first; drops after the as-of are not
    visible yet (docs/landing-zone.md#layout: the layout is <source>/<entity>/load_date=YYYY-MM-DD/<file>)."""
    found: list[tuple[date, Path]] = []
    for folder in sorted((raw / source / entity).glob("load_date=*")):
        load_date = date.fromisoformat(folder.name.split("=", 1)[1])
        if load_date > as_of:
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith((".", "_")):
                found.append((load_date, path))
    return found


def _json_field(value: object) -> object:
    """Nested billing fields arrive as JSON text in CSV files; parse them back."""
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def read_records(path: Path) -> Iterator[dict]:
    """The records of one landed file in file order, whatever its format (the extension says which)."""
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz")):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
    elif name.endswith((".csv", ".csv.gz")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, compression="infer")
        for record in frame.to_dict("records"):
            yield {key: (None if value == "" else _json_field(value)) for key, value in record.items()}
    elif name.endswith(".parquet"):
        import pyarrow.parquet as pq  # only to read the file

        yield from pq.read_table(path).to_pylist()


def _instant(value: object) -> float:
    """A version-ordering instant from Unix seconds or an ISO-8601 text (CRM timestamps carry an offset)."""
    if value is None:
        return float("-inf")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def latest_versions(
    raw: Path, source: str, entity: str, key: str, version_field: str | None, as_of: date
) -> dict[str, dict]:
    """Newest version per key (docs/landing-zone.md#upserts): by `version_field`, then load date, then
    position in the drop."""
    newest: dict[str, tuple[tuple[float, date, int], dict]] = {}
    for load_date, path in landing_files(raw, source, entity, as_of):
        for position, record in enumerate(read_records(path)):
            record_key = str(record[key])
            rank = (_instant(record.get(version_field)) if version_field else 0.0, load_date, position)
            held = newest.get(record_key)
            if held is None or rank >= held[0]:
                newest[record_key] = (rank, record)
    return {record_key: record for record_key, (_, record) in newest.items()}


def read_fx_rates(path: Path) -> pd.DataFrame:
    """fx_rates: month index, currency (upper case), rate as an exact fraction (USD per unit)."""
    frame = pd.read_csv(path, dtype=str)
    return pd.DataFrame(
        {
            "month": [month_index(date.fromisoformat(text)) for text in frame["month"]],
            "currency": frame["currency"].str.upper(),
            "rate": [Fraction(text) for text in frame["rate"]],
        }
    )


def read_minor_digits(path: Path) -> dict[str, int]:
    """Decimal digits of each currency's minor unit (JPY 0: Stripe's zero-decimal currencies); default 2."""
    if not path.exists():
        return {"JPY": 0}
    frame = pd.read_csv(path, dtype=str)
    return {row.currency.upper(): int(row.minor_unit_digits) for row in frame.itertuples()}


# ------------------------------------------------------------------------------------------------ dates ---


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def month_last_days(months: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of the last day of each month index."""
    first_next = (np.asarray(months, dtype="int64") - 1970 * 12 + 1).astype("datetime64[M]")
    return first_next.astype("datetime64[D]").astype("int64") - 1


def day_number(day: date) -> int:
    return (day - EPOCH).days


# ------------------------------------------------------------------------------------------- identities ---


def normalized_email(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    return text or None


def customer_keys(raw: Path, as_of: date) -> dict[str, str]:
    """Billing customer id -> customer key (docs/identity.md#matching-rules): its CRM contact by
    metadata.crm_contact_id, otherwise the contact with the same normalized email, otherwise its own
    normalized email (so billing customers of one person still count once). Only MRR needs it, so support
    tickets are not read."""
    contacts = latest_versions(raw, "crm", "contacts", "contact_id", "updated_at", as_of)
    by_email: dict[str, str] = {}
    for contact_id in sorted(contacts, key=lambda cid: (len(cid), cid)):
        email = normalized_email(contacts[contact_id].get("email"))
        if email is not None:
            by_email.setdefault(email, contact_id)
    keys: dict[str, str] = {}
    for billing_id, customer in latest_versions(raw, "billing", "customers", "id", "created", as_of).items():
        metadata = _json_field(customer.get("metadata")) or {}
        linked = metadata.get("crm_contact_id") if isinstance(metadata, dict) else None
        email = normalized_email(customer.get("email"))
        if linked not in (None, ""):
            keys[billing_id] = f"crm:{linked}"
        elif email is not None and email in by_email:
            keys[billing_id] = f"crm:{by_email[email]}"
        else:
            keys[billing_id] = f"email:{email}" if email else f"billing:{billing_id}"
    return keys


# ------------------------------------------------------------------------------------------------ lines ---


def subscription_lines(invoices: Iterable[dict], keys: dict[str, str]) -> pd.DataFrame:
    """Subscription invoice lines that count for MRR (docs/marts.md#mrr: not void invoices, not `invoiceitem`
    lines), one row each: customer key, currency, amount in minor units, months per billing interval and the
    service period as UTC day numbers [start_day, end_day)."""
    rows: list[tuple[str, str, int, int, int, int]] = []
    for invoice in invoices:
        if invoice.get("status") == "void":
            continue
        customer = keys.get(str(invoice["customer"]), f"billing:{invoice['customer']}")
        for line in _json_field(invoice.get("lines")) or []:
            if line.get("type") != "subscription":
                continue
            recurring = (line.get("price") or {}).get("recurring") or {}
            interval = recurring.get("interval")
            months = int(recurring.get("interval_count") or 1) * {"month": 1, "year": 12}[interval]
            period = line["period"]
            rows.append(
                (
                    customer,
                    str(line.get("currency") or invoice["currency"]).upper(),
                    int(line["amount"]),
                    months,
                    int(period["start"]) // 86400,
                    int(period["end"]) // 86400,
                )
            )
    return pd.DataFrame(
        rows, columns=["customer_key", "currency", "amount_minor", "interval_months", "start_day", "end_day"]
    )


def line_months(lines: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per line and month whose snapshot day (the month's last day; the as-of date in the as-of month)
    lies in the line's service period [start, end)."""
    as_of_month, as_of_day = month_index(as_of), day_number(as_of)
    start_day = lines["start_day"].to_numpy()
    end_day = lines["end_day"].to_numpy()
    first = _months_of_days(start_day)
    last = np.minimum(_months_of_days(end_day - 1), as_of_month)
    counts = np.clip(last - first + 1, 0, None)
    position = np.repeat(np.arange(len(lines)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    months = first[position] + offsets
    snapshot = np.minimum(month_last_days(months), as_of_day)
    keep = (start_day[position] <= snapshot) & (snapshot < end_day[position])
    exploded = lines.iloc[position[keep]].reset_index(drop=True)
    exploded["month"] = months[keep]
    return exploded


def _months_of_days(days: np.ndarray) -> np.ndarray:
    as_months = np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[M]")
    return as_months.astype("int64") + 1970 * 12


# --------------------------------------------------------------------------------------- customer months ---


@dataclass(frozen=True)
class Scale:
    """Exact integer arithmetic: a line's cents at rate r are numerator(line) x r_int / denominator, with
    numerator = amount_minor x (M / 10^digits) x (K / interval_months) x T and r_int = r x R."""

    minor_scale: int  # M: 10^(largest minor digits)
    months_lcm: int  # K: lcm of every interval length in months
    rate_scale: int  # R: 10^(largest rate decimals)
    rounding_scale: int = 1  # T: 10^S when monthly amounts are rounded to S decimals, else 1

    @property
    def denominator(self) -> int:
        return self.minor_scale * self.months_lcm * self.rounding_scale * self.rate_scale // 100

    def numerators(self, amount_minor: pd.Series, minor_digits: pd.Series, months: pd.Series) -> pd.Series:
        """Each line's monthly amount in units of 1 / (M x K x T) of its currency (exact integers)."""
        to_minor_scale = self.minor_scale // 10**minor_digits
        if self.rounding_scale == 1:
            return amount_minor * to_minor_scale * (self.months_lcm // months)
        # rounded half away from zero at S decimals of the major unit: amount x T / (10^digits x months)
        # Python integers: amount x 10^S x M x K overflows int64
        scaled = amount_minor.astype(object) * self.rounding_scale
        divisor = (10**minor_digits * months).astype(object)
        magnitude = (2 * scaled.abs() + divisor) // (2 * divisor)
        return magnitude * scaled.map(lambda v: -1 if v < 0 else 1) * self.minor_scale * self.months_lcm


def round_half_away(numerators: Iterable[int], denominator: int, half_even: bool = False) -> list[int]:
    """Exact integer division rounded half away from zero (half to even: Python's Decimal default)."""
    out: list[int] = []
    for numerator in numerators:
        quotient, remainder = divmod(abs(int(numerator)), denominator)
        tie_up = quotient % 2 == 1 if half_even else True
        if 2 * remainder > denominator or (2 * remainder == denominator and tie_up):
            quotient += 1
        out.append(quotient if numerator >= 0 else -quotient)
    return out


def customer_months(
    exploded: pd.DataFrame,
    fx: pd.DataFrame,
    digits: dict[str, int],
    rounding: str = "customer_month",
    monthly_decimals: int | None = None,
) -> pd.DataFrame:
    """Per customer key and month: `mrr` (the month's lines at the month's rate) and `mrr_at_next_rate` (the
    same lines at the next month's rate), integer cents; with rounding "none" they are exact Fractions."""
    if rounding == "float":
        return float_customer_months(exploded, fx, digits)
    rate_scale = 10 ** max(_decimals(rate) for rate in fx["rate"])
    minor_scale = 10 ** max(digits.get(cur, 2) for cur in [*exploded["currency"].unique(), "USD"])
    months_lcm = math.lcm(*exploded["interval_months"].unique().tolist(), 1)
    truncation = 1 if monthly_decimals is None else 10**monthly_decimals
    scale = Scale(minor_scale, months_lcm, rate_scale, truncation)
    frame = exploded.copy()
    minor_digits = frame["currency"].map(lambda cur: digits.get(cur, 2))
    frame["numerator"] = scale.numerators(frame["amount_minor"], minor_digits, frame["interval_months"])
    rates = {(m, c): int(r * rate_scale) for m, c, r in fx.itertuples(index=False)}
    if rounding == "line":
        grouped = frame
    else:  # lines of one currency share the rate: sum them exactly first
        grouped = frame.groupby(["customer_key", "month", "currency"], as_index=False)["numerator"].sum()
    values = {}
    # a missing rate of the month itself fails (KeyError); the next month's may be missing after the as-of
    for column, shift in (("mrr", 0), ("mrr_at_next_rate", 1)):
        products = [
            int(n) * (rates[(m, c)] if shift == 0 else rates.get((m + shift, c), 0))
            for n, m, c in zip(grouped["numerator"], grouped["month"], grouped["currency"], strict=True)
        ]
        if rounding == "line":
            values[column] = round_half_away(products, scale.denominator)
        elif rounding == "none":
            values[column] = [Fraction(p, scale.denominator) for p in products]
        else:
            values[column] = products
    result = grouped[["customer_key", "month"]].assign(**values)
    result = result.groupby(["customer_key", "month"], as_index=False)[["mrr", "mrr_at_next_rate"]].agg(
        lambda s: sum(s, 0 if rounding != "none" else Fraction(0))
    )
    if rounding in ("customer_month", "customer_month_half_even"):
        for column in ("mrr", "mrr_at_next_rate"):
            result[column] = round_half_away(result[column], scale.denominator, rounding.endswith("even"))
    return result


def float_customer_months(exploded: pd.DataFrame, fx: pd.DataFrame, digits: dict[str, int]) -> pd.DataFrame:
    """The "float" convention: what a float64 pandas implementation gives (amount / 10^digits / months x rate
    per line, summed per customer-month, numpy round to 2 decimals), in integer cents."""
    rates = {(m, c): float(r) for m, c, r in fx.itertuples(index=False)}
    frame = exploded.copy()
    monthly = frame["amount_minor"] / frame["currency"].map(lambda c: 10 ** digits.get(c, 2))
    monthly = monthly / frame["interval_months"]
    keys = list(zip(frame["month"], frame["currency"], strict=True))
    frame["mrr"] = monthly * [rates[(m, c)] for m, c in keys]
    frame["mrr_at_next_rate"] = monthly * [rates.get((m + 1, c), 0.0) for m, c in keys]
    result = frame.groupby(["customer_key", "month"], as_index=False)[["mrr", "mrr_at_next_rate"]].sum()
    for column in ("mrr", "mrr_at_next_rate"):
        result[column] = np.rint(np.round(result[column].to_numpy(), 2) * 100).astype("int64")
    return result


def _decimals(value: Fraction) -> int:
    """Decimal places of an exact decimal (the seed's rates have 6 or 8)."""
    for places in range(19):
        if (value * 10**places).denominator == 1:
            return places
    raise ValueError(f"rate {value} is not a decimal with at most 18 places")


# ------------------------------------------------------------------------------------------- movements ---


def mrr_movements(months: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """fct_mrr_movements at constant currency (docs/marts.md#movements): M against M-1's lines at M's rate."""
    current = months[["customer_key", "month", "mrr"]]
    previous = months.assign(month=months["month"] + 1).rename(
        columns={"mrr": "previous_mrr", "mrr_at_next_rate": "previous_mrr_at_current_rate"}
    )
    frame = current.merge(previous, on=["customer_key", "month"], how="outer")
    frame = frame[frame["month"] <= month_index(as_of)]
    for column in ("mrr", "previous_mrr", "previous_mrr_at_current_rate"):
        frame[column] = frame[column].where(frame[column].notna(), 0)
    positive = (frame["mrr"] > 0) | (frame["previous_mrr_at_current_rate"] > 0) | (frame["previous_mrr"] > 0)
    frame = frame[positive].copy()
    first_paying = months[months["mrr"] > 0].groupby("customer_key")["month"].min()
    frame["first_paying_month"] = frame["customer_key"].map(first_paying)
    frame["movement"] = _classify(frame)
    frame["mrr_change"] = frame["mrr"] - frame["previous_mrr_at_current_rate"]
    frame["fx_impact"] = frame["previous_mrr_at_current_rate"] - frame["previous_mrr"]
    columns = ["customer_key", "month", "mrr", "previous_mrr", "previous_mrr_at_current_rate"]
    return frame[[*columns, "mrr_change", "fx_impact", "movement"]].sort_values(["customer_key", "month"])


def _classify(frame: pd.DataFrame) -> np.ndarray:
    now, before = frame["mrr"], frame["previous_mrr_at_current_rate"]
    paid_before = frame["first_paying_month"] < frame["month"]
    conditions = [
        (before <= 0) & (now > 0) & ~paid_before,
        (before <= 0) & (now > 0) & paid_before,
        (before > 0) & (now <= 0),
        (before > 0) & (now > before),
        (before > 0) & (now > 0) & (now < before),
        (before > 0) & (now == before),
    ]
    choices = ["new", "reactivation", "churn", "expansion", "contraction", "retained"]
    return np.select(conditions, choices, default="none")


def mrr_bridge(movements: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """rpt_mrr_bridge: one row per month from the first movement to the as-of month."""
    frame = movements.copy()
    for kind in ("new", "expansion", "reactivation"):
        frame[f"{kind}_mrr"] = frame["mrr_change"].where(frame["movement"] == kind, 0)
    frame["contraction_mrr"] = (-frame["mrr_change"]).where(frame["movement"] == "contraction", 0)
    frame["churned_mrr"] = frame["previous_mrr_at_current_rate"].where(frame["movement"] == "churn", 0)
    frame["starting_customers"] = (frame["previous_mrr"] > 0).astype(int)
    frame["ending_customers"] = (frame["mrr"] > 0).astype(int)
    for kind in ("new", "expansion", "reactivation", "contraction", "churn", "retained"):
        name = "churned" if kind == "churn" else kind
        frame[f"{name}_customers"] = (frame["movement"] == kind).astype(int)
    sums = {
        "starting_mrr": ("previous_mrr", "sum"),
        **{c: (c, "sum") for c in ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr")},
        "churned_mrr": ("churned_mrr", "sum"),
        "fx_impact_mrr": ("fx_impact", "sum"),
        "ending_mrr": ("mrr", "sum"),
        **{c: (c, "sum") for c in frame.columns if c.endswith("_customers")},
    }
    bridge = frame.groupby("month").agg(**sums)
    spine = range(int(frame["month"].min()), month_index(as_of) + 1) if len(frame) else range(0)
    bridge = bridge.reindex(list(spine), fill_value=0).rename_axis("month").reset_index()
    return bridge


# --------------------------------------------------------------------------------------------- cohorts ---


def cohort_retention(movements: pd.DataFrame, months: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """rpt_cohort_retention (docs/marts.md#cohorts): cohort = month of the first `new`; NRR = MRR at k /
    starting MRR; GRR caps each customer at its starting MRR; logo = customers with MRR > 0 / cohort size.
    Ratios exact (Fractions); MRR in cents."""
    firsts = movements[movements["movement"] == "new"].groupby("customer_key")["month"].min()
    cohort = firsts.rename("cohort_month").reset_index()
    mrr = months[["customer_key", "month", "mrr"]]
    starting = cohort.merge(mrr, left_on=["customer_key", "cohort_month"], right_on=["customer_key", "month"])
    starting = starting[["customer_key", "cohort_month", "mrr"]].rename(columns={"mrr": "starting_mrr"})
    horizon = month_index(as_of)
    spans = horizon - starting["cohort_month"] + 1
    grid = starting.loc[starting.index.repeat(spans)].copy()
    grid["months_since_start"] = np.arange(len(grid)) - np.repeat(np.cumsum(spans) - spans, spans)
    grid["month"] = grid["cohort_month"] + grid["months_since_start"]
    grid = grid.merge(mrr, on=["customer_key", "month"], how="left")
    grid["mrr"] = grid["mrr"].fillna(0).astype("int64")
    grid["active"] = (grid["mrr"] > 0).astype(int)
    grid["capped_mrr"] = np.minimum(grid["mrr"], grid["starting_mrr"])
    report = grid.groupby(["cohort_month", "months_since_start"], as_index=False).agg(
        cohort_customers=("customer_key", "size"),
        active_customers=("active", "sum"),
        starting_mrr=("starting_mrr", "sum"),
        mrr=("mrr", "sum"),
        capped_mrr=("capped_mrr", "sum"),
    )
    report["logo_retention"] = [
        Fraction(int(a), int(c))
        for a, c in zip(report["active_customers"], report["cohort_customers"], strict=True)
    ]
    report["net_revenue_retention"] = _ratios(report["mrr"], report["starting_mrr"])
    report["gross_revenue_retention"] = _ratios(report["capped_mrr"], report["starting_mrr"])
    return report.drop(columns="capped_mrr")


def _ratios(numerators: pd.Series, denominators: pd.Series) -> list[Fraction | None]:
    return [Fraction(int(n), int(d)) if d else None for n, d in zip(numerators, denominators, strict=True)]


# ----------------------------------------------------------------------------------------------- driver ---


@dataclass(frozen=True)
class Marts:
    customer_months: pd.DataFrame
    mrr_movements: pd.DataFrame
    mrr_bridge: pd.DataFrame
    cohort_retention: pd.DataFrame
    billing_customers_per_key: pd.Series
    currencies: tuple[str, ...]  # of the subscription lines that count for MRR
    seconds: float


def newest_load_date(raw: Path) -> date:
    dates = [date.fromisoformat(p.name.split("=", 1)[1]) for p in raw.glob("*/*/load_date=*")]
    return max(dates)


@dataclass(frozen=True)
class Landing:
    """What the marts need from a landing zone, read once: the MRR lines exploded to their months."""

    as_of: date
    line_months: pd.DataFrame
    billing_customers_per_key: pd.Series
    seconds: float


def read_landing(raw: Path, as_of: date | None = None) -> Landing:
    started = time.perf_counter()
    as_of = as_of or newest_load_date(raw)
    keys = customer_keys(raw, as_of)
    invoices = latest_versions(raw, "billing", "invoices", "id", "created", as_of).values()
    exploded = line_months(subscription_lines(invoices, keys), as_of)
    per_key = pd.Series(keys).value_counts()
    return Landing(as_of, exploded, per_key, time.perf_counter() - started)


def marts_from_landing(
    landing: Landing,
    fx_path: Path = DEFAULT_FX,
    currencies_path: Path = DEFAULT_CURRENCIES,
    rounding: str = "customer_month",
    monthly_decimals: int | None = None,
) -> Marts:
    started = time.perf_counter()
    as_of = landing.as_of
    months = customer_months(
        landing.line_months,
        read_fx_rates(fx_path),
        read_minor_digits(currencies_path),
        rounding,
        monthly_decimals,
    )
    movements = mrr_movements(months, as_of)
    bridge = mrr_bridge(movements, as_of)
    cohorts = cohort_retention(movements, months, as_of) if rounding != "none" else pd.DataFrame()
    currencies = tuple(sorted(landing.line_months["currency"].unique()))
    seconds = landing.seconds + time.perf_counter() - started
    return Marts(months, movements, bridge, cohorts, landing.billing_customers_per_key, currencies, seconds)


def compute_marts(
    raw: Path,
    as_of: date | None = None,
    fx_path: Path = DEFAULT_FX,
    currencies_path: Path = DEFAULT_CURRENCIES,
    rounding: str = "customer_month",
    monthly_decimals: int | None = None,
) -> Marts:
    """The marts of one landing zone as of a date (default: its newest load date)."""
    landing = read_landing(raw, as_of)
    return marts_from_landing(landing, fx_path, currencies_path, rounding, monthly_decimals)


def cents_text(value: object) -> str:
    if isinstance(value, Fraction):
        return f"{float(value) / 100:.6f}"
    cents = int(value)
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def write_marts(marts: Marts, out: Path) -> None:
    """CSV files with months as dates and money as decimal text (exact cents)."""
    out.mkdir(parents=True, exist_ok=True)
    money = {
        "mrr",
        "mrr_at_next_rate",
        "previous_mrr",
        "previous_mrr_at_current_rate",
        "mrr_change",
        "fx_impact",
        "starting_mrr",
    } | {c for c in marts.mrr_bridge.columns if c.endswith("_mrr")}
    for name in ("customer_months", "mrr_movements", "mrr_bridge", "cohort_retention"):
        frame = getattr(marts, name).copy()
        for column in frame.columns:
            if column in money:
                frame[column] = frame[column].map(cents_text)
            elif column in ("month", "cohort_month"):
                frame[column] = frame[column].map(month_start)
            elif frame[column].map(lambda v: isinstance(v, Fraction)).any():
                frame[column] = frame[column].map(lambda v: None if v is None else f"{float(v):.10f}")
        frame.to_csv(out / f"{name}.csv", index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, required=True, help="landing zone root (clm generate --out)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="default: newest load date")
    parser.add_argument("--fx", type=Path, default=DEFAULT_FX)
    parser.add_argument("--rounding", choices=ROUNDINGS, default="customer_month")
    parser.add_argument("--monthly-decimals", type=int, default=None, metavar="S")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    marts = compute_marts(
        args.raw, args.as_of, args.fx, rounding=args.rounding, monthly_decimals=args.monthly_decimals
    )
    write_marts(marts, args.out)
    counts = marts.mrr_movements["movement"].value_counts().sort_index()
    print(
        f"{len(marts.customer_months):,} customer-months, {len(marts.mrr_movements):,} movements "
        f"({', '.join(f'{k} {v:,}' for k, v in counts.items())}) in {marts.seconds:.1f} s -> {args.out}"
    )
    merged = int((marts.billing_customers_per_key > 1).sum())
    print(f"customer keys holding more than one billing customer: {merged}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
