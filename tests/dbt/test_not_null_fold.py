"""The not-null checks of a model folded into one data test node (generic test clm_not_null_columns, issue
15): a null still fails, each column keeps its threshold under its former test name
(not_null_<model>_<column>),
and the messages name the column and its count.

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
from pathlib import Path

import duckdb
import pytest

from clm.gate import (
    data_test_results,
    data_tests_var,
    dbt_failure_summary,
    folded_not_null_columns,
    threshold_holds,
)
from expectations.config import GateConfig
from tests.dbt import raw_fixture
from tests.dbt.conftest import build_duckdb, duckdb_reader, run_dbt

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
