"""What `clm run` passes to dbt with --vars: CLM_DBT_VARS (clm.config) under clm's own vars."""

from __future__ import annotations

import json
from datetime import date

from clm.config import load_settings
from clm.context import RunContext
from clm.targets import target_for


def test_dbt_vars_reach_every_dbt_command_without_overriding_clm_vars(defs, tmp_path):
    # importing the dbt assets needs the manifest that the defs fixture parses
    from orchestration.assets.dbt import dbt_vars

    settings = load_settings(
        {"CLM_DATA_DIR": str(tmp_path), "CLM_DBT_VARS": "{revenue_churn_recognition: cancellation}"}
    )
    ctx = RunContext(settings, "run-1", date(2024, 5, 20))
    variables = json.loads(dbt_vars(ctx, target_for("duckdb", settings)))
    assert variables["revenue_churn_recognition"] == "cancellation"
    assert variables["as_of"] == "2024-05-20"
    assert "clm_data_tests" in variables
