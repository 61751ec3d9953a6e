"""The `clm` command (docs/commands.md): generate, run, ui."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import click

from clm import dbt_inprocess, dbt_parse_cache, inputs, lock, progress, runs
from clm.config import REPO_ROOT, Settings, SettingsError, load_settings
from clm.context import TARGETS, RunContext, UsageError, check_as_of_gap, resolve_as_of
from clm.generate.layout import APPEND_LIMIT_DAYS
from clm.pipeline import CODE_LOCATION, EVENT_LOG_MODULE, show
from clm.targets import target_for
from clm.warehouse import connect_build


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """clm: customer-lifecycle warehouse (ingest -> dbt -> quality gate -> publish)."""


@main.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--customers", type=click.IntRange(min=1), help="People to simulate (required unless --append-day)."
)
@click.option("--seed", type=int, help="RNG seed (required unless --append-day).")
@click.option("--start", callback=_parse_date, help="First day of history (YYYY-MM-DD).")
@click.option("--end", callback=_parse_date, help="Last load date (YYYY-MM-DD).")
@click.option("--messy", is_flag=True, help="Inject the bad-input faults of docs/bad-input.md#faults.")
@click.option(
    "--append-day",
    is_flag=True,
    help="Add one daily drop after the newest load date in --out, taking every other parameter from its "
    "_clm_generate.json; existing files stay byte-identical. Appended days are clean, even in a --messy "
    f"tree, and at most {APPEND_LIMIT_DAYS} can follow --end.",
)
def generate(
    out_dir: Path,
    customers: int | None,
    seed: int | None,
    start: date | None,
    end: date | None,
    messy: bool,
    append_day: bool,
) -> None:
    """Write deterministic synthetic extracts in the landing layout.

    Repeat `clm generate --append-day --out DIR` (then `clm run`) to simulate a daily schedule: each call
    lands the next day's drop, with renewals, cancellations, late updates to old records and new sign-ups.
    """
    from clm.generate import AppendError
    from clm.generate import append_day as run_append_day
    from clm.generate import generate as run_generate

    if append_day:
        given = [
            name
            for name, v in (
                ("--customers", customers),
                ("--seed", seed),
                ("--start", start),
                ("--end", end),
                ("--messy", messy or None),
            )
            if v is not None
        ]
        if given:
            raise click.UsageError(f"--append-day takes its parameters from the manifest, not {given[0]}")
        try:
            summary = run_append_day(out_dir, progress=_progress)
        except AppendError as exc:
            raise click.UsageError(str(exc)) from None
        click.echo(
            f"appended the drop of {summary['load_dates'][-1]} ({summary['files']} files) to {out_dir}"
        )
        return
    if customers is None or seed is None:
        raise click.UsageError("--customers and --seed are required (or --append-day on a generated tree)")
    summary = run_generate(out_dir, customers, seed, start=start, end=end, messy=messy, progress=_progress)
    files = summary.get("files", "?")
    click.echo(f"wrote {files} files for {customers:,} customers to {out_dir}")


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _prepare_environment(settings: Settings) -> None:
    """Everything Dagster and dbt read from the environment, set before they are imported."""
    settings.ensure_dirs()
    # dbt and dagster beside this interpreter, even without .venv/bin on PATH (dagster-dbt looks up "dbt").
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    os.environ["DBT_TARGET_PATH"] = str(settings.dbt_target_dir)
    os.environ["DBT_LOG_PATH"] = str(settings.dbt_target_dir / "logs")
    os.environ["CLM_BUILD_DB"] = str(settings.build_db)
    os.environ["CLM_RAW_DIR"] = str(settings.raw_dir)
    # Written every time (it is generated, under CLM_DATA_DIR): runs of the clm job queue one at a time.
    (settings.dagster_home / "dagster.yaml").write_text(dagster_yaml(settings.dagster_home))


# The job carries the tag clm/pipeline (orchestration/jobs.py): the run queue starts one such run at a time,
# so the schedule, the sensor and runs launched from the UI wait instead of colliding. Events go to Dagster's
# usual SQLite files under DAGSTER_HOME/history/runs, written through one open connection per file
# (orchestration/event_log.py: Dagster's own storage connects and fsyncs once per event, 16.9 s of CPU a run).
def dagster_yaml(dagster_home: Path) -> str:
    return f"""\
telemetry:
  enabled: false
concurrency:
  runs:
    tag_concurrency_limits:
      - key: clm/pipeline
        limit: 1
