"""The clm code location: `dagster dev -m orchestration.definitions` (or `clm ui`)."""

from __future__ import annotations

import dagster as dg

from .assets.clv import clv_fits
from .assets.dbt import clm_dbt_clv_models, clm_dbt_models
from .assets.gate import quality_gate
from .assets.ingest import raw_extracts
from .assets.publish import serving_database
from .checks import published_as_of, published_as_of_job, published_as_of_schedule
from .jobs import clm_pipeline
from .resources import build_resources
from .schedules import daily_pipeline
from .sensors import new_drops_sensor

defs = dg.Definitions(
    assets=[raw_extracts, clm_dbt_models, clv_fits, clm_dbt_clv_models, quality_gate, serving_database],
    asset_checks=[published_as_of],
    jobs=[clm_pipeline, published_as_of_job],
    schedules=[daily_pipeline, published_as_of_schedule],
    sensors=[new_drops_sensor],
    resources=build_resources(),
    # Assets materialized from the UI outside the job also run in one process: one lock for the whole run.
    executor=dg.in_process_executor,
)
