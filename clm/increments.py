"""Whether a run's dbt build may be incremental, decided once per run (docs/commands.md#daily-runs).

The staging models are incremental (dbt_project/macros/clm_increments.sql): they re-derive only the keys that
have a raw row the previous build did not see. That is exact as long as nothing but raw rows changed since
that build. Raw tables only grow between full refreshes, so this module records, after each successful build,
what the build saw: the as-of date, the newest ``_loaded_at`` of any raw row, and a key of everything else the
models read (the project's code, the settings that change results, the target). The next build is incremental
when that key is the same and the as-of date did not move back; otherwise dbt gets ``--full-refresh``.

Some incremental models also keep what the previous build computed, to compare with (each billing customer's
customer, each customer's lifecycle fingerprint). A build that fails or is stopped part of the way may have
updated those and not what depends on them, so a build is marked unfinished when it starts, and the build
after an unfinished one is a full one.

A user's FX relation (var ``fx_rates_relation``) can change without any of that changing, and every converted
staging amount reads it: with one configured, every build is a full one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from clm.config import Settings
from clm.ingest.schemas import RAW_TABLES
from clm.inputs import build_digest

# In the build database only, never published: it describes the build, not the marts BI reads.
STATE_SCHEMA = "clm_state"
STATE_TABLE = f"{STATE_SCHEMA}.dbt_build_state"
UNFINISHED_TABLE = f"{STATE_SCHEMA}.dbt_build_unfinished"

ROLLED_BACK = "raw's newest row is older than the last build's (raw emptied or rolled back)"
UNFINISHED = "the last build did not finish (it failed or was stopped)"


@dataclass(frozen=True)
class BuildState:
    key: str
    as_of: date
    loaded_at: datetime | None  # the newest _loaded_at in raw; None while raw is empty


@dataclass(frozen=True)
class BuildPlan:
    full_refresh: bool
    reason: str  # why (shown in the run's log)
    since: BuildState | None  # what the previous build saw, for an incremental build
    now: BuildState  # recorded once this build succeeds

    def since_env(self) -> str:
        if self.full_refresh or self.since is None:
            return ""
        loaded = self.since.loaded_at.isoformat(sep=" ") if self.since.loaded_at else ""
        return f"{self.since.as_of.isoformat()}|{loaded}"


def newest_loaded_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    existing = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    }
    selects = [f"select max(_loaded_at) as t from raw.{t}" for t in RAW_TABLES if t in existing]
    if not selects:
        return None
    return con.execute(f"select max(t) from ({' union all '.join(selects)})").fetchall()[0][0]


def previous_state(con: duckdb.DuckDBPyConnection) -> BuildState | None:
    try:
        rows = con.execute(f"select key, as_of, loaded_at from {STATE_TABLE}").fetchall()
    except duckdb.CatalogException:
        return None
    return BuildState(*rows[0]) if len(rows) == 1 else None


def unfinished_build(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        return bool(con.execute(f"select count(*) from {UNFINISHED_TABLE}").fetchall()[0][0])
    except duckdb.CatalogException:
        return False


def plan_build(
    con: duckdb.DuckDBPyConnection, settings: Settings, target: str, as_of: date, full_refresh: bool
) -> BuildPlan:
    """The one decision: incremental or full, with what the build will have seen once it succeeds."""
    now = BuildState(build_digest(settings, target), as_of, newest_loaded_at(con))
    previous = previous_state(con)
    if full_refresh:
        return BuildPlan(True, "clm run --full-refresh", None, now)
    if previous is None:
        return BuildPlan(True, "no earlier build to add to", None, now)
    if unfinished_build(con):
        return BuildPlan(True, UNFINISHED, None, now)
    if settings.dbt_vars.get("fx_rates_relation") not in (None, "", "none", "null"):
        return BuildPlan(True, "a user FX relation (fx_rates_relation) is configured", None, now)
    if previous.key != now.key:
        return BuildPlan(True, "the code, settings or target changed since the last build", None, now)
    if as_of < previous.as_of:
        return BuildPlan(True, f"the as-of date moved back from {previous.as_of}", None, now)
    if previous.loaded_at is not None and (now.loaded_at is None or now.loaded_at < previous.loaded_at):
        # Rows the last build read are gone: raw was emptied or restored from an older copy.
        return BuildPlan(True, ROLLED_BACK, None, now)
    return BuildPlan(False, f"incremental since the build as of {previous.as_of}", previous, now)


def _state_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {STATE_SCHEMA}")
    con.execute(
        f"create table if not exists {STATE_TABLE} "
        "(key varchar not null, as_of date not null, loaded_at timestamp)"
    )
    con.execute(f"create table if not exists {UNFINISHED_TABLE} (started_at timestamp not null)")


def begin_build(con: duckdb.DuckDBPyConnection) -> None:
    """Before dbt starts: the build is unfinished until record_build says otherwise."""
    _state_tables(con)
    con.execute(f"insert into {UNFINISHED_TABLE} values (current_timestamp::timestamp)")


def record_build(con: duckdb.DuckDBPyConnection, state: BuildState) -> None:
    """After a successful build: what it saw, the starting point of the next incremental build."""
    _state_tables(con)
    con.execute("begin")
    con.execute(f"delete from {STATE_TABLE}")
    con.execute(f"delete from {UNFINISHED_TABLE}")
    con.execute(f"insert into {STATE_TABLE} values (?, ?, ?)", [state.key, state.as_of, state.loaded_at])
    con.execute("commit")
