"""Compare clm's published revenue marts with the independent pandas implementation (pandas_marts.py).

Reads the serving file read-only (`CLM_DATA_DIR/serving.duckdb`, or `CLM_SERVING_DB`), takes the as-of date of
its last published run, computes the pandas marts on the same landing zone and prints every difference:
movement counts per month and type, movement sums (mrr_change, fx_impact) per month and type, and the bridge's
columns per month, to the cent. Exit 0 when everything matches exactly, 1 otherwise.

Usage: python benchmarks/compare_marts.py --raw DIR --serving FILE [--rounding customer_month|line|none]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from benchmarks.pandas_marts import (  # noqa: E402
    ROUNDINGS,
    Landing,
    Marts,
    compute_marts,
    marts_from_landing,
    month_index,
    read_landing,
)

MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation", "retained")
BRIDGE_MONEY = (
    "starting_mrr",
    "new_mrr",
    "expansion_mrr",
    "reactivation_mrr",
    "contraction_mrr",
    "churned_mrr",
    "fx_impact_mrr",
    "ending_mrr",
)


def read_table(serving: Path, table: str) -> pd.DataFrame:
    """A whole published table, DECIMALs as exact Decimals (Arrow keeps them; `.df()` would give floats)."""
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.sql(f"select * from {table}").to_arrow_table().to_pandas()


def published_as_of(serving: Path) -> date:
    runs = read_table(serving, "audit.runs")
    published = runs[runs["status"] == "published"].sort_values("finished_at")
    value = published["as_of"].iloc[-1]
    return value if isinstance(value, date) else pd.Timestamp(value).date()


def to_cents(value: object) -> int:
    """Exact cents of a DECIMAL, an integer count of cents is passed through by the caller."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return 0
    cents = Decimal(str(value)) * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{value} is not a whole number of cents")
    return int(cents)


def month_of(value: object) -> int:
    return month_index(value if isinstance(value, date) else pd.Timestamp(value).date())


def clm_movements(serving: Path) -> pd.DataFrame:
    frame = read_table(serving, "marts.fct_mrr_movements")
    frame["month"] = frame["month"].map(month_of)
    for column in ("mrr", "previous_mrr", "mrr_change", "fx_impact"):
        frame[column] = frame[column].map(to_cents)
    return frame


def clm_bridge(serving: Path) -> pd.DataFrame:
    frame = read_table(serving, "marts.rpt_mrr_bridge")
    frame["month"] = frame["month"].map(month_of)
    for column in frame.columns:
        if column.endswith("_mrr"):
            frame[column] = frame[column].map(to_cents)
    return frame.set_index("month").sort_index()


def exact_cents(value: object) -> int:
    """Pandas-side sums: integer cents, or exact Fractions of a cent (rounding "none") rounded half away."""
    if isinstance(value, Fraction):
        whole, rest = divmod(abs(value), 1)
        whole += 1 if rest >= Fraction(1, 2) else 0
        return int(whole) if value >= 0 else -int(whole)
    return int(value)


COHORT_COUNTS = ("cohort_customers", "active_customers")
COHORT_MONEY = ("starting_mrr", "mrr")
COHORT_RATIOS = ("logo_retention", "net_revenue_retention", "gross_revenue_retention")


def clm_cohorts(serving: Path) -> pd.DataFrame:
    """rpt_cohort_retention with money in cents and ratios in millionths (its DECIMAL(18, 6))."""
    frame = read_table(serving, "marts.rpt_cohort_retention")
    frame["cohort_month"] = frame["cohort_month"].map(month_of)
    for column in COHORT_MONEY:
        frame[column] = frame[column].map(to_cents)
    for column in COHORT_RATIOS:
        frame[column] = frame[column].map(lambda v: None if v is None else int(Decimal(str(v)) * 10**6))
    return frame.set_index(["cohort_month", "months_since_start"]).sort_index()


