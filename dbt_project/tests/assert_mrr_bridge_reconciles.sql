-- rpt_mrr_bridge reconciles to the cent (docs/marts.md#mrr-bridge): returns the months where
-- * starting + new + expansion + reactivation - contraction - churned + fx_impact != ending, or
-- * fx_impact_mrr != the sum of fct_mrr_movements.fx_impact of the month, or
-- * starting_mrr != the previous month's ending_mrr (0 before the first month), or
-- * ending_mrr != the sum of fct_mrr_movements.mrr of the month, or
-- * a month between the first and the last bridge month is missing, or
-- * fct_mrr_movements has a month that the bridge lacks, or
-- * a fct_mrr_movements row breaks previous_mrr + fx_impact + mrr_change = mrr, or
--   fx_impact != previous_mrr_at_current_rate - previous_mrr (one row per such customer-month).
with

bridge as (

    select * from {{ ref('rpt_mrr_bridge') }}

),

movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

movement_totals as (

    select
        month,
        sum(mrr) as movements_mrr,
        sum(fx_impact) as movements_fx_impact
    from movements
    group by month

),

checked as (

    select
        bridge.month,
        bridge.starting_mrr,
        bridge.new_mrr,
        bridge.expansion_mrr,
        bridge.reactivation_mrr,
        bridge.contraction_mrr,
        bridge.churned_mrr,
        bridge.fx_impact_mrr,
        bridge.ending_mrr,
        lag(bridge.ending_mrr) over (order by bridge.month) as previous_ending_mrr,
        lag(bridge.month) over (order by bridge.month) as previous_month,
        coalesce(movement_totals.movements_mrr, 0) as movements_mrr,
        coalesce(movement_totals.movements_fx_impact, 0) as movements_fx_impact
    from bridge
    left join movement_totals
        on movement_totals.month = bridge.month

)

select
    month,
    starting_mrr,
    new_mrr,
    expansion_mrr,
    reactivation_mrr,
    contraction_mrr,
    churned_mrr,
    fx_impact_mrr,
    ending_mrr,
    previous_ending_mrr,
    movements_mrr
from checked
where starting_mrr + new_mrr + expansion_mrr + reactivation_mrr - contraction_mrr - churned_mrr + fx_impact_mrr
    != ending_mrr
    or fx_impact_mrr != movements_fx_impact
    or starting_mrr != coalesce(previous_ending_mrr, 0)
    or ending_mrr != movements_mrr
    or (previous_month is not null
        and previous_month != cast({{ dbt.dateadd('month', -1, 'month') }} as date))

union all

select
    movement_totals.month,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    movement_totals.movements_mrr
from movement_totals
left join bridge
    on bridge.month = movement_totals.month
where bridge.month is null

union all

select
    month,
    previous_mrr,
    null,
    null,
    null,
    null,
    null,
    fx_impact,
    mrr,
    null,
    mrr_change
from movements
where previous_mrr + fx_impact + mrr_change != mrr
    or fx_impact != previous_mrr_at_current_rate - previous_mrr
