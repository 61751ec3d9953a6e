"""`clm generate --messy` through `clm run`: every injected fault is quarantined or warned about, and the run
publishes. The generator's manifest (_clm_generate.json) says where each fault is; docs/bad-input.md#faults
says what must happen to it."""

from __future__ import annotations

import json

import pytest

from tests.test_end_to_end import clm, make_env, query

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def messy_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("e2e_messy")
    raw = tmp / "raw"
    env = make_env(tmp, raw)
    generated = clm("generate", "--out", str(raw), "--customers", "300", "--seed", "11", "--messy", env=env)
    assert generated.returncode == 0, generated.stderr
    run = clm("run", env=env)
    return {
        "run": run,
        "serving": tmp / "warehouse" / "serving.duckdb",
        "faults": json.loads((raw / "_clm_generate.json").read_text())["faults"],
    }


def test_messy_data_publishes(messy_run: dict) -> None:
    run = messy_run["run"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PUBLISHED" in run.stdout


def test_every_row_and_file_fault_is_quarantined_where_the_generator_put_it(messy_run: dict) -> None:
    entries = set(query(messy_run["serving"], "select file_path, line from audit.quarantine"))
    expected_in_quarantine = {
        "row_quarantined": lambda f: (f["file"], f["line"]),
        "file_quarantined": lambda f: (f["file"], None),
    }
    checked = 0
    for fault in messy_run["faults"]:
        where = expected_in_quarantine.get(fault["expected"])
        if where:
            assert where(fault) in entries, f"{fault['kind']} not quarantined at {where(fault)}"
            checked += 1
    assert checked >= 14  # the generator injects at least 14 row/file faults (its _clm_generate.json)


def test_a_resent_file_is_a_noop(messy_run: dict) -> None:
    # docs/landing-zone.md#drops-and-incremental-loads: recorded as a duplicate with no rows counted, and not
    # in audit.quarantine.
    resent = [f["file"] for f in messy_run["faults"] if f["expected"] == "duplicate_file"]
    assert resent
    for path in resent:
        assert query(
            messy_run["serving"],
            f"select status, rows_read, rows_quarantined from audit.load_manifest where file_path = '{path}'",
        ) == [("duplicate", 0, 0)]
        assert query(
            messy_run["serving"], f"select count(*) from audit.quarantine where file_path = '{path}'"
        ) == [(0,)]


def test_every_quarantine_entry_has_a_reason_and_counts_balance(messy_run: dict) -> None:
    serving = messy_run["serving"]
    assert query(serving, "select count(*) from audit.quarantine where coalesce(reason, '') = ''") == [(0,)]
    unbalanced = query(
        serving,
        "select file_path from audit.load_manifest where rows_read <> rows_loaded + rows_quarantined",
    )
    assert unbalanced == []


def test_faults_that_load_are_reported_as_warnings(messy_run: dict) -> None:
    warnings = query(messy_run["serving"], "select origin, subject, message from audit.run_warnings")
    subjects = {subject for _origin, subject, _message in warnings}
    for fault in messy_run["faults"]:
        kind = fault["kind"]
        if kind == "missing_entity":
            # file is "<source>/<entity>/load_date=<day>"
            source, entity, drop = fault["file"].split("/")
            assert f"{source}/{entity} {drop}" in subjects
        elif kind == "empty_file":
            assert fault["file"] in subjects
        elif kind == "duplicate_key":
            # Keys are duplicated across the drop's files: whichever file is read second carries the warning.
            drop = fault["file"].rsplit("/", 1)[0]
            assert any(s.startswith(drop + "/") for s in subjects)
        elif kind == "orphan_foreign_key":
            assert any(s.startswith("relationships_stg_billing__") for s in subjects)
    # Nothing else is noise: every warning is one of the injected faults.
    assert len(warnings) <= len(messy_run["faults"])


def test_only_files_with_injected_faults_have_quarantined_rows(messy_run: dict) -> None:
    # Clean generated records must never be quarantined: every quarantine entry sits in a file that the
    # generator says it damaged.
    quarantined_files = {
        path for (path,) in query(messy_run["serving"], "select distinct file_path from audit.quarantine")
    }
    fault_files = {fault["file"] for fault in messy_run["faults"]}
    assert quarantined_files <= fault_files, quarantined_files - fault_files
