"""Publish: copy marts and audit tables into a new serving file, then swap it in atomically."""

import dagster as dg

from clm import postgres, runs
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
    with connect_build(settings.build_db, settings.duckdb_memory_limit) as con:
        destination = "postgres" if clm.target == "postgres" else str(settings.serving_db)
        runs.finish_run(con, run_id, runs.PUBLISHED, f"published to {destination}")
    if clm.target == "postgres":
        with postgres.connection() as pg:
            tables = postgres.publish_postgres(settings.build_db, pg)
        where = "Postgres schemas marts and audit"
    else:
        tables = publish(settings.build_db, settings.serving_db).tables
        where = str(settings.serving_db)
    context.log.info(f"published {len(tables)} tables to {where}")
    return dg.MaterializeResult(metadata={"published_to": where, "tables": dg.MetadataValue.json(tables)})
