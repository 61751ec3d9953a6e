"""The `clm` console script: argument errors are clear, and `clm ui` serves the code location."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.environment import without_clm_settings

ROOT = Path(__file__).resolve().parent.parent
CLM = str(Path(sys.executable).with_name("clm"))


def _env(tmp: Path) -> dict[str, str]:
    env = without_clm_settings()
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


def _jobs(port: int, within_s: float) -> list[str]:
    """The job names the webserver on ``port`` serves, once it answers (empty if it never does)."""
    graphql = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name jobs { name } } } } }"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": graphql}).encode(),
        headers={"Content-Type": "application/json"},
    )
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                nodes = json.load(response)["data"]["repositoriesOrError"].get("nodes", [])
                return [job["name"] for node in nodes for job in node["jobs"]]
        except OSError:
            time.sleep(1)
    return []


@pytest.mark.slow
def test_ui_serves_the_code_location_and_stops_cleanly(tmp_path: Path) -> None:
    """`clm ui` serves the code location; SIGTERM (a service manager, a container) sent to clm alone stops
    it with exit code 0 and leaves none of dagster dev's processes (webserver, daemon, code servers)
    running. dagster dev itself ignores SIGTERM. The other signals take the same path
    (test_the_served_process_group_stops_on_each_signal), without starting Dagster again."""
    stop_signal = signal.SIGTERM
    port = _free_port()
    proc = subprocess.Popen(
        [CLM, "ui", "--port", str(port)],
        env=_env(tmp_path),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # to clean up after a failure: the whole group
    )
    try:
        jobs = _jobs(port, within_s=120)
        started = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(stop_signal)
        code = proc.wait(timeout=60)
        _, alive = psutil.wait_procs(started, timeout=5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert "clm_pipeline" in jobs
    assert len(started) >= 2, started  # dagster dev and at least its webserver
    assert code == 0
    assert [p.cmdline() for p in alive] == []


# A stand-in for dagster dev: a process that starts a child (as dagster dev starts its webserver) and ends
# on SIGINT, or ignores it when told to (then clm must kill the group).
_SERVED = """
import signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
if sys.argv[1] == "ignore":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
print(child.pid, flush=True)
time.sleep(600)
"""
_WRAPPER = """
import sys
from pathlib import Path
from clm import cli
cli.UI_STOP_TIMEOUT_S = 2
sys.exit(cli._serve_until_stopped([sys.executable, "-c", sys.argv[1], sys.argv[2]], cwd=Path.cwd()))
"""


@pytest.mark.parametrize(
    ("stop_signal", "served"),
    [
        (signal.SIGTERM, "stops"),
        (signal.SIGINT, "stops"),
        (signal.SIGHUP, "stops"),
        (signal.SIGTERM, "ignore"),
    ],
)
def test_the_served_process_group_stops_on_each_signal(stop_signal: signal.Signals, served: str) -> None:
    """clm.cli._serve_until_stopped, which `clm ui` runs dagster dev under: each stop signal reaches the
    served process as SIGINT; whatever is left of its group is killed (at once when it has ended, after
    UI_STOP_TIMEOUT_S when it ignores SIGINT); exit code 0 after a requested stop."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRAPPER, _SERVED, served],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        grandchild = psutil.Process(int(proc.stdout.readline()))
        served_process = grandchild.parent()
        proc.send_signal(stop_signal)
        code = proc.wait(timeout=30)
        _, alive = psutil.wait_procs([served_process, grandchild], timeout=5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert code == 0
    assert alive == []
