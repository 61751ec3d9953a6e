"""Start a run when new files land; reruns with nothing new are avoided by the cursor."""

import dagster as dg

from clm.landing import landing_fingerprint

from .jobs import clm_pipeline
from .resources import ClmResource


@dg.sensor(
    job=clm_pipeline,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests a pipeline run when the set of landed files changes.",
)
def new_drops_sensor(context: dg.SensorEvaluationContext, clm: ClmResource):
    # The fingerprint reads only file names, sizes and mtimes: no lock on the build database is needed.
    fingerprint = landing_fingerprint(clm.settings().raw_dir)
    if fingerprint is None or fingerprint == context.cursor:
        return dg.SkipReason("no new files in the landing zone")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)
