{#-
    The whole customer base at the contract's grain (cohort_month x months_since_start): the dimension = 'all'
    rows of rpt_cohort_retention_by_dimension, where the definitions live, plus constant-currency NRR:
    * starting_mrr_at_current_rate: the cohort's starting MRR lines revalued at month cohort_month + k's rate
      (int_customer_cohorts__starting_mrr_revalued, cent-rounded per customer, then added up);
    * net_revenue_retention_constant_currency = mrr / starting_mrr_at_current_rate (clm_exact_ratio, like the
      other ratios): both sides at month k's rate, so exchange rates cancel out. net_revenue_retention and
      gross_revenue_retention stay in the reporting currency at each month's own rate (CONTRACT 6).
    A cohort's customers are the same in both: its cohort month is the month of each customer's `new`
    movement, which is its first month with MRR > 0 (int_customer_months__mrr.first_paid_month).
-#}
with

retention_by_dimension as (

    select * from {{ ref('rpt_cohort_retention_by_dimension') }}

),

starting_mrr_revalued as (

    select * from {{ ref('int_customer_cohorts__starting_mrr_revalued') }}

),

revalued_cohorts as (

    select
        cohort_month,
        cast({{ dbt.datediff('cohort_month', 'month', 'month') }} as integer) as months_since_start,
        -- null as soon as one customer's figure is null (a missing rate): never a partial sum
        case
            when count(starting_mrr_at_month_rate) = count(*) then sum(starting_mrr_at_month_rate)
        end as starting_mrr_at_current_rate
    from starting_mrr_revalued
    group by cohort_month, month

),

final as (

    select
        retention_by_dimension.cohort_month,
        retention_by_dimension.months_since_start,
        retention_by_dimension.cohort_customers,
        retention_by_dimension.active_customers,
        retention_by_dimension.logo_retention,
        retention_by_dimension.starting_mrr,
        retention_by_dimension.mrr,
        retention_by_dimension.net_revenue_retention,
        retention_by_dimension.gross_revenue_retention,
        cast(revalued_cohorts.starting_mrr_at_current_rate as decimal(18, 2)) as starting_mrr_at_current_rate,
        cast(
            {{ clm_exact_ratio('retention_by_dimension.mrr', 'revalued_cohorts.starting_mrr_at_current_rate', 6) }}
            as decimal(18, 6)
        ) as net_revenue_retention_constant_currency
    from retention_by_dimension
    left join revalued_cohorts
        on revalued_cohorts.cohort_month = retention_by_dimension.cohort_month
        and revalued_cohorts.months_since_start = retention_by_dimension.months_since_start
    where retention_by_dimension.dimension = 'all'

)

select * from final
