"""Publish: the run's validated marts and the audit, swapped in atomically (clm.publishing)."""

import dagster as dg

from clm.publishing import NotValidated, publish_run

from ..project import dbt_project
from ..resources import ClmResource
from ..steps import clm_step
from .gate import quality_gate


@dg.asset(
    deps=[quality_gate],
    group_name="publish",
    kinds={"duckdb"},
    description="What BI reads: the serving DuckDB file (CLM_SERVING_DB) or the Postgres schemas marts and "
    "audit. Refuses to publish unless this run's quality gate passed over exactly these marts.",
)
def serving_database(context: dg.AssetExecutionContext, clm: ClmResource) -> dg.MaterializeResult:
    with clm_step(context, clm, last=True) as (ctx, target):
        try:
            published = publish_run(ctx, target, dbt_project.manifest_path)
        except NotValidated as refused:
            raise dg.Failure(description=str(refused), allow_retries=False) from None
    where = target.location()
    context.log.info(f"published {len(published.tables)} tables to {where}")
    return dg.MaterializeResult(
        metadata={"published_to": where, "tables": dg.MetadataValue.json(published.tables)}
    )
