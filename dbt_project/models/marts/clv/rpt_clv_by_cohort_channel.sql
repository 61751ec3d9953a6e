{#-
    Historical and predicted CLV rolled up by acquisition cohort (the month of the first payment) and
    acquisition channel ('unknown' without one): one row per cohort month and channel with customers
    acquired. Sums add up across rows; ratios are of the sums.
-#}
{#- The margin product through clm_money_times_ratio: on Spark the sum is DECIMAL(28, 2), and a plain product
    with DECIMAL(10, 6) is cut to 7 decimals. -#}
{%- set gross_margin = 'cast(' ~ var('gross_margin') ~ ' as decimal(10, 6))' -%}

with

customers as (

    select * from {{ ref('dim_customers') }}

),

clv as (

    select * from {{ ref('fct_customer_clv') }}

),

acquired as (

    select
        cast({{ dbt.date_trunc('month', 'customers.first_paid_at') }} as date) as cohort_month,
        coalesce(customers.acquisition_channel, 'unknown') as acquisition_channel,
        clv.*
    from customers
    inner join clv
        on clv.customer_id = customers.customer_id
    where customers.first_paid_at is not null

),

rolled_up as (

    select
        cohort_month,
        acquisition_channel,
        count(*) as customers,
        sum(lifetime_revenue) as lifetime_revenue,
        sum(cac) as cac,
        sum(historical_clv_net) as historical_clv_net,
        {{ clm_money_times_ratio('sum(lifetime_revenue)', gross_margin) }} as lifetime_margin,
        sum(predicted_clv_12m) as predicted_clv_12m
    from acquired
    group by cohort_month, acquisition_channel

),

-- an exact median (the middle value, or the mean of the two middle ones, rounded half away from zero):
-- percentile_cont goes through DOUBLE and rounds x.x5 differently on DuckDB and Postgres
ranked_paybacks as (

    select
        cohort_month,
        acquisition_channel,
        cac_payback_months,
        row_number() over (
            partition by cohort_month, acquisition_channel order by cac_payback_months
        ) as payback_rank,
        count(*) over (partition by cohort_month, acquisition_channel) as paybacks
    from acquired
    where cac_payback_months is not null

),

median_paybacks as (

    select
        cohort_month,
        acquisition_channel,
        {{ clm_exact_ratio('sum(cac_payback_months)', 'count(*)', 1) }} as median_cac_payback_months
    from ranked_paybacks
    where payback_rank in (floor((paybacks + 1) / 2.0), floor((paybacks + 2) / 2.0))
    group by cohort_month, acquisition_channel

)

select
    cast(rolled_up.cohort_month as date) as cohort_month,
    cast(rolled_up.acquisition_channel as {{ clm_type_string() }}) as acquisition_channel,
    cast(rolled_up.customers as bigint) as customers,
    cast(rolled_up.lifetime_revenue as decimal(18, 2)) as lifetime_revenue,
    cast(rolled_up.cac as decimal(18, 2)) as cac,
    cast(rolled_up.historical_clv_net as decimal(18, 2)) as historical_clv_net,
    cast({{ clm_exact_ratio('historical_clv_net', 'customers', 2) }} as decimal(18, 2))
        as historical_clv_net_per_customer,
    cast(
        case when cac > 0 then {{ clm_exact_ratio('lifetime_margin', 'cac', 4) }} end as decimal(18, 4)
    ) as clv_cac_ratio,
    cast(median_paybacks.median_cac_payback_months as decimal(10, 1)) as median_cac_payback_months,
    cast(rolled_up.predicted_clv_12m as decimal(18, 2)) as predicted_clv_12m
from rolled_up
left join median_paybacks
    on median_paybacks.cohort_month = rolled_up.cohort_month
    and median_paybacks.acquisition_channel = rolled_up.acquisition_channel
