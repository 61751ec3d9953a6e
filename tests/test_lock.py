"""clm.lock: one run per data directory, a holder named in the refusal, no lock outliving its process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clm import lock

HOLD = """
import sys, time
from pathlib import Path
from clm import lock
lock.acquire(Path(sys.argv[1]), "held-by-child-run", owner="cli")
print("held", flush=True)
time.sleep(600)
"""


def _child(path: Path) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    return child


def test_a_second_process_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    path = tmp_path / ".clm-run.lock"
    child = _child(path)
    try:
        with pytest.raises(lock.RunLocked) as refused:
            lock.acquire(path, "second-run", owner="cli")
        assert refused.value.holder is not None
        assert refused.value.holder.run_id == "held-by-child-run"
        assert refused.value.holder.pid == child.pid
        assert f"run held-by- (pid {child.pid}" in str(refused.value)  # run ids are shown by 8 characters
        assert not lock.holds(path)
    finally:
        child.kill()
        child.wait()


def test_a_killed_holder_never_blocks_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / ".clm-run.lock"
    child = _child(path)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    # The kernel released the flock with the process; the stale holder text is simply overwritten.
    lock.acquire(path, "next-run", owner="cli")
    try:
        assert lock.holds(path)
        assert lock.read_holder(path).run_id == "next-run"
    finally:
        lock.release(path, owner="cli")
    assert not lock.holds(path)


def test_steps_reuse_the_process_lock_and_never_release_the_callers(tmp_path: Path) -> None:
    path = tmp_path / ".clm-run.lock"
    lock.acquire(path, "run-1", owner="cli")
    try:
        lock.acquire(path, "run-1", owner="run")  # a step of the same run, in the same process
        lock.release(path, owner="run")  # not the owner: the CLI keeps holding it
        assert lock.holds(path)
        started = time.monotonic()
        probe = subprocess.run(
            [sys.executable, "-c", "import sys; from pathlib import Path; from clm import lock;"
             "lock.acquire(Path(sys.argv[1]), 'other', owner='cli')", str(path)],
            capture_output=True,
            text=True,
        )
        assert probe.returncode != 0 and "RunLocked" in probe.stderr
        assert time.monotonic() - started < 10  # refused at once, never waits
    finally:
        lock.release(path, owner="cli")
    assert not lock.holds(path)
