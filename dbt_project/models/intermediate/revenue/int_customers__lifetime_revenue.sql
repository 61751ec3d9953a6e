{#-
    Lifetime revenue per customer: the money actually collected, net of refunds, in the reporting currency.

    Payments are billing charges, plus invoices paid without one:
    * a charge counts when its status is succeeded and it was created on or before the as-of date; its revenue
      = amount_reporting - amount_refunded_reporting, both converted in staging at the FX rate of the month the
      charge was created (so a refund is valued at its charge's rate; charges carry no refund timestamp, so
      amount_refunded is the newest landed version's total);
    * an invoice paid (amount_paid > 0, paid on or before the as-of date) that no succeeded charge points to was
      paid out of band (bank transfer, check): its amount_paid counts, converted at the FX rate of the invoice's
      month as staged. An invoice that a succeeded charge paid counts once, through the charge;
    * summed over every billing customer of the customer (int_identity__billing_customer_matches).
    One row per customer with at least one payment; dim_customers shows 0 for the others.
    Amounts are unrounded (DECIMAL(38,10)); dim_customers rounds the total to cents.
-#}
with

charges as (

    select * from {{ ref('stg_billing__charges') }}

),

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

billing_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

succeeded_charges as (

    select
        billing_customer_id,
        invoice_id,
        created_at as paid_at,
        coalesce(amount_reporting, 0) as amount_reporting,
        coalesce(amount_refunded_reporting, 0) as amount_refunded_reporting
    from charges
    where status = 'succeeded'
        and created_at < {{ clm_as_of_end() }}

),

invoices_paid_out_of_band as (

    select
        invoices.billing_customer_id,
        invoices.paid_at,
        invoices.amount_paid_reporting as amount_reporting
    from invoices
    where invoices.amount_paid > 0
        and invoices.paid_at < {{ clm_as_of_end() }}
        and not exists (
            select 1 from succeeded_charges
            where succeeded_charges.invoice_id = invoices.invoice_id
        )

),

payments as (

    select
        billing_customer_id,
        paid_at,
        amount_reporting,
        amount_refunded_reporting,
        1 as is_charge
    from succeeded_charges

    union all

    select
        billing_customer_id,
        paid_at,
        amount_reporting,
        cast(0 as decimal(38, 10)) as amount_refunded_reporting,
        0 as is_charge
    from invoices_paid_out_of_band

),

final as (

    select
        cast(billing_matches.customer_id as {{ clm_type_string() }}) as customer_id,
        cast(sum(payments.is_charge) as integer) as succeeded_charges,
        cast(count(*) - sum(payments.is_charge) as integer) as invoices_paid_out_of_band,
        cast(min(payments.paid_at) as timestamp) as first_payment_at,
        cast(max(payments.paid_at) as timestamp) as last_payment_at,
        cast(sum(payments.amount_reporting) as decimal(38, 10)) as gross_revenue,
        cast(sum(payments.amount_refunded_reporting) as decimal(38, 10)) as refunded_revenue,
        cast(
            sum(payments.amount_reporting) - sum(payments.amount_refunded_reporting) as decimal(38, 10)
        ) as lifetime_revenue
    from payments
    inner join billing_matches
        on billing_matches.billing_customer_id = payments.billing_customer_id
    group by billing_matches.customer_id

)

select * from final
