-- rpt_kpis_monthly agrees with fct_mrr_movements and dim_customers; returns the months where it does not:
-- * the MRR bridge columns are fct_mrr_movements' sums of the month (the sums rpt_mrr_bridge publishes:
--   starting = previous_mrr, new / expansion / reactivation = mrr_change of those movements, contraction /
--   churned = -mrr_change, fx_impact = fx_impact, ending = mrr), 0 for months without movements, and
--   mrr = ending_mrr;
-- * new_customers / churned_customers = movements new / churn of the month;
-- * customers_acquired = customers of dim_customers whose first_paid_at falls in the month;
-- * in the as-of month, mrr = the sum of dim_customers.current_mrr.
-- (Not read from rpt_mrr_bridge itself: a test on the bridge would be selected by `--select rpt_mrr_bridge+`
-- without rpt_kpis_monthly; assert_mrr_bridge_reconciles ties the bridge to the same movements.)
with

kpis as (

    select * from {{ ref('rpt_kpis_monthly') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

movement_totals as (

    select
        month,
        sum(case when movement = 'new' then 1 else 0 end) as new_customers,
        sum(case when movement = 'churn' then 1 else 0 end) as churned_customers,
        sum(previous_mrr) as starting_mrr,
        sum(case when movement = 'new' then mrr_change else 0 end) as new_mrr,
        sum(case when movement = 'expansion' then mrr_change else 0 end) as expansion_mrr,
        sum(case when movement = 'reactivation' then mrr_change else 0 end) as reactivation_mrr,
        -sum(case when movement = 'contraction' then mrr_change else 0 end) as contraction_mrr,
        -sum(case when movement = 'churn' then mrr_change else 0 end) as churned_mrr,
        sum(fx_impact) as fx_impact_mrr,
        sum(mrr) as ending_mrr
    from movements
    group by month

),

acquired as (

    select
        {{ clm_month('first_paid_at') }} as month,
        count(*) as customers_acquired
    from customers
    where first_paid_at is not null
    group by {{ clm_month('first_paid_at') }}

),

current_mrr as (

    select sum(current_mrr) as current_mrr
    from customers

)

select
    kpis.month,
    kpis.new_customers,
    kpis.churned_customers,
    kpis.customers_acquired,
    acquired.customers_acquired as dim_customers_acquired,
    kpis.mrr,
    kpis.starting_mrr,
    kpis.ending_mrr,
    kpis.fx_impact_mrr,
    movement_totals.starting_mrr as movements_starting_mrr,
    movement_totals.fx_impact_mrr as movements_fx_impact_mrr,
    movement_totals.ending_mrr as movements_ending_mrr,
    current_mrr.current_mrr
from kpis
left join acquired
    on acquired.month = kpis.month
left join movement_totals
    on movement_totals.month = kpis.month
cross join current_mrr
where kpis.customers_acquired <> coalesce(acquired.customers_acquired, 0)
    or kpis.new_customers <> coalesce(movement_totals.new_customers, 0)
    or kpis.churned_customers <> coalesce(movement_totals.churned_customers, 0)
    or kpis.mrr <> kpis.ending_mrr
    or kpis.starting_mrr <> coalesce(movement_totals.starting_mrr, 0)
    or kpis.new_mrr <> coalesce(movement_totals.new_mrr, 0)
    or kpis.expansion_mrr <> coalesce(movement_totals.expansion_mrr, 0)
    or kpis.reactivation_mrr <> coalesce(movement_totals.reactivation_mrr, 0)
    or kpis.contraction_mrr <> coalesce(movement_totals.contraction_mrr, 0)
    or kpis.churned_mrr <> coalesce(movement_totals.churned_mrr, 0)
    or kpis.fx_impact_mrr <> coalesce(movement_totals.fx_impact_mrr, 0)
    or kpis.ending_mrr <> coalesce(movement_totals.ending_mrr, 0)
    or (kpis.month = {{ clm_month(clm_as_of()) }} and kpis.mrr <> coalesce(current_mrr.current_mrr, 0))
