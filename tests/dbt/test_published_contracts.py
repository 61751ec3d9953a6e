"""The on-run-start hook clm_assert_published_contracts: a published mart without an enforced contract,
without a description or a description on every column, or a model tagged `published` outside schema marts,
fails any dbt command, saying what to add and in which file; a documented mart with a contract runs, and its
descriptions become the built table's comments (persist_docs).

dbt runs on a copy of the project in tmp, so the extra models never touch the repo.
"""

from __future__ import annotations

from tests.dbt.conftest import copy_project, duckdb_reader, run_dbt

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


def test_a_published_mart_needs_an_enforced_contract(tmp_path):
    project = copy_project(tmp_path / "project")
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
    # No YAML names the new mart yet: the messages point at its folder's conventional YAML.
    folder_yaml = "a YAML beside it, e.g. dbt_project/models/marts/core/_core__models.yml"
    assert f"no description (add `description:` to the model in {folder_yaml})" in failed.output
    assert (
        "no columns in its YAML (list every column with a data_type and a `description:` under `columns:` "
        f"in {folder_yaml})"
    ) in failed.output
    assert not [r for r in failed.results if r["unique_id"] == f"model.clm.{NEW_MART}"]

    # A contract, but no model description and an undocumented column: refused, naming the column and YAML.
    yaml = core / f"_{NEW_MART}.yml"
    yaml.write_text(
        CONTRACT_YAML.replace("    description: A test mart with a contract.\n", "").replace(
            "        description: The only column.\n", ""
        )
    )
    tagged_elsewhere.unlink()
    undocumented = run_dbt(["run", "--select", NEW_MART], tmp_path, env, project_dir=project)

    assert undocumented.returncode != 0, undocumented.output[-4000:]
    own_yaml = f"dbt_project/models/marts/core/_{NEW_MART}.yml"
    assert (
        f"{NEW_MART} (dbt_project/models/marts/core/{NEW_MART}.sql): "
        f"no description (add `description:` to the model in {own_yaml}); "
        f"columns without a description: id (add `description:` to each under `columns:` in {own_yaml})"
    ) in undocumented.output
    assert "no enforced contract" not in undocumented.output

    # With a contract and typed, documented columns (and the stray tag gone) the same mart runs.
    yaml.write_text(CONTRACT_YAML)
    passed = run_dbt(["run", "--select", NEW_MART], tmp_path, env, project_dir=project)

    passed.assert_ok()
    # the hooks ran (and passed) before the model: published contracts, then data test thresholds
    assert [(r["unique_id"], r["status"]) for r in passed.results] == [
        ("operation.clm.clm-on-run-start-0", "success"),
        ("operation.clm.clm-on-run-start-1", "success"),
        (f"model.clm.{NEW_MART}", "success"),
    ]
    query = duckdb_reader(database)
    assert query(f"select id from marts.{NEW_MART}") == [(1,)]
    # persist_docs (dbt_project.yml, marts): the YAML's descriptions are the built table's comments.
    assert query(f"select comment from duckdb_tables() where table_name = '{NEW_MART}'") == [
        ("A test mart with a contract.",)
    ]
    assert query(f"select column_name, comment from duckdb_columns() where table_name = '{NEW_MART}'") == [
        ("id", "The only column.")
    ]
