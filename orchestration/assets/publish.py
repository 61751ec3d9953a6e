"""Publish: copy marts and audit tables into a new serving file, then swap it in atomically."""

import dagster as dg

from clm import runs
from clm.publish import publish
from clm.warehouse import connect_build

from ..resources import ClmResource
from .gate import quality_gate


@dg.asset(
    deps=[quality_gate],
    group_name="publish",
    kinds={"duckdb"},
    description="The serving DuckDB file (CLM_SERVING_DB) that BI tools open read-only.",
)
def serving_database(context: dg.AssetExecutionContext, clm: ClmResource) -> dg.MaterializeResult:
    settings = clm.settings()
    run_id = context.run.run_id
    # The run is recorded as published inside the file being published, so BI sees this run too.
    with connect_build(settings.build_db) as con:
        runs.finish_run(con, run_id, runs.PUBLISHED, f"published to {settings.serving_db}")
    result = publish(settings.build_db, settings.serving_db)
    context.log.info(f"published {len(result.tables)} tables to {settings.serving_db}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.serving_db)),
            "tables": dg.MetadataValue.json(result.tables),
        }
    )
