"""Write-audit-publish, enforced where the publishing happens (docs/marts.md#publishing).

- The quality gate's verdict is recorded per run with a fingerprint of the exact marts it validated.
- ``publish_run`` refuses unless this run's gate passed over marts whose rows still have that fingerprint,
  whatever a user selected in the Dagster UI or the CLI. It copies only the marts the dbt project declares
  (``clm.manifest``) and names anything else it found in the build's marts schema.
- ``publish_audit_only`` gives BI the audit of a blocked or failed run with the marts left as they were.
- ``recover`` runs first in every run, under the lock: a run left ``running`` by a killed process becomes
  ``failed (interrupted)`` (or ``published`` when its marts did reach BI), and its leftovers are removed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clm import manifest, runs
from clm.context import RunContext
from clm.targets import Target
from clm.warehouse import connect_build


class NotValidated(RuntimeError):
    """Publishing was refused: the message says what is missing."""


@dataclass(frozen=True)
class DeclaredSet:
    marts: list[str]
    undeclared: list[str] = field(default_factory=list)  # in the build's marts schema, not published
    problems: list[str] = field(default_factory=list)  # declared marts that cannot be published


def declared_set(manifest_path: Path, target: Target) -> DeclaredSet:
    declared = manifest.declared_marts(manifest_path)
    problems = manifest.unpublishable(declared)
    built = set(target.built_marts())
    names = [m.name for m in declared]
    missing = [name for name in names if name not in built]
    problems += [f"declared mart {name} is not in the build (was it built?)" for name in missing]
    return DeclaredSet(names, sorted(built - set(names)), problems)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str
    warnings: list[tuple[str, str]]  # (subject, message): undeclared tables in the build's marts schema


def record_gate_verdict(
    ctx: RunContext,
    target: Target,
    manifest_path: Path,
    passed: bool,
    message: str,
    validated: Sequence[str] = (),
) -> Verdict:
    """Record the gate's verdict; a passing one carries the fingerprint of the declared marts it covered.
    A declared mart that cannot be published turns a pass into a block. ``validated``: the tables the gate's
    suites covered ("marts.dim_customers", ...); a declared mart without a suite is published with a
    warning."""
    fingerprint = None
    warnings: list[tuple[str, str]] = []
    if passed:
        found = declared_set(manifest_path, target)
        if found.problems:
            passed, message = False, "; ".join(found.problems)
        else:
            fingerprint = target.marts_fingerprint(found.marts)
        warnings = [
            (
                f"marts.{name}",
                "in the build's marts schema but not declared as published by the dbt project: "
                "not published (tag the model 'published' with an enforced contract, or drop the table)",
            )
            for name in found.undeclared
        ] + [
            (
                f"marts.{name}",
                "published with its dbt contract and tests but no quality-gate suite "
                "(add one in expectations/suites.py)",
            )
            for name in found.marts
            if f"marts.{name}" not in set(validated)
        ]
    with connect_build(ctx.settings) as con:
        runs.record_gate(con, ctx.run_id, passed, fingerprint, message)
        runs.record_warnings(con, ctx.run_id, "publish", warnings)
    return Verdict(passed, message, warnings)


@dataclass(frozen=True)
class Published:
    tables: dict[str, int]
    undeclared: list[str]


def publish_run(ctx: RunContext, target: Target, manifest_path: Path) -> Published:
    """Publish this run's validated marts, or raise ``NotValidated`` and publish nothing."""
    run = runs.read_run(ctx.settings, ctx.run_id)
    if run is None:
        raise NotValidated(
            f"run {ctx.run_id[:8]} did not ingest, build and validate anything: publishing needs the whole "
            "clm_pipeline job in one run (nothing was published)"
        )
    with connect_build(ctx.settings, read_only=True) as con:
        verdict = runs.read_gate(con, ctx.run_id)
    if verdict is None:
        raise NotValidated(
            f"run {ctx.run_id[:8]} has no quality-gate result: the gate must pass in the same run before "
            "publishing (nothing was published)"
        )
    passed, fingerprint = verdict
    if not passed:
        raise NotValidated(f"run {ctx.run_id[:8]}'s quality gate did not pass (nothing was published)")
    found = declared_set(manifest_path, target)
    if found.problems:
        raise NotValidated("; ".join(found.problems) + " (nothing was published)")
    if target.marts_fingerprint(found.marts) != fingerprint:
        raise NotValidated(
            "the marts changed after the quality gate validated them (another dbt build?): nothing was "
            "published; run the whole pipeline again"
        )
    message = f"published {len(found.marts)} marts to {target.location()}"
    _absorb_skipped(ctx)
    tables = target.publish(found.marts, ctx.run_id, message)
    # The published copy already says so; now the build's own record.
    runs.record_outcome(ctx.settings, ctx.run_id, runs.PUBLISHED, message)
    return Published(tables, found.undeclared)


def finish_unpublished(ctx: RunContext, target: Target, status: str, message: str) -> None:
    """A blocked or failed run: record it, then show BI its audit beside the unchanged marts."""
    runs.record_outcome(ctx.settings, ctx.run_id, status, message)
    _absorb_skipped(ctx)
    target.publish_audit()


def _settle(run_id: str, published: set[str], orchestrator_status: str | None) -> tuple[str, str]:
    if run_id in published:
        return runs.PUBLISHED, "published (its process stopped right after)"
    if orchestrator_status == "SUCCESS":
        return runs.PARTIAL, "ended without publishing: it materialized only some of the pipeline's assets"
    if orchestrator_status in ("FAILURE", "CANCELED"):
        return runs.FAILED, f"the orchestrator reports the run {orchestrator_status.lower()}"
    return runs.FAILED, runs.INTERRUPTED


def _absorb_skipped(ctx: RunContext) -> int:
    """Runs the lock turned away while this one ran: into audit.runs before it reaches BI."""
    with connect_build(ctx.settings) as con:
        return runs.absorb_skipped(con, ctx.settings)


def recover(
    ctx: RunContext, target: Target, orchestrator_status: Callable[[str], str | None] = lambda _run_id: None
) -> list[str]:
    """Under the lock, before this run's work: settle runs left ``running``, move the records of runs the
    lock turned away into audit.runs, remove leftover files. Lines for the log.

    ``orchestrator_status(run_id)`` is what the orchestrator knows of an earlier run: ``"SUCCESS"`` for a run
    that ended without publishing (only some assets were selected), ``"FAILURE"``/``"CANCELED"``, or None
    (unknown, or still marked started although its process is gone: interrupted)."""
    notes = [f"removed leftover {path}" for path in target.clean_leftovers()]
    if not ctx.settings.build_db.exists():
        return notes
    skipped = _absorb_skipped(ctx)
    with connect_build(ctx.settings) as con:
        stale = runs.interrupted_runs(con, ctx.run_id)
    if skipped:
        notes.append(f"recorded {skipped} run(s) skipped while another run held the lock")
    if not stale:
        return notes
    published = target.published_runs()
    with connect_build(ctx.settings) as con:
        for run_id in stale:
            status, message = _settle(run_id, published, orchestrator_status(run_id))
            runs.finish_run(con, run_id, status, message)
            notes.append(f"run {run_id[:8]}: recorded as {status}: {message}")
    return notes
