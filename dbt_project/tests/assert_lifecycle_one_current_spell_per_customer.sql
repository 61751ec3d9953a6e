-- Exactly one current lifecycle stage per customer (docs/marts.md#lifecycle-stages): every dim_customers row
-- has one current spell, no customer has two. Returns the offending customers.
with

customers as (

    select * from {{ ref('dim_customers') }}

),

current_spells as (

    select
        customer_id,
        count(*) as current_spells
    from {{ ref('fct_lifecycle_stages') }}
    where is_current
    group by customer_id

)

select
    customers.customer_id,
    coalesce(current_spells.current_spells, 0) as current_spells
from customers
left join current_spells
    on current_spells.customer_id = customers.customer_id
where coalesce(current_spells.current_spells, 0) <> 1
