"""clm.plots on small hand-made frames: legends, currency axes, cohort sizes, linear CLV axes and the
colour-blind-safe palette (issue 17, item 4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from clm import plots

MOVEMENT_LABELS = ["new", "expansion", "reactivation", "contraction", "churned", "fx impact"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _bridge() -> pd.DataFrame:
    """rpt_mrr_bridge as DuckDB hands it over (DECIMALs): 0 -> 1.0M -> 1.25M -> 1.2M."""
    rows = [
        # month, starting, new, expansion, reactivation, contraction, churned, fx, ending
        (date(2024, 1, 1), 0, 1_000_000, 0, 0, 0, 0, 0, 1_000_000),
        (date(2024, 2, 1), 1_000_000, 200_000, 80_000, 20_000, 30_000, 40_000, 20_000, 1_250_000),
        (date(2024, 3, 1), 1_250_000, 50_000, 10_000, 0, 20_000, 60_000, -30_000, 1_200_000),
    ]
    columns = [
        "month", "starting_mrr", "new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr",
        "churned_mrr", "fx_impact_mrr", "ending_mrr",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for column in columns[1:]:
        frame[column] = frame[column].map(lambda v: Decimal(v).quantize(Decimal("0.01")))
    return frame


def _tick_labels(axis) -> list[str]:
    axis.axes.figure.canvas.draw()  # tick labels are set when drawn
    return [label.get_text() for label in axis.get_ticklabels() if label.get_text()]


def test_format_money_is_compact_and_names_the_currency() -> None:
    assert plots.format_money(1_200_000, "USD") == "USD 1.2M"
    assert plots.format_money(1_250_000, "EUR") == "EUR 1.25M"
    assert plots.format_money(-850_000, "USD") == "-USD 850k"
    assert plots.format_money(999_999.999, "USD") == "USD 1M"
    assert plots.format_money(3_000_000_000, "JPY") == "JPY 3B"
    assert plots.format_money(12.5, "USD") == "USD 12.5"
    assert plots.format_money(0, "USD") == "USD 0"


def test_mrr_bridge_has_every_movement_in_its_legend_and_currency_ticks() -> None:
    fig = plots.mrr_bridge(_bridge(), "USD")
    ax = fig.axes[0]

    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == MOVEMENT_LABELS + [plots.NET_LABEL]

    labels = _tick_labels(ax.yaxis)
    assert labels and all(label.lstrip("-").startswith("USD ") for label in labels)
    assert any(label.endswith("M") for label in labels)  # 1.0M of new MRR in January
    assert ax.yaxis.get_offset_text().get_text() == ""  # no "1e6"
    assert "USD" in ax.get_ylabel()
    assert "USD 1.2M" in ax.get_title()  # the ending MRR


def test_mrr_bridge_stacks_each_movement_with_its_sign_and_draws_the_net_line() -> None:
    ax = plots.mrr_bridge(_bridge(), "USD").axes[0]
    bars = {container.get_label(): container for container in ax.containers}
    assert list(bars) == MOVEMENT_LABELS
    february = {label: (bar.patches[1].get_y(), bar.patches[1].get_height()) for label, bar in bars.items()}
    # Gains stack up from 0, losses down from 0; the positive fx stacks on the gains.
    assert february["new"] == (0, 200_000)
    assert february["expansion"] == (200_000, 80_000)
    assert february["reactivation"] == (280_000, 20_000)
    assert february["contraction"] == (0, -30_000)
    assert february["churned"] == (-30_000, -40_000)
    assert february["fx impact"] == (300_000, 20_000)
    # March's fx is negative: below the losses.
    march_fx = bars["fx impact"].patches[2]
    assert (march_fx.get_y(), march_fx.get_height()) == (-80_000, -30_000)

    (net,) = [line for line in ax.get_lines() if line.get_label() == plots.NET_LABEL]
    # net = ending - starting every month
    assert list(net.get_ydata()) == pytest.approx([1_000_000, 250_000, -50_000])


def test_mrr_bridge_keeps_every_series_when_a_movement_column_is_missing() -> None:
    fig = plots.mrr_bridge(_bridge().drop(columns="fx_impact_mrr"), "EUR")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == MOVEMENT_LABELS + [plots.NET_LABEL]
    assert all(label.lstrip("-").startswith("EUR ") for label in _tick_labels(ax.yaxis))


def test_mrr_bridge_colours_are_okabe_ito() -> None:
    ax = plots.mrr_bridge(_bridge(), "USD").axes[0]
    colours = {to_hex(container.patches[0].get_facecolor()).upper() for container in ax.containers}
    assert len(colours) == len(MOVEMENT_LABELS)  # one colour per movement
    assert colours <= {c.upper() for c in plots.OKABE_ITO.values()}


def _cohorts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cohort_month": [date(2024, 1, 1)] * 3 + [date(2024, 2, 1)] * 2,
            "months_since_start": [0, 1, 2, 0, 1],
            "cohort_customers": [123, 123, 123, 1_500, 1_500],
            "net_revenue_retention": [Decimal("1"), Decimal("0.9"), Decimal("1.1"), Decimal("1"), None],
        }
    )


def test_cohort_heatmap_labels_rows_with_cohort_sizes_on_cividis() -> None:
    fig = plots.cohort_heatmap(_cohorts())
    ax = fig.axes[0]
    assert _tick_labels(ax.yaxis) == ["2024-01 (n=123)", "2024-02 (n=1,500)"]
    (image,) = ax.get_images()
    assert image.get_cmap().name == "cividis"
    assert image.get_clim() == (0.0, pytest.approx(1.1))  # stretched to the best cell (NRR above 100 %)
    cells = [text.get_text() for text in ax.texts]
    assert cells == ["100%", "90%", "110%", "100%"]  # the NaN cell is left blank
    assert fig.axes[1].get_ylabel()  # the colorbar says what the colour is


def test_cohort_label() -> None:
    assert plots.cohort_label(pd.Timestamp("2024-01-01"), 123) == "2024-01 (n=123)"


def test_clv_histograms_are_linear_clipped_and_say_so() -> None:
    rng = np.random.default_rng(7)
    historical = np.concatenate([rng.normal(500, 100, 990), [250_000.0] * 10])  # 1 % whales
    predicted = np.array([0.0, 60.0, 275.0, 24_700.0])
    fig = plots.clv_histograms({"historical_clv_net": historical, "predicted_clv_12m": predicted}, "USD")
    left, right = fig.axes
    for ax in (left, right):
        assert ax.get_xscale() == "linear" and ax.get_yscale() == "linear"
        assert all(label.lstrip("-").startswith("USD ") for label in _tick_labels(ax.xaxis))
        assert ax.get_legend() is not None
    # The whales sit in the last bar, whose edge is the 99th percentile (the largest ordinary customer), and
    # the note says how many.
    cap = plots.format_money(historical[:990].max(), "USD")
    assert left.get_xlim()[1] < 1_000
    assert f"10 above the 99th percentile ({cap}) counted in the last bar" in left.get_xlabel()
    assert sum(patch.get_height() for patch in left.patches) == 1000  # every customer still counted
    assert 1 < len(left.patches) <= 60
    # With 4 customers the 99th percentile is the largest: nothing to clip.
    assert "nothing clipped" in right.get_xlabel()
    assert to_hex(left.patches[0].get_facecolor()).upper() == plots.PALETTE[0]


def test_clv_histograms_with_no_values() -> None:
    fig = plots.clv_histograms({"predicted_clv_12m": np.array([])}, "USD")
    assert fig.axes[0].texts[0].get_text() == "no values"


def test_apply_style_makes_the_palette_the_default() -> None:
    with plt.rc_context():
        plots.apply_style()
        assert plt.rcParams["axes.prop_cycle"].by_key()["color"] == list(plots.PALETTE)
        assert plt.rcParams["image.cmap"] == "cividis"


def test_palette_is_okabe_ito() -> None:
    assert set(plots.PALETTE) == set(plots.OKABE_ITO.values())
    assert plots.SEQUENTIAL_CMAP in ("cividis", "viridis")


def test_reporting_currency_from_a_column_then_the_var(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project.yml"
    project.write_text("vars:\n  reporting_currency: GBP\n", encoding="utf-8")

    assert plots.reporting_currency(pd.DataFrame({"reporting_currency": ["CHF"]}), {}, project) == "CHF"
    assert plots.reporting_currency(pd.DataFrame({"x": [1]}), {}, project) == "GBP"
    assert plots.reporting_currency(None, {"CLM_DBT_VARS": "{reporting_currency: EUR}"}, project) == "EUR"
    assert plots.reporting_currency(None, {}, tmp_path / "missing.yml") == "USD"
    with pytest.raises(ValueError, match="more than one"):
        plots.reporting_currency(pd.DataFrame({"reporting_currency": ["CHF", "EUR"]}), {}, project)


def test_reporting_currency_of_this_project() -> None:
    assert plots.reporting_currency(env={}) == "USD"  # dbt_project.yml's var
