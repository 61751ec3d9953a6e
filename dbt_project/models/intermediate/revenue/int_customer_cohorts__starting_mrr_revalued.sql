{#-
    Each customer's starting MRR (its MRR in its cohort month, the first month with MRR > 0 = the month of its
    `new` movement) revalued at every later month's FX rate, for constant-currency net revenue retention
    (rpt_cohort_retention.net_revenue_retention_constant_currency).
    * The starting lines are those int_customer_months__mrr counts in the cohort month: paying periods covering
      the cohort month's snapshot date (service_start_date <= snapshot_date < paying_end_date, the same rule).
    * For every month from the cohort month to the as-of month (the customer's rows of int_customer_months__mrr),
      their own-currency amounts are converted at that month's rate and rounded to the cent once per
      customer-month, like mrr: in the cohort month the figure equals the customer's starting MRR exactly.
    * Null when the month lacks a rate for one of the starting currencies.

    Incremental (macros/clm_increments.sql): a daily build deletes and recomputes the rows of the customers in
    int_increments__changed_customers and every customer's rows of the months since the previous as-of month
    (a cohort month among them has a new snapshot date).
-#}
-- depends_on: {{ ref('int_increments__changed_customers') }}
{{ config(
    materialized=clm_materialized_by_customer(),
    incremental_strategy='append',
    pre_hook="{{ clm_delete_changed_customers('customer_id', 'month') }}",
) }}
with

customer_months as (

    select * from {{ ref('int_customer_months__mrr') }}

),

invoice_lines as (

    select * from {{ ref('int_invoice_lines__paying_periods') }}

),

fx_rates as (

    {{ clm_fx_rates() }}

),

cohort_snapshots as (

    select
        customer_id,
        first_paid_month as cohort_month,
        snapshot_date
    from customer_months
    where month = first_paid_month

),

-- the own-currency amounts of the lines behind each customer's starting MRR
starting_amounts as (

    select
        cohort_snapshots.customer_id,
        invoice_lines.currency,
        invoice_lines.interval_multiplier,
        invoice_lines.interval_divisor,
        sum(invoice_lines.amount) as amount
    from cohort_snapshots
    inner join invoice_lines
        on invoice_lines.customer_id = cohort_snapshots.customer_id
        and {{ clm_line_pays_on('invoice_lines', 'cohort_snapshots.snapshot_date') }}
    group by
        cohort_snapshots.customer_id,
        invoice_lines.currency,
        invoice_lines.interval_multiplier,
        invoice_lines.interval_divisor

),

revalued as (

    select
        customer_months.customer_id,
        customer_months.first_paid_month as cohort_month,
        customer_months.month,
        case
            when count(fx_rates.rate) = count(*)
                then {{ clm_mrr_total('sum(' ~ clm_mrr_part(
                    'starting_amounts.amount', 'starting_amounts.interval_multiplier',
                    'starting_amounts.interval_divisor', 'fx_rates.rate'
                ) ~ ')') }}
        end as starting_mrr_at_month_rate
    from customer_months
    inner join starting_amounts
        on starting_amounts.customer_id = customer_months.customer_id
    left join fx_rates
        on fx_rates.month = customer_months.month
        and fx_rates.currency = starting_amounts.currency
    {%- if clm_is_incremental() %}
    where {{ clm_changed_or_since('customer_months.customer_id', 'customer_months.month') }}
    {%- endif %}
    group by customer_months.customer_id, customer_months.first_paid_month, customer_months.month

),

final as (

    select
        cast(customer_id as {{ clm_type_string() }}) as customer_id,
        cast(cohort_month as date) as cohort_month,
        cast(month as date) as month,
        cast(starting_mrr_at_month_rate as decimal(18, 2)) as starting_mrr_at_month_rate
    from revalued

)

select * from final
