"""The code location loads and wires ingest -> dbt -> gate -> publish as one job."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest
import yaml

from clm.ingest.schemas import ENTITIES
from clm.manifest import GroupOwner, declared_marts
from clm.publishing import NotValidated, Published

ROOT = Path(__file__).resolve().parents[2]
GATE = dg.AssetKey(["quality_gate"])
AUDIT = dg.AssetKey(["serving", "audit"])


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
    assert graph.get(AUDIT).parent_keys == {GATE}
    for key in _served(defs) - {AUDIT}:
        assert graph.get(key).parent_keys == {GATE, dg.AssetKey(["marts", key.path[-1]])}, key
    gate_parents = graph.get(GATE).parent_keys
    assert dg.AssetKey(["marts", "dim_customers"]) in gate_parents
    assert dg.AssetKey(["staging", "stg_billing__invoices"]) in gate_parents


def test_job_schedule_and_sensor(defs) -> None:
    job = defs.resolve_job_def("clm_pipeline")
    assert job is not None
    schedule = defs.resolve_schedule_def("daily_pipeline")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "UTC"
    assert defs.resolve_sensor_def("new_drops_sensor").job_name == "clm_pipeline"


# ------------------------------------------------------------------------------------- published marts


def _served(defs) -> set[dg.AssetKey]:
    return {k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "serving"}


def _declared():
    from orchestration.project import dbt_project

    return declared_marts(dbt_project.manifest_path)


def _group_owner_email() -> str:
    groups = yaml.safe_load((ROOT / "dbt_project/models/marts/_marts__groups.yml").read_text())["groups"]
    (group,) = [g for g in groups if g["name"] == "customer_lifecycle"]
    return group["owner"]["email"]


def test_each_published_mart_is_an_asset_with_the_models_description_and_owner(defs) -> None:
    graph = defs.resolve_asset_graph()
    declared = _declared()
    assert len(declared) > 10  # the manifest's declaration, not an empty list
    assert _served(defs) == {dg.AssetKey(["serving", m.name]) for m in declared} | {AUDIT}
    for mart in declared:
        node = graph.get(dg.AssetKey(["serving", mart.name]))
        assert node.description == mart.description, mart.name
        assert node.owners == [_group_owner_email()], mart.name
        assert node.group_name == "publish"
        assert "published" in node.tags
        assert node.freshness_policy is not None
    assert graph.get(AUDIT).description


def test_the_freshness_deadline_follows_the_daily_schedule(defs) -> None:
    from orchestration.schedules import PUBLISH_WITHIN_HOURS

    policy = defs.resolve_asset_graph().get(dg.AssetKey(["serving", "dim_customers"])).freshness_policy
    schedule = defs.resolve_schedule_def("daily_pipeline")
    hour = int(schedule.cron_schedule.split()[1])
    assert policy.deadline_cron == f"0 {hour + PUBLISH_WITHIN_HOURS} * * *"
    assert policy.lower_bound_delta.total_seconds() == PUBLISH_WITHIN_HOURS * 3600
    assert policy.timezone == schedule.execution_timezone


def test_publishing_is_one_step_that_cannot_be_subset(defs) -> None:
    assets = {defs.get_assets_def(key) for key in _served(defs)}
    (publish,) = assets
    assert publish.op.name == "serving_database"
    assert not publish.can_subset
    one_mart = {dg.AssetKey(["serving", "dim_customers"])}
    with pytest.raises(dg.DagsterInvalidSubsetError):
        defs.resolve_job_def("clm_pipeline").get_subset(asset_selection=one_mart)


def test_dagster_owners_are_the_group_emails_else_its_name_as_a_team(defs) -> None:
    from orchestration.assets.publish import dagster_owners

    assert dagster_owners(GroupOwner("Data team", ("a@example.com", "b@example.com"))) == [
        "a@example.com",
        "b@example.com",
    ]
    assert dagster_owners(GroupOwner("Data team")) == ["team:Data team"]
    assert dagster_owners(GroupOwner()) == [] and dagster_owners(None) == []


AS_OF = date(2024, 3, 31)
WHERE = "/srv/serving.duckdb"


def _materialize(defs, monkeypatch, publish_run) -> dg.ExecuteInProcessResult:
    """The publish step alone, its lock and run context replaced: what it yields after publish_run."""
    import orchestration.assets.publish as publish_asset
    from orchestration.resources import ClmResource

    @contextlib.contextmanager
    def step(context, clm, **_flags):
        yield SimpleNamespace(as_of=AS_OF), SimpleNamespace(location=lambda: WHERE)

    monkeypatch.setattr(publish_asset, "clm_step", step)
    monkeypatch.setattr(publish_asset, "publish_run", publish_run)
    resources = {"clm": ClmResource()}
    return dg.materialize([publish_asset.serving_database], resources=resources, raise_on_error=False)


def test_a_publish_materializes_every_mart_with_its_row_count(defs, monkeypatch) -> None:
    names = [m.name for m in _declared()]
    audit = {"audit.runs": 2, "audit.quarantine": 0}
    tables = {f"marts.{name}": rows for rows, name in enumerate(names)} | audit

    result = _materialize(defs, monkeypatch, lambda ctx, target, manifest_path: Published(tables, []))

    assert result.success
    found = {e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert set(found) == _served(defs)
    for rows, name in enumerate(names):
        metadata = found[dg.AssetKey(["serving", name])]
        assert metadata["dagster/row_count"].value == rows
        assert metadata["published_to"].value == WHERE
        assert metadata["as_of"].value == str(AS_OF)
    assert found[AUDIT]["tables"].value == audit


def test_a_refused_publish_fails_the_step_and_materializes_nothing(defs, monkeypatch) -> None:
    def refuse(ctx, target, manifest_path):
        raise NotValidated("run abcd1234 has no quality-gate result (nothing was published)")

    result = _materialize(defs, monkeypatch, refuse)

    assert not result.success
    assert result.get_asset_materialization_events() == []
    (failure,) = result.get_step_failure_events()
    assert failure.step_key == "serving_database"
    assert "has no quality-gate result" in failure.step_failure_data.user_failure_data.description


def test_marts_published_without_an_asset_or_assets_not_published_are_warnings_not_failures(defs) -> None:
    from orchestration.assets.publish import materializations

    keys = [dg.AssetKey(["serving", "kept"]), dg.AssetKey(["serving", "dropped"]), AUDIT]
    tables = {"marts.kept": 3, "marts.added": 1, "audit.runs": 1}

    results, warnings = materializations(tables, keys, {"as_of": "2024-03-31"})

    assert [r.asset_key for r in results] == [keys[0], AUDIT]
    assert warnings == [
        "serving/dropped: not declared as published any more: not published",
        "marts.added: published; reload the code location to see its asset",
    ]