event_log_storage:
  module: {EVENT_LOG_MODULE}
  class: ClmSqliteEventLogStorage
  config:
    base_dir: {json.dumps(str(dagster_home / "history" / "runs"))}
"""


def _dbt_parse(run: RunContext | None = None) -> None:
    """@dbt_assets needs a manifest when the definitions are imported. For a run, parsed with the run's vars,
    target and environment: every dbt command of the run then reuses this parse instead of parsing again.

    Skipped when the manifest in the target directory came from a parse of the same project files, command
    line and dbt environment (a dbt process costs about 4 s to start even when its partial parse finds
    nothing to do)."""
    cmd = ["parse", "--quiet", "--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT)]
    if run is not None:
        from clm.dbt_vars import dbt_environment, dbt_vars  # imports GX (4 s): not for an unchanged run

        target = target_for(run.target, run.settings)
        dbt_environment(run, target)
        cmd += ["--vars", dbt_vars(run, target), "--target", target.dbt_target]
    target_dir = Path(os.environ.get("DBT_TARGET_PATH") or REPO_ROOT / "target")
    stamp = target_dir / ".clm-parse-key"
    key = inputs.dbt_parse_key(cmd[1:], os.environ)
    if (target_dir / "manifest.json").is_file() and stamp.is_file() and stamp.read_text() == key:
        if run is not None:
            _keep_unchanged_parse(cmd)
        return
    stamp.unlink(missing_ok=True)
    settings = run.settings if run is not None else load_settings()
    flavour = [*cmd[1:], os.environ.get("CLM_TARGET", "")]  # profiles.yml's target without --target
    with (
        progress.phase("dbt parse", "parsing the dbt project") as shown,
        dbt_parse_cache.cached_parse(settings.dbt_parse_cache, target_dir, REPO_ROOT, flavour),
    ):
        code, manifest, error = dbt_inprocess.invoke(cmd)  # no dbt process to start (about 3 s)
        shown.done(_parsed(manifest) if code == 0 else "FAILED")
    if code != 0:
        why = " ".join(str(error).split()) if error is not None else "see the log"
        raise RuntimeError(f"dbt parse failed: the dbt project does not compile: {why}")
    stamp.write_text(key)
    if run is not None:
        dbt_inprocess.keep_parse(cmd, os.environ, manifest)  # the run's dbt commands build on it


def _keep_unchanged_parse(cmd: list[str]) -> None:
    """The manifest of a parse whose files are current, for the run's dbt commands (clm.dbt_inprocess): dbt
    reads its partial parse, finds nothing changed and writes nothing. Without it each build would do the same
    and write the manifest again; a parse that fails here is left to the builds, which report it."""
    code, manifest, _error = dbt_inprocess.invoke([*cmd, "--no-write-json"])
    if code == 0:
        dbt_inprocess.keep_parse(cmd, os.environ, manifest)


def _parsed(manifest: object) -> str:
    nodes = getattr(manifest, "nodes", None)
    if not isinstance(nodes, dict):
        return "done"
    kinds = [node.split(".", 1)[0] for node in nodes]
    return ", ".join(
        progress.plural(kinds.count(kind), label) for kind, label in (("model", "model"), ("test", "test"))
    )


EXIT_PUBLISHED, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3


@contextlib.contextmanager
def _output_to(log_path: Path, echo: bool = False) -> Iterator[None]:
    """Send everything written to stdout and stderr (Dagster, dbt, warnings, tracebacks of any library) to
    the run's log file; the terminal gets only what ``_say`` and the phases (clm.progress) write, or, with
    ``echo`` (clm run -v), the log as well."""
    sys.stdout.flush()
    sys.stderr.flush()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab", buffering=0) as log, _tee(log.fileno(), echo) as sink:
        os.dup2(sink, 1)
        os.dup2(sink, 2)
        try:
            with progress.attached(_TERMINAL_OUT, whole_lines=echo):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(_TERMINAL_OUT, 1)
            os.dup2(_TERMINAL_ERR, 2)


@contextlib.contextmanager
def _tee(log_fd: int, echo: bool) -> Iterator[int]:
    """``log_fd`` itself, or with ``echo`` a pipe whose every byte a thread copies to the log and the
    terminal (stderr, as the logs would go without clm)."""
    if not echo:
        yield log_fd
        return
    import threading

    read_fd, write_fd = os.pipe()

    def copy() -> None:
        while chunk := os.read(read_fd, 65536):
            os.write(log_fd, chunk)
            with contextlib.suppress(OSError):  # a terminal that went away loses the echo, not the log
                os.write(_TERMINAL_ERR, chunk)

    thread = threading.Thread(target=copy, name="clm-log-echo", daemon=True)
    thread.start()
    try:
        yield write_fd
    finally:
        os.close(write_fd)  # the caller restored fds 1 and 2 first: this was the pipe's last writer here
        thread.join(timeout=10)  # a child that outlived the run may still hold the pipe open
        if not thread.is_alive():
            os.close(read_fd)


_TERMINAL_OUT, _TERMINAL_ERR = os.dup(1), os.dup(2)


def _say(text: str, err: bool = False) -> None:
    os.write(_TERMINAL_ERR if err else _TERMINAL_OUT, (text + "\n").encode())


@main.command()
@click.option("--raw", "raw_dir", type=click.Path(file_okay=False, path_type=Path), help="Landing zone root.")
@click.option("--as-of", "as_of", callback=_parse_date, help="Default: newest load date landed.")
@click.option("--full-refresh", is_flag=True, help="Reload every landed file and rebuild every model.")
@click.option("--target", type=click.Choice(TARGETS), default="duckdb", show_default=True)
@click.option(
    "-v", "--verbose", is_flag=True, help="Also show dbt's and Dagster's logs (always in the run's log)."
)
def run(raw_dir: Path | None, as_of: date | None, full_refresh: bool, target: str, verbose: bool) -> None:
    """Run the pipeline in-process: ingest, dbt build, quality gate, publish. Prints one line per phase
    and a summary; the full log goes to a file under CLM_DATA_DIR/logs.

    Exit codes: 0 published (or nothing new to publish), 1 blocked or failed, 2 usage error (nothing was
    done), 3 another run holds the data directory (nothing was done).
    """
    try:
        settings = load_settings()
        if raw_dir is not None:
            settings = dataclasses.replace(settings, raw_dir=raw_dir.resolve())
        resolved = resolve_as_of(settings.raw_dir, as_of)
    except (UsageError, SettingsError) as error:
        _say(f"Error: {error}", err=True)
        _exit_quietly(EXIT_USAGE)
    run_id = str(uuid.uuid4())
    try:
        lock.acquire(settings.lock_path, run_id, owner="cli")
    except lock.RunLocked as locked:
        runs.record_skipped(settings, run_id, target, str(locked))
        _say(f"clm run {run_id[:8]}: SKIPPED: {locked}", err=True)
        _exit_quietly(EXIT_LOCKED)
    try:  # under the lock: the last published as-of cannot change while we read it
        check_as_of_gap(resolved, as_of, runs.last_published_as_of(settings), settings.max_as_of_gap_days)
    except UsageError as error:
        lock.release(settings.lock_path, owner="cli")
        _say(f"Error: {error}", err=True)
        _exit_quietly(EXIT_USAGE)
    digest = inputs.inputs_digest(settings, resolved, target)
    if not full_refresh and _report_unchanged(settings, run_id, resolved, target, digest):
        lock.release(settings.lock_path, owner="cli")
        _exit_quietly(EXIT_PUBLISHED)
    ctx = RunContext(settings, run_id, resolved, target, full_refresh)
    log_path = settings.logs_dir / f"{run_id}.log"
    _say(f"clm run {run_id[:8]}: as of {resolved}, target {target}; full log: {show(log_path)}")
    _prepare_environment(settings)
    code, report = EXIT_FAILED, None
    server = None
    guard = _StopGuard(run_id, log_path)
    try:
        # The id is printed and the lock held: from here on a kill must leave a row the next run settles.
        with connect_build(settings) as con:
            runs.start_run(con, run_id, resolved, target)
        with _output_to(log_path, echo=verbose):
            server = guard.server = _start_spark_server(settings, target)
            _dbt_parse(ctx)
            from clm.pipeline import run_pipeline

            target_impl = target_for(target, settings)
            outcome = run_pipeline(ctx, target_impl, log_path)
        report = outcome.report
        code = EXIT_PUBLISHED if outcome.published else EXIT_FAILED
        if outcome.published:
            inputs.record_published(
                settings, inputs.PublishedInputs(run_id, digest, resolved.isoformat(), target)
            )
    except Exception as error:  # not handled by the pipeline: one line here, the traceback in the log
        with open(log_path, "a", encoding="utf-8") as log:
            traceback.print_exc(file=log)
        reason = f"{type(error).__name__}: {error}"
        if guard.signal_name:  # the stop caused it (e.g. the local server it stopped was asked for the audit)
            reason = f"stopped by {guard.signal_name}, then {reason}"
        _record_failed(settings, run_id, reason)
        _say_safely(f"clm run {run_id[:8]}: FAILED: {reason}", err=True)
        _say_safely(f"  full log with the traceback: {show(log_path)}", err=True)
    finally:
        if server is not None:
            server.stop()  # also on failure; a kill of this process ends it through its parent-death signal
        lock.release(settings.lock_path, owner="cli")
        guard.close()
    if report is not None:
        # After the outcome is recorded: a reader that went away (`clm run | head -1`) changes no exit code.
        _say_safely(report)
    _exit_quietly(code)


# After a stop signal, how long `clm run` may take to end (its local Spark server stopped at once) before it
# ends itself as a kill would; and how long the server gets to stop on SIGTERM before it is killed.
RUN_STOP_TIMEOUT_S = 15
SERVER_STOP_TIMEOUT_S = 5
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class _StopGuard:
    """Bounds how long `clm run` takes to end after SIGTERM, SIGINT or SIGHUP.

    While the Dagster job runs, Dagster handles SIGTERM and SIGINT as an interrupt that the current step sees,
    and dagster-dbt then "forwards" it to dbt and waits up to DAGSTER_DBT_TERMINATION_TIMEOUT_SECONDS (25 s)
    for it. But dbt runs on a thread of this process (clm.dbt_inprocess: nothing to signal), and dbt-spark
    cannot cancel a running Thrift query: a run stopped during a long Spark query went on until that query
    ended, and a step's own PyHive call cannot be interrupted either. So a thread watches for the signal,
    whichever handler Python runs for it (``signal.set_wakeup_fd`` writes every handled signal's number to a
    pipe): on a stop signal it stops the run's local Thrift server at once (SIGTERM, SIGKILL after
    SERVER_STOP_TIMEOUT_S), which ends every running query with an error, so the steps fail and the run
    ends the usual way (recorded failed, the published marts unchanged). If the process is still there
    RUN_STOP_TIMEOUT_S after the signal (a step stuck elsewhere, a cluster's server that is not ours to
    stop), it exits with EXIT_FAILED as a kill would: the data directory's lock goes with the process, and
    the next run records this one as interrupted and removes its leftovers (clm.recovery), as after a kill.
    A signal with no Python handler (SIGTERM before Dagster starts) ends the process outright, and the local
    server with it (its parent-death signal)."""

    def __init__(self, run_id: str, log_path: Path, timeout_s: float = RUN_STOP_TIMEOUT_S) -> None:
        import threading

        self.server = None  # the run's LocalThriftServer, once started
        self.signal_name: str | None = None  # the stop signal received, if any
        self.run_id, self.log_path, self.timeout_s = run_id, log_path, timeout_s
        self._done = threading.Event()
        self._read, self._write = os.pipe()
        self._previous: int | None = None
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach only the main thread's handlers: nothing to watch (close() still works)
        os.set_blocking(self._write, False)
        self._previous = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, name="clm-stop-guard", daemon=True).start()

    def _watch(self) -> None:
        while True:
            try:
                data = os.read(self._read, 64)
            except OSError:
                return
            if not data or self._done.is_set():
                return
            stop = [number for number in data if number in STOP_SIGNALS]
            if stop:
                break
        started = time.monotonic()
        name = self.signal_name = signal.Signals(stop[0]).name
        note = (
            f"clm run {self.run_id[:8]}: {name} received: stopping (the local Spark server now, the run "
            f"within {self.timeout_s:.0f} s)"
        )
        _say_safely(note, err=True)
        print(note, file=sys.stderr, flush=True)  # the run's log while the run writes it
        server = self.server
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop(timeout_s=SERVER_STOP_TIMEOUT_S)
        if self._done.wait(max(0.0, self.timeout_s - (time.monotonic() - started))):
            return
        note = (
            f"clm run {self.run_id[:8]}: FAILED: stopped by {name}; still running {self.timeout_s:.0f} s "
            "later, so it ended itself as a kill would (the next run records it as interrupted)"
        )
        _say_safely(note, err=True)
        with contextlib.suppress(OSError), open(self.log_path, "a", encoding="utf-8") as log:
            log.write(note + "\n")
        os._exit(EXIT_FAILED)

    def close(self) -> None:
        """The run ended by itself: stop watching (a signal from here on has Python's usual effect)."""
        self._done.set()
        if self._previous is not None:
            with contextlib.suppress(ValueError):
                signal.set_wakeup_fd(self._previous)
        os.close(self._write)  # the watcher's read returns empty


def _start_spark_server(settings: Settings, target: str):
    """``--target spark`` without CLM_SPARK_HOST: a local Thrift server for this run (spark_server),
    stopped when the run ends. None for any other target or with the user's server."""
    if target != "spark" or settings.spark_host:
        return None
    from clm.targets.spark_server import LocalThriftServer

    server = LocalThriftServer(settings.spark_dir, settings.spark_port)
    with progress.phase("spark", "starting a local Thrift server") as shown:
        endpoint = server.start()
        shown.done(f"answering at {endpoint}")
    print(
        f"clm: local Spark Thrift server at {endpoint} answered after {server.start_seconds:.1f} s",
        flush=True,
    )
    return server


def _record_failed(settings: Settings, run_id: str, message: str) -> None:
    """A run that failed outside the pipeline's steps (e.g. its Spark server did not start): failed in the
    build's audit.runs, unless a step recorded it already."""
    with contextlib.suppress(Exception):
        record = runs.read_run(settings, run_id)
        if record is not None and record["status"] == runs.RUNNING:
            runs.record_outcome(settings, run_id, runs.FAILED, message)


def _report_unchanged(settings: Settings, run_id: str, as_of: date, target: str, digest: str) -> bool:
    """Nothing new since the last published run (clm.inputs): record this run as unchanged, say so, True."""
    target_impl = target_for(target, settings)
    previous = inputs.unchanged_since(settings, digest, target, target_impl.published_runs())
    if previous is None:
        return False
    message = (
        f"nothing new since run {previous[:8]} (same landed files, as-of date, code and settings): "
        "nothing to publish, the published marts are unchanged"
    )
    with connect_build(settings) as con:
        runs.start_run(con, run_id, as_of, target)
        runs.finish_run(con, run_id, runs.UNCHANGED, message)
    _say_safely(f"clm run {run_id[:8]}: UNCHANGED (as of {as_of}): {message}")
    _say_safely(f"  published marts: {target_impl.location()}; clm run --full-refresh rebuilds anyway")
    return True


def _say_safely(text: str, err: bool = False) -> None:
    with contextlib.suppress(OSError):
        _say(text, err=err)


def _exit_quietly(code: int) -> None:
    """Exit without interpreter teardown, after multiprocessing's own exit handler.

    Every file is closed and the Dagster instance disposed by now. Skipping teardown avoids duckdb 2.0's
    nanobind reference-leak report (objects still held by library caches), which would bury the summary
    under 100 lines of noise; running multiprocessing's handler first releases its semaphores cleanly.
    """
    from multiprocessing import util

    util._exit_function()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@main.command()
@click.option("--port", default=3000, show_default=True)
def ui(port: int) -> None:
    """Start the Dagster web UI on the clm code location."""
    settings = load_settings()
    _prepare_environment(settings)
    _dbt_parse()
    dagster = Path(sys.executable).with_name("dagster")
    cmd = [str(dagster), "dev", "-m", CODE_LOCATION, "--port", str(port)]
    sys.exit(_serve_until_stopped(cmd, cwd=REPO_ROOT))


# How long `dagster dev` gets to stop its webserver, daemon and code servers before they are killed.
UI_STOP_TIMEOUT_S = 30


def _serve_until_stopped(cmd: list[str], cwd: Path) -> int:
    """Run ``cmd`` (dagster dev) in its own process group until it ends or this process is told to stop.

    dagster dev shuts its webserver, daemon and code servers down on SIGINT (Ctrl-C) but not on SIGTERM,
    which is what service managers, containers and CI send: both reach it here as one SIGINT to its group,
    and whatever is still running after UI_STOP_TIMEOUT_S is killed. Exit code 0 after a requested stop.
    """
    proc = subprocess.Popen(cmd, cwd=cwd, start_new_session=True)
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        if not stopping:
            stopping.append(signum)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    deadline: float | None = None
    while True:
        try:
            code = proc.wait(timeout=1)  # short waits: a signal's handler runs between them
            break
        except subprocess.TimeoutExpired:
            if stopping and deadline is None:
                deadline = time.monotonic() + UI_STOP_TIMEOUT_S
            if deadline is not None and time.monotonic() > deadline:
                _say(f"dagster dev did not stop within {UI_STOP_TIMEOUT_S} s: killing it", err=True)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                deadline = float("inf")
    # Code servers and the daemon live in the same group: none may outlive the UI.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    return 0 if stopping else code


if __name__ == "__main__":
    main()
