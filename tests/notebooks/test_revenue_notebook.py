"""notebooks/revenue.ipynb runs top to bottom against a serving file and draws both charts.

The serving file is built by hand with the published marts' columns (docs/marts.md#the-marts): the
notebook must read nothing else. A cohort of 2 customers starting at 100.00 and a bridge over three months.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]


def _serving(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            """
            create table marts.rpt_cohort_retention as
            select * from (values
                (date '2024-01-01', 0, 2, 2, 1.000000, 100.00, 100.00, 1.000000, 1.000000),
                (date '2024-01-01', 1, 2, 1, 0.500000, 100.00, 60.00, 0.600000, 0.500000),
                (date '2024-02-01', 0, 1, 1, 1.000000, 50.00, 50.00, 1.000000, 1.000000)
            ) as t(cohort_month, months_since_start, cohort_customers,
                   active_customers, logo_retention, starting_mrr, mrr, net_revenue_retention,
                   gross_revenue_retention)
            """
        )
        # 0 + 100 = 100; 100 + 50 new + 10 expansion - 50 churned + 2 fx = 112; 112 - 10 contraction = 102
        con.execute(
            """
            create table marts.rpt_mrr_bridge as
            select * from (values
                (date '2024-01-01', 0.00, 100.00, 0.00, 0.00, 0.00, 0.00, 0.00, 100.00),
                (date '2024-02-01', 100.00, 50.00, 10.00, 0.00, 0.00, 50.00, 2.00, 112.00),
                (date '2024-03-01', 112.00, 0.00, 0.00, 0.00, 10.00, 0.00, 0.00, 102.00)
            ) as t(month, starting_mrr, new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr,
                   churned_mrr, fx_impact_mrr, ending_mrr)
            """
        )


def test_revenue_notebook_draws_the_heatmap_and_the_waterfall(tmp_path: Path, monkeypatch) -> None:
    serving = tmp_path / "serving.duckdb"
    _serving(serving)
    monkeypatch.setenv("CLM_SERVING_DB", str(serving))
    notebook = nbformat.read(ROOT / "notebooks" / "revenue.ipynb", as_version=4)
    # Stored without outputs (outputs are generated, never committed).
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")

    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    images = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert len(images) == 2  # the cohort heatmap and the MRR waterfall
    errors = [
        o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == []


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
