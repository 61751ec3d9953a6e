"""The published marts' as-of date, checked against the landing zone and the calendar (issue 17 item 7).

The cron freshness policy of the ``serving/*`` assets (schedules.PUBLISHED_DAILY) says whether a publish
happened in time; this check says whether what BI reads describes the newest data: a run that published an
older ``--as-of``, or a drop that landed after the day's run, leaves fresh-looking marts that are a day late.
It reads only the serving side (the file, or Postgres's audit schema) and the landing zone's folder names,
so it runs beside a pipeline run without the data directory's lock. It runs after each publish in the
pipeline job, and alone by ``published_as_of_schedule``.
"""

from collections.abc import Iterator

import dagster as dg

from clm.context import landed_dates, today_utc
from clm.freshness import published_as_of_check

from .assets.publish import publish_specs
from .project import dbt_project
from .resources import ClmResource
from .schedules import AS_OF_WITHIN_DAYS, DAILY_AT_HOUR_UTC, PUBLISH_WITHIN_HOURS, daily_schedule

CHECK_NAME = "published_as_of"


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=spec.key,
            description=f"Published as of the newest landed drop, at most {AS_OF_WITHIN_DAYS} day(s) "
            "before today (a warning, never a failed run).",
        )
        for spec in publish_specs(dbt_project.manifest_path)
    ],
    can_subset=True,
)
def published_as_of(
    context: dg.AssetCheckExecutionContext, clm: ClmResource
) -> Iterator[dg.AssetCheckResult]:
    settings = clm.settings()
    today = today_utc()
    span = landed_dates(settings.raw_dir, today) if settings.raw_dir.is_dir() else None
    published = clm.target_for_name(settings).published_as_of()
    verdict = published_as_of_check(published, span[1] if span else None, today, AS_OF_WITHIN_DAYS)
    if not verdict.ok:
        context.log.warning(verdict.message)
    metadata = {
        "message": verdict.message,
        "published_as_of": str(verdict.published),
        "newest_drop": str(verdict.newest_drop),
        "days_behind_today": verdict.days_behind_today,
    }
    # The marts and the audit are published together: one verdict for each asset checked.
    for key in sorted(context.selected_asset_check_keys):
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=verdict.ok,
            severity=dg.AssetCheckSeverity.WARN,
            description=verdict.message,
            metadata=metadata,
        )


published_as_of_job = dg.define_asset_job(
    "published_as_of_check",
    selection=dg.AssetSelection.checks(published_as_of),
    description="Checks that the published marts are as of the newest landed drop (no pipeline step runs).",
)

published_as_of_schedule = daily_schedule(
    "published_as_of_schedule",
    published_as_of_job,
    DAILY_AT_HOUR_UTC + PUBLISH_WITHIN_HOURS,
    "Every day at the daily run's publish deadline",
)
