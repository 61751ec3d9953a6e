"""The published marts' as-of check (orchestration/checks.py, clm.freshness.published_as_of_check): what BI
reads against the newest landed drop and today."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from clm.freshness import published_as_of_check

TODAY = date(2024, 4, 10)


@pytest.mark.parametrize(
    ("published", "newest_drop", "ok", "behind", "says"),
    [
        # the day's run published the day's drop
        (date(2024, 4, 10), date(2024, 4, 10), True, 0, "as of 2024-04-10, the newest drop"),
        # before the day's run: yesterday's marts, yesterday's drop: 1 day behind, allowed
        (date(2024, 4, 9), date(2024, 4, 9), True, 1, "as of 2024-04-09"),
        # today's drop landed after the run (or the run published an older --as-of)
        (date(2024, 4, 9), date(2024, 4, 10), False, 1, "drops up to 2024-04-10 have landed: run `clm run`"),
        # no drop since the 7th: 3 days behind today, more than the 1 allowed
        (date(2024, 4, 7), date(2024, 4, 7), False, 3, "3 days before today, and no newer drop has landed"),
        (None, date(2024, 4, 10), False, None, "nothing is published yet"),
    ],
)
def test_verdicts(published, newest_drop, ok, behind, says) -> None:
    verdict = published_as_of_check(published, newest_drop, TODAY, max_days_behind=1)
    assert (verdict.ok, verdict.days_behind_today) == (ok, behind)
    assert says in verdict.message


def serving_file(path: Path, runs: list[tuple[str, str, date]]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema audit")
        con.execute("create table audit.runs (run_id varchar, status varchar, as_of date)")
        con.executemany("insert into audit.runs values (?, ?, ?)", runs)


def landing_zone(root: Path, *load_dates: str) -> Path:
    """Drops as docs/landing-zone.md lays them out: <source>/<entity>/load_date=YYYY-MM-DD/<file>."""
    for load_date in load_dates:
        folder = root / "crm" / "contacts" / f"load_date={load_date}"
        folder.mkdir(parents=True)
        (folder / "contacts.csv").write_text("id,email\n1,a@example.com\n")
    return root


def test_the_check_reads_what_bi_reads(defs, tmp_path, monkeypatch) -> None:
    """Through Dagster: the check job alone, on a serving file whose newest published run (2024-03-31; the
    failed run of 04-01 does not count) trails the newest drop (2024-04-01): a warning on every serving
    asset, and the job still succeeds."""
    from orchestration.resources import ClmResource  # after `defs`: the code location reads CLM_DATA_DIR

    serving = tmp_path / "serving.duckdb"
    serving_file(serving, [("r1", "published", date(2024, 3, 31)), ("r2", "failed", date(2024, 4, 1))])
    raw = landing_zone(tmp_path / "raw", "2024-03-31", "2024-04-01")
    monkeypatch.setenv("CLM_SERVING_DB", str(serving))
    monkeypatch.setattr("orchestration.checks.today_utc", lambda: date(2024, 4, 1))
    job = defs.resolve_job_def("published_as_of_check")
    result = job.execute_in_process(resources={"clm": ClmResource(raw_dir=str(raw))})
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    serving_keys = {k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "serving"}
    assert {e.asset_key for e in evaluations} == serving_keys
    assert {(e.passed, e.severity) for e in evaluations} == {(False, dg.AssetCheckSeverity.WARN)}
    late = "the marts are as of 2024-03-31, but drops up to 2024-04-01 have landed"
    assert all(late in e.description for e in evaluations)


def test_the_pipeline_checks_what_it_published(defs) -> None:
    """The check runs after each publish of the pipeline job too (its assets are all selected), on the
    15 serving assets (14 marts and the audit)."""
    job = defs.resolve_job_def("clm_pipeline")
    checks = {key for key in job.asset_layer.asset_graph.asset_check_keys if key.name == "published_as_of"}
    assert len(checks) == 15
    assert {key.asset_key.path[0] for key in checks} == {"serving"}
