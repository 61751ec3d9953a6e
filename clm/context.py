"""One run context: settings, as-of date, target and run id, decided once per run and handed down.

``clm run`` resolves it before any work (a bad ``--as-of`` is a usage error there); a run started from the
Dagster UI resolves it in its first step, which records the as-of date in ``audit.runs``; every later step,
the gate, the CLV fits and the publisher read it back from that record instead of deciding again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from clm.config import Settings

TARGETS = ("duckdb", "postgres", "spark")
# The environment variable that carries a run's as-of date to every dbt command (macro clm_as_of_date reads
# it when a model is compiled for execution, never while parsing; clm.dbt_vars sets it).
AS_OF_ENV = "CLM_AS_OF"
# What the previous build saw, for the incremental staging models (macro clm_incremental_since, set by
# clm.increments): '<as-of>|<newest _loaded_at>'; empty for a build that must not rely on one. Also read only
# at execution.
SINCE_ENV = "CLM_INCREMENTAL_SINCE"


@dataclass(frozen=True)
class RunContext:
    settings: Settings
    run_id: str
    as_of: date
    target: str = "duckdb"
    full_refresh: bool = False


class UsageError(ValueError):
    """A run that must not start: the message says why, in one line (exit code 2)."""


def today_utc() -> date:
    return datetime.now(UTC).date()


def landed_dates(raw_dir: Path, today: date | None = None) -> tuple[date, date] | None:
    """Oldest and newest load date of the well-formed drops, leaving out drops dated after ``today``
    (docs/landing-zone.md#drops-and-incremental-loads: a future drop never moves the default as-of)."""
    from clm.ingest.discover import discover

    today = today or today_utc()
    dates = {f.load_date for f in discover(raw_dir) if f.problem is None and f.load_date}
    dates = {d for d in dates if d <= today}
    return (min(dates), max(dates)) if dates else None


def resolve_as_of(raw_dir: Path, requested: date | None, today: date | None = None) -> date:
    """The run's as-of date: ``requested`` if the landing zone covers it, else the newest load date."""
    if not raw_dir.is_dir():
        raise UsageError(f"landing zone {raw_dir} does not exist (set --raw or CLM_RAW_DIR)")
    span = landed_dates(raw_dir, today)
    if span is None:
        raise UsageError(f"the landing zone {raw_dir} holds no drops (load_date=YYYY-MM-DD folders)")
    oldest, newest = span
    if requested is None:
        return newest
    if requested < oldest:
        raise UsageError(
            f"--as-of {requested} is before the oldest drop landed ({oldest}): nothing would be in the marts"
        )
    if requested > newest:
        raise UsageError(
            f"--as-of {requested} is after the newest drop landed ({newest}): the marts would describe "
            "days that no extract covers"
        )
    return requested


def check_as_of_gap(as_of: date, requested: date | None, last_published: date | None, max_days: int) -> None:
    """A default as-of far past the last published one is more likely a mislabelled drop than a real day
    (docs/landing-zone.md#drops-and-incremental-loads): it is used only when asked for by name. An explicit
    ``--as-of`` is the user's decision."""
    if requested is not None or last_published is None:
        return
    gap = (as_of - last_published).days
    if gap > max_days:
        raise UsageError(
            f"the newest drop ({as_of}) is {gap} days after the last published as-of ({last_published}), "
            f"more than CLM_MAX_AS_OF_GAP_DAYS={max_days}: run with --as-of {as_of} if that is right"
        )


def check_target(target: str) -> str:
    if target not in TARGETS:
        raise UsageError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
    return target
