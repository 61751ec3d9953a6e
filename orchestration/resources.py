"""Dagster resources: the run's decisions (settings, as-of, target) and how dbt is invoked."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import dagster as dg
import dagster_dbt.core.dbt_cli_invocation as dbt_cli_invocation
from dagster_dbt import DbtCliResource
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from packaging import version

from clm import runs
from clm.config import Settings, load_settings
from clm.context import RunContext, check_as_of_gap, check_target, resolve_as_of
from clm.dbt_inprocess import DbtProcess
from clm.targets import Target, target_for

from .project import dbt_project


class ClmResource(dg.ConfigurableResource):
    """Run configuration. Empty fields fall back to the CLM_* environment
    (docs/configuration.md#environment-variables)."""

    raw_dir: str = ""
    as_of: str = ""  # YYYY-MM-DD; empty = newest load date in the landing zone
    full_refresh: bool = False
    target: str = "duckdb"

    def settings(self) -> Settings:
        """The CLM_* environment with this run's overrides (each step calls it once, in ``clm_step``)."""
        settings = load_settings()
        if self.raw_dir:
            settings = dataclasses.replace(settings, raw_dir=Path(self.raw_dir).resolve())
        return settings

    def requested_as_of(self) -> date | None:
        return date.fromisoformat(self.as_of) if self.as_of else None

    def run_context(self, run_id: str, settings: Settings | None = None) -> RunContext:
        """The run's context: the as-of date recorded by the run's first step, else resolved now (and
        recorded by ``raw_extracts``)."""
        settings = settings or self.settings()
        record = runs.read_run(settings, run_id)
        as_of = record["as_of"] if record and record["as_of"] else None
        if as_of is None:
            requested = self.requested_as_of()
            as_of = resolve_as_of(settings.raw_dir, requested)
            last = runs.last_published_as_of(settings)
            check_as_of_gap(as_of, requested, last, settings.max_as_of_gap_days)
        return RunContext(settings, run_id, as_of, check_target(self.target), self.full_refresh)

    def target_for(self, ctx: RunContext) -> Target:
        return target_for(ctx.target, ctx.settings)

    def target_for_name(self, settings: Settings) -> Target:
        """This resource's target outside a run (no as-of date needed: what BI reads now)."""
        return target_for(check_target(self.target), settings)


@contextmanager
def _dbt_in_process() -> Iterator[None]:
    """dagster-dbt starts dbt with ``subprocess.Popen`` in its invocation module; inside this block that
    module's Popen is clm.dbt_inprocess.DbtProcess (only that module's name is rebound: ``subprocess``
    itself is untouched)."""
    popen = {"Popen": DbtProcess, "PIPE": subprocess.PIPE, "STDOUT": subprocess.STDOUT}
    dbt_cli_invocation.subprocess = type("InProcess", (), popen)  # type: ignore[assignment]
    try:
        yield
    finally:
        dbt_cli_invocation.subprocess = subprocess


class ClmDbtCliResource(DbtCliResource):
    """dagster-dbt's resource with dbt run inside the process (clm.dbt_inprocess: about 3 s less per dbt
    command on a quiet machine, 6 to 10 s on a loaded one), and without two set-up costs of every dbt command,
    at any size (py-spy, 2026-12-06: the adapter alone took 4.0 s of CPU over a run's three dbt commands):
    ``dbt --version`` in a subprocess, to learn the version of the dbt installed beside this interpreter (read
    from its package metadata instead), and a dbt adapter built in this process, which dagster-dbt uses only
    for ``fetch_column_metadata`` and ``fetch_row_counts``; clm's assets call neither (its row counts come
    from the gate and the publish step)."""

    in_process: bool = True

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return None

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:
        if not self.in_process:
            return super().cli(args, **kwargs)
        with _dbt_in_process():
            return super().cli(args, **kwargs)


def build_resources() -> dict[str, object]:
    return {
        "clm": ClmResource(),
        "dbt": ClmDbtCliResource(
            project_dir=dbt_project,
            profiles_dir=str(dbt_project.project_dir),
            # The dbt installed beside this interpreter, whether or not .venv/bin is on PATH.
            dbt_executable=str(Path(sys.executable).with_name("dbt")),
        ),
    }
