{#-
    The subscription lines that make a customer "paying" in the lifecycle and "alive" in the sBG model: the
    lines that count towards MRR (int_invoice_lines__normalized: subscription lines of non-void invoices,
    CONTRACT 6), with two corrections that MRR itself does not make, because MRR keeps the contract's
    month-end definition:
    * Cut at the subscription's end. A subscription that has ended is not a paying subscription: a customer
      canceled on the 20th of a period invoiced to the 5th of next month, or ended for non-payment with an
      uncollectible invoice still running, stops paying on the 20th. A line that starts on or after its
      subscription's end is dropped.
    * A renewal due on the as-of date. Invoices are cut at the period's end, so an extract taken during the
      as-of day may not hold the renewal of a period that ends that day. A subscription that has not ended by
      the as-of date (ended_at after it, or no ended_at and not canceled) and whose last line ends on the as-of
      date is still paying on the as-of date (is_renewal_pending): its next decision is after the extract.
-#}
with

invoice_lines as (

    select * from {{ ref('int_invoice_lines__normalized') }}

),

subscriptions as (

    select * from {{ ref('stg_billing__subscriptions') }}

),

mrr_lines as (

    select
        invoice_lines.customer_id,
        invoice_lines.subscription_id,
        invoice_lines.invoice_status,
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
    where invoice_lines.counts_towards_mrr

),

flagged as (

    select
        *,
        coalesce(
            invoiced_end_date = {{ clm_as_of() }}
            and subscription_last_end_date = {{ clm_as_of() }}
            and (
                subscription_ended_on > {{ clm_as_of() }}
                or (subscription_ended_on is null and subscription_status <> 'canceled')
            ),
            false
        ) as is_renewal_pending
    from mrr_lines

),

cut as (

    select
        customer_id,
        subscription_id,
        invoice_status,
        amount,
        monthly_amount,
        service_start_date,
        case
            when is_renewal_pending then {{ clm_add_days(clm_as_of(), 1) }}
            when subscription_ended_on < invoiced_end_date then subscription_ended_on
            else invoiced_end_date
        end as service_end_date,
        invoiced_end_date,
        is_renewal_pending
    from flagged

)

select *
from cut
where service_end_date > service_start_date
