"""orchestration/event_log.py: Dagster's SQLite event log through one connection per file, as clm's
dagster.yaml (clm.cli.dagster_yaml) configures it, readable by Dagster's own storage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg

from clm.cli import dagster_yaml
from orchestration.event_log import ClmSqliteEventLogStorage


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="numbers")])
def numbers(context):
    for i in range(20):
        context.log.info(f"line {i}")
    yield dg.Output([1, 2, 3])
    yield dg.AssetCheckResult(passed=True)


def _run_job(home: Path) -> str:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = dg.materialize([numbers], instance=instance)
        assert result.success
        return result.run_id


def _events(home: Path, run_id: str) -> list[str]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return [str(e.dagster_event_type) for e in instance.all_logs(run_id)]


def test_clm_storage_writes_the_files_dagster_reads(tmp_path):
    clm_home, stock_home = tmp_path / "clm", tmp_path / "stock"
    clm_home.mkdir()
    stock_home.mkdir()
    (clm_home / "dagster.yaml").write_text(dagster_yaml(clm_home))
    with dg.DagsterInstance.from_config(str(clm_home)) as instance:
        assert isinstance(instance.event_log_storage, ClmSqliteEventLogStorage)

    clm_run, stock_run = _run_job(clm_home), _run_job(stock_home)
    # the same events as Dagster's own storage stores for the same job, its 20 log lines among them
    events = _events(clm_home, clm_run)
    assert events == _events(stock_home, stock_run)
    assert len(events) > 20
    # what Dagster's own storage (a webserver without clm's dagster.yaml) reads from clm's files
    (clm_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(clm_home)) as instance:
        assert not isinstance(instance.event_log_storage, ClmSqliteEventLogStorage)
        materialization = instance.get_latest_materialization_event(dg.AssetKey("numbers"))
        assert materialization is not None and materialization.run_id == clm_run
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("numbers"), "positive")]
        )
        assert list(check.values())[0].run_id == clm_run


def test_one_connection_per_file_with_normal_sync(tmp_path):
    storage = ClmSqliteEventLogStorage(str(tmp_path))
    with storage.index_connection() as first:
        assert first.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert first.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        raw = first.connection.dbapi_connection
    with storage.index_connection() as again:
        assert again.connection.dbapi_connection is raw
    storage.dispose()


def test_dbt_version_without_a_subprocess(defs):
    """The version ClmDbtCliResource reads from package metadata is the one `dbt --version` prints."""
    # imported after the defs fixture has pointed the dbt project at its parsed manifest
    from orchestration.resources import ClmDbtCliResource, build_resources

    dbt = Path(sys.executable).with_name("dbt")
    printed = subprocess.run([str(dbt), "--version"], capture_output=True, text=True, check=True).stdout
    resource = build_resources()["dbt"]
    assert isinstance(resource, ClmDbtCliResource)
    assert f"installed: {resource._cli_version}" in printed
