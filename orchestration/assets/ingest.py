"""Ingestion: new landed drops -> raw schema of the build database (plus manifest and quarantine)."""

import dagster as dg

from clm import postgres, runs
from clm.ingest import ingest
from clm.ingest.schemas import ENTITIES
from clm.ingest.warnings import ingest_warnings
from clm.warehouse import connect_build, reset_for_full_refresh

from ..resources import ClmResource


def raw_table_keys() -> list[dg.AssetKey]:
    tables = [e.table for e in ENTITIES] + [c.table for e in ENTITIES for c in e.children]
    return [dg.AssetKey(["raw", table]) for table in sorted(tables)]


@dg.multi_asset(
    specs=[dg.AssetSpec(key, group_name="ingest", kinds={"duckdb"}) for key in raw_table_keys()],
    name="raw_extracts",
    description="Loads new files of the landing zone into raw.* with audit columns; bad rows to quarantine.",
)
def raw_extracts(context: dg.AssetExecutionContext, clm: ClmResource):
    settings = clm.settings()
    settings.ensure_dirs()
    as_of = clm.resolved_as_of()
    if as_of is None:
        raise dg.Failure(f"the landing zone {settings.raw_dir} holds no drops (load_date=YYYY-MM-DD folders)")
    run_id = context.run.run_id
    with connect_build(settings.build_db, settings.duckdb_memory_limit) as con:
        runs.start_run(con, run_id, as_of, clm.target)
        if clm.full_refresh:
            context.log.info("full refresh: every landed file is read again")
            reset_for_full_refresh(con)
        result = ingest(
            con,
            raw_dir=settings.raw_dir,
            quarantine_dir=settings.quarantine_dir,
            run_id=run_id,
            as_of=as_of,
            progress=context.log.info,
        )
        warnings = ingest_warnings(result, settings.raw_dir)
        runs.record_warnings(con, run_id, "ingest", warnings)
    for subject, message in warnings:
        context.log.warning(f"{subject}: {message}")
    context.log.info(result.summary)
    if clm.target == "postgres":
        # dbt on Postgres reads raw.* there: mirror the DuckDB raw schema in one transaction.
        with postgres.connection() as pg:
            postgres.ensure_pgcrypto(pg)
            counts = postgres.mirror_raw(settings.build_db, pg)
        context.log.info(f"mirrored {len(counts)} raw tables ({sum(counts.values()):,} rows) to Postgres")
    loaded: dict[str, int] = {}
    for f in result.files:
        loaded[f"{f.source}__{f.entity}"] = loaded.get(f"{f.source}__{f.entity}", 0) + f.rows_loaded
    for key in raw_table_keys():
        metadata: dict[str, object] = {"as_of": str(as_of)}
        if key.path[-1] in loaded or key.path[-1] in {e.table for e in ENTITIES}:
            # Array tables (items, lines) load with their parent records: no count of their own here.
            metadata["records_loaded_this_run"] = loaded.get(key.path[-1], 0)
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
