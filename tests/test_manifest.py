"""clm.manifest: the published marts the dbt project declares (docs/marts.md#publishing), from dbt's
manifest.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from clm.manifest import DeclaredMart, GroupOwner, ManifestError, declared_marts, unpublishable
from tests.dbt.conftest import REPO, run_dbt

MARTS_DIR = REPO / "dbt_project" / "models" / "marts"
NOTEBOOKS_DIR = REPO / "notebooks"


@pytest.fixture(scope="module")
def project_manifest(tmp_path_factory) -> Path:
    """`dbt parse` of the real project, written to a tmp target path (nothing is written inside the repo)."""
    workdir = tmp_path_factory.mktemp("dbt_parse")
    run = run_dbt(
        ["parse"],
        workdir,
        {"CLM_BUILD_DB": str(workdir / "build.duckdb"), "CLM_TARGET": "duckdb"},
        as_of=None,
    )
    run.assert_ok()
    return run.target_path / "manifest.json"


def test_the_project_declares_every_mart_sql_file_as_published(project_manifest):
    marts = declared_marts(project_manifest)

    on_disk = sorted(path.stem for path in MARTS_DIR.rglob("*.sql"))
    assert [mart.name for mart in marts] == on_disk
    assert {"dim_customers", "fct_mrr_movements", "rpt_mrr_bridge", "clv_model_parameters"} <= set(on_disk)
    assert unpublishable(marts) == []
    for mart in marts:
        assert mart.contract_enforced, mart.name
        assert mart.schema == "marts", mart.name
        # schema_prefix is '' by default: the physical schema is the custom one (generate_schema_name.sql)
        assert mart.relation_schema == "marts", mart.name
        assert mart.unique_id == f"model.clm.{mart.name}"
        assert mart.columns, mart.name
        assert mart.description, mart.name


def test_the_contract_columns_come_in_yaml_order(project_manifest):
    bridge = {mart.name: mart for mart in declared_marts(project_manifest)}["rpt_mrr_bridge"]
    assert bridge.columns[:2] == ("month", "starting_mrr")
    assert "ending_mrr" in bridge.columns


def _nodes(manifest_path: Path) -> dict:
    return json.loads(manifest_path.read_text())


def test_marts_are_public_in_an_owned_group_and_intermediate_models_protected(project_manifest):
    manifest = _nodes(project_manifest)
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    marts = [n for n in models if "published" in n["tags"]]
    intermediate = [n for n in models if "/models/intermediate/" in n["original_file_path"]]
    assert marts and intermediate
    assert {(n["name"], n["access"], n["group"]) for n in marts} == {
        (n["name"], "public", "customer_lifecycle") for n in marts
    }
    assert {n["access"] for n in intermediate} == {"protected"}
    # Defined once, with an owner a reader can contact (dbt_project/models/marts/_marts__groups.yml).
    (group,) = manifest["groups"].values()
    assert group["name"] == "customer_lifecycle"
    assert group["owner"]["name"] and "@" in group["owner"]["email"]
    # What the Dagster assets of the published marts show as their owner (orchestration/assets/publish.py).
    owner = GroupOwner(group["owner"]["name"], (group["owner"]["email"],))
    assert {(m.group, m.owner) for m in declared_marts(project_manifest)} == {("customer_lifecycle", owner)}


def test_the_serving_file_exposure_depends_on_every_published_mart(project_manifest):
    exposures = {e["name"]: e for e in _nodes(project_manifest)["exposures"].values()}
    published = {mart.unique_id for mart in declared_marts(project_manifest)}
    serving = exposures["serving_file"]
    assert set(serving["depends_on"]["nodes"]) == published, (
        "add the new mart to exposure serving_file in dbt_project/models/marts/_marts__exposures.yml"
    )
    assert serving["owner"]["email"]


def test_each_notebook_has_an_exposure_on_exactly_the_marts_it_reads(project_manifest):
    exposures = _nodes(project_manifest)["exposures"].values()
    notebooks = {e["url"]: e for e in exposures if e["type"] == "notebook"}
    on_disk = sorted(f"notebooks/{path.name}" for path in NOTEBOOKS_DIR.glob("*.ipynb"))
    assert sorted(notebooks) == on_disk
    for url, exposure in notebooks.items():
        # The marts a notebook's SQL names (its cells read `from marts.<name>`).
        read = set(re.findall(r"\bmarts\.(\w+)", (REPO / url).read_text()))
        assert read, url
        assert set(exposure["depends_on"]["nodes"]) == {f"model.clm.{name}" for name in read}, url
        assert exposure["owner"]["email"], url


def test_the_dashboard_exposure_is_on_exactly_the_marts_its_sources_read(project_manifest):
    exposures = {e["name"]: e for e in _nodes(project_manifest)["exposures"].values()}
    dashboard = exposures["dashboard"]
    assert dashboard["type"] == "dashboard"
    sources = (REPO / "dashboards" / "sources" / "clm").glob("*.sql")
    read = {name for path in sources for name in re.findall(r"\bmarts\.(\w+)", path.read_text())}
    # The four marts of tests/dashboards (funnel, MRR bridge, cohort retention, CLV by cohort and channel)
    assert len(read) == 4
    assert set(dashboard["depends_on"]["nodes"]) == {f"model.clm.{name}" for name in read}


# ------------------------------------------------------------------------------ hand-written manifests


def _model(name: str, *, schema: str | None = "marts", enforced: bool = True, tags=("published",), **config):
    return {
        "name": name,
        "unique_id": f"model.clm.{name}",
        "resource_type": "model",
        "schema": f"build_{schema}" if schema else "main",
        "tags": list(tags),
        "description": f"  {name} described.\n",
        "original_file_path": f"dbt_project/models/marts/core/{name}.sql",
        "patch_path": "clm://dbt_project/models/marts/core/_core__models.yml",
        "columns": {
            "id": {"name": "id", "data_type": "integer", "description": "The key."},
            "amount": {"name": "amount", "description": "An amount."},
        },
        "config": {
            "enabled": config.pop("enabled", True),
            "schema": schema,
            "tags": list(tags),
            "contract": {"enforced": enforced, "alias_types": True},
            **config,
        },
    }


def _write(tmp_path: Path, *nodes: dict, disabled: dict | None = None) -> Path:
    path = tmp_path / "manifest.json"
    manifest = {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},
        "nodes": {node["unique_id"]: node for node in nodes},
        "disabled": disabled or {},
    }
    path.write_text(json.dumps(manifest))
    return path


def test_declared_marts_reads_published_enabled_models_only(tmp_path):
    seed = {"name": "fx", "unique_id": "seed.clm.fx", "resource_type": "seed", "tags": ["published"]}
    disabled_in_nodes = _model("mart_disabled", enabled=False)
    disabled_by_dbt = _model("mart_disabled_by_dbt", enabled=False)
    path = _write(
        tmp_path,
        _model("rpt_b"),
        _model("dim_a"),
        _model("mart_without_contract", enforced=False),
        _model("tagged_in_staging", schema="staging"),
        _model("stg_not_published", schema="staging", tags=()),
        disabled_in_nodes,
        seed,
        disabled={disabled_by_dbt["unique_id"]: [disabled_by_dbt]},
    )

    marts = declared_marts(path)

    assert [mart.name for mart in marts] == ["dim_a", "mart_without_contract", "rpt_b", "tagged_in_staging"]
    assert marts[0] == DeclaredMart(
        name="dim_a",
        unique_id="model.clm.dim_a",
        schema="marts",
        relation_schema="build_marts",
        contract_enforced=True,
        columns=("id", "amount"),
        description="dim_a described.",
        undocumented_columns=(),
        yaml_path="dbt_project/models/marts/core/_core__models.yml",
        sql_path="dbt_project/models/marts/core/dim_a.sql",
    )
    assert marts[1].contract_enforced is False
    assert (marts[3].schema, marts[3].relation_schema) == ("staging", "build_staging")


def test_unpublishable_names_every_mart_and_its_problem(tmp_path):
    path = _write(
        tmp_path,
        _model("dim_a"),
        _model("mart_without_contract", enforced=False),
        _model("tagged_in_staging", schema="staging"),
        _model("tagged_without_schema", schema=None, enforced=False),
    )

    problems = unpublishable(declared_marts(path))

    assert len(problems) == 3
    without_contract, in_staging, without_schema = problems
    assert without_contract.startswith("mart_without_contract (model.clm.mart_without_contract): ")
    assert "no enforced dbt contract" in without_contract
    assert "custom schema" not in without_contract
    assert in_staging == (
        "tagged_in_staging (model.clm.tagged_in_staging): custom schema is 'staging', not 'marts'"
    )
    assert "no enforced dbt contract" in without_schema
    assert "custom schema is 'none', not 'marts'" in without_schema


def test_a_mart_without_descriptions_is_unpublishable_and_says_where_to_add_them(tmp_path):
    # The rule of the dbt hook clm_assert_published_contracts (tests/dbt/test_published_contracts.py).
    undocumented = _model("dim_a")
    undocumented["description"] = "  \n"
    undocumented["columns"]["amount"]["description"] = ""
    no_yaml = _model("rpt_b")
    no_yaml["description"] = ""
    no_yaml["columns"] = {}
    del no_yaml["patch_path"]

    problems = unpublishable(declared_marts(_write(tmp_path, undocumented, no_yaml)))

    yaml = "dbt_project/models/marts/core/_core__models.yml"
    assert problems == [
        f"dim_a (model.clm.dim_a): no description (add `description:` to the model in {yaml}); "
        f"columns without a description: amount (add `description:` to each under `columns:` in {yaml})",
        "rpt_b (model.clm.rpt_b): no description (add `description:` to the model in a YAML beside it, e.g. "
        "dbt_project/models/marts/core/_core__models.yml); no columns in its YAML (list every column with a "
        "data_type and a `description:` under `columns:` in a YAML beside it, e.g. "
        "dbt_project/models/marts/core/_core__models.yml)",
    ]


def test_a_marts_owner_is_its_dbt_groups(tmp_path):
    emails, named, ungrouped = _model("dim_a"), _model("dim_b"), _model("dim_c")
    for node, group in ((emails, "revenue"), (named, "lifecycle")):
        node.update(package_name="clm", group=group)
    path = _write(tmp_path, emails, named, ungrouped)
    manifest = json.loads(path.read_text())
    manifest["groups"] = {
        # dbt 1.9+ accepts a list of emails; the name alone is enough for dbt
        "group.clm.revenue": {"name": "revenue", "owner": {"name": "Finance", "email": ["a@x.io", "b@x.io"]}},
        "group.clm.lifecycle": {"name": "lifecycle", "owner": {"name": " Growth "}},
    }
    path.write_text(json.dumps(manifest))

    marts = {mart.name: mart for mart in declared_marts(path)}

    assert marts["dim_a"].owner == GroupOwner("Finance", ("a@x.io", "b@x.io"))
    assert (marts["dim_b"].group, marts["dim_b"].owner) == ("lifecycle", GroupOwner("Growth"))
    assert (marts["dim_c"].group, marts["dim_c"].owner) == ("", None)


def test_a_mart_whose_contract_is_only_on_the_node_counts(tmp_path):
    # Older manifests (or other writers) may carry the contract on the node, not in config.
    node = _model("dim_a")
    node["contract"] = node["config"].pop("contract")
    assert unpublishable(declared_marts(_write(tmp_path, node))) == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        ("{not json", "cannot be read"),
        ('{"metadata": {}}', "has no 'nodes' mapping"),
        ("[]", "has no 'nodes' mapping"),
    ],
)
def test_a_missing_or_unreadable_manifest_says_what_to_run(tmp_path, content, expected):
    path = tmp_path / "target" / "manifest.json"
    if content is not None:
        path.parent.mkdir()
        path.write_text(content)

    with pytest.raises(ManifestError) as raised:
        declared_marts(path)

    message = str(raised.value)
    assert "\n" not in message
    assert str(path) in message
    assert expected in message
    assert "dbt parse" in message


def test_a_manifest_is_read_once_per_version(tmp_path, monkeypatch):
    import clm.manifest as manifest_module

    reads: list[Path] = []
    real_load = manifest_module._load
    monkeypatch.setattr(manifest_module, "_load", lambda path: reads.append(path) or real_load(path))
    path = _write(tmp_path, _model("dim_a"))
    assert [mart.name for mart in declared_marts(path)] == ["dim_a"]
    assert [mart.name for mart in declared_marts(path)] == ["dim_a"]
    assert len(reads) == 1
    _write(tmp_path, _model("dim_a"), _model("rpt_b"))  # dbt wrote the manifest again
    assert [mart.name for mart in declared_marts(path)] == ["dim_a", "rpt_b"]
    assert len(reads) == 2
