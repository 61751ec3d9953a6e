"""A daily run after the extracts of the day have landed, and when its published marts count as late."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from .jobs import clm_pipeline

DAILY_AT_HOUR_UTC = 6
# How long a scheduled run may take to publish before the marts count as late: a 10k-customer run takes about
# 3 minutes on 2 cores (README "Benchmarks"); three hours leave room for a larger landing zone and a retry.
PUBLISH_WITHIN_HOURS = 3
# How many days the published as-of date may trail today (orchestration/checks.py): before the day's run
# BI reads yesterday's marts; two days means a daily run was missed or no drop landed.
AS_OF_WITHIN_DAYS = 1



def daily_schedule(
    name: str, job: dg.UnresolvedAssetJobDefinition, at_hour_utc: int, description: str
) -> dg.ScheduleDefinition:
    """A job every day at ``at_hour_utc``:00 UTC, stopped until started in the UI or with `dagster schedule
    start` (a new deployment never runs by itself before someone looks at it)."""
    return dg.ScheduleDefinition(
        name=name,
        job=job,
        cron_schedule=f"0 {at_hour_utc} * * *",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"{description}; start it in the UI or with `dagster schedule start`.",
    )


daily_pipeline = daily_schedule(
    "daily_pipeline", clm_pipeline, DAILY_AT_HOUR_UTC, f"Every day at {DAILY_AT_HOUR_UTC:02d}:00 UTC"
)

# The published marts' freshness (orchestration/assets/publish.py): published between the schedule's tick
# and PUBLISH_WITHIN_HOURS after it, every day, else FAIL in the UI. The daemon that `clm ui` (dagster dev)
# already runs for the schedule and the sensor evaluates it; nothing else is needed.
PUBLISHED_DAILY = dg.FreshnessPolicy.cron(
    deadline_cron=f"0 {DAILY_AT_HOUR_UTC + PUBLISH_WITHIN_HOURS} * * *",
    lower_bound_delta=timedelta(hours=PUBLISH_WITHIN_HOURS),
    timezone="UTC",
)
