"""The one job: ingest -> dbt build -> quality gate -> publish."""

from __future__ import annotations

import dagster as dg

from .hooks import record_failed_run

PIPELINE_JOB_NAME = "clm_pipeline"

clm_pipeline = dg.define_asset_job(
    PIPELINE_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Load new drops, dbt build, validate with Great Expectations, publish the marts atomically.",
    hooks={record_failed_run},
)
