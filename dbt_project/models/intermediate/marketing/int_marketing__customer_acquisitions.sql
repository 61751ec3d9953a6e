{#-
    One row per customer (int_identity__customers) with when and through which channel it was acquired.

    * first_paid_at: the customer's first payment on or before the as-of date, UTC: the earliest invoice with
      money paid (amount_paid > 0; status_transitions.paid_at, created for a paid invoice without one) or
      succeeded charge with amount > 0, over all of its billing customers. dim_customers publishes it.
    * acquired_month: the month of first_paid_at. A customer counts as acquired when it first pays (not when
      the lead is created, and not at its first MRR month): this is the month CAC divides spend by.
      Null while the customer has never paid.
    * acquisition_channel: the CRM contact's channel (lower case), null for billing-only customers.
    * is_referred: the customer's CRM contact names a referring contact (referred_by_contact_id); false for
      billing-only customers.
-#}
with

customers as (

    select * from {{ ref('int_identity__customers') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

billing_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

charges as (

    select * from {{ ref('stg_billing__charges') }}

),

-- the first invoice with money paid (paid_at; created_at for a paid invoice without one) or the first
-- succeeded charge, on or before the as-of date
payments as (

    select
        billing_matches.customer_id,
        coalesce(invoices.paid_at, invoices.created_at) as paid_at
    from invoices
    inner join billing_matches
        on billing_matches.billing_customer_id = invoices.billing_customer_id
    where invoices.amount_paid > 0
        and (invoices.paid_at is not null or invoices.status = 'paid')

    union all

    select
        billing_matches.customer_id,
        charges.created_at as paid_at
    from charges
    inner join billing_matches
        on billing_matches.billing_customer_id = charges.billing_customer_id
    where charges.status = 'succeeded'
        and charges.amount > 0

),

first_payments as (

    select
        customer_id,
        min(paid_at) as first_paid_at
    from payments
    where paid_at < {{ clm_as_of_end() }}
    group by customer_id

),

final as (

    select
        cast(customers.customer_id as {{ clm_type_string() }}) as customer_id,
        cast(customers.contact_id as {{ clm_type_string() }}) as contact_id,
        cast(customers.acquisition_channel as {{ clm_type_string() }}) as acquisition_channel,
        coalesce(contacts.referred_by_contact_id is not null, false) as is_referred,
        cast(first_payments.first_paid_at as timestamp) as first_paid_at,
        {{ clm_month('first_payments.first_paid_at') }} as acquired_month
    from customers
    left join contacts
        on contacts.contact_id = customers.contact_id
    left join first_payments
        on first_payments.customer_id = customers.customer_id

)

select * from final
