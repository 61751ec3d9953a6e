"""Where a run builds, validates and publishes: one small interface, one module per engine.

A target answers the engine-specific questions of a run, and nothing else branches on the engine:
- ``dbt_target`` / ``dbt_vars`` / ``dbt_env``: how dbt builds there;
- ``prepare_build``: what must be in place before dbt runs (Postgres: the raw tables mirrored);
- ``gate_warehouse``: where the quality gate's suites run;
- ``read_clv_inputs`` / ``write_clv_results``: the CLV fits' input models and output tables;
- ``built_marts`` / ``marts_fingerprint``: what the build holds, and a digest of exactly those rows;
- ``publish`` / ``publish_audit``: swap in validated marts with the audit, or the audit alone;
- ``published_marts`` / ``published_runs`` / ``published_as_of`` / ``location``: what BI reads now, and where;
- ``clean_leftovers``: what a killed run left behind.

Ingestion, the load manifest, quarantine and run records live in the DuckDB build file on every target.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from clm.config import Settings
from clm.context import check_target

if TYPE_CHECKING:  # slow to import; only the steps that use them pay for it
    import duckdb
    import pandas as pd

    from clm.ingest.fx import RateMonths
    from expectations.checkpoint import Warehouse


# What BI reads of the audit's runs: the published copy of audit.runs, on every target.
PUBLISHED_RUNS_SQL = "select run_id from audit.runs where status = 'published'"
PUBLISHED_AS_OF_SQL = "select max(as_of) from audit.runs where status = 'published'"


class Target(ABC):
    name: str
    # What prepare_build does, as clm run's progress line says it while it runs (None: it does nothing).
    preparing: str | None = None

    def __init__(self, settings: Settings):
        self.settings = settings

    @property
    def dbt_target(self) -> str:
        return self.name

    def dbt_vars(self) -> dict[str, str]:
        return {}

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt's connections (never logged)."""
        return {}

    def fx_rate_months(self, build: duckdb.DuckDBPyConnection) -> RateMonths:
        """Reads the user's FX relation (dbt var fx_rates_relation) where dbt builds; by default the DuckDB
        build file, open as ``build``."""
        from clm.ingest.fx import duckdb_rate_months

        return duckdb_rate_months(build)

    def how_to_read(self) -> str | None:
        """A command that queries what was published, for the run's summary."""
        return None

    def prepare_build(self) -> str | None:
        """Runs after ingestion, before dbt; returns a line for the log, if any."""
        return None

    @abstractmethod
    def gate_warehouse(self) -> Warehouse: ...

    @abstractmethod
    def read_clv_inputs(self) -> tuple[pd.DataFrame, pd.DataFrame]: ...

    @abstractmethod
    def write_clv_results(self, frames: dict[str, pd.DataFrame]) -> None: ...

    @abstractmethod
    def built_marts(self) -> list[str]:
        """Every table or view in the build's marts schema, declared or not."""

    @abstractmethod
    def marts_fingerprint(self, marts: Sequence[str]) -> str:
        """A digest of the rows of ``marts`` in the build: equal digests mean the same rows."""

    @abstractmethod
    def publish(self, marts: Sequence[str], run_id: str, message: str) -> dict[str, int]:
        """Swap in ``marts`` and the audit schema atomically; the published copy of ``audit.runs`` already
        says ``published`` for ``run_id`` when readers first see it. Returns rows per published table."""

    @abstractmethod
    def publish_audit(self) -> None:
        """Replace the published audit schema only: the marts stay exactly as they are."""

    @abstractmethod
    def published_marts(self) -> list[tuple[str, int]]: ...

    @abstractmethod
    def published_runs(self) -> set[str]:
        """Run ids whose status is ``published`` in the audit that BI reads."""

    @abstractmethod
    def published_as_of(self) -> date | None:
        """The as-of date of the newest published run in the audit that BI reads (None: nothing published)."""

    @abstractmethod
    def location(self) -> str:
        """Where BI reads the marts, for humans."""

    def clean_leftovers(self) -> list[str]:
        """Remove what a killed run left behind; what was removed, for the log."""
        return []


def target_for(name: str, settings: Settings) -> Target:
    check_target(name)
    if name == "postgres":
        from clm.targets.postgres import PostgresTarget

        return PostgresTarget(settings)
    if name == "spark":
        from clm.targets.spark import SparkTarget

        return SparkTarget(settings)
    from clm.targets.duckdb import DuckDBTarget

    return DuckDBTarget(settings)
