"""A daily run after the extracts of the day have landed."""

from __future__ import annotations

import dagster as dg

from .jobs import clm_pipeline

daily_pipeline = dg.ScheduleDefinition(
    name="daily_pipeline",
    job=clm_pipeline,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every day at 06:00 UTC; start it in the UI or with `dagster schedule start`.",
)
