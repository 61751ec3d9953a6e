{#-
    The one place that decides over which days an invoice line pays. MRR (int_customer_months__mrr), the
    lifecycle's paying level (int_lifecycle__paying_lines, int_lifecycle__mrr_steps) and the sBG "alive"
    (int_clv__subscription_renewals, through int_lifecycle__paying_lines) all read these rows, so the stage and
    the MRR of a customer cannot disagree about when it pays.

    The lines: those that count towards MRR (int_invoice_lines__normalized: subscription lines of non-void
    invoices, CONTRACT 6). A voided invoice pays on no day, even if it was paid before being voided.

    The paying period [service_start_date, paying_end_date): by default (CONTRACT 6) the invoiced service period.
    MRR is recognised over the invoiced period, and churn is dated when the last invoiced period ends: a
    subscription canceled during a period it was invoiced for (immediately after its renewal was invoiced and
    paid on the renewal day, or with the period's charge refunded: a refund lowers lifetime revenue, not MRR)
    pays until that period ends. paying_end_date is the only column a churn-at-cancellation policy would change
    (cut at subscription_ended_on), for MRR and lifecycle at once.

    is_renewal_pending flags, without changing paying_end_date, the last line of a subscription that will renew
    (ended_at after the as-of date, or no ended_at and trialing, active or past_due) when that line ends on the
    as-of date itself: the renewal is due that day and invoices are cut at the period's end, so an extract taken
    during the as-of day may not hold it yet. An unpaid subscription (Stripe's "mark as unpaid" after failed
    dunning) renews nothing: not pending, so it churns when its last invoiced period ends, in MRR and lifecycle. MRR does not count it (no invoice covers the as-of date); the
    lifecycle counts the customer as still paying on the as-of date, so it is not churned by an extract's timing.
-#}
with

invoice_lines as (

    select * from {{ ref('int_invoice_lines__normalized') }}
    where counts_towards_mrr

),

subscriptions as (

    select * from {{ ref('stg_billing__subscriptions') }}

),

lines as (

    select
        invoice_lines.invoice_id,
        invoice_lines.line_index,
        invoice_lines.customer_id,
        invoice_lines.subscription_id,
        invoice_lines.invoice_status,
        invoice_lines.currency,
        invoice_lines.amount,
        invoice_lines.monthly_amount,
        invoice_lines.service_start_date,
        invoice_lines.service_end_date as invoiced_end_date,
        cast(subscriptions.ended_at as date) as subscription_ended_on,
        subscriptions.status as subscription_status,
        max(invoice_lines.service_end_date) over (
            partition by invoice_lines.subscription_id
        ) as subscription_last_end_date
    from invoice_lines
    left join subscriptions
        on subscriptions.subscription_id = invoice_lines.subscription_id

),

final as (

    select
        invoice_id,
        line_index,
        customer_id,
        subscription_id,
        invoice_status,
        currency,
        amount,
        monthly_amount,
        service_start_date,
        invoiced_end_date,
        -- the paying-period policy: the invoiced period (CONTRACT 6 default)
        invoiced_end_date as paying_end_date,
        subscription_ended_on,
        coalesce(
            invoiced_end_date = {{ clm_as_of() }}
            and subscription_last_end_date = {{ clm_as_of() }}
            and (
                subscription_ended_on > {{ clm_as_of() }}
                or (subscription_ended_on is null and subscription_status in ('trialing', 'active', 'past_due'))
            ),
            false
        ) as is_renewal_pending
    from lines

)

select *
from final
where paying_end_date > service_start_date
