{#-
    Every invoice line (newest invoice version on or before the as-of date) with its customer, its service
    period as UTC dates and its amount normalized to one month in its own currency (docs/marts.md#mrr).
    Lines that do not count towards MRR stay in the table with the reason (mrr_exclusion_reason), so that a
    reader can see why a line was left out; int_customer_months__mrr keeps counts_towards_mrr lines only.

    monthly_amount = amount x interval_multiplier / interval_divisor, an exact fraction rounded half away from
    zero to 10 decimals (macro clm_exact_ratio_by_integer: interval_divisor is a positive integer on every line
    that counts; identical on DuckDB and Postgres):
    month: amount / interval_count; year: amount / (12 x interval_count);
    week: amount x 52 / (12 x interval_count) (52 weeks in 12 months);
    day: amount x 365 / (12 x interval_count) (365 days in 12 months).

    Incremental by billing customer (macros/clm_increments.sql): a daily build deletes and recomputes the lines
    of the billing customers in int_increments__changed_customers.
-#}
-- depends_on: {{ ref('int_increments__changed_customers') }}
{{ config(
    materialized=clm_materialized_by_customer(),
    incremental_strategy='append',
    pre_hook="{{ clm_delete_changed_billing_customers('billing_customer_id') }}",
) }}

with

invoice_lines as (

    select * from {{ ref('stg_billing__invoice_lines') }}

),

invoices as (

    select * from {{ ref('stg_billing__invoices') }}
    {%- if clm_is_incremental() %}
    where {{ clm_changed_billing_customers('billing_customer_id') }}
    {%- endif %}

),

billing_customer_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

subscription_items as (

    select * from {{ ref('stg_billing__subscription_items') }}

),

-- a line without price.recurring takes its subscription's billing interval: Stripe requires every item of a
-- subscription to share one interval, so it is known when the subscription's items agree on it
subscription_intervals as (

    select
        subscription_id,
        min(billing_interval) as billing_interval,
        min(interval_count) as interval_count
    from subscription_items
    where billing_interval is not null
    group by subscription_id
    having count(distinct billing_interval) = 1
        and count(distinct coalesce(interval_count, 1)) = 1

),

joined as (

    select
        invoice_lines.invoice_id,
        invoice_lines.line_index,
        invoice_lines.invoice_line_id,
        billing_customer_matches.customer_id,
        invoices.billing_customer_id,
        invoices.subscription_id,
        invoice_lines.price_id,
        invoices.status as invoice_status,
        invoice_lines.line_type,
        invoice_lines.is_proration,
        invoice_lines.currency,
        coalesce(invoice_lines.billing_interval, subscription_intervals.billing_interval) as billing_interval,
        case
            when invoice_lines.billing_interval is not null then coalesce(invoice_lines.interval_count, 1)
            else coalesce(subscription_intervals.interval_count, 1)
        end as interval_count,
        invoice_lines.quantity,
        invoice_lines.amount,
        invoice_lines.period_start_at,
        invoice_lines.period_end_at,
        cast(invoice_lines.period_start_at as date) as service_start_date,
        cast(invoice_lines.period_end_at as date) as service_end_date
    from invoice_lines
    inner join invoices
        on invoices.invoice_id = invoice_lines.invoice_id
    left join billing_customer_matches
        on billing_customer_matches.billing_customer_id = invoices.billing_customer_id
    left join subscription_intervals
        on subscription_intervals.subscription_id = invoices.subscription_id

),

-- monthly amount = amount x interval_multiplier / interval_divisor, an exact fraction per interval
intervals as (

    select
        joined.*,
        case billing_interval
            when 'month' then 1
            when 'year' then 1
            when 'week' then 52
            when 'day' then 365
        end as interval_multiplier,
        case billing_interval
            when 'month' then interval_count
            when 'year' then 12 * interval_count
            when 'week' then 12 * interval_count
            when 'day' then 12 * interval_count
        end as interval_divisor
    from joined

),

classified as (

    select
        intervals.*,
        case
            when line_type is null or line_type <> 'subscription' then 'not_a_subscription_line'
            when invoice_status = 'void' then 'void_invoice'
            when customer_id is null then 'unknown_customer'
            when amount is null then 'no_amount'
            when service_start_date is null or service_end_date is null then 'no_service_period'
            when service_end_date <= service_start_date then 'empty_service_period'
            when interval_divisor is null or interval_count < 1 then 'unknown_billing_interval'
        end as mrr_exclusion_reason
    from intervals

),

final as (

    select
        invoice_id,
        line_index,
        invoice_line_id,
        customer_id,
        billing_customer_id,
        subscription_id,
        price_id,
        invoice_status,
        line_type,
        is_proration,
        currency,
        billing_interval,
        interval_count,
        quantity,
        amount,
        interval_multiplier,
        interval_divisor,
        case
            when mrr_exclusion_reason is null
                then {{ clm_exact_ratio_by_integer('amount * interval_multiplier', 'interval_divisor', 10) }}
        end as monthly_amount,
        period_start_at,
        period_end_at,
        service_start_date,
        service_end_date,
        mrr_exclusion_reason is null as counts_towards_mrr,
        mrr_exclusion_reason
    from classified

)

select * from final
