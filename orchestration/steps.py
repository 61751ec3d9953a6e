"""Every step runs inside ``clm_step``: it holds the data directory's lock, gets the run's context and
target, and when it fails records the run where BI reads it (``audit`` in the serving database) before the
failure reaches Dagster. This lives in the steps, not in a job hook, so it also holds for assets that a
user materializes from the UI outside the ``clm_pipeline`` job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg

from clm import lock, runs
from clm.context import RunContext, UsageError
from clm.publishing import finish_unpublished
from clm.targets import Target

from .resources import ClmResource

STEP_OWNER = "run"


def _context(context: dg.AssetExecutionContext, clm: ClmResource) -> tuple[RunContext, Target]:
    settings = clm.settings()
    run_id = context.run.run_id
    try:
        lock.acquire(settings.lock_path, run_id, owner=STEP_OWNER)
    except lock.RunLocked as locked:
        # The holder has the build database open: leave a record for it to take in.
        runs.record_skipped(settings, run_id, clm.target, str(locked))
        raise dg.Failure(description=str(locked), allow_retries=False) from None
    try:
        ctx = clm.run_context(run_id, settings)
    except UsageError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None
    return ctx, clm.target_for(ctx)


def _record_failure(
    context: dg.AssetExecutionContext, ctx: RunContext, target: Target, error: BaseException, blocked: bool
) -> None:
    if isinstance(error, dg.Failure) and error.description:
        message = error.description
    else:
        message = f"step {context.op_def.name} failed: {type(error).__name__}: {error}"
    if runs.read_run(ctx.settings, ctx.run_id) is None:
        return  # nothing of this run reached the build (e.g. publish selected alone): nothing to record
    status = runs.BLOCKED if blocked and isinstance(error, dg.Failure) else runs.FAILED
    try:
        finish_unpublished(ctx, target, status, message)
    except (
        Exception
    ) as audit_error:  # the run has failed already: say why its record is missing, keep its error
        context.log.error(f"could not record the failed run in audit: {audit_error!r}")


@contextlib.contextmanager
def clm_step(
    context: dg.AssetExecutionContext, clm: ClmResource, *, blocks: bool = False, last: bool = False
) -> Iterator[tuple[RunContext, Target]]:
    """``blocks``: a ``dg.Failure`` of this step means the run is blocked (the gate), not failed.
    ``last``: the run ends with this step, so the lock is released after it."""
    ctx, target = _context(context, clm)
    try:
        yield ctx, target
    except BaseException as error:
        _record_failure(context, ctx, target, error, blocks)
        lock.release(ctx.settings.lock_path, owner=STEP_OWNER)
        raise
    if last:
        lock.release(ctx.settings.lock_path, owner=STEP_OWNER)
