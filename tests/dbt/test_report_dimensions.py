"""var report_dimensions: a dimension added in one place reaches both per-dimension reports, and their add-up
tests prove each cut adds up to the whole base (raw_fixture.py, as of 2024-03-31)."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import pytest

from tests.dbt.conftest import duckdb_reader, run_dbt

WITH_COUNTRY = ["segment", "acquisition_channel", "country"]
REPORTS = ["rpt_cohort_retention_by_dimension", "rpt_lifecycle_funnel_by_dimension"]
ADD_UP_TESTS = ["assert_cohort_cuts_add_up_to_all", "assert_lifecycle_funnel_cuts_add_up_to_all"]


@pytest.fixture
def build_copy(duckdb_build, tmp_path):
    """A copy of the fixture build, so that rebuilding the reports leaves the shared build as it is."""
    database, run = duckdb_build
    run.assert_ok()
    copy = tmp_path / "build.duckdb"
    shutil.copy(database, copy)
    return copy


def query(database, sql: str) -> list[tuple]:
    return duckdb_reader(database)(sql)


def statuses(run) -> dict[str, str]:
    return {r["unique_id"].split(".")[-1]: r["status"] for r in run.results}


def test_a_dimension_added_to_the_var_appears_in_both_reports_and_adds_up(build_copy, tmp_path):
    env = {"CLM_BUILD_DB": str(build_copy), "CLM_TARGET": "duckdb"}
    run = run_dbt(
        ["build", "--select", *REPORTS, *ADD_UP_TESTS], tmp_path, env, report_dimensions=WITH_COUNTRY
    )
    run.assert_ok()
    assert {name: statuses(run)[name] for name in ADD_UP_TESTS} == dict.fromkeys(ADD_UP_TESTS, "pass")

    # Only c2 (country DE) ever had MRR: cohort 2024-02, 33.89 in February, churned in March.
    cohort = query(
        build_copy,
        "select dimension_value, cohort_month, months_since_start, cohort_customers, active_customers, "
        "starting_mrr, mrr from marts.rpt_cohort_retention_by_dimension where dimension = 'country' "
        "order by months_since_start",
    )
    assert cohort == [
        ("DE", date(2024, 2, 1), 0, 1, 1, Decimal("33.89"), Decimal("33.89")),
        ("DE", date(2024, 2, 1), 1, 1, 0, Decimal("33.89"), Decimal("0.00")),
    ]

    # The funnel by country: one group per country; each customer is current in exactly one stage, so a
    # value's customers_current sums to its customers, and the values add up to dim_customers.
    funnel = dict(
        query(
            build_copy,
            "select dimension_value, sum(customers_current) from marts.rpt_lifecycle_funnel_by_dimension "
            "where dimension = 'country' group by dimension_value",
        )
    )
    by_country = dict(
        query(
            build_copy,
            "select coalesce(country, 'unknown'), count(*) from marts.dim_customers group by 1",
        )
    )
    # c1 US, c2 DE, c3 GB (CRM, upper-cased in staging); billing-only customers have no country
    assert {"US", "DE", "GB", "unknown"} == set(by_country)
    assert funnel == by_country
    # the defaults are still there, unchanged in number of groups
    dimensions = query(build_copy, "select distinct dimension from marts.rpt_lifecycle_funnel_by_dimension")
    assert {d for (d,) in dimensions} == {"segment", "acquisition_channel", "country"}


def test_the_add_up_tests_fail_when_a_configured_dimension_is_missing(build_copy, tmp_path):
    """The reports built by default have no 'country' cut: asked for it, both tests fail (they can fail)."""
    env = {"CLM_BUILD_DB": str(build_copy), "CLM_TARGET": "duckdb"}
    run = run_dbt(["test", "--select", *ADD_UP_TESTS], tmp_path, env, report_dimensions=WITH_COUNTRY)
    assert run.returncode != 0
    assert {name: statuses(run)[name] for name in ADD_UP_TESTS} == dict.fromkeys(ADD_UP_TESTS, "fail")


def test_an_unknown_dimension_fails_compilation_naming_the_var(build_copy, tmp_path):
    env = {"CLM_BUILD_DB": str(build_copy), "CLM_TARGET": "duckdb"}
    run = run_dbt(
        ["run", "--select", "rpt_lifecycle_funnel_by_dimension"],
        tmp_path,
        env,
        report_dimensions=["segment", "shoe_size"],
    )
    assert run.returncode != 0
    assert "var report_dimensions: 'shoe_size' is not a column of dim_customers" in run.output
