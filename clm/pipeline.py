"""`clm run`: execute the Dagster job in-process and explain the outcome in a few lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from clm import runs
from clm.config import Settings


@dataclass(frozen=True)
class Outcome:
    run_id: str
    published: bool
    report: str


def run_pipeline(settings: Settings, as_of: date | None, full_refresh: bool, target: str) -> Outcome:
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.jobs import PIPELINE_JOB_NAME

    run_config = {
        "resources": {
            "clm": {
                "config": {
                    "raw_dir": str(settings.raw_dir),
                    "as_of": as_of.isoformat() if as_of else "",
                    "full_refresh": full_refresh,
                    "target": target,
                }
            }
        },
        "loggers": {"console": {"config": {"log_level": "INFO"}}},
    }
    job = defs.resolve_job_def(PIPELINE_JOB_NAME)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False)
    run_id = result.run_id
    if result.success:
        return Outcome(run_id, True, published_report(settings, run_id, target))
    return Outcome(run_id, False, failure_report(settings, run_id, result))


def _failure_from_result(result) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            user = data.user_failure_data
            detail = user.description if user and user.description else data.error.message.strip()
            return f"step {event.step_key} failed: {detail}"
    return "the run failed before any step ran (see the log above)"


def failure_report(settings: Settings, run_id: str, result) -> str:
    run = runs.read_run(settings.build_db, run_id)
    if run is None or run["status"] == runs.RUNNING:
        message = _failure_from_result(result)
        runs.record_outcome(settings.build_db, run_id, runs.FAILED, message)
        status = runs.FAILED
    else:
        message, status = run["message"], run["status"]
    kept = (
        f"the previously published marts in {_show(settings.serving_db)} are unchanged"
        if settings.serving_db.exists()
        else "nothing has been published yet"
    )
    return "\n".join([f"clm run {run_id[:8]}: {status.upper()}: {message}", kept])


def _show(path: Path) -> str:
    """A path as the user typed it: relative to the working directory when it lies below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _published_marts(settings: Settings, target: str) -> list[tuple[str, int]]:
    if target == "postgres":
        from clm import postgres

        with postgres.connection() as pg:
            return postgres.mart_row_counts(pg)
    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        return con.execute(
            "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall()


def published_report(settings: Settings, run_id: str, target: str) -> str:
    # The build database holds the audit of every run, whichever target the marts went to.
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        totals = con.execute(
            """
            select count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0),
                   coalesce(sum(rows_quarantined), 0)
            from audit.load_manifest where run_id = ?
            """,
            [run_id],
        ).fetchone()
        reasons = con.execute(
            """
            select coalesce(source || '/' || entity, 'files outside the layout'), count(*)
            from audit.quarantine where run_id = ? group by all order by 2 desc, 1 limit 5
            """,
            [run_id],
        ).fetchall()
        as_of = con.execute("select as_of from audit.runs where run_id = ?", [run_id]).fetchone()
        history = con.execute("select status, count(*) from audit.runs group by 1 order by 1").fetchall()
        warnings = con.execute(
            "select origin, subject, message from audit.run_warnings where run_id = ? order by all",
            [run_id],
        ).fetchall()
    files, read, loaded, quarantined = totals
    lines = [
        f"clm run {run_id[:8]}: PUBLISHED (as of {as_of[0] if as_of else '?'})",
        f"  ingested {files} new file(s): {read:,} rows read, {loaded:,} loaded, {quarantined:,} quarantined",
    ]
    if reasons:
        lines.append("  quarantine entries by entity: " + ", ".join(f"{e} {n}" for e, n in reasons))
        lines.append(f"  rejected rows with reasons: {_show(settings.quarantine_dir / run_id)}")
    if warnings:
        shown = "; ".join(f"{subject}: {message}" for _origin, subject, message in warnings[:3])
        more = f" (and {len(warnings) - 3} more in audit.run_warnings)" if len(warnings) > 3 else ""
        lines.append(f"  {len(warnings)} warning(s): {shown}{more}")
    marts = _published_marts(settings, target)
    lines.append("  marts: " + ", ".join(f"{name} ({rows:,} rows)" for name, rows in marts))
    if target == "postgres":
        lines.append("  published to Postgres schemas marts and audit (PG* environment)")
    else:
        lines.append(f"  serving database: {_show(settings.serving_db)} (open read-only with duckdb 2.0.x)")
    lines += [
        "  runs so far: " + ", ".join(f"{n} {status}" for status, n in history),
        f"  data docs: {_show(settings.data_docs_dir / 'index.html')}",
        "  explore runs and assets: make ui (or .venv/bin/clm ui)",
    ]
    return "\n".join(lines)
