"""dbt models, seeds and tests as Dagster assets and asset checks (`dbt build` into the build database)."""

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from clm import increments, progress, runs
from clm.context import SINCE_ENV
from clm.dbt_vars import dbt_environment, dbt_vars
from clm.freshness import stale_sources

# The one-line message of a failed build lives in clm.gate (no Dagster needed to word or test it).
from clm.gate import data_test_results, dbt_build_counts, warehouse_query
from clm.gate import dbt_failure_summary as failure_summary
from clm.progress import plural
from clm.warehouse import connect_build

from ..project import dbt_project
from ..resources import ClmResource
from ..steps import clm_step

# The CLV fits run in Python between two dbt phases: first everything that does not read their results, then
# the marts built on source('clv', ...) (fct_customer_clv, clv_model_parameters, rpt_clv_by_cohort_channel).
CLV_PHASE = "source:clv+"


class ClmDbtTranslator(DagsterDbtTranslator):
    """Sources are the raw tables that ingestion writes (raw/<table>) or the CLV fit results (clv/<table>);
    models are grouped by layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            prefix = "clv" if dbt_resource_props["source_name"] == "clv" else "raw"
            return dg.AssetKey([prefix, dbt_resource_props["identifier"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        return fqn[1] if len(fqn) > 2 else "dbt"


def warned_tests(
    run_results_path: Path, data_tests: dict | None = None, column_counts=None
) -> list[tuple[str, str]]:
    """dbt data tests that warned (below their error threshold, or severity warn) for audit.run_warnings:
    (test name, failing rows and thresholds), e.g. ("assert_x", "3 rows (warn_if >0; ...)"). A folded
    not-null test counts as its columns, each under its former test name (``column_counts``, see
    clm.gate.data_test_results)."""
    results = data_test_results(run_results_path, data_tests or {}, column_counts=column_counts)
    return [(test.name, test.warning) for test in results if test.status == "warn"]


def _starting(context: dg.AssetExecutionContext, full: bool) -> str:
    kind = "full" if full else "incremental"
    return f"{kind} build of {plural(len(context.selected_asset_keys), 'model')} and seeds, with tests"


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, clm: ClmResource, *, first_phase: bool):
    with clm_step(context, clm) as (ctx, target):
        dbt_environment(ctx, target)
        variables = dbt_vars(ctx, target)
        stale: list[tuple[str, str]] = []
        plan = None
        if first_phase:
            with connect_build(ctx.settings, read_only=True) as con:
                # Freshness never blocks: a source that stopped arriving is reported, the rest publishes.
                stale = stale_sources(con, dbt_project.manifest_path, ctx.as_of)
                # The first phase builds staging: incremental or full, decided once (clm.increments).
                plan = increments.plan_build(con, ctx.settings, target.name, ctx.as_of, ctx.full_refresh)
            for subject, message in stale:
                context.log.warning(f"{subject}: {message}")
            os.environ[SINCE_ENV] = plan.since_env()
            with connect_build(ctx.settings) as con:
                increments.begin_build(con)
            context.log.info(f"dbt build: {'full' if plan.full_refresh else 'incremental'} ({plan.reason})")
        # Unit tests check the SQL, not the data: CI runs them (tests/dbt, tests/test_end_to_end_clv.py), as
        # dbt's guidance has it; a production run builds and runs the data tests only.
        args = [
            "build",
            "--vars",
            variables,
            "--target",
            target.dbt_target,
            "--exclude-resource-type",
            "unit_test",
        ]
        full = ctx.full_refresh or (plan is not None and plan.full_refresh)
        if full:
            args.append("--full-refresh")
        with progress.phase("dbt" if first_phase else "dbt (CLV marts)", _starting(context, full)) as shown:
            # context= makes dagster-dbt select exactly this asset's models (its select/exclude).
            invocation = dbt.cli(args, context=context, raise_on_error=False)
            yield from invocation.stream()
            failed = "" if invocation.is_successful() else "FAILED: "
            shown.done(failed + dbt_build_counts(invocation.target_path / "run_results.json"))
        if getattr(invocation.process, "reused_parse", False):  # clm.dbt_inprocess.DbtProcess
            context.log.info("dbt build ran on the manifest parsed before the steps (no parse of its own)")
        if plan is not None and invocation.is_successful():
            with connect_build(ctx.settings) as con:
                increments.record_build(con, plan.now)
        run_results = invocation.target_path / "run_results.json"
        data_tests = json.loads(variables)["clm_data_tests"]
        # Only a folded not-null test that warned or failed is read again, for its columns' counts.
        column_counts = warehouse_query(target.gate_warehouse())
        warnings = stale + warned_tests(run_results, data_tests, column_counts)
        if warnings:
            with connect_build(ctx.settings) as con:
                runs.record_warnings(con, ctx.run_id, "dbt", warnings)
        if not invocation.is_successful():
            raise dg.Failure(
                # dagster-dbt keeps dbt's error-level log lines; there is no public accessor
                description=failure_summary(
                    run_results,
                    getattr(invocation, "_error_messages", []),
                    data_tests=data_tests,
                    column_counts=column_counts,
                ),
                allow_retries=False,
            )


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=ClmDbtTranslator(),
    exclude=CLV_PHASE,
)
def clm_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, clm: ClmResource):
    yield from _build(context, dbt, clm, first_phase=True)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=ClmDbtTranslator(),
    select=CLV_PHASE,
    name="clm_dbt_clv_models",
)
def clm_dbt_clv_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, clm: ClmResource):
    yield from _build(context, dbt, clm, first_phase=False)
