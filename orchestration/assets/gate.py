"""The quality gate: Great Expectations suites over staged tables and marts, in the build database."""

import os
from pathlib import Path

import dagster as dg

from clm import runs
from clm.gate import postgres_warehouse, run_gate
from clm.warehouse import connect_build

from ..resources import ClmResource
from .clv import clv_fits
from .dbt import clm_dbt_clv_models, clm_dbt_models


@dg.asset(
    deps=[*clm_dbt_models.keys, *clv_fits.keys, *clm_dbt_clv_models.keys],
    group_name="publish",
    description="Validates staged and mart tables with Great Expectations; fails (blocks publish) on error.",
)
def quality_gate(context: dg.AssetExecutionContext, clm: ClmResource) -> dg.MaterializeResult:
    settings = clm.settings()
    # Thresholds are configuration: expectations/gate.yml unless CLM_GATE_CONFIG names another file.
    config = os.environ.get("CLM_GATE_CONFIG")
    result = run_gate(
        settings.build_db,
        settings.data_docs_dir,
        run_id=context.run.run_id,
        config_path=Path(config) if config else None,
        # Postgres: the build_* schemas dbt just wrote; DuckDB: the build file (the default).
        warehouse=postgres_warehouse() if clm.target == "postgres" else None,
    )
    for finding in (*result.failures, *result.warnings):
        context.log.warning(finding.message)
    if result.warnings:
        with connect_build(settings.build_db, settings.duckdb_memory_limit) as con:
            runs.record_warnings(
                con, context.run.run_id, "gate", [(w.check, w.message) for w in result.warnings]
            )
    context.log.info(f"{result.message} ({result.seconds:.1f} s); data docs: {result.data_docs_index}")
    if not result.passed:
        raise dg.Failure(description=result.message, allow_retries=False)
    return dg.MaterializeResult(
        metadata={
            "tables_validated": len(result.tables_validated),
            "warnings": len(result.warnings),
            "data_docs": dg.MetadataValue.path(str(result.data_docs_index or settings.data_docs_dir)),
        }
    )
