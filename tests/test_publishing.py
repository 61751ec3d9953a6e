"""clm.publishing: publishing refuses anything the gate did not pass in this run, over exactly these marts;
runs left behind are settled. DuckDB target, hand-built build database and manifest (no dbt, no Dagster)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from clm import runs
from clm.config import load_settings
from clm.context import RunContext
from clm.publishing import NotValidated, publish_run, record_gate_verdict, recover
from clm.targets import target_for


def manifest(path: Path, marts: dict[str, bool]) -> Path:
    """dbt's manifest.json, reduced to what clm.manifest reads: name -> contract enforced."""
    nodes = {
        f"model.clm.{name}": {
            "resource_type": "model",
            "name": name,
            "unique_id": f"model.clm.{name}",
            "schema": "marts",
            "tags": ["published"],
            "config": {"schema": "marts", "enabled": True, "contract": {"enforced": enforced}},
            "columns": {"x": {"name": "x", "description": "The only column."}},
            "description": name,
        }
        for name, enforced in marts.items()
    }
    path.write_text(json.dumps({"nodes": nodes}))
    return path


@pytest.fixture
def ctx(tmp_path: Path) -> RunContext:
    settings = load_settings({"CLM_DATA_DIR": str(tmp_path / "wh"), "CLM_RAW_DIR": str(tmp_path / "raw")})
    settings.ensure_dirs()
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.a as select 1 as x; create table marts.b as select 2 as x")
        runs.start_run(con, "run-1", date(2024, 3, 1), "duckdb")
    return RunContext(settings, "run-1", date(2024, 3, 1))


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_publish_refuses_a_run_whose_gate_never_ran(ctx: RunContext, tmp_path: Path) -> None:
    target = target_for("duckdb", ctx.settings)
    with pytest.raises(NotValidated, match="no quality-gate result"):
        publish_run(ctx, target, manifest(tmp_path / "m.json", {"a": True, "b": True}))
    assert not ctx.settings.serving_db.exists()


def test_publish_refuses_a_run_that_never_ingested(ctx: RunContext, tmp_path: Path) -> None:
    target = target_for("duckdb", ctx.settings)
    other = RunContext(ctx.settings, "run-selected-alone", ctx.as_of)
    with pytest.raises(NotValidated, match="publishing needs the whole clm_pipeline job"):
        publish_run(other, target, manifest(tmp_path / "m.json", {"a": True, "b": True}))


def test_publish_refuses_a_blocked_gate(ctx: RunContext, tmp_path: Path) -> None:
    target = target_for("duckdb", ctx.settings)
    path = manifest(tmp_path / "m.json", {"a": True, "b": True})
    record_gate_verdict(ctx, target, path, False, "quality gate blocked publishing")
    with pytest.raises(NotValidated, match="did not pass"):
        publish_run(ctx, target, path)


def test_publish_refuses_marts_changed_after_the_gate(ctx: RunContext, tmp_path: Path) -> None:
    target = target_for("duckdb", ctx.settings)
    path = manifest(tmp_path / "m.json", {"a": True, "b": True})
    verdict = record_gate_verdict(ctx, target, path, True, "quality gate passed", ["marts.a", "marts.b"])
    assert verdict.passed and verdict.warnings == []
    with duckdb.connect(str(ctx.settings.build_db)) as con:  # e.g. a hand-run dbt build in between
        con.execute("insert into marts.b values (3)")
    with pytest.raises(NotValidated, match="changed after the quality gate"):
        publish_run(ctx, target, path)
    assert not ctx.settings.serving_db.exists()


def test_publish_copies_declared_marts_and_says_published_in_the_copy(ctx: RunContext, tmp_path: Path):
    target = target_for("duckdb", ctx.settings)
    path = manifest(tmp_path / "m.json", {"a": True})  # b is in the build, not declared
    verdict = record_gate_verdict(ctx, target, path, True, "quality gate passed", ["marts.a"])
    assert [subject for subject, _ in verdict.warnings] == ["marts.b"]
    published = publish_run(ctx, target, path)
    serving = ctx.settings.serving_db
    assert published.undeclared == ["b"]
    assert rows(serving, "select table_name from duckdb_tables() where schema_name = 'marts'") == [("a",)]
    assert rows(serving, "select status from audit.runs where run_id = 'run-1'") == [("published",)]
    assert rows(ctx.settings.build_db, "select status from audit.runs") == [("published",)]


def test_a_declared_mart_without_an_enforced_contract_blocks(ctx: RunContext, tmp_path: Path) -> None:
    target = target_for("duckdb", ctx.settings)
    path = manifest(tmp_path / "m.json", {"a": True, "b": False})
    verdict = record_gate_verdict(ctx, target, path, True, "quality gate passed", ["marts.a", "marts.b"])
    assert not verdict.passed and "b (model.clm.b): no enforced dbt contract" in verdict.message


def test_a_declared_mart_without_a_suite_is_published_with_a_warning(ctx: RunContext, tmp_path: Path) -> None:
    target = target_for("duckdb", ctx.settings)
    path = manifest(tmp_path / "m.json", {"a": True, "b": True})
    verdict = record_gate_verdict(ctx, target, path, True, "quality gate passed", ["marts.a"])
    assert verdict.passed
    unvalidated = [subject for subject, message in verdict.warnings if "no quality-gate suite" in message]
    assert unvalidated == ["marts.b"]


@pytest.mark.parametrize(
    ("orchestrator", "status", "message"),
    [
        (None, "failed", runs.INTERRUPTED),
        ("STARTED", "failed", runs.INTERRUPTED),
        ("SUCCESS", "partial", "ended without publishing: it materialized only some of the "
         "pipeline's assets"),
        ("FAILURE", "failed", "the orchestrator reports the run failure"),
    ],
)
def test_recover_settles_runs_left_running(
    ctx: RunContext, orchestrator: str | None, status: str, message: str
) -> None:
    target = target_for("duckdb", ctx.settings)
    leftover = ctx.settings.serving_db.with_name(".serving.duckdb.123-abcd1234.publishing")
    leftover.write_bytes(b"half a file")
    now = RunContext(ctx.settings, "run-2", ctx.as_of)
    ended = {"SUCCESS", "FAILURE", "CANCELED"}
    notes = recover(now, target, lambda run_id: orchestrator if orchestrator in ended else None)
    assert rows(ctx.settings.build_db, "select run_id, status, message from audit.runs") == [
        ("run-1", status, message)
    ]
    assert not leftover.exists()
    assert any("removed leftover" in note for note in notes)


def test_recover_keeps_a_run_that_published_before_its_process_died(ctx: RunContext, tmp_path: Path) -> None:
    target = target_for("duckdb", ctx.settings)
    path = manifest(tmp_path / "m.json", {"a": True, "b": True})
    record_gate_verdict(ctx, target, path, True, "quality gate passed", ["marts.a", "marts.b"])
    target.publish(["a", "b"], "run-1", "published 2 marts")  # the swap happened; then the process died
    assert rows(ctx.settings.build_db, "select status from audit.runs") == [("running",)]
    recover(RunContext(ctx.settings, "run-2", ctx.as_of), target)
    assert rows(ctx.settings.build_db, "select status from audit.runs") == [("published",)]
