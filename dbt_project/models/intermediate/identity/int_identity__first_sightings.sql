{#-
    One row per customer: when it was first seen in any source, the earliest of its CRM contact's creation,
    any of its billing customers' creation and any of its tickets' creation (UTC). dim_customers publishes it
    as first_seen_at; the lifecycle starts there.
-#}
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

)

select
    customers.customer_id,
    first_sightings.first_seen_at
from customers
left join first_sightings
    on first_sightings.customer_id = customers.customer_id
