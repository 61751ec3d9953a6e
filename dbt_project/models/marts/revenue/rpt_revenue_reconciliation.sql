{#-
    Money that reconciles to cash (issue 14): per month, what was invoiced, what was collected and the MRR
    recognised, and the differences that explain MRR versus cash. Definitions in _reconciliation__models.yml; in short:
    * invoiced_*: lines (after discounts, before tax) of the invoices issued in the month (created_at; status
      open, paid or uncollectible as of the as-of date: drafts are not issued, void invoices are cancelled),
      at the FX rate of that month (stg_billing__invoice_lines.amount_reporting), split into subscription
      lines, proration items and one-off items;
    * collected: succeeded charges by charge date (at the charge month's rate) and invoices paid out of band
      by paid date, net of the charges' refunds: the rules of int_customers__lifetime_revenue, by month;
    * recognised_mrr: rpt_mrr_bridge's ending MRR;
    * the bridge from MRR to cash, exact to the cent on the rounded figures:
      collected_net = recognised_mrr + billing_timing + invoiced_prorations + invoiced_one_off
                      - invoiced_uncollectible - invoiced_open - refunds + collection_timing
      where billing_timing = invoiced_subscription - recognised_mrr (annual and multi-month plans billed up
      front: > 0 in the month billed, < 0 in the months recognised without an invoice) and collection_timing
      = collected_gross - (invoiced_total - invoiced_uncollectible - invoiced_open) (cash of the month for
      invoices issued in other months, less the month's invoices paid in other months, plus tax).
    Each amount is summed unrounded and rounded once to cents; the two differences are computed from the
    rounded figures, so the identity holds exactly (test assert_revenue_reconciliation_ties_out).
-#}
with

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

invoice_lines as (

    select * from {{ ref('stg_billing__invoice_lines') }}

),

charges as (

    select * from {{ ref('stg_billing__charges') }}

),

mrr_bridge as (

    select * from {{ ref('rpt_mrr_bridge') }}

),

---------- invoiced: the lines of the invoices issued in each month

issued_invoices as (

    select
        invoice_id,
        status,
        {{ clm_month('created_at') }} as month
    from invoices
    where status in ('open', 'paid', 'uncollectible')
        and created_at < {{ clm_as_of_end() }}

),

invoiced_lines as (

    select
        issued_invoices.month,
        issued_invoices.status,
        case
            when invoice_lines.line_type = 'subscription' then 'subscription'
            when invoice_lines.is_proration then 'proration'
            else 'one_off'
        end as line_kind,
        coalesce(invoice_lines.amount_reporting, 0) as amount_reporting
    from invoice_lines
    inner join issued_invoices
        on issued_invoices.invoice_id = invoice_lines.invoice_id

),

invoiced_by_month as (

    select
        month,
        round(sum(case when line_kind = 'subscription' then amount_reporting else 0 end), 2)
            as invoiced_subscription,
        round(sum(case when line_kind = 'proration' then amount_reporting else 0 end), 2) as invoiced_prorations,
        round(sum(case when line_kind = 'one_off' then amount_reporting else 0 end), 2) as invoiced_one_off,
        round(sum(case when status = 'uncollectible' then amount_reporting else 0 end), 2)
            as invoiced_uncollectible,
        round(sum(case when status = 'open' then amount_reporting else 0 end), 2) as invoiced_open
    from invoiced_lines
    group by month

),

---------- collected: succeeded charges by charge date, invoices paid out of band by paid date

succeeded_charges as (

    select
        invoice_id,
        {{ clm_month('created_at') }} as month,
        coalesce(amount_reporting, 0) as amount_reporting,
        coalesce(amount_refunded_reporting, 0) as amount_refunded_reporting
    from charges
    where status = 'succeeded'
        and created_at < {{ clm_as_of_end() }}

),

invoices_paid_out_of_band as (

    select
        {{ clm_month('paid_at') }} as month,
        coalesce(amount_paid_reporting, 0) as amount_reporting
    from invoices
    where amount_paid > 0
        and paid_at < {{ clm_as_of_end() }}
        and not exists (
            select 1 from succeeded_charges
            where succeeded_charges.invoice_id = invoices.invoice_id
        )

),

payments as (

    select
        month,
        amount_reporting as charged,
        cast(0 as decimal(38, 10)) as paid_out_of_band,
        amount_refunded_reporting as refunded
    from succeeded_charges

    union all

    select
        month,
        cast(0 as decimal(38, 10)) as charged,
        amount_reporting as paid_out_of_band,
        cast(0 as decimal(38, 10)) as refunded
    from invoices_paid_out_of_band

),

collected_by_month as (

    select
        month,
        round(sum(charged), 2) as collected_charges,
        round(sum(paid_out_of_band), 2) as collected_out_of_band,
        round(sum(refunded), 2) as refunds
    from payments
    group by month

),

---------- the months: first invoice, payment or MRR through the as-of month

months as (

    {{ clm_activity_month_spine(['invoiced_by_month', 'collected_by_month', 'mrr_bridge']) }}

),

joined as (

    select
        months.month,
        coalesce(invoiced_by_month.invoiced_subscription, 0) as invoiced_subscription,
        coalesce(invoiced_by_month.invoiced_prorations, 0) as invoiced_prorations,
        coalesce(invoiced_by_month.invoiced_one_off, 0) as invoiced_one_off,
        coalesce(invoiced_by_month.invoiced_uncollectible, 0) as invoiced_uncollectible,
        coalesce(invoiced_by_month.invoiced_open, 0) as invoiced_open,
        coalesce(collected_by_month.collected_charges, 0) as collected_charges,
        coalesce(collected_by_month.collected_out_of_band, 0) as collected_out_of_band,
        coalesce(collected_by_month.refunds, 0) as refunds,
        coalesce(mrr_bridge.ending_mrr, 0) as recognised_mrr
    from months
    left join invoiced_by_month
        on invoiced_by_month.month = months.month
    left join collected_by_month
        on collected_by_month.month = months.month
    left join mrr_bridge
        on mrr_bridge.month = months.month

),

totals as (

    select
        joined.*,
        invoiced_subscription + invoiced_prorations + invoiced_one_off as invoiced_total,
        collected_charges + collected_out_of_band as collected_gross,
        collected_charges + collected_out_of_band - refunds as collected_net
    from joined

),

final as (

    select
        cast(month as date) as month,
        cast(invoiced_subscription as decimal(18, 2)) as invoiced_subscription,
        cast(invoiced_prorations as decimal(18, 2)) as invoiced_prorations,
        cast(invoiced_one_off as decimal(18, 2)) as invoiced_one_off,
        cast(invoiced_total as decimal(18, 2)) as invoiced_total,
        cast(collected_charges as decimal(18, 2)) as collected_charges,
        cast(collected_out_of_band as decimal(18, 2)) as collected_out_of_band,
        cast(refunds as decimal(18, 2)) as refunds,
        cast(collected_net as decimal(18, 2)) as collected_net,
        cast(recognised_mrr as decimal(18, 2)) as recognised_mrr,
        cast(invoiced_subscription - recognised_mrr as decimal(18, 2)) as billing_timing,
        cast(invoiced_uncollectible as decimal(18, 2)) as invoiced_uncollectible,
        cast(invoiced_open as decimal(18, 2)) as invoiced_open,
        cast(
            collected_gross - (invoiced_total - invoiced_uncollectible - invoiced_open) as decimal(18, 2)
        ) as collection_timing
    from totals

)

select * from final
