"""clm.cli._StopGuard: `clm run` ends within a bounded time after a stop signal, whichever Python handler
(Dagster's, while its job runs) receives the signal. The Spark end to end case is
tests/targets/test_spark_stop.py; here a child process stands in for a run whose step never returns."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

CHILD = textwrap.dedent(
    """
    import signal, sys, time
    from pathlib import Path
    from clm.cli import _StopGuard

    received = []
    # as Dagster's capture_interrupts does while a job runs: a handler that only notes the signal
    signal.signal(signal.SIGTERM, lambda *_: received.append(1))
    guard = _StopGuard("0123456789ab", Path(sys.argv[1]), timeout_s=float(sys.argv[2]))
    print("ready", flush=True)
    time.sleep(float(sys.argv[3]))  # a step that does not return in time (or does)
    guard.close()
    print("ended by itself", "after the signal" if received else "", flush=True)
    """
)


def _child(tmp_path: Path, timeout_s: float, work_s: float) -> tuple[subprocess.Popen, float]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "run.log"), str(timeout_s), str(work_s)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    return proc, sent


def test_a_run_still_busy_after_the_timeout_ends_itself(tmp_path: Path) -> None:
    proc, sent = _child(tmp_path, timeout_s=2, work_s=120)
    out, err = proc.communicate(timeout=60)
    seconds = time.monotonic() - sent
    assert proc.returncode == 1, (out, err)
    assert 2 <= seconds < 20, seconds  # 2 s timeout; the child would otherwise sleep 120 s
    assert "SIGTERM received: stopping" in err
    assert "FAILED: stopped by SIGTERM" in err
    assert "FAILED: stopped by SIGTERM" in (tmp_path / "run.log").read_text()
    assert "ended by itself" not in out


def test_a_run_that_ends_within_the_timeout_ends_as_usual(tmp_path: Path) -> None:
    proc, _ = _child(tmp_path, timeout_s=30, work_s=1)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, (out, err)
    assert "ended by itself after the signal" in out
    assert "SIGTERM received: stopping" in err
    assert "FAILED" not in err
