"""Thresholds of the dbt data tests (var clm_data_tests, macro clm_data_test_thresholds;
docs/bad-input.md#thresholds).

The raw fixture of raw_fixture.py (5 customers) gets 94 padding billing customers and N customers whose only
charge is dated before the customer was created, which assert_dim_customers_first_paid_not_before_first_seen
finds (first_paid_at < first_seen_at). With the shipped defaults (warn_if >0, error_if >1% of dim_customers):
* N = 1: dim_customers has 5 + 94 + 1 = 100 rows; 1 failing row is not more than 1% of 100 = 1: a warning.
* N = 2: 5 + 94 + 2 = 101 rows; 2 failing rows are more than 1% of 101 = 1.01: the build fails.
Before thresholds, this test had dbt's default (error on the first row): N = 1 failed the build.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import yaml

from clm import runs
from clm.gate import (
    data_test_results,
    data_test_threshold,
    data_tests_var,
    dbt_failure_summary,
    folded_checks,
)
from expectations.config import GateConfig, parse_config
from tests.dbt import raw_fixture
from tests.dbt.conftest import REPO, WITHOUT_CLV_PHASE, DbtRun, build_duckdb, duckdb_reader, run_dbt

TEST = "assert_dim_customers_first_paid_not_before_first_seen"
PADDING = 94
SHIPPED = data_tests_var(GateConfig())


def fixture_rows(early: int) -> dict[str, list[dict]]:
    """raw_fixture's rows, plus PADDING customers and ``early`` customers created on 2024-02-10 whose
    succeeded charge is dated 2024-02-01."""
    rows = raw_fixture.raw_rows()
    customers = [
        {"id": f"cus_pad_{i:03d}", "email": f"pad{i}@example.com", "created": str(raw_fixture.FEB_10)}
        for i in range(PADDING)
    ] + [
        {"id": f"cus_early_{i}", "email": f"early{i}@example.com", "created": str(raw_fixture.FEB_10)}
        for i in range(early)
    ]
    charges = [
        {
            "id": f"ch_early_{i}",
            "customer": f"cus_early_{i}",
            "amount": "1000",
            "amount_refunded": "0",
            "currency": "usd",
            "status": "succeeded",
            "created": str(raw_fixture.FEB_01),
        }
        for i in range(early)
    ]
    for row in customers:
        row["currency"] = "usd"
    rows["billing__customers"] += raw_fixture._drop("billing__customers", "2024-02-29", customers, "extra")
    rows["billing__charges"] += raw_fixture._drop("billing__charges", "2024-02-29", charges, "extra")
    return rows


def build(workdir: Path, early: int) -> tuple[Path, DbtRun]:
    rows = fixture_rows(early)
    built = build_duckdb(
        workdir,
        lambda execute, placeholder: raw_fixture.load(execute, placeholder, rows),
        ["build", *WITHOUT_CLV_PHASE],
    )
    assert built.database is not None
    return built.database, built.run


@pytest.fixture(scope="module")
def one_early(tmp_path_factory) -> tuple[Path, DbtRun]:
    return build(tmp_path_factory.mktemp("thresholds_one"), early=1)


@pytest.fixture(scope="module")
def two_early(tmp_path_factory) -> tuple[Path, DbtRun]:
    return build(tmp_path_factory.mktemp("thresholds_two"), early=2)


def _count(database: Path, sql: str) -> int:
    [(count,)] = duckdb_reader(database)(sql)
    return count


def test_one_bad_row_warns_and_the_build_passes(one_early):
    database, run = one_early
    run.assert_ok()
    assert _count(database, "select count(*) from marts.dim_customers") == 100
    statuses = {r["unique_id"]: (r["status"], r["failures"]) for r in run.results}
    assert statuses[f"test.clm.{TEST}"] == ("warn", 1)
    # dbt's own line quotes the default thresholds of dbt_project.yml
    assert f"Warning in test {TEST}" in run.output
    assert "Got 1 result, configured to warn if >0" in run.output


def test_a_warning_reaches_audit_run_warnings_with_the_test_and_count(one_early, tmp_path):
    _database, run = one_early
    found = [
        (t.name, t.status, t.failures)
        for t in data_test_results(run.target_path / "run_results.json", SHIPPED)
    ]
    # The base fixture's cus_e names CRM contact c999, which does not exist: an orphan, severity warn.
    orphan = "relationships_stg_billing__customers_crm_contact_id__contact_id__ref_stg_crm__contacts_"
    assert sorted(found) == [(TEST, "warn", 1), (orphan, "warn", 1)]
    results = data_test_results(run.target_path / "run_results.json", SHIPPED)
    warnings = [(t.name, t.warning) for t in results]
    build_db = tmp_path / "build.duckdb"
    with duckdb.connect(str(build_db)) as con:
        runs.record_warnings(con, "run-1", "dbt", warnings)
        recorded = con.execute(
            "select subject, message from audit.run_warnings where run_id = 'run-1' order by subject"
        ).fetchall()
    assert recorded == [
        (TEST, "1 row (warn_if >0; fails the build at error_if >1% of the rows of dim_customers)"),
        (orphan, "1 row (warn_if >0; severity warn, never fails the build)"),
    ]


def test_more_bad_rows_than_the_threshold_fail_the_build(two_early):
    database, run = two_early
    assert run.returncode == 1
    assert _count(database, "select count(*) from marts.dim_customers") == 101
    statuses = {r["unique_id"]: (r["status"], r["failures"]) for r in run.results}
    assert statuses[f"test.clm.{TEST}"] == ("fail", 2)
    assert "Got 2 results, configured to fail if >1%" in run.output
    # The run's one-line message names the test, the count and the threshold (nothing else failed).
    summary = dbt_failure_summary(run.target_path / "run_results.json", [], data_tests=SHIPPED)
    assert (
        summary
        == f"dbt build failed: 1 node(s): {TEST} (fail: 2 rows, error_if >1% of the rows of dim_customers)"
    )


def test_a_configured_threshold_lets_the_same_rows_pass(two_early, tmp_path):
    """The gate config's dbt_tests raise the threshold: with error_if >2 (an absolute count), 2 rows warn."""
    database, _run = two_early
    config = parse_config({"dbt_tests": {TEST: {"error_if": ">2"}}})
    data_tests = data_tests_var(config)
    assert data_tests[TEST] == {"error_if": ">2"}
    assert data_tests["default"] == {"severity": "error", "warn_if": ">0", "error_if": ">1%"}
    env = {"CLM_BUILD_DB": str(database), "CLM_TARGET": "duckdb"}
    run = run_dbt(["test", "--select", TEST], tmp_path, env, clm_data_tests=data_tests)
    run.assert_ok()
    tests = [(r["status"], r["failures"]) for r in run.results if r["unique_id"].startswith("test.")]
    assert tests == [("warn", 2)]  # run_results also lists the on-run-start hooks
    [result] = data_test_results(run.target_path / "run_results.json", data_tests)
    assert result.warning == "2 rows (warn_if >0; fails the build at error_if >2)"


