"""The freshness warnings of a run (clm.freshness) and the one-line summary of a failed dbt build."""

from __future__ import annotations

from datetime import date

import duckdb

from clm.freshness import source_freshness, stale_sources
from clm.ingest.load import ensure_raw_tables
from clm.ingest.schemas import ENTITIES, RAW_TABLES


def _raw(rows: dict[str, list[str]]) -> duckdb.DuckDBPyConnection:
    """Every raw table, with one row per given load date."""
    con = duckdb.connect()
    con.execute("create schema raw")
    for ent in ENTITIES:
        ensure_raw_tables(con, ent)
    for table, dates in rows.items():
        for day in dates:
            con.execute(f"insert into raw.{table} (_load_date) values (?)", [day])
    return con


def test_stale_sources_messages(defs):
    """Against the as-of date 2024-04-15 (its end: 2024-04-16 00:00) and the thresholds of the sources' YAML
    (warn after 7 days, error after 35)."""
    from orchestration.project import dbt_project

    fresh = {table: ["2024-04-15"] for table in RAW_TABLES}
    con = _raw(
        fresh
        # 45 days before the end of 2024-04-15: a drop that stopped arriving (error after 35 days)
        | {"crm__contacts": ["2024-02-01", "2024-03-02"]}
        # nothing on or before the as-of date: the drop of 2024-04-20 is after it
        | {"crm__deals": ["2024-04-20"]}
        # 10 days: past the warning threshold (7 days), not the error one
        | {"billing__charges": ["2024-04-06"]}
    )
    stale = stale_sources(con, dbt_project.manifest_path, date(2024, 4, 15))
    end = "day(s) before the as-of date's end"
    assert stale == [
        ("billing.charges", f"freshness warn: newest load 2024-04-06T00:00:00+00:00, 10 {end}"),
        ("crm.contacts", f"freshness error: newest load 2024-03-02T00:00:00+00:00, 45 {end}"),
        ("crm.deals", "freshness error: nothing loaded on or before the as-of date"),
    ]
    # Every raw table is a source with the thresholds of its source system (11 of them), the CLV results none.
    assert len(source_freshness(con, dbt_project.manifest_path, date(2024, 4, 15))) == len(RAW_TABLES) == 11


def test_a_dbt_error_before_any_model_ran_is_summarized_from_dbt_own_message(defs, tmp_path):
    from orchestration.assets.dbt import failure_summary

    # The error-level log line of `dbt build` when the published-contracts hook refuses a mart (captured
    # from dbt 1.11 on a copy of the project with a contract-less mart).
    hook_error = (
        "Encountered an error:\nCompilation Error in operation clm-on-run-start-0 (./dbt_project.yml)\n"
        "  Published marts must each have an enforced contract and build into schema marts "
        "(docs/marts.md#publishing); 1 model(s) tagged 'published' do not:\n"
        "    - mart_x (dbt_project/models/marts/core/mart_x.sql): no enforced contract\n"
        "  \n  > in macro clm_assert_published_contracts (dbt_project/macros/x.sql)"
    )
    summary = failure_summary(tmp_path / "missing_run_results.json", [hook_error])
    assert summary == (
        "dbt build failed before running any model: Published marts must each have an enforced contract "
        "and build into schema marts (docs/marts.md#publishing); 1 model(s) tagged 'published' do not: "
        "- mart_x (dbt_project/models/marts/core/mart_x.sql): no enforced contract"
    )
    assert failure_summary(tmp_path / "missing_run_results.json", []) == (
        "dbt build failed before running any model (see the run log)"
    )
