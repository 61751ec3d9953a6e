"""The bad-input catalogue (tests/catalogue/cases.py), checked twice:

- each case alone, through ingestion on top of the ingested fixture: the exact manifest outcome and reasons of
  every file it lands, and nothing else loaded or quarantined;
- every case at once, through `clm run` on top of a published fixture: the run publishes (exit 0: no single
  faulty row or file blocks the day), the serving audit holds exactly the catalogue's quarantine entries, the
  future drop does not move the as-of, no planted personal data reaches any published text column, and the
  marts change exactly by the rows that loaded.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from clm.ingest import ingest
from clm.ingest.warnings import ingest_warnings
from tests.catalogue.cases import CASES, DROP, MAX_RECORD_BYTES, PII, Case
from tests.test_end_to_end import FIXTURE, clm, make_env, marts_digest, query

TODAY = date(2026, 12, 5)  # the future drop's reason names the day the run believes it is


def _landing(tmp: Path) -> Path:
    raw = tmp / "raw"
    shutil.copytree(FIXTURE, raw, ignore=shutil.ignore_patterns("README.md"))
    return raw


def _quarantine_rows(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, dict[int | None, str]]:
    found: dict[str, dict[int | None, str]] = {}
    rows = con.execute(
        "select file_path, line, reason from audit.quarantine where run_id = ? order by 1, 2", [run_id]
    ).fetchall()
    for path, line, reason in rows:
        found.setdefault(path, {})[line] = reason
    return found


OPTIONS = {"max_record_bytes": MAX_RECORD_BYTES, "today": TODAY}


@pytest.fixture(scope="module")
def ingested_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The fixture's landing zone and its build database after one ingestion, copied by every case."""
    tmp = tmp_path_factory.mktemp("catalogue_fixture")
    raw = _landing(tmp)
    database = tmp / "build.duckdb"
    with duckdb.connect(str(database)) as con:
        ingest(con, raw, tmp / "quarantine", "fixture", **OPTIONS)
    return raw, database


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_alone_at_ingestion(
    case: Case, ingested_fixture: tuple[Path, Path], tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(ingested_fixture[0], raw)
    shutil.copyfile(ingested_fixture[1], tmp_path / "build.duckdb")
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    case.write(raw, tmp_path / "outside")

    result = ingest(con, raw, tmp_path / "quarantine", "case", **OPTIONS)

    new = {
        f.file_path: f for f in result.files if f.status not in ("skipped_already_loaded", "skipped_entry")
    }
    assert set(new) == set(case.files), case.fault
    for path, want in case.files.items():
        got = new[path]
        assert (got.status, got.rows_read, got.rows_loaded, got.rows_quarantined) == (
            want.status,
            want.read,
            want.loaded,
            want.quarantined,
        ), (case.fault, got)
    expected_quarantine = {path: want.reasons for path, want in case.files.items() if want.reasons}
    assert _quarantine_rows(con, "case") == expected_quarantine, case.fault
    if case.warning:
        warnings = ingest_warnings(result, raw)
        assert any(case.warning in subject + message for subject, message in warnings), warnings


# ------------------------------------------------------------------------------------- all at once, clm run


@pytest.fixture(scope="module")
def catalogue_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("catalogue")
    raw = _landing(tmp)
    env = {**make_env(tmp, raw), "CLM_MAX_RECORD_BYTES": str(MAX_RECORD_BYTES)}
    serving = tmp / "warehouse" / "serving.duckdb"
    first = clm("run", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    before = {
        "digest": marts_digest(serving),
        "customers": query(serving, "select count(*) from marts.dim_customers"),
    }
    for case in CASES:
        case.write(raw, tmp / "outside")
    second = clm("run", env=env)
    return {"run": second, "serving": serving, "before": before}


@pytest.mark.slow
def test_the_whole_catalogue_publishes_in_one_run(catalogue_run: dict) -> None:
    run = catalogue_run["run"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PUBLISHED" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    # The future drop (2099-01-01) did not move the as-of: the newest real drop did.
    [(as_of,)] = query(
        catalogue_run["serving"],
        "select as_of from audit.runs where status = 'published' order by started_at desc limit 1",
    )
    assert str(as_of) == DROP


@pytest.mark.slow
def test_the_serving_audit_holds_exactly_the_catalogue_quarantine(catalogue_run: dict) -> None:
    serving = catalogue_run["serving"]
    [(run_id,)] = query(serving, "select run_id from audit.runs order by started_at desc limit 1")
    with duckdb.connect(str(serving), read_only=True) as con:
        found = _quarantine_rows(con, run_id)
    expected = {
        path: dict(want.reasons) for case in CASES for path, want in case.files.items() if want.reasons
    }
    # the future drop's reason names the run's own UTC date
    future = next(path for path in expected if "2099-01-01" in path)
    assert found[future][None].startswith("load date 2099-01-01 is after today's UTC date ")
    found[future] = expected[future]
    assert found == expected
    manifest = {
        path: (status, read, loaded, quarantined)
        for path, status, read, loaded, quarantined in query(
            serving,
            f"select file_path, status, rows_read, rows_loaded, rows_quarantined from audit.load_manifest "
            f"where run_id = '{run_id}'",
        )
    }
    for case in CASES:
        for path, want in case.files.items():
            assert manifest[path] == (want.status, want.read, want.loaded, want.quarantined), (
                case.name,
                path,
            )
    warnings = query(
        serving, f"select subject || ' ' || message from audit.run_warnings where run_id = '{run_id}'"
    )
    assert any("linked.csv" in text and "outside the landing zone" in text for (text,) in warnings), warnings


@pytest.mark.slow
def test_no_planted_personal_data_in_any_published_text(catalogue_run: dict) -> None:
    serving = catalogue_run["serving"]
    columns = query(
        serving,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR' and table_schema in ('audit', 'marts')",
    )
    assert len(columns) > 20  # the scan covers the audit and marts text columns
    hits = []
    for schema, table, column in columns:
        for planted in PII:
            sql = f'select count(*) from {schema}."{table}" where contains("{column}", ?)'
            with duckdb.connect(str(serving), read_only=True) as con:
                if con.execute(sql, [planted]).fetchall()[0][0]:
                    hits.append((schema, table, column, planted))
    assert hits == []


@pytest.mark.slow
def test_the_marts_change_by_exactly_the_rows_that_loaded(catalogue_run: dict) -> None:
    serving = catalogue_run["serving"]
    assert marts_digest(serving) != catalogue_run["before"]["digest"]
    # 5 customers in the fixture (tests/test_end_to_end.py); the catalogue adds two contacts that load (c71,
    # SQL in its values kept as text, and the good c72) and one that is quarantined (c70, personal data in
    # bad fields).
    assert catalogue_run["before"]["customers"] == [(5,)]
    assert query(serving, "select count(*) from marts.dim_customers") == [(7,)]
