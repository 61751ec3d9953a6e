"""The freshness warnings of orchestration/assets/dbt.py, read from a dbt sources.json."""

from __future__ import annotations

import json


def _sources_json(tmp_path, results):
    path = tmp_path / "sources.json"
    path.write_text(json.dumps({"results": results}))
    return path


def test_stale_sources_messages(defs, tmp_path):
    # importing the dbt assets needs the manifest that the defs fixture parses
    from orchestration.assets.dbt import stale_sources

    path = _sources_json(
        tmp_path,
        [
            # 3,888,000 s = 45 days: a drop that stopped arriving
            {
                "unique_id": "source.clm.crm.contacts",
                "status": "error",
                "max_loaded_at": "2024-03-02T00:00:00+00:00",
                "max_loaded_at_time_ago_in_s": 3_888_000.0,
            },
            # nothing ever landed: dbt reports the empty max() as datetime.min
            {
                "unique_id": "source.clm.crm.deals",
                "status": "error",
                "max_loaded_at": "0001-01-01T00:00:00+00:00",
                "max_loaded_at_time_ago_in_s": 63_929_000_000.0,
            },
            {"unique_id": "source.clm.billing.charges", "status": "pass", "max_loaded_at": "2024-04-16"},
        ],
    )
    assert stale_sources(path) == [
        (
            "crm.contacts",
            "freshness error: newest load 2024-03-02T00:00:00+00:00, 45 day(s) before the as-of date's end",
        ),
        ("crm.deals", "freshness error: nothing loaded on or before the as-of date"),
    ]


def test_stale_sources_without_file(defs, tmp_path):
    from orchestration.assets.dbt import stale_sources

    assert stale_sources(tmp_path / "missing.json") == []


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
