"""Source freshness of a run: the newest drop of each raw source against the run's as-of date, with the
thresholds the sources' YAML declares (docs/marts.md#time). Freshness reports; it never blocks a run.

`dbt source freshness` computes the same (macro default__collect_freshness in
dbt_project/macros/clm_freshness.sql judges it against the as-of date), but as a dbt process of its own:
about 5 s of start-up per run for well under a second of queries. Ingestion lands raw rows in the DuckDB build
database whatever the target, so clm reads them there, with each source's loaded_at_field, filter and
thresholds as dbt's manifest holds them: one declaration, two readers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

_PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Freshness:
    subject: str  # source.table, e.g. crm.contacts
    status: str  # pass, warn or error, as dbt names them
    newest: datetime | None  # the newest loaded_at_field value on or before the as-of date
    age_seconds: float | None  # from newest to the end of the as-of date

    def message(self) -> str:
        if self.newest is None:
            return f"freshness {self.status}: nothing loaded on or before the as-of date"
        newest = self.newest.replace(tzinfo=UTC).isoformat()
        days = (self.age_seconds or 0.0) / 86400
        return f"freshness {self.status}: newest load {newest}, {days:.0f} day(s) before the as-of date's end"


def _seconds(threshold: dict | None) -> float | None:
    if not threshold or threshold.get("count") is None or threshold.get("period") is None:
        return None
    return float(threshold["count"]) * _PERIOD_SECONDS[threshold["period"]]


def _status(age: float, warn_after: float | None, error_after: float | None) -> str:
    if error_after is not None and age > error_after:
        return "error"
    if warn_after is not None and age > warn_after:
        return "warn"
    return "pass"


def source_freshness(con: duckdb.DuckDBPyConnection, manifest_path: Path, as_of: date) -> list[Freshness]:
    """Every source with a freshness threshold, measured in ``con`` (the build database's raw schema)."""
    sources = json.loads(Path(manifest_path).read_text())["sources"]
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    out = []
    for node in sorted(sources.values(), key=lambda n: n["unique_id"]):
        freshness = node.get("freshness") or {}
        warn_after = _seconds(freshness.get("warn_after"))
        error_after = _seconds(freshness.get("error_after"))
        if (warn_after is None and error_after is None) or not node.get("loaded_at_field"):
            continue
        where = "_load_date <= ?" + (f" and ({freshness['filter']})" if freshness.get("filter") else "")
        newest = con.execute(
            f"select max({node['loaded_at_field']}) from {node['schema']}.{node['identifier']} where {where}",
            [as_of],
        ).fetchall()[0][0]
        subject = f"{node['source_name']}.{node['name']}"
        if newest is None:
            # dbt reports an empty max() as datetime.min: older than any threshold
            out.append(Freshness(subject, _status(float("inf"), warn_after, error_after), None, None))
            continue
        newest = datetime.combine(newest, datetime.min.time()) if type(newest) is date else newest
        age = (end - newest.replace(tzinfo=None)).total_seconds()
        out.append(Freshness(subject, _status(age, warn_after, error_after), newest, age))
    return out


def stale_sources(con: duckdb.DuckDBPyConnection, manifest_path: Path, as_of: date) -> list[tuple[str, str]]:
    """(source.table, message) of every source past its warn or error threshold."""
    found = source_freshness(con, manifest_path, as_of)
    return [(f.subject, f.message()) for f in found if f.status != "pass"]


# ------------------------------------------------------------------------------ the published marts' as-of
@dataclass(frozen=True)
class PublishedAsOf:
    """Whether what BI reads is as of the newest data: the published run's as-of date against the newest drop
    landed and against today (docs/marts.md#time)."""

    ok: bool
    message: str
    published: date | None  # the as-of date of the newest published run
    newest_drop: date | None  # the newest load date in the landing zone, on or before today
    days_behind_today: int | None


def published_as_of_check(
    published: date | None, newest_drop: date | None, today: date, max_days_behind: int
) -> PublishedAsOf:
    """A daily run publishes the marts as of the day's drop. Late means: nothing published, a newer drop
    landed than the published marts describe, or no drop at all for more than ``max_days_behind`` days."""
    if published is None:
        return PublishedAsOf(False, "nothing is published yet: run `clm run`", None, newest_drop, None)
    behind = (today - published).days
    if newest_drop is not None and newest_drop > published:
        message = (
            f"the marts are as of {published}, but drops up to {newest_drop} have landed: run `clm run` "
            "(or start the daily_pipeline schedule or the new_drops sensor)"
        )
        return PublishedAsOf(False, message, published, newest_drop, behind)
    if behind > max_days_behind:
        message = (
            f"the marts are as of {published}, {behind} days before today, and no newer drop has landed: "
            "check that the extracts still arrive in the landing zone (CLM_RAW_DIR)"
        )
        return PublishedAsOf(False, message, published, newest_drop, behind)
    return PublishedAsOf(True, f"as of {published}, the newest drop", published, newest_drop, behind)
