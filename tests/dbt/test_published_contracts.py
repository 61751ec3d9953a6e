"""The on-run-start hook clm_assert_published_contracts: a published mart without an enforced contract, or a
model tagged `published` outside schema marts, fails any dbt command; a mart with a contract runs.

dbt runs on a copy of the project in tmp, so the extra models never touch the repo.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.dbt.conftest import REPO, duckdb_reader, run_dbt

NEW_MART = "mart_without_contract"

CONTRACT_YAML = f"""\
version: 2
models:
  - name: {NEW_MART}
    description: A test mart with a contract.
    config:
      contract:
        enforced: true
    columns:
      - name: id
        data_type: integer
        description: The only column.
"""


def _copy_project(destination: Path) -> Path:
    destination.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy2(REPO / name, destination / name)
    for name in ("dbt_project", "seeds"):
        shutil.copytree(REPO / name, destination / name)
    return destination


def test_a_published_mart_needs_an_enforced_contract(tmp_path):
    project = _copy_project(tmp_path / "project")
    core = project / "dbt_project" / "models" / "marts" / "core"
    (core / f"{NEW_MART}.sql").write_text("select 1 as id\n")
    # An analyst's model tagged published outside the marts folder: contract but wrong schema.
    tagged_elsewhere = project / "dbt_project" / "models" / "staging" / "stg_tagged_published.sql"
    tagged_elsewhere.write_text("{{ config(tags=['published']) }}\nselect 1 as id\n")
    database = tmp_path / "build.duckdb"
    env = {"CLM_BUILD_DB": str(database), "CLM_TARGET": "duckdb"}

    # The hook checks every published model, not just the selected ones, and fails before anything builds.
    failed = run_dbt(["build", "--select", NEW_MART], tmp_path, env, project_dir=project)

    assert failed.returncode != 0, failed.output[-4000:]
    assert "clm_assert_published_contracts" in failed.output
    assert f"{NEW_MART} (dbt_project/models/marts/core/{NEW_MART}.sql): no enforced contract" in failed.output
    assert "stg_tagged_published" in failed.output
    assert "custom schema is staging, not marts" in failed.output
    assert "contract: {enforced: true}" in failed.output
    assert not [r for r in failed.results if r["unique_id"] == f"model.clm.{NEW_MART}"]

    # With a contract and typed, documented columns (and the stray tag gone) the same mart runs.
    (core / f"_{NEW_MART}.yml").write_text(CONTRACT_YAML)
    tagged_elsewhere.unlink()
    passed = run_dbt(["run", "--select", NEW_MART], tmp_path, env, project_dir=project)

    passed.assert_ok()
    # the hooks ran (and passed) before the model: published contracts, then data test thresholds
    assert [(r["unique_id"], r["status"]) for r in passed.results] == [
        ("operation.clm.clm-on-run-start-0", "success"),
        ("operation.clm.clm-on-run-start-1", "success"),
        (f"model.clm.{NEW_MART}", "success"),
    ]
    assert duckdb_reader(database)(f"select id from marts.{NEW_MART}") == [(1,)]
