"""The notebooks' charts (notebooks/*.ipynb): the MRR bridge, the cohort heatmap and the CLV histograms.

Finance-grade by construction: money axes read "USD 1.2M" in the reporting currency (never matplotlib's
"1e6" offset), every MRR movement is its own series with a legend, and colours are colour-blind safe
(Okabe-Ito for categories, cividis for sequential scales). Each notebook calls one function per chart;
tests/test_plots.py checks them on small hand-made frames.

matplotlib is a dev dependency (the notebooks' extra): nothing in the pipeline imports this module.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from clm.config import REPO_ROOT, load_settings

# Okabe & Ito (2008), distinguishable with every common colour-vision deficiency; black is kept for lines.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
# The category cycle: black (for reference lines) and yellow (unreadable on white) last.
_CYCLE = ("blue", "orange", "bluish_green", "vermillion", "sky_blue", "reddish_purple", "yellow", "black")
PALETTE: tuple[str, ...] = tuple(OKABE_ITO[name] for name in _CYCLE)
# Sequential scales: perceptually uniform and readable with deuteranopia (unlike RdYlGn).
SEQUENTIAL_CMAP = "cividis"

# rpt_mrr_bridge's movement columns in bridge order: (column, legend label, sign in the bridge, colour).
# Contraction and churn are published as positive amounts that are subtracted; fx impact is signed.
MRR_MOVEMENTS: tuple[tuple[str, str, int, str], ...] = (
    ("new_mrr", "new", 1, OKABE_ITO["bluish_green"]),
    ("expansion_mrr", "expansion", 1, OKABE_ITO["sky_blue"]),
    ("reactivation_mrr", "reactivation", 1, OKABE_ITO["blue"]),
    ("contraction_mrr", "contraction", -1, OKABE_ITO["orange"]),
    ("churned_mrr", "churned", -1, OKABE_ITO["vermillion"]),
    ("fx_impact_mrr", "fx impact", 1, OKABE_ITO["reddish_purple"]),
)
NET_LABEL = "net change"

DEFAULT_CURRENCY = "USD"  # dbt_project.yml's default, used only when no var can be read


def apply_style() -> None:
    """Make the palette and the sequential colormap matplotlib's defaults, for the charts a notebook draws
    itself (survival curves, P(alive), the lifecycle funnel)."""
    plt.rcParams["axes.prop_cycle"] = cycler(color=list(PALETTE))
    plt.rcParams["image.cmap"] = SEQUENTIAL_CMAP


def reporting_currency(
    frame: pd.DataFrame | None = None,
    env: Mapping[str, str] | None = None,
    dbt_project_yml: Path = REPO_ROOT / "dbt_project.yml",
) -> str:
    """The currency the marts' money is in: a ``reporting_currency`` column of ``frame`` when it has one
    (one value), else the run's var (CLM_DBT_VARS over dbt_project.yml, as clm run passes them to dbt), else
    USD."""
    if frame is not None and "reporting_currency" in frame.columns:
        values = frame["reporting_currency"].dropna().unique()
        if len(values) > 1:
            raise ValueError(f"more than one reporting_currency in one chart: {sorted(values)}")
        if len(values) == 1:
            return str(values[0])
    override = load_settings(dict(os.environ if env is None else env)).dbt_vars.get("reporting_currency")
    if override:
        return str(override)
    variables: dict[str, Any] = {}
    if dbt_project_yml.is_file():
        variables = (yaml.safe_load(dbt_project_yml.read_text(encoding="utf-8")) or {}).get("vars") or {}
    return str(variables.get("reporting_currency") or DEFAULT_CURRENCY)


def format_money(value: float, currency: str) -> str:
    """``value`` as "USD 1.2M" / "USD 850k" / "-USD 12.5": the ISO code (any currency, no symbol table) and a
    compact magnitude, up to two decimals, trailing zeros dropped."""
    if value != value:  # NaN
        return ""
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    scales = ((1e9, "B"), (1e6, "M"), (1e3, "k"))
    scale, suffix = next(((s, x) for s, x in scales if magnitude >= s), (1.0, ""))
    text = f"{magnitude / scale:,.2f}".rstrip("0").rstrip(".")
    if text in ("1,000", "1000") and suffix in ("k", "M"):  # 999,999.999 rounds up into the next unit
        text, suffix = "1", {"k": "M", "M": "B"}[suffix]
    return f"{sign}{currency} {text}{suffix}"


def currency_axis(axis: Any, currency: str) -> None:
    """Tick labels of ``axis`` (ax.yaxis or ax.xaxis) in ``currency``; a FuncFormatter has no offset text."""
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: format_money(value, currency)))


def mrr_bridge(bridge: pd.DataFrame, currency: str, ax: Axes | None = None) -> Figure:
    """The MRR bridge by month: each movement of ``rpt_mrr_bridge`` a stacked bar of its own (gains up,
    contraction and churn down, fx impact either way) and the net change as a line.

    ``bridge``: rpt_mrr_bridge rows (month, starting_mrr, the movement columns, ending_mrr), in month order;
    a missing movement column (e.g. fx_impact_mrr before FX) is drawn as zeros so the legend stays complete.
    """
    fig, ax = _axes(ax, figsize=(max(8.0, 0.7 * len(bridge) + 3), 4.8))
    x = np.arange(len(bridge))
    up = np.zeros(len(bridge))
    down = np.zeros(len(bridge))
    net = np.zeros(len(bridge))
    handles: list[Any] = []
    for column, label, sign, colour in MRR_MOVEMENTS:
        amounts = sign * _floats(bridge, column)
        # Each bar stacks on the gains below it when positive, on the losses above it when negative.
        bottom = np.where(amounts >= 0, up, down)
        bars = ax.bar(x, amounts, bottom=bottom, width=0.7, color=colour, label=label, edgecolor="white")
        for patch in bars:
            # A bar sticks the axis to its bottom: a zero-height bar on top of a stack would leave no margin.
            patch.sticky_edges.y[:] = [0.0]
        handles.append(bars)
        up += np.clip(amounts, 0, None)
        down += np.clip(amounts, None, 0)
        net += amounts
    handles += ax.plot(x, net, color=OKABE_ITO["black"], marker="o", markersize=4, lw=1.5, label=NET_LABEL)
    ax.axhline(0, color=OKABE_ITO["black"], lw=0.6)
    ax.set_xticks(x, [_month_label(m) for m in bridge["month"]], rotation=45, ha="right")
    currency_axis(ax.yaxis, currency)
    ax.set_ylabel(f"MRR movement ({currency})")
    title = "MRR bridge"
    if len(bridge):
        start, end = float(bridge["starting_mrr"].iloc[0]), float(bridge["ending_mrr"].iloc[-1])
        title += (
            f", {_month_label(bridge['month'].iloc[0])} to {_month_label(bridge['month'].iloc[-1])}: "
            f"{format_money(start, currency)} to {format_money(end, currency)}"
        )
    ax.set_title(title)
    # In bridge order (matplotlib would put the line first), outside the plot so no bar hides behind it.
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="movement")
    fig.tight_layout()
    return fig


def cohort_label(month: Any, customers: int) -> str:
    """A cohort's row label: its month and size, e.g. "2024-01 (n=123)"."""
    return f"{_month_label(month)} (n={customers:,})"


