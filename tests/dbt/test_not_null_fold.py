"""The not-null checks of a model folded into one data test node (generic test clm_not_null_columns, issue
15): a null still fails, each column keeps its threshold under its former test name
(not_null_<model>_<column>), and the messages name the column and its count.

The raw fixture (raw_fixture.py) has four CRM contacts as of 2024-03-31: c1, c2 (its third version lands
after the as-of date), c3 and c4 (soft-deleted, still a staging row), so stg_crm__contacts has 4 rows. The
module builds only that model, then sets created_at to null on c1 and updated_at to null on c2 and c3: by
hand, created_at has 1 null row, updated_at 2, contact_id and is_deleted none; the folded test's failures
are 1 + 2 = 3. With the shipped defaults (warn_if >0, error_if >1% of the 4 rows, i.e. > 0.04), both
columns fail.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from clm.gate import (
    data_test_results,
    data_tests_var,
    dbt_failure_summary,
    folded_not_null_columns,
    threshold_holds,
)
from expectations.config import GateConfig
from tests.dbt import raw_fixture
from tests.dbt.conftest import REPO, build_duckdb, duckdb_reader, run_dbt

SHIPPED = data_tests_var(GateConfig())
FOLDED = "not_null_stg_crm__contacts"
CREATED = "not_null_stg_crm__contacts_created_at"
UPDATED = "not_null_stg_crm__contacts_updated_at"
ROWS_OF = "error_if >1% of the rows of stg_crm__contacts"


@pytest.fixture(scope="module")
def contacts(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("not_null_fold")
    built = build_duckdb(workdir, raw_fixture.load, ["run", "--select", "stg_crm__contacts"])
    built.run.assert_ok()
    assert built.database is not None
    with duckdb.connect(str(built.database)) as con:
        assert con.execute("select count(*) from staging.stg_crm__contacts").fetchone() == (4,)
        con.execute("update staging.stg_crm__contacts set created_at = null where contact_id = 'c1'")
        con.execute("update staging.stg_crm__contacts set updated_at = null where contact_id in ('c2', 'c3')")
    return built.database


def _test(database: Path, workdir: Path, data_tests: dict):
    env = {"CLM_BUILD_DB": str(database), "CLM_TARGET": "duckdb"}
    return run_dbt(["test", "--select", FOLDED], workdir, env, clm_data_tests=data_tests)


def _results(run, data_tests: dict, database: Path | None):
    counts = duckdb_reader(database) if database is not None else None
    found = data_test_results(run.target_path / "run_results.json", data_tests, column_counts=counts)
    return sorted((t.name, t.status, t.failures) for t in found), found


def test_nulls_fail_and_the_message_names_each_column_and_count(contacts, tmp_path):
    run = _test(contacts, tmp_path, SHIPPED)
    assert run.returncode == 1
    [(status, failures)] = [
        (r["status"], r["failures"]) for r in run.results if r["unique_id"].startswith("test.")
    ]
    assert (status, failures) == ("fail", 3)
    found, _ = _results(run, SHIPPED, contacts)
    assert found == [(CREATED, "fail", 1), (UPDATED, "fail", 2)]
    summary = dbt_failure_summary(
        run.target_path / "run_results.json", [], data_tests=SHIPPED, column_counts=duckdb_reader(contacts)
    )
    assert summary == (
        f"dbt build failed: 1 node(s): {CREATED} (fail: 1 null row, {ROWS_OF}); "
        f"{UPDATED} (fail: 2 null rows, {ROWS_OF})"
    )


def test_each_column_keeps_its_own_threshold(contacts, tmp_path):
    """updated_at configured severity warn under its former name: created_at alone still fails the test."""
    data_tests = SHIPPED | {UPDATED: {"severity": "warn"}}
    run = _test(contacts, tmp_path, data_tests)
    assert run.returncode == 1
    found, _ = _results(run, data_tests, contacts)
    assert found == [(CREATED, "fail", 1), (UPDATED, "warn", 2)]

    # created_at allowed 1 null (error_if >1, a count): nothing fails, both columns warn
    data_tests = SHIPPED | {UPDATED: {"severity": "warn"}, CREATED: {"error_if": ">1"}}
    (tmp_path / "relaxed").mkdir()
    run = _test(contacts, tmp_path / "relaxed", data_tests)
    run.assert_ok()
    found, results = _results(run, data_tests, contacts)
    assert found == [(CREATED, "warn", 1), (UPDATED, "warn", 2)]
    assert {t.name: t.warning for t in results} == {
        CREATED: "1 null row (warn_if >0; fails the build at error_if >1)",
        UPDATED: "2 null rows (warn_if >0; severity warn, never fails the build)",
    }


def test_an_entry_for_the_folded_test_applies_to_its_columns(contacts, tmp_path):
    data_tests = SHIPPED | {FOLDED: {"severity": "warn"}}
    run = _test(contacts, tmp_path, data_tests)
    run.assert_ok()
    found, _ = _results(run, data_tests, contacts)
    assert found == [(CREATED, "warn", 1), (UPDATED, "warn", 2)]


def test_without_the_warehouse_the_message_names_the_model_and_its_columns(contacts, tmp_path):
    run = _test(contacts, tmp_path, SHIPPED)
    found, _ = _results(run, SHIPPED, None)
    assert found == [(FOLDED, "fail", 3)]
    summary = dbt_failure_summary(run.target_path / "run_results.json", [], data_tests=SHIPPED)
    assert summary == (
        f"dbt build failed: 1 node(s): {FOLDED} (fail: 3 rows (nulls in contact_id, is_deleted, created_at, "
        "updated_at), error_if >1% of the rows of stg_crm__contacts)"
    )


def test_a_never_relaxed_column_refuses_configuration_and_an_unknown_one_is_refused(tmp_path):
    data_tests = SHIPPED | {
        "not_null_dim_customers_customer_id": {"severity": "warn"},  # contract constraint on a published mart
        "not_null_stg_crm__contacts_email": {"severity": "warn"},  # email is not checked for nulls
    }
    env = {"CLM_BUILD_DB": str(tmp_path / "empty.duckdb"), "CLM_TARGET": "duckdb"}
    run = run_dbt(["build", "--select", "stg_crm__contacts"], tmp_path, env, clm_data_tests=data_tests)
    assert run.returncode == 2
    message = re.sub(r"\s+", " ", run.output)
    assert (
        "are refused: not_null_dim_customers_customer_id: never relaxed, it errors on the first failing row "
        "whatever the configuration says (remove its entry); not_null_stg_crm__contacts_email: no data test "
        "has this name"
    ) in message


def test_the_columns_checked_on_each_target(contacts, tmp_path):
    """dim_customers: customer_id has a not_null contract constraint, first_seen_at has none. DuckDB and
    Postgres enforce the constraint while building (the folded test leaves the column out); Spark does not,
    so there the folded test checks it, never relaxed."""
    env = {"CLM_BUILD_DB": str(contacts), "CLM_TARGET": "duckdb"}
    run = run_dbt(["compile", "--select", "not_null_dim_customers"], tmp_path, env, clm_data_tests=SHIPPED)
    run.assert_ok()
    manifest = json.loads((run.target_path / "manifest.json").read_text())
    [node] = [n for n in manifest["nodes"].values() if n["name"] == "not_null_dim_customers"]
    duck = {c.test_name: c.never_relaxed for c in folded_not_null_columns(node, manifest)}
    assert "not_null_dim_customers_customer_id" not in duck
    assert duck["not_null_dim_customers_first_seen_at"] is False
    on_spark = manifest | {"metadata": {**manifest["metadata"], "adapter_type": "spark"}}
    spark = {c.test_name: c.never_relaxed for c in folded_not_null_columns(node, on_spark)}
    assert spark["not_null_dim_customers_customer_id"] is True
    assert spark["not_null_dim_customers_first_seen_at"] is False
    # the SQL dbt compiled on DuckDB counts first_seen_at's nulls, not customer_id's
    [compiled] = [r["compiled_code"] for r in run.results if r["unique_id"] == node["unique_id"]]
    assert "first_seen_at is null" in compiled
    assert "customer_id is null" not in compiled


def test_thresholds_compare_as_the_macro_does():
    assert threshold_holds(1, ">1%", 4) and not threshold_holds(0, ">1%", 4)
    assert not threshold_holds(1, ">1", 4) and threshold_holds(2, ">=2", 0)
    assert threshold_holds(3, "!= 0", 0) and not threshold_holds(0, "!= 0", 0)


def test_a_null_in_a_contracted_column_fails_the_build_on_duckdb(duckdb_build, tmp_path):
    """The check the folded test leaves to DuckDB: dim_customers.customer_id has a not_null constraint in its
    enforced contract. A copy of the fixture build gets one customer of int_identity__customers without its
    id; rebuilding dim_customers then fails on that row, naming the table and column, before any test
    runs (the first null row fails it: the contract is never relaxed)."""
    source, _run = duckdb_build
    database = tmp_path / "build.duckdb"
    shutil.copyfile(source, database)
    with duckdb.connect(str(database)) as con:
        [(customer_id,)] = con.execute(
            "select min(customer_id) from intermediate.int_identity__customers"
        ).fetchall()
        con.execute(
            "update intermediate.int_identity__customers set customer_id = null where customer_id = ?",
            [customer_id],
        )
    env = {"CLM_BUILD_DB": str(database), "CLM_TARGET": "duckdb"}
    run = run_dbt(["run", "--select", "dim_customers"], tmp_path, env, clm_data_tests=SHIPPED)
    assert run.returncode == 1
    summary = dbt_failure_summary(run.target_path / "run_results.json", [], data_tests=SHIPPED)
    assert summary == (
        "dbt build failed: 1 node(s): dim_customers (error: Runtime Error in model dim_customers "
        "(dbt_project/models/marts/core/dim_customers.sql): Constraint Error: NOT NULL constraint failed: "
        "dim_customers__dbt_tmp.customer_id)"
    )


def _yaml_models() -> list[dict]:
    files = sorted((REPO / "dbt_project" / "models").rglob("*.yml")) + [REPO / "seeds" / "_seeds.yml"]
    found = []
    for path in files:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found += content.get("models") or []
        found += content.get("seeds") or []
    return found


def test_not_nulls_are_folded_and_only_enforced_ones_are_spark_only():
    """No column-level not_null test (one dbt node per column); a clm_not_null_columns test is enabled on
    Spark only exactly when every one of its columns has a not_null constraint in an enforced contract (on
    DuckDB and Postgres it would check nothing; with one column more, that column would go unchecked)."""
    spark_only = "{{ target.type == 'spark' }}"
    folded = 0
    for model in _yaml_models():
        for column in model.get("columns") or []:
            kinds = [t if isinstance(t, str) else next(iter(t)) for t in column.get("data_tests") or []]
            assert "not_null" not in kinds, f"{model['name']}.{column['name']}: use clm_not_null_columns"
        enforced = ((model.get("config") or {}).get("contract") or {}).get("enforced")
        constrained = {
            c["name"]
            for c in model.get("columns") or []
            if any(k.get("type") == "not_null" for k in c.get("constraints") or [])
        }
        for test in model.get("data_tests") or []:
            if not (isinstance(test, dict) and "clm_not_null_columns" in test):
                continue
            folded += 1
            spec = test["clm_not_null_columns"]
            assert spec["name"] == f"not_null_{model['name']}"
            columns = [c["name"] if isinstance(c, dict) else c for c in spec["arguments"]["columns"]]
            all_enforced = bool(enforced) and set(columns) <= constrained
            enabled = (spec.get("config") or {}).get("enabled", True)
            assert (enabled == spark_only) == all_enforced, model["name"]
    # the 181 column-level not_null tests of 46 models and seeds before the fold (issue 15); the CLV
    # source's not_null test stays as it was
    assert folded == 46
