{#-
    MRR movements per customer and month (CONTRACT 6): month M compared with M-1, in the mrr-playbook way
    (month spine -> MRR per customer-month -> the month after the last paying month as a churn row -> lag()).
    int_customer_months__mrr holds every month from the customer's first paying month through the as-of month
    (0 after churn), so lag() is the previous calendar month; rows where both months are 0 are left out.
    Revenue policy revenue_reactivation_window_months = N (default null: never): MRR that returns more than N
    months after the churn month (the first month at 0 after the last paying month) is `new` again, not
    `reactivation`: months after churn = months between the last paying month and this one, minus 1.
-#}
{%- set reactivation_window = clm_revenue_policy('revenue_reactivation_window_months') %}
with

customer_months as (

    select * from {{ ref('int_customer_months__mrr') }}

),

compared as (

    select
        customer_id,
        month,
        first_paid_month,
        mrr,
        coalesce(
            lag(mrr) over (partition by customer_id order by month),
            cast(0 as decimal(18, 2))
        ) as previous_mrr,
        max(case when mrr > 0 then month end) over (
            partition by customer_id order by month rows between unbounded preceding and 1 preceding
        ) as last_paying_month
    from customer_months

),

classified as (

    select
        customer_id,
        month,
        first_paid_month,
        mrr,
        previous_mrr,
        mrr - previous_mrr as mrr_change,
        case
            when previous_mrr <= 0 and mrr > 0 and month = first_paid_month then 'new'
            {%- if reactivation_window is not none %}
            -- returned more than the reactivation window after the churn month (last paying month + 1)
            when previous_mrr <= 0 and mrr > 0
                and {{ dbt.datediff('last_paying_month', 'month', 'month') }} - 1 > {{ reactivation_window }}
                then 'new'
            {%- endif %}
            when previous_mrr <= 0 and mrr > 0 then 'reactivation'
            when previous_mrr > 0 and mrr <= 0 then 'churn'
            when mrr > previous_mrr then 'expansion'
            when mrr < previous_mrr then 'contraction'
            else 'retained'
        end as movement
    from compared
    where not (mrr = 0 and previous_mrr = 0)

),

final as (

    select
        cast(customer_id as varchar) as customer_id,
        cast(month as date) as month,
        cast(mrr as decimal(18, 2)) as mrr,
        cast(previous_mrr as decimal(18, 2)) as previous_mrr,
        cast(mrr_change as decimal(18, 2)) as mrr_change,
        cast(movement as varchar) as movement,
        cast(first_paid_month as date) as first_paid_month,
        month = first_paid_month as is_first_paid_month
    from classified

)

select * from final
