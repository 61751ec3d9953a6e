"""Dagster resources: where clm reads and writes, and how dbt is invoked."""

from __future__ import annotations

import dataclasses
import sys
from datetime import date
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from clm.config import Settings, load_settings

from .project import dbt_project


class ClmResource(dg.ConfigurableResource):
    """Run-level settings. Empty fields fall back to the CLM_* environment (CONTRACT 2)."""

    raw_dir: str = ""
    as_of: str = ""  # YYYY-MM-DD; empty = newest load date in the landing zone
    full_refresh: bool = False
    target: str = "duckdb"

    def settings(self) -> Settings:
        env_settings = load_settings()
        if not self.raw_dir:
            return env_settings
        return dataclasses.replace(env_settings, raw_dir=Path(self.raw_dir).resolve())

    def resolved_as_of(self) -> date | None:
        from clm.ingest import newest_load_date

        if self.as_of:
            return date.fromisoformat(self.as_of)
        return newest_load_date(self.settings().raw_dir)


def build_resources() -> dict[str, object]:
    return {
        "clm": ClmResource(),
        "dbt": DbtCliResource(
            project_dir=dbt_project,
            profiles_dir=str(dbt_project.project_dir),
            # The dbt installed beside this interpreter, whether or not .venv/bin is on PATH.
            dbt_executable=str(Path(sys.executable).with_name("dbt")),
        ),
    }
