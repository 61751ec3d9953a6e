"""Publishing is impossible without this run's quality gate passing, whatever assets a user selects.

The step ``serving_database`` (one asset per published mart plus ``serving/audit``, which only materialize
together) calls ``clm.publishing.publish_run``, which refuses (``dg.Failure``) a run that did not
ingest, has no passing gate result, or whose marts changed after its gate. Checked in-process on the job
(every partial selection a UI user can make) and over the webserver that ``clm ui`` starts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import psutil
import pytest

from clm.cli import UI_STOP_TIMEOUT_S
from tests.test_end_to_end import CLM, FIXTURE, PII_KEY, ROOT, make_env, marts_digest, query

pytestmark = pytest.mark.slow

JOB = "clm_pipeline"
GATE = dg.AssetKey(["quality_gate"])
NEEDS_WHOLE_JOB = "publishing needs the whole clm_pipeline job in one run"
NOTHING_PUBLISHED = "(nothing was published)"


def _landing(tmp: Path) -> Path:
    raw = tmp / "raw"
    shutil.copytree(FIXTURE, raw, ignore=shutil.ignore_patterns("README.md"))
    return raw


def _point_settings_at(mp: pytest.MonkeyPatch, tmp: Path, raw: Path) -> Path:
    """The resource reads CLM_* when a run starts (clm.config.load_settings): set them before executing.
    The ``defs`` fixture set CLM_DATA_DIR at import for the dbt manifest; this overrides it for the run.
    CLM_BUILD_DB, which orchestration/project.py forced at import, is set again by every dbt step."""
    for name in ("CLM_SERVING_DB", "CLM_GATE_CONFIG", "CLM_BUILD_DB"):
        mp.delenv(name, raising=False)
    data_dir = tmp / "warehouse"
    mp.setenv("CLM_DATA_DIR", str(data_dir))
    mp.setenv("CLM_RAW_DIR", str(raw))
    mp.setenv("CLM_PII_KEY", PII_KEY)
    return data_dir


def _execute(defs, raw: Path, selection: list[dg.AssetKey] | None = None) -> dg.ExecuteInProcessResult:
    config = {"raw_dir": str(raw), "as_of": "", "full_refresh": False, "target": "duckdb"}
    return defs.resolve_job_def(JOB).execute_in_process(
        asset_selection=selection,
        run_config={"resources": {"clm": {"config": config}}},
        raise_on_error=False,
        instance=dg.DagsterInstance.ephemeral(),
    )


def _failures(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """step key -> the failure's description (a dg.Failure's) or error message."""
    found = {}
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        user = data.user_failure_data
        found[event.step_key] = user.description if user and user.description else data.error.message
    return found


def _ingest() -> list[dg.AssetKey]:
    """Every asset of the raw_extracts step (a multi-asset that runs whole)."""
    from orchestration.assets.ingest import raw_table_keys

    return raw_table_keys()


def _publish() -> list[dg.AssetKey]:
    """Every asset of the serving_database step: the published marts and the audit (they publish together, so
    selecting publishing in the UI selects them all)."""
    from orchestration.assets.publish import serving_database

    return sorted(serving_database.keys)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_lock_released(data_dir: Path) -> None:
    from clm import lock

    assert not lock.holds(data_dir / ".clm-run.lock"), "a refused run left the data directory locked"


# ------------------------------------------------------------------------------------------ in-process


def test_publish_selected_alone_on_a_fresh_data_dir_is_refused(defs, tmp_path: Path, monkeypatch) -> None:
    raw = _landing(tmp_path)
    data_dir = _point_settings_at(monkeypatch, tmp_path, raw)

    result = _execute(defs, raw, _publish())

    assert not result.success
    failures = _failures(result)
    assert set(failures) == {"serving_database"}, failures
    assert NEEDS_WHOLE_JOB in failures["serving_database"], failures
    assert NOTHING_PUBLISHED in failures["serving_database"]
    assert not (data_dir / "serving.duckdb").exists()
    assert not list(data_dir.glob(".serving.duckdb.*"))
    _assert_lock_released(data_dir)


@pytest.fixture(scope="module")
def published(defs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A data directory where the whole job ran in-process and published."""
    tmp = tmp_path_factory.mktemp("publish_refusal")
    raw = _landing(tmp)
    with pytest.MonkeyPatch.context() as mp:
        data_dir = _point_settings_at(mp, tmp, raw)
        started = time.monotonic()
        result = _execute(defs, raw)
        seconds = time.monotonic() - started
        assert result.success, _failures(result)
        serving = data_dir / "serving.duckdb"
        assert serving.exists()
        [(status,)] = query(serving, f"select status from audit.runs where run_id = '{result.run_id}'")
        assert status == "published"
        events = result.get_asset_materialization_events()
        yield {
            "materialized": {e.asset_key: e.materialization.metadata for e in events},
            "defs": defs,
            "mp": mp,
            "raw": raw,
            "data_dir": data_dir,
            "serving": serving,
            "build": data_dir / "build" / "serving.duckdb",
            "run_id": result.run_id,
            "seconds": seconds,
        }


