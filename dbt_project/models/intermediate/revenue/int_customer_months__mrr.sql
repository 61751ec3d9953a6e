{#-
    MRR per customer and month (CONTRACT 6 "MRR"), from the customer's first month with MRR > 0 through the
    as-of month, months without MRR included (mrr = 0):
    * snapshot_date: the last day of the month; for the as-of month, the as-of date;
    * a line counts in a month when its paying period (int_invoice_lines__paying_periods, the one place that
      decides it, read by the lifecycle too: by default the invoiced service period) covers the snapshot date:
      service_start_date <= snapshot_date < paying_end_date (UTC dates, end exclusive);
    * its monthly_amount (int_invoice_lines__normalized) is converted at the month's FX rate to the reporting
      currency, summed over all lines of all billing customers of the customer, then rounded to cents:
      every later aggregate adds these rounded figures, so totals reconcile to the cent.
    A month whose rate is missing for a covered line's currency gives mrr null (test not_null fails loudly).
-#}
with

invoice_lines as (

    select * from {{ ref('int_invoice_lines__paying_periods') }}

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
        invoice_lines.monthly_amount,
        fx_rates.rate
    from invoice_lines
    inner join snapshots
        on invoice_lines.service_start_date <= snapshots.snapshot_date
        and invoice_lines.paying_end_date > snapshots.snapshot_date
    left join fx_rates
        on fx_rates.month = snapshots.month
        and fx_rates.currency = invoice_lines.currency

),

customer_month_mrr as (

    select
        customer_id,
        month,
        count(*) as subscription_lines,
        case
            when count(rate) = count(*)
                then cast(round(sum(monthly_amount * rate), 2) as decimal(18, 2))
        end as mrr
    from covered_lines
    group by customer_id, month

),

first_paid_months as (

    select
        customer_id,
        min(month) as first_paid_month
    from customer_month_mrr
    where mrr > 0
    group by customer_id

),

customer_months as (

    select
        first_paid_months.customer_id,
        first_paid_months.first_paid_month,
        months.month
    from first_paid_months
    inner join months
        on months.month >= first_paid_months.first_paid_month

),

final as (

    select
        cast(customer_months.customer_id as varchar) as customer_id,
        cast(customer_months.month as date) as month,
        cast(snapshots.snapshot_date as date) as snapshot_date,
        case
            when customer_month_mrr.customer_id is null then cast(0 as decimal(18, 2))
            else customer_month_mrr.mrr
        end as mrr,
        cast(coalesce(customer_month_mrr.subscription_lines, 0) as integer) as subscription_lines,
        cast(customer_months.first_paid_month as date) as first_paid_month
    from customer_months
    inner join snapshots
        on snapshots.month = customer_months.month
    left join customer_month_mrr
        on customer_month_mrr.customer_id = customer_months.customer_id
        and customer_month_mrr.month = customer_months.month

)

select * from final
