"""The code location loads and wires ingest -> dbt -> gate -> publish as one job."""

from __future__ import annotations

import dagster as dg

from clm.ingest.schemas import ENTITIES


def test_every_entity_and_child_table_is_an_ingested_asset(defs) -> None:
    keys = {k for k in defs.resolve_asset_graph().get_all_asset_keys()}
    # 9 entities of docs/landing-zone.md#entities plus the two array tables (subscription items, invoice
    # lines) = 11.
    raw = {k for k in keys if k.path[0] == "raw"}
    assert len(raw) == 11
    assert {dg.AssetKey(["raw", f"{e.source}__{e.name}"]) for e in ENTITIES} <= raw


def test_dbt_sources_are_the_ingested_tables(defs) -> None:
    graph = defs.resolve_asset_graph()
    stg = graph.get(dg.AssetKey(["staging", "stg_crm__contacts"]))
    assert dg.AssetKey(["raw", "crm__contacts"]) in stg.parent_keys
    # No dbt source is left as an external asset that nothing materializes.
    assert all(graph.get(k).is_materializable for k in graph.get_all_asset_keys() if k.path[0] == "raw")


def test_publish_waits_for_the_gate_and_the_gate_for_every_model(defs) -> None:
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey(["serving_database"])).parent_keys == {dg.AssetKey(["quality_gate"])}
    gate_parents = graph.get(dg.AssetKey(["quality_gate"])).parent_keys
    assert dg.AssetKey(["marts", "dim_customers"]) in gate_parents
    assert dg.AssetKey(["staging", "stg_billing__invoices"]) in gate_parents


def test_job_schedule_and_sensor(defs) -> None:
    job = defs.resolve_job_def("clm_pipeline")
    assert job is not None
    schedule = defs.resolve_schedule_def("daily_pipeline")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "UTC"
    assert defs.resolve_sensor_def("new_drops_sensor").job_name == "clm_pipeline"
