"""One expensive session fixture for all xdist workers of a test run, instead of one per worker.

pytest-xdist's documented recipe (a file lock in the directory the workers share): the first worker to ask
builds and writes what the others need as JSON. Here the builder also keeps the resources it holds (a
Postgres database) until no worker uses them any more: each user is counted, and the builder's teardown
waits for the others' before it releases them. A worker that asks after that builds afresh.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from filelock import FileLock

# How long the builder waits for the other workers at its teardown (they may still be running their tests).
WAIT_FOR_USERS_S = 45 * 60


def workers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The directory every xdist worker of this run shares (the run's base temp), or None without xdist:
    the parent of a lone process's base temp holds earlier runs' directories, so nothing is shared there."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return None
    return tmp_path_factory.getbasetemp().parent


@contextmanager
def shared_while_used(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    build: Callable[[ExitStack], dict],
    releases: bool = True,
) -> Iterator[dict]:
    """What ``build`` returned (JSON-able), built once for the workers that use it at the same time;
    ``build`` enters what must outlive it (a database) on the stack it is given. With ``releases=False``
    (files in the run's temporary directory, which pytest keeps after the run) nothing is released: the
    builder does not wait for the others at its teardown, and a worker that asks later still reuses it."""
    shared = workers_dir(tmp_path_factory)
    with ExitStack() as stack:
        if shared is None:
            yield build(stack)
            return
        lock = FileLock(shared / f"{name}.lock")
        state = shared / f"{name}.json"
        with lock:
            builder = not state.exists()
            data = {"value": build(stack), "users": 0} if builder else json.loads(state.read_text())
            data["users"] += 1
            state.write_text(json.dumps(data))
        try:
            yield data["value"]
        finally:
            if releases:
                _leave(lock, state, builder)


def _leave(lock: FileLock, state: Path, builder: bool) -> None:
    """Count this worker out; the builder first waits until it is the last user, then forgets the state
    (its stack then releases the resources)."""
    deadline = time.monotonic() + WAIT_FOR_USERS_S
    while True:
        with lock:
            data = json.loads(state.read_text())
            if not builder or data["users"] == 1 or time.monotonic() > deadline:
                if builder and data["users"] > 1:
                    warnings.warn(f"{state.name}: {data['users'] - 1} other user(s) never left", stacklevel=1)
                data["users"] -= 1
                if builder:
                    state.unlink()
                else:
                    state.write_text(json.dumps(data))
                return
        time.sleep(1)
