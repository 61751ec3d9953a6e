"""Ingestion: new landed drops -> raw schema of the build database (plus manifest and quarantine)."""

from pathlib import Path

import dagster as dg

from clm import postgres, runs
from clm.ingest import ingest
from clm.ingest.discover import missing_entities
from clm.ingest.results import IngestResult
from clm.ingest.schemas import ENTITIES
from clm.warehouse import connect_build, reset_for_full_refresh

from ..resources import ClmResource


def raw_table_keys() -> list[dg.AssetKey]:
    tables = [e.table for e in ENTITIES] + [c.table for e in ENTITIES for c in e.children]
    return [dg.AssetKey(["raw", table]) for table in sorted(tables)]


def ingest_warnings(result: IngestResult, raw_dir: Path) -> list[tuple[str, str]]:
    """Loaded-but-suspicious input: duplicate keys, empty files, entities missing from a new drop."""
    # A 0-byte CSV or Parquet file has not even a header: a broken export. A header-only CSV or an empty
    # JSON Lines file is a quiet day, not a fault.
    warnings = [
        (f.file_path, "empty file: not even a header")
        for f in result.files
        if f.status == "empty"
        and not f.file_path.endswith(".jsonl")
        and (raw_dir / f.file_path).stat().st_size == 0
    ]
    # A loaded file's message also counts its quarantined rows, which audit.quarantine already holds.
    warnings += [
        (f.file_path, note)
        for f in result.files
        if f.status == "loaded" and f.message
        for note in f.message.split("; ")
        if not note.endswith("rows quarantined")
    ]
    new_drops = {f.load_date for f in result.files if f.load_date and f.status != "skipped_already_loaded"}
    warnings += [
        (f"{entity} load_date={day}", "no file for this entity in the drop")
        for day, entity in missing_entities(raw_dir, new_drops)
    ]
    return warnings


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
    with connect_build(settings.build_db) as con:
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
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={"rows_loaded_this_run": loaded.get(key.path[-1], 0), "as_of": str(as_of)},
        )
