"""What `clm run` passes to dbt with --vars (CLM_DBT_VARS, clm.config, under clm's own vars) and in the
environment (the as-of date: CLM_AS_OF, so a new date does not make dbt parse again)."""

from __future__ import annotations

import json
import os
from datetime import date

from clm.config import load_settings
from clm.context import RunContext
from clm.targets import target_for


def test_dbt_vars_reach_every_dbt_command_without_overriding_clm_vars(defs, tmp_path, monkeypatch):
    # importing the dbt assets needs the manifest that the defs fixture parses
    from orchestration.assets.dbt import dbt_environment, dbt_vars

    settings = load_settings(
        {"CLM_DATA_DIR": str(tmp_path), "CLM_DBT_VARS": "{revenue_churn_recognition: cancellation}"}
    )
    ctx = RunContext(settings, "run-1", date(2024, 5, 20))
    variables = json.loads(dbt_vars(ctx, target_for("duckdb", settings)))
    assert variables["revenue_churn_recognition"] == "cancellation"
    assert "as_of" not in variables
    for name in ("CLM_AS_OF", "CLM_BUILD_DB", "CLM_DUCKDB_MEMORY_LIMIT"):  # restored after the test
        monkeypatch.delenv(name, raising=False)
    dbt_environment(ctx, target_for("duckdb", settings))
    assert os.environ["CLM_AS_OF"] == "2024-05-20"
    assert "clm_data_tests" in variables
