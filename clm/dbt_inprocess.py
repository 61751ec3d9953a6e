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

One parse per run: ``clm run`` parses the project once before its steps and keeps the manifest here
(``keep_parse``). A later command of the same process whose parse would depend on the same things (the
project's files, vars, target, profile and dbt environment: ``parse_key``) is handed that manifest, as dbt's
programmatic API allows, instead of reading its partial parse again, checking every file and writing the
manifest before it starts (0.4 s of a warm build command here, more on a loaded machine). dbt still writes
the manifest beside the command's run_results.json when the command ends.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()

# dbt's exit codes (dbt.cli.main): 0 success, 1 a node failed (a test, a model), 2 dbt itself failed.
EXIT_OK, EXIT_NODE_FAILED, EXIT_ERROR = 0, 1, 2

# The options of a dbt command that change what its parse gives; the others (selection, --full-refresh,
# --quiet, ...) do not.
PARSE_OPTIONS = ("--vars", "--target", "--profile")
# Environment variables that say only where a command writes and how it logs (dagster-dbt and DbtProcess
# set them per command); the project and profiles directories are compared as paths instead.
COMMAND_ONLY_ENV = frozenset(
    {
        "DBT_TARGET_PATH",
        "DBT_LOG_PATH",
        "DBT_LOG_FORMAT",
        "DBT_QUIET",
        "DBT_SEND_ANONYMOUS_USAGE_STATS",
        "DBT_INDIRECT_SELECTION",
        "DBT_PROJECT_DIR",
        "DBT_PROFILES_DIR",
    }
)
# Commands that run on a manifest and may be handed a kept one (never ``parse`` itself).
REUSING_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot", "compile"})

# The manifest of the last parse kept in this process, with its parse_key.
_kept: tuple[str, Any] | None = None


def _option(args: Sequence[str], name: str) -> str | None:
    """The value of ``name`` in a dbt command line (``--name value`` or ``--name=value``), else None."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _directory(args: Sequence[str], option: str, env: Mapping[str, str], variable: str, cwd: Path) -> str:
    given = _option(args, option) or env.get(variable)
    return str((cwd / given).resolve()) if given else ""


def parse_key(args: Sequence[str], env: Mapping[str, str], cwd: str | Path | None = None) -> str | None:
    """A digest of what the parse of dbt command ``args`` (without the executable) run with ``env`` in
    ``cwd`` depends on: equal keys, equal manifests. None for a project other than the repo's (only its files
    are digested: clm.inputs.dbt_parse_key)."""
    from clm import inputs

    base = Path(cwd) if cwd is not None else Path.cwd()
    project = _directory(args, "--project-dir", env, "DBT_PROJECT_DIR", base) or str(base.resolve())
    if Path(project) != inputs.REPO_ROOT.resolve():
        return None
    profiles = _directory(args, "--profiles-dir", env, "DBT_PROFILES_DIR", base)
    options = [f"{name}={_option(args, name) or ''}" for name in PARSE_OPTIONS]
    parse_env = {k: v for k, v in env.items() if k not in COMMAND_ONLY_ENV}
    return inputs.dbt_parse_key([*options, f"--profiles-dir={profiles}"], parse_env)


def keep_parse(args: Sequence[str], env: Mapping[str, str], manifest: Any) -> None:
    """Keep the manifest that ``dbt <args>`` (a parse, run in this process's directory) gave, for the later
    commands of this process with the same parse_key."""
    global _kept
    key = parse_key(args, env)
    _kept = (key, manifest) if key is not None and manifest is not None else None


def kept_manifest(args: Sequence[str], env: Mapping[str, str], cwd: str | Path | None = None) -> Any | None:
    """The kept manifest if ``dbt <args>`` would parse exactly what it was parsed from, else None; its nodes
    as a parse leaves them (``_uncompiled``)."""
    if _kept is None or not args or args[0] not in REUSING_COMMANDS:
        return None
    key, manifest = _kept
    return _uncompiled(manifest) if parse_key(args, env, cwd) == key else None


def _uncompiled(manifest: Any) -> Any:
    """``manifest`` with no node's compile state left by an earlier command: dbt compiles a node in place and
    injects its ephemeral models' CTEs only once (extra_ctes_injected), and the manifest a command writes
    lists as compiled only what that command compiled."""
    for node in manifest.nodes.values():
        # compiled nodes only: a seed answers extra_ctes_injected with a read-only property
        if "extra_ctes_injected" in {f.name for f in dataclasses.fields(node)}:
            node.compiled = False
            node.compiled_code = None
            node.compiled_path = None
            node.extra_ctes_injected = False
            node.extra_ctes = []
            node._pre_injected_sql = None
    return manifest


def forget_parse() -> None:
    global _kept
    _kept = None


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
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    callbacks: Sequence[Callable] = (),
    manifest: Any = None,
) -> tuple[int, Any, BaseException | None]:
    """``dbt <args>`` in this process with ``env`` as its environment, on ``manifest`` when given (no
    parse): (exit code, the command's result, the exception that stopped dbt, if any)."""
    from dbt.cli.main import dbtRunner

    with _LOCK, _environment(env):
        try:
            outcome = dbtRunner(manifest=manifest, callbacks=list(callbacks)).invoke(list(args))
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

    def __init__(
        self,
        args: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        **_popen: object,
    ) -> None:
        self.args = list(args)
        self.returncode: int | None = None
        self.cwd = Path(cwd) if cwd is not None else Path.cwd()
        self.reused_parse = False  # whether the command ran on the manifest kept by keep_parse
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
            manifest = kept_manifest(self.args[1:], env, self.cwd)
            self.reused_parse = manifest is not None
            code, _result, error = invoke(self.args[1:], env, callbacks=[self._event], manifest=manifest)
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
