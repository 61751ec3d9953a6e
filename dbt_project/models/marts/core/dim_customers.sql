with

customers as (

    select * from {{ ref('int_identity__customers') }}

),

billing_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

ticket_matches as (

    select * from {{ ref('int_identity__ticket_matches') }}

),

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

charges as (

    select * from {{ ref('stg_billing__charges') }}

),

-- first_seen_at: the earliest of the CRM contact's creation, any of its billing customers' creation and
-- any of its tickets' creation
sightings as (

    select customer_id, anchor_created_at as seen_at from customers
    union all
    select customer_id, created_at as seen_at from billing_matches
    union all
    select customer_id, created_at as seen_at from ticket_matches where customer_id is not null

),

first_sightings as (

    select
        customer_id,
        min(seen_at) as first_seen_at
    from sightings
    group by customer_id

),

-- first_paid_at: the first invoice with money paid (paid_at; created_at for a paid invoice without one)
-- or the first succeeded charge, on or before the as-of date
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
        cast(customers.customer_id as varchar) as customer_id,
        cast({{ clm_pii_hash('customers.email') }} as varchar) as email_hash,
        cast(customers.country as varchar) as country,
        cast(customers.segment as varchar) as segment,
        cast(customers.acquisition_channel as varchar) as acquisition_channel,
        cast(first_sightings.first_seen_at as timestamp) as first_seen_at,
        cast(first_payments.first_paid_at as timestamp) as first_paid_at
    from customers
    left join first_sightings
        on first_sightings.customer_id = customers.customer_id
    left join first_payments
        on first_payments.customer_id = customers.customer_id

)

select * from final
