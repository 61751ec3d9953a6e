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
from benchmarks.pandas_marts import ROUNDINGS, Marts, compute_marts, month_index  # noqa: E402

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


@dataclass
class Comparison:
    counts: pd.DataFrame  # month x movement: clm, pandas
    sums: pd.DataFrame  # month x movement x (mrr_change, fx_impact)
    bridge: pd.DataFrame  # month x column: clm, pandas, difference in cents

    @property
    def matches(self) -> bool:
        return self.counts.empty and self.sums.empty and self.bridge.empty


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
    return Comparison(counts, pd.concat(sums), pd.concat(bridge_rows))


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


def report(comparison: Comparison, totals: pd.DataFrame, clm_bridge_rows: pd.DataFrame) -> str:
    lines = ["movements by type (all months):", totals.to_string(), ""]
    if comparison.matches:
        lines.append(
            f"EXACT MATCH: movement counts and sums per month and type, and {len(clm_bridge_rows)} bridge "
            f"months x {len([c for c in clm_bridge_rows.columns])} columns, to the cent"
        )
        return "\n".join(lines)
    for title, frame in (
        ("movement counts that differ (month, movement)", comparison.counts),
        ("movement sums that differ, cents (month, movement)", comparison.sums),
        ("bridge values that differ, cents (month)", comparison.bridge),
    ):
        lines.append(f"{title}: {len(frame)} rows")
        if not frame.empty:
            shown = frame.reset_index()
            if "month" in shown.columns:
                shown["month"] = shown["month"].map(lambda m: f"{m // 12}-{m % 12 + 1:02d}")
            lines.append(shown.head(40).to_string(index=False))
        lines.append("")
    if not comparison.bridge.empty:
        worst = comparison.bridge.groupby("column")["difference"].agg(lambda s: s.abs().max())
        lines.append("largest bridge difference per column, cents: " + worst.to_string().replace("\n", "; "))
    return "\n".join(lines)


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
        help="emulate monthly amounts cut to S decimals",
    )
    args = parser.parse_args(argv)
    as_of = args.as_of or published_as_of(args.serving)
    marts = compute_marts(args.raw, as_of, rounding=args.rounding, monthly_decimals=args.monthly_decimals)
    moves, bridge = clm_movements(args.serving), clm_bridge(args.serving)
    comparison = compare(moves, bridge, marts)
    truncation = (
        "" if args.monthly_decimals is None else f", monthly amounts rounded to {args.monthly_decimals} dp"
    )
    print(
        f"as of {as_of}, rounding {args.rounding}{truncation}; pandas marts computed in {marts.seconds:.1f} s"
    )
    print(report(comparison, movement_totals(moves, marts), bridge))
    return 0 if comparison.matches else 1


if __name__ == "__main__":
    sys.exit(main())
