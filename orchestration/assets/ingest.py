"""Ingestion: new landed drops -> raw schema of the build database (plus manifest and quarantine)."""

import dagster as dg

from clm import progress, runs
from clm.ingest import ingest
from clm.ingest.fx import fx_coverage
from clm.ingest.schemas import ENTITIES, RAW_TABLES
from clm.ingest.warnings import ingest_warnings
from clm.publishing import recover
from clm.warehouse import connect_build, reset_for_full_refresh

from ..resources import ClmResource
from ..steps import clm_step


def _dagster_status(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """SUCCESS, FAILURE or CANCELED for a run that ended; None if unknown or never ended (interrupted)."""
    run = instance.get_run_by_id(run_id)
    ended = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
    return run.status.value if run is not None and run.status in ended else None


def raw_table_keys() -> list[dg.AssetKey]:
    return [dg.AssetKey(["raw", table]) for table in sorted(RAW_TABLES)]


@dg.multi_asset(
    specs=[dg.AssetSpec(key, group_name="ingest", kinds={"duckdb"}) for key in raw_table_keys()],
    name="raw_extracts",
    description="Loads new files of the landing zone into raw.* with audit columns; bad rows to quarantine.",
)
def raw_extracts(context: dg.AssetExecutionContext, clm: ClmResource):
    with clm_step(context, clm) as (ctx, target):
        settings = ctx.settings
        settings.ensure_dirs()
        # Under the lock, before anything else: settle what a killed run left behind.
        for note in recover(ctx, target, lambda run_id: _dagster_status(context.instance, run_id)):
            context.log.warning(note)
        reading = "every landed file (full refresh)" if ctx.full_refresh else "new landed files"
        with connect_build(settings) as con, progress.phase("ingest", f"reading {reading}") as shown:
            runs.start_run(con, ctx.run_id, ctx.as_of, ctx.target)
            if ctx.full_refresh:
                context.log.info("full refresh: every landed file is read again")
                reset_for_full_refresh(con)
            result = ingest(
                con,
                raw_dir=settings.raw_dir,
                quarantine_dir=settings.quarantine_dir,
                run_id=ctx.run_id,
                as_of=ctx.as_of,
                progress=context.log.info,
                max_record_bytes=settings.max_record_bytes,
                # the rates dbt will convert with: CLM_DBT_VARS' or dbt_project.yml's, where the target builds
                fx=fx_coverage(settings.dbt_vars, target.fx_rate_months(con)),
            )
            warnings = ingest_warnings(result, settings.raw_dir)
            runs.record_warnings(con, ctx.run_id, "ingest", warnings)
            shown.done(result.counts_line)
        for subject, message in warnings:
            context.log.warning(f"{subject}: {message}")
        context.log.info(result.summary)
        with progress.phase(target.name, target.preparing) as shown:  # silent where there is nothing to do
            prepared = target.prepare_build()
            shown.done(prepared or "done")
        if prepared:
            context.log.info(prepared)
        loaded: dict[str, int] = {}
        for f in result.files:
            loaded[f"{f.source}__{f.entity}"] = loaded.get(f"{f.source}__{f.entity}", 0) + f.rows_loaded
        for key in raw_table_keys():
            metadata: dict[str, object] = {"as_of": str(ctx.as_of)}
            if key.path[-1] in loaded or key.path[-1] in {e.table for e in ENTITIES}:
                # Array tables (items, lines) load with their parent records: no count of their own here.
                metadata["records_loaded_this_run"] = loaded.get(key.path[-1], 0)
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)
