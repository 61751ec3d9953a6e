"""notebooks/lifecycle.ipynb runs top to bottom against a serving file, draws its three charts and counts the
transitions between stages in funnel order.

The serving file is built by hand with the published marts' columns (docs/marts.md#the-marts): the
notebook must read nothing else. Four customers, first seen on 2024-01-01 (k1, k2, k3) or 2024-02-01 (k4):
    k1: lead -> trial (01-05) -> onboarding (01-20) -> active (04-20)
    k2: lead -> trial (01-03) -> lead (01-17)
    k3: lead -> onboarding (02-01) -> at_risk (03-01) -> churned (04-01)
    k4: lead -> trial (02-10)
so 9 transitions: lead -> trial 3 times, every other pair once; trial -> lead goes back up the funnel.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.notebooks.runner import execute_with_probe

STAGES = ["lead", "trial", "onboarding", "active", "expanding", "advocate", "at_risk", "churned"]


def _serving(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        # Stored out of funnel order: the notebook orders by stage_order.
        con.execute(
            """
            create table marts.rpt_lifecycle_funnel as
            select stage, stage_order::integer as stage_order, customers_current::bigint as customers_current,
                   customers_ever::bigint as customers_ever,
                   customers_from_previous::bigint as customers_from_previous,
                   conversion_from_previous::decimal(10, 4) as conversion_from_previous,
                   median_days_to_reach::decimal(10, 1) as median_days_to_reach
            from (values
                ('churned', 8, 1, 1, 1, 1.0000, 91.0),
                ('at_risk', 7, 0, 1, 0, null, 60.0),
                ('advocate', 6, 0, 0, 0, null, null),
                ('expanding', 5, 0, 0, 0, 0.0000, null),
                ('active', 4, 1, 1, 1, 0.5000, 110.0),
                ('onboarding', 3, 0, 2, 1, 0.3333, 25.0),
                ('trial', 2, 1, 3, 3, 0.7500, 4.0),
                ('lead', 1, 1, 4, 0, null, 0.0)
            ) as t(stage, stage_order, customers_current, customers_ever, customers_from_previous,
                   conversion_from_previous, median_days_to_reach)
            """
        )
        con.execute(
            """
            create table marts.fct_lifecycle_transitions as
            select customer_id, transition_number::integer as transition_number, from_stage, to_stage,
                   from_stage_order::integer as from_stage_order, to_stage_order::integer as to_stage_order,
                   transitioned_at::date as transitioned_at, days_in_from_stage::integer as days_in_from_stage
            from (values
                ('k1', 1, 'lead', 'trial', 1, 2, '2024-01-05', 4),
                ('k1', 2, 'trial', 'onboarding', 2, 3, '2024-01-20', 15),
                ('k1', 3, 'onboarding', 'active', 3, 4, '2024-04-20', 91),
                ('k2', 1, 'lead', 'trial', 1, 2, '2024-01-03', 2),
                ('k2', 2, 'trial', 'lead', 2, 1, '2024-01-17', 14),
                ('k3', 1, 'lead', 'onboarding', 1, 3, '2024-02-01', 31),
                ('k3', 2, 'onboarding', 'at_risk', 3, 7, '2024-03-01', 29),
                ('k3', 3, 'at_risk', 'churned', 7, 8, '2024-04-01', 31),
                ('k4', 1, 'lead', 'trial', 1, 2, '2024-02-10', 9)
            ) as t(customer_id, transition_number, from_stage, to_stage, from_stage_order, to_stage_order,
                   transitioned_at, days_in_from_stage)
            """
        )


# Run after the notebook in the same kernel: what it computed, as JSON on stdout.
PROBE = """
import json
print(json.dumps({
    "funnel_stages": funnel["stage"].tolist(),
    "flow_rows": flows.index.tolist(),
    "flow_columns": flows.columns.tolist(),
    "flows": flows.values.tolist(),
}))
"""


def test_lifecycle_notebook_draws_the_funnel_and_the_flows(tmp_path: Path, monkeypatch) -> None:
    serving = tmp_path / "serving.duckdb"
    _serving(serving)
    monkeypatch.setenv("CLM_SERVING_DB", str(serving))
    outputs, probe_text = execute_with_probe("lifecycle.ipynb", tmp_path, PROBE)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3  # the funnel, the transition heatmap and the median days to reach

    computed = json.loads(probe_text)
    assert computed["funnel_stages"] == STAGES  # ordered by stage_order, not as stored
    # The matrix: every stage in funnel order on both axes, from_stage x to_stage, 0 where nobody moved.
    assert computed["flow_rows"] == STAGES
    assert computed["flow_columns"] == STAGES
    flows = {
        (STAGES[row], STAGES[col]): count
        for row, counts in enumerate(computed["flows"])
        for col, count in enumerate(counts)
        if count
    }
    assert flows == {
        ("lead", "trial"): 3,
        ("lead", "onboarding"): 1,
        ("trial", "onboarding"): 1,
        ("trial", "lead"): 1,  # below the diagonal: back up the funnel
        ("onboarding", "active"): 1,
        ("onboarding", "at_risk"): 1,
        ("at_risk", "churned"): 1,
    }


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
