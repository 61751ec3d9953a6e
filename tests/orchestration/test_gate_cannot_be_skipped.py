"""The gate cannot be skipped from the Dagster UI: publishing selected without the rest of the job, in one
run, publishes nothing (CONTRACT 6 and the safe-publishing issue). In-process, through the job's own
asset selection, as the UI's "Materialize selected" does."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import dagster as dg
import pytest

from tests.test_end_to_end import FIXTURE

pytestmark = pytest.mark.slow

PUBLISH = dg.AssetKey(["serving_database"])
GATE = dg.AssetKey(["quality_gate"])


def _failure(result: dg.ExecuteInProcessResult) -> str:
    [event] = [e for e in result.all_events if e.is_step_failure]
    return event.step_failure_data.user_failure_data.description


def test_publish_selected_without_the_rest_of_its_run_publishes_nothing(defs, tmp_path: Path, monkeypatch):
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURE, raw, ignore=shutil.ignore_patterns("README.md"))
    data = tmp_path / "warehouse"
    monkeypatch.setenv("CLM_DATA_DIR", str(data))
    monkeypatch.setenv("CLM_RAW_DIR", str(raw))
    serving = data / "serving.duckdb"
    job = defs.resolve_job_def("clm_pipeline")
    config = {"resources": {"clm": {"config": {"raw_dir": str(raw)}}}}

    with dg.DagsterInstance.ephemeral() as instance:
        alone = job.execute_in_process(
            run_config=config, asset_selection=[PUBLISH], instance=instance, raise_on_error=False
        )
        assert not alone.success
        assert "publishing needs the whole clm_pipeline job" in _failure(alone)
        assert not serving.exists()

        whole = job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)
        assert whole.success
        before = hashlib.sha256(serving.read_bytes()).hexdigest()

        for selection in ([PUBLISH], [GATE, PUBLISH]):
            partial = job.execute_in_process(
                run_config=config, asset_selection=selection, instance=instance, raise_on_error=False
            )
            assert not partial.success
            # The gate may pass over the existing build, but this run ingested and built nothing.
            assert "did not ingest, build and validate anything" in _failure(partial)
            assert hashlib.sha256(serving.read_bytes()).hexdigest() == before
