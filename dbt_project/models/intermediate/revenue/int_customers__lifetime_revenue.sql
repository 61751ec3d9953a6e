{#-
    Lifetime revenue per customer: the money actually collected, net of refunds, in the reporting currency.

    Source: billing charges (the payments), not invoices: a charge records what was collected and what was
    refunded of it, invoices do not carry refunds.
    * a charge counts when its status is succeeded and it was created on or before the as-of date;
    * its revenue = amount_reporting - amount_refunded_reporting: both converted in staging at the FX rate of
      the month the charge was created (so a refund is valued at its charge's rate);
    * amount_refunded is the refunded total of the newest version of the charge landed on or before the as-of
      date (charges carry no refund timestamp);
    * summed over every billing customer of the customer (int_identity__billing_customer_matches).
    Invoices paid without any charge (paid out of band, zero-amount invoices) add nothing.
    One row per customer with at least one such charge; dim_customers shows 0 for the others.
    Amounts are unrounded (DECIMAL(38,10)); dim_customers rounds the total to cents.
-#}
with

charges as (

    select * from {{ ref('stg_billing__charges') }}

),

billing_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

succeeded_charges as (

    select
        billing_matches.customer_id,
        charges.charge_id,
        charges.created_at,
        coalesce(charges.amount_reporting, 0) as amount_reporting,
        coalesce(charges.amount_refunded_reporting, 0) as amount_refunded_reporting
    from charges
    inner join billing_matches
        on billing_matches.billing_customer_id = charges.billing_customer_id
    where charges.status = 'succeeded'
        and charges.created_at < {{ clm_as_of_end() }}

),

final as (

    select
        cast(customer_id as varchar) as customer_id,
        cast(count(*) as integer) as succeeded_charges,
        cast(min(created_at) as timestamp) as first_charge_at,
        cast(max(created_at) as timestamp) as last_charge_at,
        cast(sum(amount_reporting) as decimal(38, 10)) as gross_revenue,
        cast(sum(amount_refunded_reporting) as decimal(38, 10)) as refunded_revenue,
        cast(sum(amount_reporting) - sum(amount_refunded_reporting) as decimal(38, 10)) as lifetime_revenue
    from succeeded_charges
    group by customer_id

)

select * from final
