"""The quality gate: Great Expectations suites over staged tables and marts, in the build warehouse."""

import dagster as dg

from clm import progress, runs
from clm.gate import run_gate
from clm.publishing import record_gate_verdict
from clm.warehouse import connect_build

from ..project import dbt_project
from ..resources import ClmResource
from ..steps import clm_step
from .clv import clv_fits
from .dbt import clm_dbt_clv_models, clm_dbt_models


@dg.asset(
    deps=[*clm_dbt_models.keys, *clv_fits.keys, *clm_dbt_clv_models.keys],
    group_name="publish",
    description="Validates staged and mart tables with Great Expectations; fails (blocks publish) on error. "
    "Its verdict, with a fingerprint of the marts it validated, is what the publish step checks.",
)
def quality_gate(context: dg.AssetExecutionContext, clm: ClmResource) -> dg.MaterializeResult:
    with clm_step(context, clm, blocks=True) as (ctx, target):
        settings = ctx.settings
        with progress.phase("gate", "Great Expectations suites") as shown:
            result = run_gate(
                settings.build_db,
                settings.data_docs_dir,
                run_id=ctx.run_id,
                config_path=settings.gate_config,
                settings=settings,
                warehouse=target.gate_warehouse(),
            )
            shown.done(result.counts_line)
        for finding in (*result.failures, *result.warnings):
            context.log.warning(finding.message)
        if result.data_docs_warning:
            context.log.warning(result.data_docs_warning)
        if result.warnings:
            with connect_build(settings) as con:
                found = [(w.check, w.message) for w in result.warnings]
                runs.record_warnings(con, ctx.run_id, "gate", found)
        verdict = record_gate_verdict(
            ctx, target, dbt_project.manifest_path, result.passed, result.message, result.tables_validated
        )
        for subject, message in verdict.warnings:
            context.log.warning(f"{subject}: {message}")
        context.log.info(f"{verdict.message} ({result.seconds:.1f} s); data docs: {result.data_docs_index}")
        if not verdict.passed:
            raise dg.Failure(description=verdict.message, allow_retries=False)
    return dg.MaterializeResult(
        metadata={
            "tables_validated": len(result.tables_validated),
            "warnings": len(result.warnings),
            "data_docs": dg.MetadataValue.path(str(result.data_docs_index or settings.data_docs_dir)),
        }
    )
