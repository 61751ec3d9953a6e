{#-
    The whole customer base at the contract's grain (cohort_month x months_since_start): the dimension = 'all'
    rows of rpt_cohort_retention_by_dimension, where the definitions live, constant-currency NRR included
    (starting_mrr_at_current_rate, net_revenue_retention_constant_currency).
-#}
with

retention_by_dimension as (

    select * from {{ ref('rpt_cohort_retention_by_dimension') }}

),

final as (

    select
        cohort_month,
        months_since_start,
        cohort_customers,
        active_customers,
        logo_retention,
        starting_mrr,
        mrr,
        net_revenue_retention,
        gross_revenue_retention,
        starting_mrr_at_current_rate,
        net_revenue_retention_constant_currency
    from retention_by_dimension
    where dimension = 'all'

)

select * from final
