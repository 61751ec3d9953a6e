"""A model's column checks (not_null, unique, accepted_values, unique combinations) folded into one data
test node (generic test clm_column_checks, issue 15): a failing row still fails, each check keeps its
threshold under its former test name (e.g. not_null_<model>_<column>), and the messages name the check and
its count.

The raw fixture (raw_fixture.py) has four CRM contacts as of 2024-03-31: c1, c2 (its third version lands
after the as-of date), c3 and c4 (soft-deleted, still a staging row), so stg_crm__contacts has 4 rows. The
module builds only that model, then sets created_at to null on c1, updated_at to null on c2 and c3, and
segment to 'whale' on c4. By hand: created_at has 1 null row, updated_at 2, contact_id and is_deleted none;
contact_id stays unique; accepted_values on segment finds 1 value outside smb, mid_market, enterprise
('whale'; dbt's accepted_values counts distinct values). The folded test's failures are 1 + 2 + 1 = 4. With
the shipped defaults (warn_if >0, error_if >1% of the 4 rows, i.e. > 0.04), all three checks fail.
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
    folded_checks,
    threshold_holds,
)
from expectations.config import GateConfig
from tests.dbt import raw_fixture
from tests.dbt.conftest import REPO, build_duckdb, duckdb_reader, run_dbt

SHIPPED = data_tests_var(GateConfig())
FOLDED = "column_checks_stg_crm__contacts"
CREATED = "not_null_stg_crm__contacts_created_at"
UPDATED = "not_null_stg_crm__contacts_updated_at"
SEGMENT = "accepted_values_stg_crm__contacts_segment__smb__mid_market__enterprise"
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
        con.execute("update staging.stg_crm__contacts set segment = 'whale' where contact_id = 'c4'")
    return built.database


def _test(database: Path, workdir: Path, data_tests: dict):
    env = {"CLM_BUILD_DB": str(database), "CLM_TARGET": "duckdb"}
    return run_dbt(["test", "--select", FOLDED], workdir, env, clm_data_tests=data_tests)


def _results(run, data_tests: dict, database: Path | None):
    counts = duckdb_reader(database) if database is not None else None
    found = data_test_results(run.target_path / "run_results.json", data_tests, column_counts=counts)
    return sorted((t.name, t.status, t.failures) for t in found), found


def test_failing_checks_fail_and_the_message_names_each_check_and_count(contacts, tmp_path):
    run = _test(contacts, tmp_path, SHIPPED)
    assert run.returncode == 1
    tests = [(r["status"], r["failures"]) for r in run.results if r["unique_id"].startswith("test.")]
    assert tests == [("fail", 4)]
    found, _ = _results(run, SHIPPED, contacts)
    assert found == [(SEGMENT, "fail", 1), (CREATED, "fail", 1), (UPDATED, "fail", 2)]
    summary = dbt_failure_summary(
        run.target_path / "run_results.json", [], data_tests=SHIPPED, column_counts=duckdb_reader(contacts)
    )
    assert summary == (
        f"dbt build failed: 1 node(s): {CREATED} (fail: 1 null row, {ROWS_OF}); "
        f"{UPDATED} (fail: 2 null rows, {ROWS_OF}); {SEGMENT} (fail: 1 row, {ROWS_OF})"
    )


def test_each_column_keeps_its_own_threshold(contacts, tmp_path):
    """updated_at and segment configured severity warn under their former names: created_at alone still
    fails the test."""
    data_tests = SHIPPED | {UPDATED: {"severity": "warn"}, SEGMENT: {"severity": "warn"}}
    run = _test(contacts, tmp_path, data_tests)
    assert run.returncode == 1
    found, _ = _results(run, data_tests, contacts)
    assert found == [(SEGMENT, "warn", 1), (CREATED, "fail", 1), (UPDATED, "warn", 2)]

    # created_at allowed 1 null (error_if >1, a count): nothing fails, every check warns
    data_tests = SHIPPED | {
        UPDATED: {"severity": "warn"},
        SEGMENT: {"severity": "warn"},
        CREATED: {"error_if": ">1"},
    }
    (tmp_path / "relaxed").mkdir()
    run = _test(contacts, tmp_path / "relaxed", data_tests)
    run.assert_ok()
    found, results = _results(run, data_tests, contacts)
    assert found == [(SEGMENT, "warn", 1), (CREATED, "warn", 1), (UPDATED, "warn", 2)]
    assert {t.name: t.warning for t in results} == {
        SEGMENT: "1 row (warn_if >0; severity warn, never fails the build)",
        CREATED: "1 null row (warn_if >0; fails the build at error_if >1)",
        UPDATED: "2 null rows (warn_if >0; severity warn, never fails the build)",
    }


def test_an_entry_for_the_folded_test_applies_to_its_checks(contacts, tmp_path):
    data_tests = SHIPPED | {FOLDED: {"severity": "warn"}}
    run = _test(contacts, tmp_path, data_tests)
    run.assert_ok()
    found, _ = _results(run, data_tests, contacts)
    assert found == [(SEGMENT, "warn", 1), (CREATED, "warn", 1), (UPDATED, "warn", 2)]


def test_without_the_warehouse_the_message_names_the_test_and_its_checks(contacts, tmp_path):
    run = _test(contacts, tmp_path, SHIPPED)
    found, _ = _results(run, SHIPPED, None)
    assert found == [(FOLDED, "fail", 4)]
    summary = dbt_failure_summary(run.target_path / "run_results.json", [], data_tests=SHIPPED)
    assert summary == (
        f"dbt build failed: 1 node(s): {FOLDED} (fail: 4 rows (failing rows of "
        "not_null_stg_crm__contacts_contact_id, not_null_stg_crm__contacts_is_deleted, "
        f"{CREATED}, {UPDATED}, unique_stg_crm__contacts_contact_id, {SEGMENT}), "
        "error_if >1% of the rows of stg_crm__contacts)"
    )


def test_a_never_relaxed_column_refuses_configuration_and_an_unknown_one_is_refused(tmp_path):
    data_tests = SHIPPED | {
        "not_null_dim_customers_customer_id": {"severity": "warn"},  # contract constraint on a published mart
        "not_null_stg_crm__contacts_email": {"severity": "warn"},  # email is not checked for nulls
        "unique_rpt_mrr_bridge_month": {"severity": "warn"},  # the grain of a published mart
    }
    env = {"CLM_BUILD_DB": str(tmp_path / "empty.duckdb"), "CLM_TARGET": "duckdb"}
    run = run_dbt(["build", "--select", "stg_crm__contacts"], tmp_path, env, clm_data_tests=data_tests)
    assert run.returncode == 2
    message = re.sub(r"\s+", " ", run.output)
    assert (
        "are refused: not_null_dim_customers_customer_id: never relaxed, it errors on the first failing row "
        "whatever the configuration says (remove its entry); not_null_stg_crm__contacts_email: no data test "
        "has this name; unique_rpt_mrr_bridge_month: never relaxed, it errors on the first failing row "
        "whatever the configuration says (remove its entry)"
    ) in message


def test_the_columns_checked_on_each_target(contacts, tmp_path):
    """dim_customers: customer_id has a not_null contract constraint, first_seen_at has none. DuckDB and
    Postgres enforce the constraint while building (the folded test leaves the column out); Spark does not,
    so there the folded test checks it, never relaxed."""
    env = {"CLM_BUILD_DB": str(contacts), "CLM_TARGET": "duckdb"}
    run = run_dbt(
        ["compile", "--select", "column_checks_dim_customers"], tmp_path, env, clm_data_tests=SHIPPED
    )
    run.assert_ok()
    manifest = json.loads((run.target_path / "manifest.json").read_text())
    [node] = [n for n in manifest["nodes"].values() if n["name"] == "column_checks_dim_customers"]
    duck = {c.test_name: c.never_relaxed for c in folded_checks(node, manifest)}
    assert "not_null_dim_customers_customer_id" not in duck
    assert duck["not_null_dim_customers_first_seen_at"] is False
    on_spark = manifest | {"metadata": {**manifest["metadata"], "adapter_type": "spark"}}
    spark = {c.test_name: c.never_relaxed for c in folded_checks(node, on_spark)}
    assert spark["not_null_dim_customers_customer_id"] is True
    assert spark["not_null_dim_customers_first_seen_at"] is False
    # the SQL dbt compiled on DuckDB counts first_seen_at's nulls, not customer_id's
    [compiled] = [r["compiled_code"] for r in run.results if r["unique_id"] == node["unique_id"]]
    assert "first_seen_at is null" in compiled
    assert "customer_id is null" not in compiled
    assert duck["unique_dim_customers_customer_id"] is True  # the grain of a published mart


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


def test_column_checks_are_folded():
    """No column-level not_null, unique or accepted_values test and no model-level
    unique_combination_of_columns (one dbt node per check): each model has one clm_column_checks test,
    named column_checks_<model>."""
    folded = 0
    for model in _yaml_models():
        for column in model.get("columns") or []:
            kinds = [t if isinstance(t, str) else next(iter(t)) for t in column.get("data_tests") or []]
            assert not {"not_null", "unique", "accepted_values"} & set(kinds), (
                f"{model['name']}.{column['name']}: list its not_null / unique / accepted_values check "
                "under the model's one clm_column_checks test (CONTRIBUTING.md), not as a column test: "
                "each column test is a dbt node of its own in every production run"
            )
        tests = [t if isinstance(t, str) else next(iter(t)) for t in model.get("data_tests") or []]
        assert "unique_combination_of_columns" not in tests, model["name"]
        assert tests.count("clm_column_checks") <= 1, model["name"]
        for test in model.get("data_tests") or []:
            if isinstance(test, dict) and "clm_column_checks" in test:
                folded += 1
                assert test["clm_column_checks"]["name"] == f"column_checks_{model['name']}"
    # the 250 column-level and grain tests of 48 models and seeds before the fold (issue 15: 181 not_null,
    # 28 unique, 28 accepted_values, 21 unique combinations; the CLV source's tests stay as they were), and
    # since then int_increments__billing_customer_keys, int_increments__changed_customers,
    # int_increments__lifecycle_customers and int_lifecycle__stage_spells
    assert folded == 52
