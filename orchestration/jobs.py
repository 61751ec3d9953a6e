"""The one job: ingest -> dbt build -> quality gate -> publish."""

from __future__ import annotations

import dagster as dg

PIPELINE_JOB_NAME = "clm_pipeline"
# dagster.yaml (written by clm under CLM_DATA_DIR/dagster) limits runs with this tag to one at a time, so
# the schedule, the sensor and runs launched from the UI queue instead of colliding.
CONCURRENCY_TAG = "clm/pipeline"

clm_pipeline = dg.define_asset_job(
    PIPELINE_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Load new drops, dbt build, validate with Great Expectations, publish the marts atomically.",
    tags={CONCURRENCY_TAG: "data_dir"},
    # One process per run: the data directory's lock, taken by the first step, lasts the whole run.
    executor_def=dg.in_process_executor,
)
