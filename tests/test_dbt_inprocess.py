"""clm.dbt_inprocess: dbt inside the process behaves as the subprocess it replaces, for clm and dagster-dbt.

Each test runs real dbt commands on the repo's project, or on a copy of it in tmp when a model is added."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from clm import cli, dbt_inprocess
from tests.dbt.conftest import copy_project

REPO = Path(__file__).resolve().parents[1]


def _project_with_a_broken_model(destination: Path) -> Path:
    copy_project(destination)
    broken = destination / "dbt_project" / "models" / "intermediate" / "int_zz_broken.sql"
    broken.write_text("select 1 from {{ ref('no_such_model') }}\n")
    return destination


def _args(project: Path, *command: str) -> list[str]:
    return [*command, "--project-dir", str(project), "--profiles-dir", str(project)]


def _env(tmp: Path) -> dict[str, str]:
    paths = {"DBT_TARGET_PATH": str(tmp / "target"), "DBT_LOG_PATH": str(tmp / "logs")}
    return {**os.environ, "CLM_BUILD_DB": str(tmp / "build.duckdb"), **paths}


def test_the_command_sees_its_environment_and_the_process_keeps_its_own(tmp_path: Path) -> None:
    seen: list[str | None] = []
    env = {**_env(tmp_path), "CLM_INPROCESS_MARK": "command"}
    code, _result, error = dbt_inprocess.invoke(
        _args(REPO, "parse"),
        env,
        callbacks=[lambda _event: seen.append(os.environ.get("CLM_INPROCESS_MARK"))],
    )
    assert (code, error) == (0, None)
    assert seen and set(seen) == {"command"}
    assert "CLM_INPROCESS_MARK" not in os.environ


def test_the_build_file_is_free_for_another_configuration_after_a_command(tmp_path: Path) -> None:
    # dbt debug connects to the DuckDB build file; dbt-duckdb keeps it open between commands unless closed,
    # and DuckDB then refuses a read-only connection of the same process.
    code, _result, _error = dbt_inprocess.invoke(_args(REPO, "debug"), _env(tmp_path))
    assert code == 0
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        assert con.execute("select 42").fetchall() == [(42,)]


def test_a_failing_command_streams_json_lines_with_its_error_and_exit_code_2(tmp_path: Path) -> None:
    project = _project_with_a_broken_model(tmp_path / "project")
    process = dbt_inprocess.DbtProcess(["dbt", *_args(project, "parse")], env=_env(tmp_path))
    with process.stdout:
        events = [json.loads(line) for line in process.stdout]
    assert process.wait(timeout=300) == 2
    assert process.stdout.closed
    levels = {event["info"]["level"] for event in events}
    assert "debug" not in levels  # as dbt's console at its default level
    errors = [event["info"]["msg"] for event in events if event["info"]["level"] == "error"]
    assert any("no_such_model" in message for message in errors), errors


def test_clm_says_why_the_project_does_not_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project_with_a_broken_model(tmp_path / "project")
    monkeypatch.setattr(cli, "REPO_ROOT", project)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    monkeypatch.setenv("CLM_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(RuntimeError, match="does not compile: .*int_zz_broken.*no_such_model"):
        cli._dbt_parse()


# ------------------------------------------------------------------------------- one parse per run


def _build_env(tmp: Path, env: dict[str, str]) -> dict[str, str]:
    """``env`` as dagster-dbt and DbtProcess change it for one build (where it writes, how it logs) and as a
    step changes it (the as-of date and the incremental lower bound, read only when models are compiled)."""
    command = {
        "DBT_TARGET_PATH": str(tmp / "invocation"),
        "DBT_LOG_PATH": str(tmp / "invocation"),
        "DBT_LOG_FORMAT": "json",
        "DBT_QUIET": "true",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROJECT_DIR": str(REPO),
        "DBT_PROFILES_DIR": str(REPO),
    }
    return {**env, **command, "CLM_AS_OF": "2026-11-01", "CLM_INCREMENTAL_SINCE": "2026-10-31"}


def test_a_build_through_dagster_dbt_has_the_parse_key_of_the_runs_parse(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "CLM_AS_OF": "2026-10-31"}
    flags = ["--vars", '{"clm_data_tests": {}}', "--target", "duckdb"]
    key = dbt_inprocess.parse_key([*_args(REPO, "parse"), "--quiet", *flags], env)
    assert key is not None
    build = ["build", *flags, "--exclude-resource-type", "unit_test", "--select", "fqn:*", "--full-refresh"]
    assert dbt_inprocess.parse_key(build, _build_env(tmp_path, env), cwd=REPO) == key
    # what changes a parse changes the key: vars, target, the build file the profile reads, another project
    assert dbt_inprocess.parse_key(["build", "--vars", "{}", *flags[2:]], _build_env(tmp_path, env)) != key
    assert dbt_inprocess.parse_key(["build", *flags[:2], "--target", "pg"], _build_env(tmp_path, env)) != key
    other_file = {**_build_env(tmp_path, env), "CLM_BUILD_DB": str(tmp_path / "other.duckdb")}
    assert dbt_inprocess.parse_key(build, other_file) != key
    assert dbt_inprocess.parse_key(_args(tmp_path, "build"), env) is None


def test_a_kept_manifest_is_handed_only_to_commands_with_its_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(tmp_path / "project")
    monkeypatch.setattr(dbt_inprocess, "_kept", None)
    monkeypatch.setattr("clm.inputs.REPO_ROOT", project)
    env = _env(tmp_path)
    manifest = SimpleNamespace(nodes={})  # no node to reset
    dbt_inprocess.keep_parse(_args(project, "parse"), env, manifest)
    assert dbt_inprocess.kept_manifest(_args(project, "build"), env) is manifest
    assert dbt_inprocess.kept_manifest(_args(project, "parse"), env) is None  # a parse always parses
    assert dbt_inprocess.kept_manifest(_args(project, "build", "--vars", "{}"), env) is None
    model = project / "dbt_project" / "models" / "marts" / "core" / "dim_customers.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    assert dbt_inprocess.kept_manifest(_args(project, "build"), env) is None  # a changed model: parse again


def test_a_command_runs_on_the_kept_parse_until_a_model_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(tmp_path / "project")
    monkeypatch.setattr(dbt_inprocess, "_kept", None)
    monkeypatch.setattr("clm.inputs.REPO_ROOT", project)
    env = _env(tmp_path)
    code, manifest, error = dbt_inprocess.invoke(_args(project, "parse"), env)
    assert (code, error) == (0, None)
    dbt_inprocess.keep_parse(_args(project, "parse"), env, manifest)
    compile_spine = ["dbt", *_args(project, "compile"), "--select", "metricflow_time_spine", "--quiet"]
    first = dbt_inprocess.DbtProcess(compile_spine, env=env, cwd=project)
    assert first.wait(timeout=300) == 0
    assert first.reused_parse
    # the next command gets the nodes as the parse left them, not as the first command compiled them
    kept = dbt_inprocess.kept_manifest(compile_spine[1:], env, project)
    spine = kept.nodes["model.clm.metricflow_time_spine"]
    assert (spine.compiled, spine.compiled_code, spine.extra_ctes_injected) == (False, None, False)
    model = next((project / "dbt_project" / "models").rglob("metricflow_time_spine.sql"))
    model.write_text(model.read_text() + "\n-- edited after the parse\n")
    second = dbt_inprocess.DbtProcess(compile_spine, env=env, cwd=project)
    assert second.wait(timeout=300) == 0
    assert not second.reused_parse
    compiled = next((tmp_path / "target" / "compiled").rglob("metricflow_time_spine.sql"))
    assert "edited after the parse" in compiled.read_text()
