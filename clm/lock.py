"""One run at a time per data directory (docs/commands.md#one-run-at-a-time).

An advisory ``flock`` on ``Settings.lock_path``: the kernel releases it when the holding process dies, so a
killed run never leaves a lock behind that blocks the next one; the next holder then finds the dead run's
``running`` record and leftovers and cleans them up (``clm.recovery``). The file's text names the holder
(run id, pid, host, start time) for the one-line message a second run prints.

A process holds the lock until it exits or its owner calls ``release``. ``clm run`` takes it before any work
(owner ``cli``). Every Dagster step takes it too (owner ``run``): a run launched from the UI, the schedule or
the sensor runs its steps in one worker process, so the first step's lock lasts until the publish step or
the failure hook releases it. A lock already held by this process is reused, keeping its first owner.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# lock path -> (open file holding the flock, owner), for this process
_held: dict[Path, tuple[object, str]] = {}


@dataclass(frozen=True)
class Holder:
    run_id: str
    pid: int
    host: str
    since: str

    def describe(self) -> str:
        return f"run {self.run_id[:8]} (pid {self.pid} on {self.host}, since {self.since} UTC)"


class RunLocked(RuntimeError):
    """Another process holds the data directory."""

    def __init__(self, path: Path, holder: Holder | None):
        self.path = path
        self.holder = holder
        who = holder.describe() if holder else "another process"
        super().__init__(f"another clm run holds {path.parent}: {who}; this run did nothing")


def read_holder(path: Path) -> Holder | None:
    try:
        data = json.loads(path.read_text() or "null")
        return Holder(str(data["run_id"]), int(data["pid"]), str(data["host"]), str(data["since"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _write_holder(handle, run_id: str) -> None:
    since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    text = json.dumps({"run_id": run_id, "pid": os.getpid(), "host": socket.gethostname(), "since": since})
    handle.seek(0)
    handle.truncate()
    handle.write(text)
    handle.flush()


def acquire(path: Path, run_id: str, owner: str) -> None:
    """Take the lock for ``run_id`` at once, or raise ``RunLocked`` naming the holder."""
    path = path.resolve()
    if path in _held:
        _write_holder(_held[path][0], run_id)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # "a+": never truncate before holding the lock, or the holder's name would be erased
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release or exit)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise RunLocked(path, read_holder(path)) from None
    _held[path] = (handle, owner)
    _write_holder(handle, run_id)


def holds(path: Path) -> bool:
    return path.resolve() in _held


def release(path: Path, owner: str) -> None:
    """Release the lock if ``owner`` took it (a step never releases the CLI's lock)."""
    path = path.resolve()
    held = _held.get(path)
    if held is None or held[1] != owner:
        return
    handle, _ = _held.pop(path)
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    handle.close()