def cohort_heatmap(
    cohorts: pd.DataFrame,
    value: str = "net_revenue_retention",
    title: str = "Net revenue retention by cohort",
    ax: Axes | None = None,
) -> Figure:
    """A cohort (row, labelled with its size) x months since start (column) heatmap of ``value``, a share of
    the cohort's start (retention), on cividis from 0 to at least 100 %.

    ``cohorts``: rpt_cohort_retention rows (cohort_month, months_since_start, cohort_customers, ``value``).
    """
    grid = cohorts.pivot(index="cohort_month", columns="months_since_start", values=value).astype(float)
    sizes = cohorts.groupby("cohort_month")["cohort_customers"].max().reindex(grid.index)
    fig, ax = _axes(ax, figsize=(min(3 + 0.45 * grid.shape[1], 18), min(1.8 + 0.3 * grid.shape[0], 14)))
    finite = grid.values[np.isfinite(grid.values)]
    # Net retention can pass 100 %: the scale stretches to the largest cell, up to 200 %.
    vmax = min(max(1.0, float(finite.max()) if finite.size else 1.0), 2.0)
    image = ax.imshow(grid.values, cmap=SEQUENTIAL_CMAP, vmin=0.0, vmax=vmax, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
    rows = [cohort_label(month, int(n)) for month, n in zip(grid.index, sizes, strict=True)]
    ax.set_yticks(range(grid.shape[0]), rows)
    ax.set_xlabel("months since start")
    ax.set_ylabel("cohort (customers at start)")
    ax.set_title(title)
    if grid.size <= 400:  # beyond that the numbers are unreadable
        for (row, col), cell in np.ndenumerate(grid.values):
            if cell == cell:  # NaN: months after the as-of date
                # cividis is dark at the bottom of the scale: light text there, dark text above.
                colour = "white" if cell / vmax < 0.55 else "black"
                ax.text(col, row, f"{cell:.0%}", ha="center", va="center", fontsize=7, color=colour)
    colorbar = fig.colorbar(image, ax=ax, label="share of the cohort's start")
    colorbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0%}"))
    fig.tight_layout()
    return fig


