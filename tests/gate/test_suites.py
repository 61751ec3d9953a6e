"""Every published mart goes through the gate: each has a suite; the suites follow the dbt project's vars."""

from __future__ import annotations

from pathlib import Path

import yaml

from expectations.suites import SUITES, report_dimensions

REPO = Path(__file__).resolve().parents[2]


def test_every_published_mart_has_a_suite():
    # dbt_project.yml tags every model under models/marts `published` (clm.manifest reads the same tag)
    marts = {path.stem for path in (REPO / "dbt_project" / "models" / "marts").rglob("*.sql")}
    suites = {suite.table for suite in SUITES if suite.schema == "marts"}
    assert "rpt_revenue_reconciliation" in marts
    assert marts - suites == set()


def test_dimension_checks_read_var_report_dimensions():
    project = yaml.safe_load((REPO / "dbt_project.yml").read_text(encoding="utf-8"))
    configured = tuple(project["vars"]["report_dimensions"])
    assert report_dimensions() == configured == ("segment", "acquisition_channel")
    by_table = {suite.table: suite for suite in SUITES}
    for table, extra in (
        ("rpt_lifecycle_funnel_by_dimension", ()),
        ("rpt_cohort_retention_by_dimension", ("all", "billing_interval")),
    ):
        [check] = [c for c in by_table[table].checks if c.name == "dimension.in_set"]
        expectation = check.make(1.0, "critical", "duckdb")
        assert set(expectation.value_set) == {*configured, *extra}, table