def test_the_whole_job_materializes_every_published_mart_with_its_served_rows(published: dict) -> None:
    materialized = published["materialized"]
    served = [key for key in _publish() if key.path[-1] != "audit"]
    assert set(_publish()) <= set(materialized)
    for key in served:
        [(rows,)] = query(published["serving"], f'select count(*) from marts."{key.path[-1]}"')
        assert materialized[key]["dagster/row_count"].value == rows, key
        assert materialized[key]["published_to"].value == str(published["serving"])


def test_publish_selected_alone_after_a_publish_is_refused(published: dict) -> None:
    serving = published["serving"]
    before, digest = _sha256(serving), marts_digest(serving)

    result = _execute(published["defs"], published["raw"], _publish())

    assert not result.success
    failures = _failures(result)
    assert set(failures) == {"serving_database"}, failures
    # A new run id: no audit.runs record and no gate result of its own.
    assert NEEDS_WHOLE_JOB in failures["serving_database"], failures
    assert _sha256(serving) == before  # not even the audit changed: this run recorded nothing
    assert marts_digest(serving) == digest
    assert query(serving, f"select count(*) from audit.runs where run_id = '{result.run_id}'") == [(0,)]
    _assert_lock_released(published["data_dir"])


def test_gate_and_publish_without_ingest_are_refused(published: dict) -> None:
    serving = published["serving"]
    before = _sha256(serving)

    result = _execute(published["defs"], published["raw"], [GATE, *_publish()])

    assert not result.success
    failures = _failures(result)
    # The gate may pass over the existing build, but this run ingested nothing: no audit.runs record.
    assert "serving_database" in failures, failures
    assert NEEDS_WHOLE_JOB in failures["serving_database"], failures
    assert _sha256(serving) == before
    assert query(serving, f"select count(*) from audit.runs where run_id = '{result.run_id}'") == [(0,)]
    _assert_lock_released(published["data_dir"])


def test_publish_without_the_gate_is_refused(published: dict) -> None:
    serving = published["serving"]
    digest = marts_digest(serving)

    result = _execute(published["defs"], published["raw"], [*_ingest(), *_publish()])

    assert not result.success
    failures = _failures(result)
    assert set(failures) == {"serving_database"}, failures
    assert "has no quality-gate result" in failures["serving_database"], failures
    assert NOTHING_PUBLISHED in failures["serving_database"]
    # The run ingested, so it is recorded (failed) where BI reads it, beside the unchanged marts.
    assert marts_digest(serving) == digest
    [(status, message)] = query(
        serving, f"select status, message from audit.runs where run_id = '{result.run_id}'"
    )
    assert status == "failed" and "has no quality-gate result" in message
    _assert_lock_released(published["data_dir"])


