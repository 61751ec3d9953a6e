"""Publish: the run's validated marts and the audit, swapped in atomically (clm.publishing).

One asset per published mart (``serving/<mart>``) and one for the audit (``serving/audit``), all made by ONE
step: the swap of a closed file, or one Postgres transaction, publishes them together or not at all, so the
multi-asset cannot be subset. Which marts are published is the dbt manifest's declaration (clm.manifest), the
same list ``publish_run`` copies; descriptions and owners come from the dbt YAML too.
"""

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from clm import progress
from clm.manifest import PUBLISHED_TAG, DeclaredMart, GroupOwner, declared_marts
from clm.progress import plural
from clm.publishing import NotValidated, publish_run

from ..project import dbt_project
from ..resources import ClmResource
from ..schedules import PUBLISHED_DAILY
from ..steps import clm_step
from .dbt import clm_dbt_models
from .gate import quality_gate

SERVING = "serving"
AUDIT_KEY = dg.AssetKey([SERVING, "audit"])
# Either engine may receive a run's publish (the resource's target, chosen per run).
KINDS = {"duckdb", "postgres", "spark"}


def serving_key(mart: str) -> dg.AssetKey:
    return dg.AssetKey([SERVING, mart])


def dagster_owners(owner: GroupOwner | None) -> list[str]:
    """Dagster accepts only emails or ``team:<name>`` as owners: the dbt group owner's emails (as dagster-dbt
    does for the marts' dbt assets), else its name as a team."""
    if owner is None:
        return []
    if owner.emails:
        return list(owner.emails)
    return [f"team:{owner.name}"] if owner.name else []


def mart_spec(mart: DeclaredMart) -> dg.AssetSpec:
    return dg.AssetSpec(
        serving_key(mart.name),
        # The model's lineage beside the gate's verdict. The key is the translator's over the whole manifest,
        # so one of the two dbt multi-assets names the CLV marts too.
        deps=[quality_gate, get_asset_key_for_model([clm_dbt_models], mart.name)],
        description=mart.description,
        owners=dagster_owners(mart.owner),
        tags={PUBLISHED_TAG: ""},
        kinds=KINDS,
        group_name="publish",
        metadata={"dbt_model": mart.unique_id, "dbt_group": mart.group},
        freshness_policy=PUBLISHED_DAILY,
        # A mart declared after this code location was loaded is published but has no asset; one dropped from
        # the declaration has an asset but is not published: a warning, never a failed step after the swap.
        skippable=True,
    )


def publish_specs(manifest_path: Path) -> list[dg.AssetSpec]:
    audit = dg.AssetSpec(
        AUDIT_KEY,
        deps=[quality_gate],
        description="The audit schema BI reads beside the marts: runs, gate results, warnings, load "
        "manifest and quarantine (docs/marts.md#audit-schema). A blocked or failed run replaces it alone, "
        "outside this asset.",
        kinds=KINDS,
        group_name="publish",
    )
    return [*(mart_spec(mart) for mart in declared_marts(manifest_path)), audit]


def materializations(
    tables: Mapping[str, int], keys: Sequence[dg.AssetKey], metadata: Mapping[str, str]
) -> tuple[list[dg.MaterializeResult], list[str]]:
    """One result per asset key of this step that was published (``tables``: "marts.<name>" or "audit.<name>"
    -> rows), and a warning for every published mart without an asset or asset without a published mart."""
    results: list[dg.MaterializeResult] = []
    warnings: list[str] = []
    marts = {name.split(".", 1)[1]: rows for name, rows in tables.items() if name.startswith("marts.")}
    for key in keys:
        if key == AUDIT_KEY:
            audit = {name: rows for name, rows in tables.items() if name.startswith("audit.")}
            tables_json = {"tables": dg.MetadataValue.json(audit)}
            results.append(dg.MaterializeResult(asset_key=key, metadata={**metadata, **tables_json}))
        elif key.path[-1] in marts:
            rows = {"dagster/row_count": marts[key.path[-1]]}
            results.append(dg.MaterializeResult(asset_key=key, metadata={**metadata, **rows}))
        else:
            warnings.append(f"{key.to_user_string()}: not declared as published any more: not published")
    known = {key.path[-1] for key in keys}
    unknown = [name for name in marts if name not in known]
    warnings += [f"marts.{name}: published; reload the code location to see its asset" for name in unknown]
    return results, warnings


@dg.multi_asset(
    specs=publish_specs(dbt_project.manifest_path),
    # The step keeps the name of the former single asset: logs, audit messages and benchmarks name it.
    name="serving_database",
    can_subset=False,
    description="What BI reads: the serving DuckDB file (CLM_SERVING_DB) or the Postgres schemas marts and "
    "audit, swapped in at once. Refuses to publish unless this run's quality gate passed over exactly these "
    "marts.",
)
def serving_database(context: dg.AssetExecutionContext, clm: ClmResource) -> Iterator[dg.MaterializeResult]:
    with (
        clm_step(context, clm, last=True) as (ctx, target),
        progress.phase("publish", "swapping in the validated marts") as shown,
    ):
        try:
            published = publish_run(ctx, target, dbt_project.manifest_path)
        except NotValidated as refused:
            raise dg.Failure(description=str(refused), allow_retries=False) from None
        marts = sum(1 for name in published.tables if name.startswith("marts."))
        shown.done(f"{plural(marts, 'mart')}, {plural(len(published.tables) - marts, 'audit table')}")
    where = target.location()
    context.log.info(f"published {len(published.tables)} tables to {where}")
    metadata = {"published_to": where, "as_of": str(ctx.as_of)}
    results, warnings = materializations(published.tables, sorted(context.selected_asset_keys), metadata)
    for warning in warnings:
        context.log.warning(warning)
    yield from results
