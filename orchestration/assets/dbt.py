"""dbt models, seeds and tests as Dagster assets and asset checks (`dbt build` into the build database)."""

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from clm import increments, runs
from clm.dbt_vars import dbt_environment, dbt_vars

# The one-line message of a failed build lives in clm.gate (no Dagster needed to word or test it).
from clm.gate import data_test_results
from clm.gate import dbt_failure_summary as failure_summary
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


def _freshness_message(result: dict) -> str:
    status, newest = result["status"], str(result.get("max_loaded_at") or "")
    # dbt reports an empty max() (nothing landed on or before the as-of date) as datetime.min
    if not newest or newest.startswith("0001-01-01"):
        return f"freshness {status}: nothing loaded on or before the as-of date"
    days = result.get("max_loaded_at_time_ago_in_s", 0) / 86400
    return f"freshness {status}: newest load {newest}, {days:.0f} day(s) before the as-of date's end"


def stale_sources(sources_path: Path) -> list[tuple[str, str]]:
    """Sources whose newest drop is older than their freshness thresholds, measured from the as-of date."""
    if not sources_path.exists():
        return []
    results = json.loads(sources_path.read_text())["results"]
    return [
        (r["unique_id"].split(".", 2)[-1], _freshness_message(r))
        for r in results
        if r.get("status") in ("warn", "error")
    ]


def warned_tests(run_results_path: Path, data_tests: dict | None = None) -> list[tuple[str, str]]:
    """dbt data tests that warned (below their error threshold, or severity warn) for audit.run_warnings:
    (test name, failing rows and thresholds), e.g. ("assert_x", "3 rows (warn_if >0; ...)")."""
    results = data_test_results(run_results_path, data_tests or {})
    return [(test.name, test.warning) for test in results if test.status == "warn"]


def _build(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, clm: ClmResource, *, check_freshness: bool
):
    with clm_step(context, clm) as (ctx, target):
        dbt_environment(ctx, target)
        variables = dbt_vars(ctx, target)
        stale: list[tuple[str, str]] = []
        if check_freshness:
            # Freshness never blocks: a source that stopped arriving is reported, the rest still publishes.
            freshness = dbt.cli(
                ["source", "freshness", "--vars", variables, "--target", target.dbt_target],
                raise_on_error=False,
                manifest=dbt_project.manifest_path,
            )
            freshness.wait()
            stale = stale_sources(freshness.target_path / "sources.json")
            for subject, message in stale:
                context.log.warning(f"{subject}: {message}")
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
        plan = None
        if check_freshness:
            # The first phase builds staging: incremental or full, decided once (clm.increments).
            with connect_build(ctx.settings, read_only=True) as con:
                plan = increments.plan_build(con, ctx.settings, target.name, ctx.as_of, ctx.full_refresh)
            os.environ[increments.SINCE_ENV] = plan.since_env()
            context.log.info(f"dbt build: {'full' if plan.full_refresh else 'incremental'} ({plan.reason})")
        if ctx.full_refresh or (plan is not None and plan.full_refresh):
            args.append("--full-refresh")
        # context= makes dagster-dbt select exactly this asset's models (its select/exclude).
        invocation = dbt.cli(args, context=context, raise_on_error=False)
        yield from invocation.stream()
        if plan is not None and invocation.is_successful():
            with connect_build(ctx.settings) as con:
                increments.record_build(con, plan.now)
        run_results = invocation.target_path / "run_results.json"
        data_tests = json.loads(variables)["clm_data_tests"]
        warnings = stale + warned_tests(run_results, data_tests)
        if warnings:
            with connect_build(ctx.settings) as con:
                runs.record_warnings(con, ctx.run_id, "dbt", warnings)
        if not invocation.is_successful():
            raise dg.Failure(
                # dagster-dbt keeps dbt's error-level log lines; there is no public accessor
                description=failure_summary(
                    run_results, getattr(invocation, "_error_messages", []), data_tests=data_tests
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
    yield from _build(context, dbt, clm, check_freshness=True)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=ClmDbtTranslator(),
    select=CLV_PHASE,
    name="clm_dbt_clv_models",
)
def clm_dbt_clv_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, clm: ClmResource):
    yield from _build(context, dbt, clm, check_freshness=False)
