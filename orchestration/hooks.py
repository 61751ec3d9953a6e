"""Record failed and blocked runs in audit.runs, whichever step failed."""

import dagster as dg

from clm import runs

from .resources import ClmResource


def _message(context: dg.HookContext) -> str:
    exc = context.op_exception
    if isinstance(exc, dg.Failure) and exc.description:
        return exc.description
    return f"step {context.op.name} failed: {exc!r}" if exc else f"step {context.op.name} failed"


@dg.failure_hook(required_resource_keys={"clm"})
def record_failed_run(context: dg.HookContext) -> None:
    clm: ClmResource = context.resources.clm
    status = runs.BLOCKED if context.op.name == "quality_gate" else runs.FAILED
    runs.record_outcome(clm.settings().build_db, context.run_id, status, _message(context))
