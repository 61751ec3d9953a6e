"""The `clm` console script: argument errors are clear, and `clm ui` serves the code location."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLM = str(Path(sys.executable).with_name("clm"))


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLM_")}
    env.update(CLM_DATA_DIR=str(tmp / "warehouse"), CLM_RAW_DIR=str(tmp / "raw"))
    return env


def test_run_without_a_landing_zone_says_so(tmp_path: Path) -> None:
    proc = subprocess.run([CLM, "run"], env=_env(tmp_path), capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode != 0
    assert f"landing zone {tmp_path / 'raw'} does not exist" in proc.stderr


def test_bad_as_of_is_rejected(tmp_path: Path) -> None:
    proc = subprocess.run(
        [CLM, "run", "--as-of", "2024-13-01"], env=_env(tmp_path), capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 2
    assert "'2024-13-01' is not a date in YYYY-MM-DD form" in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ui_serves_the_clm_code_location(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [CLM, "ui", "--port", str(port)],
        env=_env(tmp_path),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # dagster dev starts a webserver and a daemon: stop the whole group
    )
    graphql = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name jobs { name } } } } }"
    query = {"query": graphql}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps(query).encode(),
        headers={"Content-Type": "application/json"},
    )
    jobs: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not jobs:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    nodes = json.load(response)["data"]["repositoriesOrError"].get("nodes", [])
                    jobs = [job["name"] for node in nodes for job in node["jobs"]]
            except OSError:
                time.sleep(1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    assert "clm_pipeline" in jobs
