"""Predictive CLV: sBG, BG/NBD and Gamma-Gamma fitted by maximum likelihood (clm.clv) between the dbt phases.

Reads the dbt model inputs from the build warehouse, fits every model and segment, and writes
clv.customer_predictions and clv.model_parameters back into it; the second dbt phase turns them into the
marts fct_customer_clv and clv_model_parameters, so the quality gate and the atomic publish cover them.
"""

from datetime import datetime, time

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from clm import progress, runs
from clm.clv import pipeline, store
from clm.config import REPO_ROOT
from clm.progress import plural
from clm.warehouse import connect_build

from ..resources import ClmResource
from ..steps import clm_step
from .dbt import clm_dbt_models

INPUT_MODELS = (store.RENEWALS_MODEL, store.PURCHASES_MODEL)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["clv", table],
            deps=[get_asset_key_for_model([clm_dbt_models], model) for model in INPUT_MODELS],
            group_name="clv",
            description=description,
        )
        for table, description in (
            ("customer_predictions", "Per-customer sBG, BG/NBD and Gamma-Gamma expectations."),
            ("model_parameters", "Fitted parameters, standard errors and log-likelihoods per segment."),
        )
    ],
)
def clv_fits(context: dg.AssetExecutionContext, clm: ClmResource):
    with clm_step(context, clm) as (ctx, target):
        # fitted_at is the as-of date the data describe, never the clock (docs/marts.md#time: the same
        # extracts and as-of give the same marts on any day); when the run happened is in audit.runs.
        fitted_at = datetime.combine(ctx.as_of, time())
        clv_settings = pipeline.load_settings(REPO_ROOT / "dbt_project.yml")
        with progress.phase("CLV", "fitting sBG, BG/NBD, Gamma-Gamma") as shown:
            renewals, purchases = target.read_clv_inputs()
            result = pipeline.run(renewals, purchases, fitted_at, clv_settings)
            frames = {"customer_predictions": result.predictions, "model_parameters": result.parameters}
            target.write_clv_results(frames)
            fitted = result.parameters[["model", "segment"]].drop_duplicates()
            shown.done(
                f"{plural(len(fitted), 'fit')} ({len(renewals):,} subscribers, {len(purchases):,} "
                f"one-off buyers), {plural(len(result.warnings), 'segment')} not fitted"
            )
        for subject, message in result.warnings:
            context.log.warning(f"{subject}: {message}")
        if result.warnings:
            with connect_build(ctx.settings) as con:
                runs.record_warnings(con, ctx.run_id, "clv", result.warnings)
        context.log.info(
            f"CLV: {len(fitted)} model fits over {len(renewals)} subscribers and {len(purchases)} one-off "
            f"buyers; {len(result.warnings)} segment(s) not fitted"
        )
    yield dg.MaterializeResult(
        asset_key=["clv", "customer_predictions"],
        metadata={"customers": len(result.predictions)},
    )
    yield dg.MaterializeResult(
        asset_key=["clv", "model_parameters"],
        metadata={"fits": len(fitted), "segments_not_fitted": len(result.warnings)},
    )
