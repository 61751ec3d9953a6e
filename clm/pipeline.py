"""`clm run`: execute the Dagster job in-process and explain the outcome in a few lines.

The package never imports the orchestration layer: the job comes from the Dagster code location named in
``CODE_LOCATION`` (the module ``dagster dev -m`` and ``clm ui`` load), as any Dagster tool finds it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from clm import runs
from clm.config import show
from clm.context import RunContext
from clm.publishing import finish_unpublished
from clm.targets import Target
from clm.warehouse import connect_build

CODE_LOCATION = "orchestration.definitions"
# The Dagster event log storage that dagster.yaml names (clm.cli.dagster_yaml).
EVENT_LOG_MODULE = "orchestration.event_log"
PIPELINE_JOB_NAME = "clm_pipeline"
SUMMARY_WIDTH = 110
SHOWN_WARNINGS = 2  # the rest are one query away; `make run` stays under 40 lines


@dataclass(frozen=True)
class Outcome:
    run_id: str
    published: bool
    report: str


def run_pipeline(ctx: RunContext, target: Target, log_path: Path) -> Outcome:
    import dagster as dg

    defs = importlib.import_module(CODE_LOCATION).defs
    run_config = {
        "resources": {
            "clm": {
                "config": {
                    "raw_dir": str(ctx.settings.raw_dir),
                    "as_of": ctx.as_of.isoformat(),
                    "full_refresh": ctx.full_refresh,
                    "target": ctx.target,
                }
            }
        },
        "loggers": {"console": {"config": {"log_level": "INFO"}}},
    }
    job = defs.resolve_job_def(PIPELINE_JOB_NAME)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False, run_id=ctx.run_id
        )
    if result.success:
        return Outcome(ctx.run_id, True, published_report(ctx, target, log_path))
    return Outcome(ctx.run_id, False, failure_report(ctx, target, result, log_path))


def _failure_from_result(result) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            user = data.user_failure_data
            detail = user.description if user and user.description else data.error.message.strip()
            return f"step {event.step_key} failed: {detail}"
    return "the run failed before any step ran"


def failure_report(ctx: RunContext, target: Target, result, log_path: Path) -> str:
    run = runs.read_run(ctx.settings, ctx.run_id)
    if run is not None and run["status"] == runs.RUNNING:
        # A failure the steps could not record themselves (e.g. Dagster failed between steps).
        finish_unpublished(ctx, target, runs.FAILED, _failure_from_result(result))
        run = runs.read_run(ctx.settings, ctx.run_id)
    if run is None:
        status, message = runs.FAILED, _failure_from_result(result)
    else:
        status, message = run["status"], run["message"]
    kept = (
        "the published marts are unchanged" if target.published_marts() else "nothing has been published yet"
    )
    return "\n".join(
        [
            f"clm run {ctx.run_id[:8]}: {status.upper()}: {message}",
            f"  {kept}; the run is recorded in audit.runs at {target.location()}",
            f"  full log: {show(log_path)}",
        ]
    )


def _wrapped(head: str, items: list[str], sep: str = ", ") -> str:
    """``head`` and ``items`` on lines of at most SUMMARY_WIDTH characters, continued indented, never
    breaking an item ("dim_customers (5 rows)" stays whole)."""
    lines = [head]
    for i, item in enumerate(items):
        piece = item + (sep.rstrip() if i < len(items) - 1 else "")
        if len(lines[-1]) + 1 + len(piece) > SUMMARY_WIDTH and lines[-1].strip() != head.strip():
            lines.append("   ")
        lines[-1] += " " + piece
    return "\n".join(lines)


def published_report(ctx: RunContext, target: Target, log_path: Path) -> str:
    settings, run_id = ctx.settings, ctx.run_id
    # The build database holds the audit of every run, whichever target the marts went to.
    with connect_build(settings, read_only=True) as con:
        totals = con.execute(
            """
            select count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0),
                   coalesce(sum(rows_quarantined), 0)
            from audit.load_manifest where run_id = ?
            """,
            [run_id],
        ).fetchall()[0]
        reasons = con.execute(
            """
            select coalesce(source || '/' || entity, 'files outside the layout'), count(*)
            from audit.quarantine where run_id = ? group by all order by 2 desc, 1 limit 5
            """,
            [run_id],
        ).fetchall()
        history = con.execute("select status, count(*) from audit.runs group by 1 order by 1").fetchall()
        warnings = con.execute(
            "select origin, subject, message from audit.run_warnings where run_id = ? order by all",
            [run_id],
        ).fetchall()
    files, read, loaded, quarantined = totals
    lines = [
        f"clm run {run_id[:8]}: PUBLISHED (as of {ctx.as_of})",
        f"  ingested {files} new file(s): {read:,} rows read, {loaded:,} loaded, {quarantined:,} quarantined",
    ]
    if reasons:
        lines.append("  quarantine entries by entity: " + ", ".join(f"{e} {n}" for e, n in reasons))
        lines.append(f"  rejected rows with reasons: {show(settings.quarantine_dir / run_id)}")
    if warnings:
        shown = [f"{subject}: {message}" for _origin, subject, message in warnings[:SHOWN_WARNINGS]]
        left = len(warnings) - SHOWN_WARNINGS
        more = [f"(and {left} more in audit.run_warnings)"] if left > 0 else []
        lines.append(_wrapped(f"  {len(warnings)} warning(s):", shown + more, sep="; "))
    marts = target.published_marts()
    lines.append(_wrapped("  marts:", [f"{name} ({rows:,} rows)" for name, rows in marts]))
    lines += [
        f"  published to {target.location()}",
        *([f"  read it: {hint}"] if (hint := target.how_to_read()) else []),
        "  runs so far: " + ", ".join(f"{n} {status}" for status, n in history),
        f"  data docs: {show(settings.data_docs_dir / 'index.html')}",
        f"  full log: {show(log_path)}",
        "  explore runs and assets: make ui (or .venv/bin/clm ui)",
    ]
    return "\n".join(lines)
