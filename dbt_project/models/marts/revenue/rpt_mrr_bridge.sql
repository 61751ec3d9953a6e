{#-
    The monthly MRR bridge (docs/marts.md#mrr-bridge): for every month from the first month with MRR through
    the as-of month, starting MRR (= the previous month's ending MRR, at its own month's rate) + new +
    expansion + reactivation
    - contraction - churned + fx_impact = ending MRR, to the cent. The movements are at constant currency (M's
    rate); fx_impact_mrr is what the change of exchange rate did to the starting MRR. Every figure adds the
    cent-rounded customer-month amounts of fct_mrr_movements (previous_mrr + fx_impact + mrr_change = mrr on
    every row), so the identity holds exactly; months without any movement row show zeros.
    Customers: starting / ending = active customers (fct_mrr_movements.previous_is_active / is_active: MRR > 0,
    or under revenue_free_subscriptions = active also covered by $0 lines after paying); starting + new +
    reactivation - churned = ending.
-#}
with

movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

bounds as (

    select
        min(month) as first_month,
        {{ clm_month(clm_as_of()) }} as last_month
    from movements

),

months as (

    {{ clm_month_spine('(select first_month from bounds)', '(select last_month from bounds)') }}

),

monthly as (

    select
        month,
        sum(previous_mrr) as starting_mrr,
        sum(case when movement = 'new' then mrr_change else 0 end) as new_mrr,
        sum(case when movement = 'expansion' then mrr_change else 0 end) as expansion_mrr,
        sum(case when movement = 'reactivation' then mrr_change else 0 end) as reactivation_mrr,
        -sum(case when movement = 'contraction' then mrr_change else 0 end) as contraction_mrr,
        -sum(case when movement = 'churn' then mrr_change else 0 end) as churned_mrr,
        sum(fx_impact) as fx_impact_mrr,
        sum(mrr) as ending_mrr,
        sum(case when previous_is_active then 1 else 0 end) as starting_customers,
        sum(case when movement = 'new' then 1 else 0 end) as new_customers,
        sum(case when movement = 'expansion' then 1 else 0 end) as expansion_customers,
        sum(case when movement = 'reactivation' then 1 else 0 end) as reactivation_customers,
        sum(case when movement = 'contraction' then 1 else 0 end) as contraction_customers,
        sum(case when movement = 'churn' then 1 else 0 end) as churned_customers,
        sum(case when movement = 'retained' then 1 else 0 end) as retained_customers,
        sum(case when is_active then 1 else 0 end) as ending_customers
    from movements
    group by month

),

final as (

    select
        cast(months.month as date) as month,
        cast(coalesce(monthly.starting_mrr, 0) as decimal(18, 2)) as starting_mrr,
        cast(coalesce(monthly.new_mrr, 0) as decimal(18, 2)) as new_mrr,
        cast(coalesce(monthly.expansion_mrr, 0) as decimal(18, 2)) as expansion_mrr,
        cast(coalesce(monthly.reactivation_mrr, 0) as decimal(18, 2)) as reactivation_mrr,
        cast(coalesce(monthly.contraction_mrr, 0) as decimal(18, 2)) as contraction_mrr,
        cast(coalesce(monthly.churned_mrr, 0) as decimal(18, 2)) as churned_mrr,
        cast(coalesce(monthly.fx_impact_mrr, 0) as decimal(18, 2)) as fx_impact_mrr,
        cast(coalesce(monthly.ending_mrr, 0) as decimal(18, 2)) as ending_mrr,
        cast(coalesce(monthly.starting_customers, 0) as integer) as starting_customers,
        cast(coalesce(monthly.new_customers, 0) as integer) as new_customers,
        cast(coalesce(monthly.expansion_customers, 0) as integer) as expansion_customers,
        cast(coalesce(monthly.reactivation_customers, 0) as integer) as reactivation_customers,
        cast(coalesce(monthly.contraction_customers, 0) as integer) as contraction_customers,
        cast(coalesce(monthly.churned_customers, 0) as integer) as churned_customers,
        cast(coalesce(monthly.retained_customers, 0) as integer) as retained_customers,
        cast(coalesce(monthly.ending_customers, 0) as integer) as ending_customers
    from months
    left join monthly
        on monthly.month = months.month

)

select * from final