def test_marts_changed_after_the_gate_are_not_published(published: dict) -> None:
    """Another build between this run's gate and its publish: the fingerprint no longer matches."""
    import orchestration.assets.publish as publish_asset
    from clm.config import load_settings
    from clm.warehouse import connect_build

    serving = published["serving"]
    digest = marts_digest(serving)
    real_publish_run = publish_asset.publish_run

    def tamper_then_publish(ctx, target, manifest_path):
        with connect_build(load_settings()) as con:
            con.execute("update marts.dim_customers set country = 'ZZ'")
        return real_publish_run(ctx, target, manifest_path)

    published["mp"].setattr(publish_asset, "publish_run", tamper_then_publish)
    try:
        result = _execute(
            published["defs"],
            published["raw"],
            [*_ingest(), GATE, *_publish()],
        )
    finally:
        published["mp"].setattr(publish_asset, "publish_run", real_publish_run)

    assert not result.success
    failures = _failures(result)
    assert set(failures) == {"serving_database"}, failures
    assert "the marts changed after the quality gate validated them" in failures["serving_database"]
    assert marts_digest(serving) == digest
    assert query(serving, "select count(*) from marts.dim_customers where country = 'ZZ'") == [(0,)]
    [(status,)] = query(serving, f"select status from audit.runs where run_id = '{result.run_id}'")
    assert status == "failed"
    _assert_lock_released(published["data_dir"])


# ---------------------------------------------------------------------------------- over the webserver


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, text: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": text, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.load(response)
    assert "errors" not in body, body
    return body["data"]


REPOSITORIES = """
{ repositoriesOrError { ... on RepositoryConnection {
    nodes { name location { name } jobs { name } } } } }
"""

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PythonError { message }
    ... on Error { message }
  }
}
"""

RUN_STATUS = "query Status($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }"

STEP_FAILURES = """
query Failures($id: ID!) {
  logsForRun(runId: $id) { ... on EventConnection { events {
    __typename
    ... on ExecutionStepFailureEvent { stepKey message failureMetadata { description } }
  } } }
}
"""


def test_publish_selected_alone_in_the_ui_is_refused(defs, tmp_path: Path) -> None:
    raw = _landing(tmp_path)
    env = make_env(tmp_path, raw)
    data_dir = Path(env["CLM_DATA_DIR"])
    port = _free_port()
    proc = subprocess.Popen(
        [CLM, "ui", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # dagster dev starts a webserver and a daemon: stop the whole group
    )
    try:
        repository = None
        deadline = time.monotonic() + 120
        while repository is None and time.monotonic() < deadline:
            try:
                nodes = _graphql(port, REPOSITORIES)["repositoriesOrError"].get("nodes", [])
                repository = next((n for n in nodes if JOB in [job["name"] for job in n["jobs"]]), None)
            except OSError:
                pass
            if repository is None:
                time.sleep(1)
        assert repository is not None, "the UI did not serve the clm code location within 120 s"

        params = {
            "selector": {
                "repositoryLocationName": repository["location"]["name"],
                "repositoryName": repository["name"],
                "jobName": JOB,
                "assetSelection": [{"path": key.path} for key in _publish()],
            },
        }
        launched = _graphql(port, LAUNCH, {"params": params})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]

        status = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            status = _graphql(port, RUN_STATUS, {"id": run_id})["runOrError"].get("status")
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                break
            time.sleep(2)
        assert status == "FAILURE", f"run {run_id} ended as {status}"

        events = _graphql(port, STEP_FAILURES, {"id": run_id})["logsForRun"]["events"]
        failed = {
            e["stepKey"]: (e.get("failureMetadata") or {}).get("description") or e["message"]
            for e in events
            if e["__typename"] == "ExecutionStepFailureEvent"
        }
        assert set(failed) == {"serving_database"}, failed
        assert NEEDS_WHOLE_JOB in failed["serving_database"], failed
    finally:
        # clm ui stops dagster dev's own process group, and kills it after UI_STOP_TIMEOUT_S: wait past that.
        # Killing clm ui sooner orphaned dagster dev and its code servers (seen: still running 30 min later).
        started = psutil.Process(proc.pid).children(recursive=True)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=UI_STOP_TIMEOUT_S + 30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        for child in started:  # a safety net: nothing the test started outlives it
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()

    assert not (data_dir / "serving.duckdb").exists()
    assert not list(data_dir.glob(".serving.duckdb.*"))
    # Nothing of the refused run reached the build either: it did not ingest.
    build = data_dir / "build" / "serving.duckdb"
    if build.exists():
        with duckdb.connect(str(build), read_only=True) as con:
            tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        if ("audit", "runs") in tables:
            assert query(build, f"select count(*) from audit.runs where run_id = '{run_id}'") == [(0,)]
