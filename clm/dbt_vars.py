"""The one set of dbt vars of a run, for every dbt command it starts (the parse that gives Dagster its
manifest, source freshness and both build phases): dbt reuses its partial parse only when vars, profile and
target are the same, so one differing command makes every later one parse the whole project again.

The as-of date is not a var but the environment variable CLM_AS_OF (macro clm_as_of), read only when a model
is compiled for execution: a daily run's new date then changes no var, and the next day's run reuses the
manifest and the partial parse of the day before instead of parsing the whole project again."""

from __future__ import annotations

import json
import os

from clm.context import AS_OF_ENV, RunContext
from clm.gate import data_tests_var
from clm.targets import Target
from expectations.config import load_config


def dbt_vars(ctx: RunContext, target: Target) -> str:
    """The data tests' thresholds (dbt_project.yml's, with the gate config's ``dbt_tests`` over them) and the
    target's vars. CLM_DBT_VARS (settings.dbt_vars, e.g. the revenue policies) come first: clm's own vars
    cannot be overridden by them."""
    data_tests = data_tests_var(load_config(ctx.settings.gate_config))
    return json.dumps(
        {
            **ctx.settings.dbt_vars,
            "clm_data_tests": data_tests,
            **target.dbt_vars(),
        },
        default=str,
    )


def dbt_environment(ctx: RunContext, target: Target) -> None:
    """What profiles.yml and the project read from the environment: the build file, the DuckDB limits, the
    target's own connection settings, and the run's as-of date (CLM_AS_OF, macro clm_as_of): it always
    reaches dbt, which never picks a default of its own during a run."""
    os.environ[AS_OF_ENV] = ctx.as_of.isoformat()
    os.environ["CLM_BUILD_DB"] = str(ctx.settings.build_db)
    # profiles.yml applies the memory limit (the run's, default included), clm.dbt_plugin the threads.
    os.environ["CLM_DUCKDB_MEMORY_LIMIT"] = ctx.settings.duckdb_memory_limit
    os.environ.update(target.dbt_env())