def test_never_relaxed_invariants_refuse_any_configuration(tmp_path):
    data_tests = SHIPPED | {
        "assert_mrr_bridge_reconciles": {"severity": "warn"},
        "unique_dim_customers_customer_id": {"error_if": ">5%"},
    }
    env = {"CLM_BUILD_DB": str(tmp_path / "empty.duckdb"), "CLM_TARGET": "duckdb"}
    run = run_dbt(["build", "--select", "stg_crm__contacts"], tmp_path, env, clm_data_tests=data_tests)
    assert run.returncode == 2
    assert run.results == []  # refused by the on-run-start hook before any node ran
    message = re.sub(r"\s+", " ", run.output)
    assert (
        "Data test thresholds (var clm_data_tests; clm run: dbt_tests in the gate config) are refused: "
        "assert_mrr_bridge_reconciles: never relaxed, it errors on the first failing row whatever the "
        "configuration says (remove its entry); unique_dim_customers_customer_id: never relaxed, it errors "
        "on the first failing row whatever the configuration says (remove its entry)"
    ) in message


def test_unknown_tests_and_bad_thresholds_are_refused(tmp_path):
    data_tests = SHIPPED | {
        "assert_no_such_test": {"severity": "warn"},
        TEST: {"error_if": "more than 3"},
        "default": {"severity": "fatal", "warn_if": ">0", "error_if": ">1%"},
    }
    env = {"CLM_BUILD_DB": str(tmp_path / "empty.duckdb"), "CLM_TARGET": "duckdb"}
    run = run_dbt(["build", "--select", "stg_crm__contacts"], tmp_path, env, clm_data_tests=data_tests)
    assert run.returncode == 2
    message = re.sub(r"\s+", " ", run.output)
    assert (
        f"are refused: {TEST}: error_if more than 3 is not a comparison with a count or a percentage, e.g. "
        "'>0', '>=10' or '>1%'; assert_no_such_test: no data test has this name; default: severity must be "
        "warn or error, got fatal"
    ) in message


def test_never_relaxed_rule_on_the_manifest(one_early):
    """Python words messages with the same rule as the macro: the three named invariants and the published
    marts' contract (grain tests, not_null on a column with a not_null constraint)."""
    import json

    _database, run = one_early
    manifest = json.loads((run.target_path / "manifest.json").read_text())
    tests = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "test"}

    def threshold(name: str):
        return data_test_threshold(tests[name], manifest, SHIPPED)

    never = [name for name in tests if threshold(name).never_relaxed]
    assert {
        "assert_mrr_bridge_reconciles",
        "assert_lifecycle_one_current_spell_per_customer",
        "assert_lifecycle_stage_agrees_with_mrr",
    } <= set(never)
    # dim_customers' column checks are one node (clm_column_checks, issue 15), each check under its former
    # test name; on DuckDB the contract's constrained columns are checked by the build itself
    folded = {
        c.test_name: c.never_relaxed
        for c in folded_checks(tests["column_checks_dim_customers"], manifest, all_targets=True)
    }
    assert folded["unique_dim_customers_customer_id"]  # the grain of a published mart
    assert folded["not_null_dim_customers_customer_id"]  # constraint not_null in the contract
    assert folded["not_null_dim_customers_current_mrr"]  # constraint not_null in the contract
    assert not folded["not_null_dim_customers_first_seen_at"]  # no constraint
    assert not threshold(TEST).never_relaxed
    assert threshold("assert_mrr_bridge_reconciles").describe("error_if") == "error_if >0, never relaxed"
    assert threshold("assert_every_live_contact_is_a_customer").rows_of == "stg_crm__contacts"
    assert threshold("assert_kpi_months_contiguous").error_if == ">0"


def test_dbt_project_fallbacks_equal_the_shipped_default():
    """dbt does not render dbt_project.yml with its own vars: the +warn_if / +error_if that dbt prints
    for a plain `dbt build` are literal fallbacks, which must equal var clm_data_tests' default."""
    text = (REPO / "dbt_project.yml").read_text()
    project = yaml.safe_load(text)
    fallbacks = re.findall(r"get\('(warn_if|error_if)', '([^']*)'\)", text)
    default = project["vars"]["clm_data_tests"]["default"]
    assert dict(fallbacks) == {"warn_if": default["warn_if"], "error_if": default["error_if"]}
