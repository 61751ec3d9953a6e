{#-
    MRR movements per customer and month (docs/marts.md#movements): month M compared with M-1 at constant
    currency, in the mrr-playbook way (month spine -> MRR per customer-month -> the month after the last
    paying month as a churn row -> lag()). int_customer_months__mrr holds every month from the customer's
    first paying month through the as-of month (0 after churn), so lag() is the previous calendar month.
    * previous_mrr: M-1's MRR at M-1's rate (what M-1 reported); previous_mrr_at_current_rate: the same lines of
      M-1 at M's rate (int_customer_months__mrr.mrr_at_next_month_rate of M-1), both rounded to the cent.
    * The movement and mrr_change compare mrr with previous_mrr_at_current_rate: a change of exchange rate is
      never a movement. fx_impact = previous_mrr_at_current_rate - previous_mrr, so that
      previous_mrr + fx_impact + mrr_change = mrr exactly (the bridge adds these cent figures). A churn loses
      previous_mrr_at_current_rate (mrr_change); the rest of previous_mrr's change is its fx_impact.
    * Rows where mrr, previous_mrr and previous_mrr_at_current_rate are all 0 are left out; a row with an FX
      figure only (M-1 below half a cent at one of the rates) is kept so that the bridge reconciles.
    * Paid before / not (new, reactivation) is judged at constant currency; a customer whose M-1 MRR was > 0 at
      M-1's rate but rounds to 0.00 at M's rate and is 0 now is still a churn (its whole loss is fx_impact).
    * Revenue policy revenue_reactivation_window_months = N (default null: never): MRR that returns more than N
      months after the churn month (the first month at 0 after the last paying month) is `new` again, not
      `reactivation`: months after churn = months between the last paying (active) month and this one, minus 1.
    * is_active / previous_is_active (int_customer_months__mrr.is_active of M and M-1): an active customer.
      With the default revenue_free_subscriptions = churned, is_active = (mrr > 0) and the rules above decide
      alone. With active, a customer covered only by $0 lines after paying ("free": active at MRR 0) moves
      paid -> free: contraction (its MRR falls to 0, the customer stays); free -> free: retained at 0 (the row
      is kept: an active customer); free -> paid: expansion; free -> not active: churn (mrr_change 0, the
      MRR was lost at the contraction); not active -> free (it paid only between two month-end snapshots):
      new or reactivation at 0. So churn is always active -> not active, and the bridge and KPIs count
      customers by is_active.

    Incremental (macros/clm_increments.sql), like int_customer_months__mrr: a daily build deletes and recomputes
    the rows of the customers in int_increments__changed_customers and every customer's rows of the months
    since the previous as-of month, each compared with the month before it (read, not rewritten), and with the
    customer's last paying month before that.
-#}
-- depends_on: {{ ref('int_increments__changed_customers') }}
{{ config(
    materialized=clm_materialized_by_customer(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ clm_delete_changed_customers('customer_id', 'month') }}",
) }}
{%- set reactivation_window = clm_revenue_policy('revenue_reactivation_window_months') %}
{%- set incremental = clm_is_incremental() %}
{%- set since_month = clm_since_month() %}
{%- set windowed = incremental and since_month is not none %}
with

all_customer_months as (

    select * from {{ ref('int_customer_months__mrr') }}

),

-- each customer's last active month before the months compared below (null: none, or every month compared)
earlier_paying_months as (

    select
        customer_id,
        max(month) as last_paying_month
    from all_customer_months
    {%- if windowed %}
    where is_active
        and {{ dbt.dateadd('month', 1, 'month') }} < {{ since_month }}
        and not {{ clm_changed_customers('customer_id') }}
    {%- else %}
    where false
    {%- endif %}
    group by customer_id

),

-- the months compared: the changed customers' all, the others' from the month before the previous as-of month
customer_months as (

    select
        all_customer_months.*,
        earlier_paying_months.last_paying_month as earlier_paying_month
    from all_customer_months
    left join earlier_paying_months
        on earlier_paying_months.customer_id = all_customer_months.customer_id
    {%- if windowed %}
    where {{ clm_changed_or_since('all_customer_months.customer_id', dbt.dateadd('month', 1, 'all_customer_months.month')) }}
    {%- endif %}

),

compared as (

    select
        customer_id,
        month,
        first_paid_month,
        mrr,
        is_active,
        coalesce(lag(is_active) over (partition by customer_id order by month), false) as previous_is_active,
        coalesce(
            lag(mrr) over (partition by customer_id order by month),
            cast(0 as decimal(18, 2))
        ) as previous_mrr,
        -- null (not 0) when M-1 exists but M's rate is missing, so that not_null fails loudly
        case
            when lag(month) over (partition by customer_id order by month) is null
                then cast(0 as decimal(18, 2))
            else lag(mrr_at_next_month_rate) over (partition by customer_id order by month)
        end as previous_mrr_at_current_rate,
        coalesce(
            max(case when is_active then month end) over (
                partition by customer_id order by month rows between unbounded preceding and 1 preceding
            ),
            earlier_paying_month
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
        previous_mrr_at_current_rate,
        mrr - previous_mrr_at_current_rate as mrr_change,
        previous_mrr_at_current_rate - previous_mrr as fx_impact,
        is_active,
        previous_is_active,
        case
            -- free (active at MRR 0) this month or last: only with revenue_free_subscriptions = active
            when is_active and mrr <= 0 and previous_is_active and previous_mrr <= 0 then 'retained'
            when is_active and mrr <= 0 and previous_is_active then 'contraction'
            -- active at 0 without an active M-1: paid between two month-end snapshots, free since
            when is_active and mrr <= 0 and month = first_paid_month then 'new'
            when is_active and mrr <= 0 then 'reactivation'
            when previous_is_active and previous_mrr <= 0 and is_active then 'expansion'
            when previous_is_active and previous_mrr <= 0 then 'churn'
            when previous_mrr_at_current_rate <= 0 and mrr > 0 and month = first_paid_month then 'new'
            {%- if reactivation_window is not none %}
            -- returned more than the reactivation window after the churn month (last paying month + 1)
            when previous_mrr_at_current_rate <= 0 and mrr > 0
                and {{ dbt.datediff('last_paying_month', 'month', 'month') }} - 1 > {{ reactivation_window }}
                then 'new'
            {%- endif %}
            when previous_mrr_at_current_rate <= 0 and mrr > 0 then 'reactivation'
            when (previous_mrr_at_current_rate > 0 or previous_mrr > 0) and mrr <= 0 then 'churn'
            when mrr > previous_mrr_at_current_rate then 'expansion'
            when mrr < previous_mrr_at_current_rate then 'contraction'
            else 'retained'
        end as movement
    from compared
    where not (
        mrr = 0 and previous_mrr = 0 and previous_mrr_at_current_rate = 0 and not is_active and not previous_is_active
    )
    {%- if windowed %}
        -- the month before the window was read for its figures only
        and {{ clm_changed_or_since('customer_id', 'month') }}
    {%- endif %}

),

final as (

    select
        cast(customer_id as {{ clm_type_string() }}) as customer_id,
        cast(month as date) as month,
        cast(mrr as decimal(18, 2)) as mrr,
        cast(previous_mrr as decimal(18, 2)) as previous_mrr,
        cast(mrr_change as decimal(18, 2)) as mrr_change,
        cast(movement as {{ clm_type_string() }}) as movement,
        cast(first_paid_month as date) as first_paid_month,
        month = first_paid_month as is_first_paid_month,
        cast(previous_mrr_at_current_rate as decimal(18, 2)) as previous_mrr_at_current_rate,
        cast(fx_impact as decimal(18, 2)) as fx_impact,
        cast(is_active as boolean) as is_active,
        cast(previous_is_active as boolean) as previous_is_active
    from classified

)

select * from final