def millionths(value: object) -> int | None:
    """An exact ratio rounded half away from zero to 6 decimals (the marts' DECIMAL(18, 6)), in millionths."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return exact_cents(Fraction(value) * 10**6)


def compare_cohorts(theirs: pd.DataFrame, marts: Marts) -> pd.DataFrame:
    """Cohort cells (cohort month, months since start, column) that differ; ratios in millionths."""
    mine = marts.cohort_retention.set_index(["cohort_month", "months_since_start"]).sort_index()
    rows = []
    for column in (*COHORT_COUNTS, *COHORT_MONEY, *COHORT_RATIOS):
        ours = mine[column].map(millionths) if column in COHORT_RATIOS else mine[column].map(int)
        both = pd.concat([theirs[column].rename("clm"), ours.rename("pandas")], axis=1)
        differ = both[both["clm"].astype(object).ne(both["pandas"].astype(object))]
        rows.append(differ.assign(column=column))
    return pd.concat(rows)


@dataclass
class Comparison:
    counts: pd.DataFrame  # month x movement: clm, pandas
    sums: pd.DataFrame  # month x movement x (mrr_change, fx_impact)
    bridge: pd.DataFrame  # month x column: clm, pandas, difference in cents
    cohorts: pd.DataFrame | None = None  # cohort cells that differ, when compared
    pandas_bridge: pd.DataFrame | None = None  # the pandas bridge by month, for the reconciliation check

    @property
    def matches(self) -> bool:
        cohorts_match = self.cohorts is None or self.cohorts.empty
        return self.counts.empty and self.sums.empty and self.bridge.empty and cohorts_match


def compare(clm_moves: pd.DataFrame, clm_bridge_rows: pd.DataFrame, marts: Marts) -> Comparison:
    ours = marts.mrr_movements.copy()
    counts = _side_by_side(
        clm_moves.groupby(["month", "movement"]).size(), ours.groupby(["month", "movement"]).size()
    )
    sums = []
    for column in ("mrr_change", "fx_impact"):
        theirs = clm_moves.groupby(["month", "movement"])[column].sum()
        mine = ours.groupby(["month", "movement"])[column].agg(lambda s: exact_cents(sum(s)))
        sums.append(_side_by_side(theirs, mine).assign(column=column))
    bridge_rows = []
    ours_bridge = marts.mrr_bridge.set_index("month")
    for column in [c for c in clm_bridge_rows.columns if c in ours_bridge.columns]:
        theirs = clm_bridge_rows[column].map(int)
        mine = ours_bridge[column].map(exact_cents)
        bridge_rows.append(_side_by_side(theirs, mine).assign(column=column))
    return Comparison(counts, pd.concat(sums), pd.concat(bridge_rows), pandas_bridge=ours_bridge)


def _side_by_side(theirs: pd.Series, mine: pd.Series) -> pd.DataFrame:
    """Rows where the two differ (a row missing on one side counts 0 there)."""
    frame = pd.concat([theirs.rename("clm"), mine.rename("pandas")], axis=1).fillna(0)
    frame["clm"] = frame["clm"].map(int)
    frame["pandas"] = frame["pandas"].map(int)
    frame["difference"] = frame["pandas"] - frame["clm"]
    return frame[frame["difference"] != 0]


def movement_totals(clm_moves: pd.DataFrame, marts: Marts) -> pd.DataFrame:
    """Movements by type over all months, in both."""
    return (
        pd.concat(
            [
                clm_moves["movement"].value_counts().rename("clm"),
                marts.mrr_movements["movement"].value_counts().rename("pandas"),
            ],
            axis=1,
        )
        .reindex(list(MOVEMENTS))
        .fillna(0)
        .astype(int)
    )


def unreconciled_months(bridge: pd.DataFrame) -> list[str]:
    """Months (index) where starting + new + expansion + reactivation - contraction - churned + fx_impact
    is not ending to the cent, or whose starting is not the previous month's ending
    (docs/marts.md#mrr-bridge)."""
    cents = bridge[list(BRIDGE_MONEY)].map(exact_cents)
    steps = (
        cents["starting_mrr"]
        + cents["new_mrr"]
        + cents["expansion_mrr"]
        + cents["reactivation_mrr"]
        - cents["contraction_mrr"]
        - cents["churned_mrr"]
        + cents["fx_impact_mrr"]
    )
    bad = set(cents.index[steps != cents["ending_mrr"]])
    chained = cents["starting_mrr"].iloc[1:].to_numpy() != cents["ending_mrr"].iloc[:-1].to_numpy()
    bad |= set(cents.index[1:][chained])
    return [f"{m // 12}-{m % 12 + 1:02d}" for m in sorted(bad)]


def report(comparison: Comparison, totals: pd.DataFrame, clm_bridge_rows: pd.DataFrame) -> str:
    lines = ["movements by type (all months):", totals.to_string(), ""]
    for who, frame in (("clm", clm_bridge_rows), ("pandas", comparison.pandas_bridge)):
        if frame is not None:
            bad = unreconciled_months(frame)
            verdict = "reconciles in every month" if not bad else f"does NOT reconcile in {bad}"
            lines.append(f"{who} bridge (with fx_impact_mrr, and starting = previous ending): {verdict}")
    lines.append("")
    if comparison.matches:
        cohorts = "" if comparison.cohorts is None else " and every rpt_cohort_retention cell"
        lines.append(
            f"EXACT MATCH: movement counts and sums per month and type, {len(clm_bridge_rows)} bridge "
            f"months x {len(clm_bridge_rows.columns)} columns, to the cent{cohorts}"
        )
        return "\n".join(lines)
    for title, frame in (
        ("movement counts that differ (month, movement)", comparison.counts),
        ("movement sums that differ, cents (month, movement)", comparison.sums),
        ("bridge values that differ, cents (month)", comparison.bridge),
        ("cohort cells that differ (cents; ratios in millionths)", comparison.cohorts),
    ):
        if frame is None:
            continue
        lines.append(f"{title}: {len(frame)} rows")
        if not frame.empty:
            shown = frame.reset_index()
            for column in ("month", "cohort_month"):
                if column in shown.columns:
                    shown[column] = shown[column].map(lambda m: f"{m // 12}-{m % 12 + 1:02d}")
            lines.append(shown.head(40).to_string(index=False))
        lines.append("")
    if not comparison.bridge.empty:
        worst = comparison.bridge.groupby("column")["difference"].agg(lambda s: s.abs().max())
        lines.append("largest bridge difference per column, cents: " + worst.to_string().replace("\n", "; "))
    return "\n".join(lines)


# (label, rounding, monthly decimals): the contract's exact convention first, the reference of the others
CONVENTIONS = (
    ("exact, rounded once per customer-month (docs/marts.md#mrr)", "customer_month", None),
    ("monthly amount rounded to 10 dp first (clm's clm_exact_divide)", "customer_month", 10),
    ("ties to even (Python Decimal's default)", "customer_month_half_even", None),
    ("float64 pandas, numpy round", "float", None),
    ("rounded per line", "line", None),
    ("not rounded until the report totals", "none", None),
)


def conventions(landing: Landing) -> str:
    """How far each rounding convention moves the movements and the bridge from the contract's exact one."""
    marts = {
        label: marts_from_landing(landing, rounding=r, monthly_decimals=s) for label, r, s in CONVENTIONS
    }
    reference = marts[CONVENTIONS[0][0]]
    rows = []
    for label, rounding, _ in CONVENTIONS[1:]:
        other = marts[label]
        comparison = compare(_as_clm(reference), reference.mrr_bridge.set_index("month"), other)
        if rounding == "none":
            changed = "-"
        else:
            both = reference.customer_months.merge(other.customer_months, on=["customer_key", "month"])
            changed = f"{int((both['mrr_x'] != both['mrr_y']).sum()):,} of {len(both):,}"
        worst = comparison.bridge.groupby("column")["difference"].agg(lambda s: int(s.abs().max()))
        rows.append(
            {
                "convention": label,
                "customer-month MRR changed": changed,
                "movement counts changed": int(comparison.counts["difference"].abs().sum()),
                "bridge cells changed": len(comparison.bridge),
                **{f"max {c} (cents)": int(worst.get(c, 0)) for c in BRIDGE_MONEY},
            }
        )
    return pd.DataFrame(rows).set_index("convention").T.to_string()


def _as_clm(marts: Marts) -> pd.DataFrame:
    """Pandas movements shaped like clm_movements (integer cents), to compare two pandas conventions."""
    return marts.mrr_movements.assign(
        mrr_change=marts.mrr_movements["mrr_change"].map(exact_cents),
        fx_impact=marts.mrr_movements["fx_impact"].map(exact_cents),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--serving", type=Path, required=True, help="CLM_DATA_DIR/serving.duckdb")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="default: the published as-of")
    parser.add_argument("--rounding", choices=ROUNDINGS, default="customer_month")
    parser.add_argument(
        "--monthly-decimals",
        type=int,
        default=None,
        metavar="S",
        help="round monthly amounts to S decimals first (clm: 10)",
    )
    parser.add_argument("--conventions", action="store_true", help="also tabulate the rounding conventions")
    args = parser.parse_args(argv)
    as_of = args.as_of or published_as_of(args.serving)
    marts = compute_marts(args.raw, as_of, rounding=args.rounding, monthly_decimals=args.monthly_decimals)
    moves, bridge = clm_movements(args.serving), clm_bridge(args.serving)
    comparison = compare(moves, bridge, marts)
    if args.rounding != "none":
        comparison.cohorts = compare_cohorts(clm_cohorts(args.serving), marts)
    truncation = (
        "" if args.monthly_decimals is None else f", monthly amounts rounded to {args.monthly_decimals} dp"
    )
    print(
        f"as of {as_of}, rounding {args.rounding}{truncation}; pandas marts computed in {marts.seconds:.1f} s"
    )
    print(report(comparison, movement_totals(moves, marts), bridge))
    if args.conventions:
        print("\nrounding conventions against the contract's exact one (pandas only):")
        print(conventions(read_landing(args.raw, as_of)))
    return 0 if comparison.matches else 1


if __name__ == "__main__":
    sys.exit(main())