def clv_histograms(
    panels: Mapping[str, Sequence[float] | np.ndarray],
    currency: str,
    clip_percentile: float = 99.0,
    max_bins: int = 60,
) -> Figure:
    """One linear histogram per ``panels`` entry (title -> values), side by side.

    CLV is heavily right-skewed: values above the ``clip_percentile`` are counted in the last bar (so the
    bars still add up to every customer) and the axis note says so, rather than a log axis that finance
    readers misread. Bins: numpy's "auto" rule on the clipped values, at most ``max_bins``.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.2), squeeze=False)
    for ax, (title, raw) in zip(axes[0], panels.items(), strict=True):
        values = np.asarray(raw, dtype=float)
        values = values[np.isfinite(values)]
        ax.set_title(title)
        ax.set_ylabel("customers")
        currency_axis(ax.xaxis, currency)
        if values.size == 0:
            ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes)
            ax.set_xlabel(currency)
            continue
        # An actual value as the cap: interpolating towards a whale would leave an empty stretch of axis.
        cap = float(np.percentile(values, clip_percentile, method="inverted_cdf"))
        above = int((values > cap).sum())
        clipped = np.minimum(values, cap)
        edges = np.histogram_bin_edges(clipped, bins="auto")
        bins = edges if len(edges) - 1 <= max_bins else max_bins
        ax.hist(clipped, bins=bins, color=PALETTE[0], edgecolor="white", linewidth=0.3, label="customers")
        median = float(np.median(values))
        label = f"median {format_money(median, currency)}"
        ax.axvline(median, color=PALETTE[1], linestyle="--", lw=1.5, label=label)
        ax.legend(fontsize=8)
        note = (
            f"{above:,} above the {_ordinal(clip_percentile)} percentile ({format_money(cap, currency)}) "
            "counted in the last bar"
            if above
            else "nothing clipped"
        )
        ax.set_xlabel(f"{currency}, linear; {note}", fontsize=8)
    fig.tight_layout()
    return fig


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, new = plt.subplots(figsize=figsize)
    return fig, new


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A DECIMAL column as floats; zeros when the frame does not have it."""
    if column not in frame.columns:
        return np.zeros(len(frame))
    return frame[column].astype(float).fillna(0.0).to_numpy()


def _month_label(month: Any) -> str:
    return pd.Timestamp(month).strftime("%Y-%m")


def _ordinal(percentile: float) -> str:
    number = f"{percentile:g}"
    if not math.isclose(percentile, round(percentile)):
        return f"{number}th"
    n = int(round(percentile))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
