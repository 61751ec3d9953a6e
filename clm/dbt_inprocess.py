"""dbt commands run inside this process (dbt's programmatic ``dbtRunner``) instead of one subprocess each.

A dbt subprocess pays about 3 s (quiet machine; 6 to 10 s on a loaded one) to import dbt and load the
adapter, project and profile before it does any work. A run issues three dbt commands (parse, the build,
the CLV marts' build), so on a small landing zone those start-ups were a third of the whole run.

Two things make dbt in-process safe here:
- one dbt command at a time per process (``_LOCK``): dbt's flags, adapters and event manager are globals;
- the command sees exactly the environment it was given, as a subprocess would, and this process's own is
  restored afterwards; dbt-duckdb's connection is closed when the command ends, so the process can then open
  the build file with another configuration (read-only), which DuckDB refuses while the file is open.

``DbtProcess`` is what dagster-dbt reads of the ``subprocess.Popen`` it starts (``args``, ``stdout`` as JSON
log lines, ``wait``, ``returncode``): orchestration/resources.py hands it to dagster-dbt, which then streams
events and reports failures exactly as for a subprocess.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

_LOCK = threading.Lock()

# dbt's exit codes (dbt.cli.main): 0 success, 1 a node failed (a test, a model), 2 dbt itself failed.
EXIT_OK, EXIT_NODE_FAILED, EXIT_ERROR = 0, 1, 2


@contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    """``os.environ`` is ``env`` inside the block (None: unchanged), and as it was after it."""
    if env is None:
        yield
        return
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def release_connections() -> None:
    """Close dbt-duckdb's database, which it keeps open between commands of one process."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
        DuckDBConnectionManager.close_all_connections()


def invoke(
    args: Sequence[str], env: Mapping[str, str] | None = None, callbacks: Sequence[Callable] = ()
) -> tuple[int, Any, BaseException | None]:
    """``dbt <args>`` in this process with ``env`` as its environment: (exit code, the command's result,
    the exception that stopped dbt, if any)."""
    from dbt.cli.main import dbtRunner

    with _LOCK, _environment(env):
        try:
            outcome = dbtRunner(callbacks=list(callbacks)).invoke(list(args))
        finally:
            release_connections()
    if outcome.success:
        return EXIT_OK, outcome.result, None
    return (EXIT_ERROR if outcome.exception else EXIT_NODE_FAILED), outcome.result, outcome.exception


class _Lines:
    """A subprocess's stdout as dagster-dbt reads it: bytes lines until the command ends."""

    def __init__(self, lines: queue.SimpleQueue) -> None:
        self._lines = lines
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        while not self.closed:
            line = self._lines.get()
            if line is None:
                self.closed = True
                return
            yield line

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.closed = True


class DbtProcess:
    """A dbt command on a thread of this process, with the face of the ``subprocess.Popen`` that dagster-dbt
    starts: ``args`` (the dbt executable first), ``stdout`` (dbt's events as JSON log lines, as
    DBT_LOG_FORMAT=json prints them), ``wait``, ``poll`` and ``returncode``.

    dbt's own console output is quiet (errors only): dagster-dbt writes every event it streams to the log.
    A stop signal cannot interrupt a dbt command on a thread; it ends when its current query does."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str] | None = None, **_popen: object) -> None:
        self.args = list(args)
        self.returncode: int | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._errors = 0
        self.stdout = _Lines(self._queue)
        quiet = {"DBT_LOG_FORMAT": "text", "DBT_QUIET": "true"}
        command_env = {**(env if env is not None else os.environ), **quiet}
        self._thread = threading.Thread(target=self._run, args=(command_env,), name="dbt", daemon=True)
        self._thread.start()

    def _event(self, event: Any) -> None:
        from dbt_common.events.functions import msg_to_dict

        level = event.info.level
        if level == "debug":  # what dbt's console leaves out at its default level (info) is left out here
            return
        raw = msg_to_dict(event)
        if level == "error":
            self._errors += 1
        self._queue.put(json.dumps(raw, default=str).encode())

    def _error_line(self, message: str) -> bytes:
        info = {"name": "MainEncounteredError", "level": "error", "msg": message, "code": "Z002"}
        return json.dumps({"info": info, "data": {"exc": message}}).encode()

    def _run(self, env: Mapping[str, str]) -> None:
        code = EXIT_ERROR
        try:
            code, _result, error = invoke(self.args[1:], env, callbacks=[self._event])
            if error is not None and not self._errors:
                self._queue.put(self._error_line(f"Encountered an error:\n{error}"))
        except BaseException as error:  # noqa: BLE001 (any failure must reach the reader, as a subprocess's would)
            self._queue.put(self._error_line(f"dbt failed in-process: {type(error).__name__}: {error}"))
        finally:
            self.returncode = code
            self._queue.put(None)

    def poll(self) -> int | None:
        return None if self._thread.is_alive() else self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, _signum: int) -> None:
        """Nothing to signal: the command stops when its thread's current work ends (see the class)."""
