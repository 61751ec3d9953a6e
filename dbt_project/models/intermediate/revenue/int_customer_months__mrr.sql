{#-
    MRR per customer and month (docs/marts.md#mrr), from the customer's first month with MRR > 0
    (first_paid_month; or, see is_active, an earlier month it is active at MRR 0) through the as-of month,
    months without MRR included (mrr = 0):
    * snapshot_date: the last day of the month; for the as-of month, the as-of date;
    * a line counts in a month when its paying period (int_invoice_lines__paying_periods, the one place that
      decides it, read by the lifecycle too: by default the invoiced service period) covers the snapshot date:
      service_start_date <= snapshot_date < paying_end_date (UTC dates, end exclusive);
    * its monthly amount (int_invoice_lines__normalized: amount x interval_multiplier / interval_divisor) is
      converted at the month's FX rate to the reporting currency, summed over all lines of all billing
      customers of the customer, and that exact sum is rounded to cents once (macros clm_mrr_part and
      clm_mrr_total: the rate multiplies before the interval divides, so a half cent rounds up): every later
      aggregate adds these rounded figures, so totals reconcile to the cent.
    * mrr_at_next_month_rate: the same covered lines converted at the NEXT month's rate, rounded the same way
      (one rounding of the customer-month's exact sum). fct_mrr_movements reads it as "M-1's MRR at M's rate"
      (constant currency, docs/marts.md#movements). Rounding: each figure is the exact sum (amount x rate, no
      rounding per line) rounded once to the cent, so lines with the same own-currency totals give the same
      figure at the same rate: a customer whose own-currency amounts did not change has mrr = the previous
      month's mrr_at_next_month_rate to the cent (retained), and fx_impact, the difference of two rounded
      figures, reconciles the bridge to the cent.
    * is_active: the customer is an active customer in the month: mrr > 0, or (revenue policy
      revenue_free_subscriptions = active) a $0 line active on the snapshot date covers it (its
      active_from_date, int_invoice_lines__paying_periods: covered without a gap since a paying line started).
      With the default policy (churned), is_active = (mrr > 0).
    A month whose rate is missing for a covered line's currency gives mrr null (test not_null fails loudly);
    likewise mrr_at_next_month_rate is null when the next month's rate is missing (not tested: the as-of
    month's next month is never compared).

    Incremental (macros/clm_increments.sql): a daily build deletes and recomputes the rows of the customers in
    int_increments__changed_customers, and every customer's rows of the months since the previous as-of
    month (their snapshots and lines are the only ones that can change for the others). A customer's
    first_paid_month then comes from its rows kept from earlier months; only a customer without any, which never
    paid before those months, takes it from them.
-#}
-- depends_on: {{ ref('int_increments__changed_customers') }}
{{ config(
    materialized=clm_materialized_by_customer(),
    incremental_strategy='append',
    pre_hook="{{ clm_delete_changed_customers('customer_id', 'month') }}",
) }}
{%- set incremental = clm_is_incremental() %}
with

invoice_lines as (

    select * from {{ ref('int_invoice_lines__paying_periods') }}
    {%- if incremental %}
    -- the changed customers' lines, and every line that pays on a day of the months being recomputed
    where {{ clm_changed_or_since('customer_id', 'paying_end_date') }}
    {%- endif %}

),

fx_rates as (

    {{ clm_fx_rates() }}

),

bounds as (

    select
        {{ clm_month('min(service_start_date)') }} as first_month,
        {{ clm_month(clm_as_of()) }} as last_month
    from invoice_lines

),

months as (

    {{ clm_month_spine('(select first_month from bounds)', '(select last_month from bounds)') }}

),

snapshots as (

    select
        month,
        case
            when month = {{ clm_month(clm_as_of()) }} then {{ clm_as_of() }}
            else {{ clm_month_end('month') }}
        end as snapshot_date
    from months

),

covered_lines as (

    select
        invoice_lines.customer_id,
        snapshots.month,
        snapshots.snapshot_date,
        invoice_lines.currency,
        invoice_lines.amount,
        invoice_lines.interval_multiplier,
        invoice_lines.interval_divisor,
        invoice_lines.monthly_amount,
        invoice_lines.active_from_date
    from invoice_lines
    inner join snapshots
        on {{ clm_line_pays_on('invoice_lines', 'snapshots.snapshot_date') }}
    {%- if incremental %}
    where {{ clm_changed_or_since('invoice_lines.customer_id', 'snapshots.month') }}
    {%- endif %}

),

-- customer-months covered by a $0 line that keeps the customer active (never with the default policy)
free_active_months as (

    select distinct
        customer_id,
        month
    from covered_lines
    where monthly_amount = 0
        and active_from_date <= snapshot_date

),

-- the customer-month's own-currency amounts, one row per currency and interval (lines that divide alike), with
-- that month's and the next month's rate
currency_amounts as (

    select
        customer_id,
        month,
        currency,
        interval_multiplier,
        interval_divisor,
        count(*) as subscription_lines,
        sum(amount) as amount
    from covered_lines
    group by customer_id, month, currency, interval_multiplier, interval_divisor

),

-- each group at the month's and at the next month's rate, multiplied before divided (macro clm_mrr_part)
converted as (

    select
        currency_amounts.customer_id,
        currency_amounts.month,
        currency_amounts.subscription_lines,
        month_rates.rate,
        next_month_rates.rate as next_month_rate,
        {{ clm_mrr_part(
            'currency_amounts.amount', 'currency_amounts.interval_multiplier',
            'currency_amounts.interval_divisor', 'month_rates.rate'
        ) }} as mrr_part,
        {{ clm_mrr_part(
            'currency_amounts.amount', 'currency_amounts.interval_multiplier',
            'currency_amounts.interval_divisor', 'next_month_rates.rate'
        ) }} as next_month_mrr_part
    from currency_amounts
    left join fx_rates as month_rates
        on month_rates.month = currency_amounts.month
        and month_rates.currency = currency_amounts.currency
    left join fx_rates as next_month_rates
        on next_month_rates.month = cast({{ dbt.dateadd('month', 1, 'currency_amounts.month') }} as date)
        and next_month_rates.currency = currency_amounts.currency

),

customer_month_mrr as (

    select
        customer_id,
        month,
        sum(subscription_lines) as subscription_lines,
        case
            when count(rate) = count(*) then {{ clm_mrr_total('sum(mrr_part)') }}
        end as mrr,
        case
            when count(next_month_rate) = count(*) then {{ clm_mrr_total('sum(next_month_mrr_part)') }}
        end as mrr_at_next_month_rate
    from converted
    group by customer_id, month

),

-- the months the customer is active: MRR > 0, or (policy active) a $0 line keeps it active, which a paying line
-- between two snapshots can start (never with the default policy)
active_months as (

    select customer_id, month from customer_month_mrr where mrr > 0
    union all
    select customer_id, month from free_active_months

),

{% if incremental -%}
-- the first paying month of each customer with rows kept from before (the pre-hook deleted the rest)
kept_first_paid_months as (

    select
        customer_id,
        min(first_paid_month) as first_paid_month
    from {{ this }}
    group by customer_id

),

{% endif -%}
first_paid_months as (

    select
        customer_id,
        min(month) as first_paid_month
    from active_months
    {%- if incremental %}
    where active_months.customer_id not in (select kept_first_paid_months.customer_id from kept_first_paid_months)
    {%- endif %}
    group by customer_id
    {%- if incremental %}
    union all
    select
        customer_id,
        first_paid_month
    from kept_first_paid_months
    {%- endif %}

),

customer_months as (

    select
        first_paid_months.customer_id,
        first_paid_months.first_paid_month,
        months.month
    from first_paid_months
    inner join months
        on months.month >= first_paid_months.first_paid_month
    {%- if incremental %}
    where {{ clm_changed_or_since('first_paid_months.customer_id', 'months.month') }}
    {%- endif %}

),

final as (

    select
        cast(customer_months.customer_id as {{ clm_type_string() }}) as customer_id,
        cast(customer_months.month as date) as month,
        cast(snapshots.snapshot_date as date) as snapshot_date,
        case
            when customer_month_mrr.customer_id is null then cast(0 as decimal(18, 2))
            else customer_month_mrr.mrr
        end as mrr,
        case
            when customer_month_mrr.customer_id is null then cast(0 as decimal(18, 2))
            else customer_month_mrr.mrr_at_next_month_rate
        end as mrr_at_next_month_rate,
        cast(coalesce(customer_month_mrr.subscription_lines, 0) as integer) as subscription_lines,
        cast(customer_months.first_paid_month as date) as first_paid_month,
        cast(
            coalesce(customer_month_mrr.mrr > 0, false) or free_active_months.customer_id is not null
            as boolean
        ) as is_active
    from customer_months
    inner join snapshots
        on snapshots.month = customer_months.month
    left join customer_month_mrr
        on customer_month_mrr.customer_id = customer_months.customer_id
        and customer_month_mrr.month = customer_months.month
    left join free_active_months
        on free_active_months.customer_id = customer_months.customer_id
        and free_active_months.month = customer_months.month

)

select * from final
