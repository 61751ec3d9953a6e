-- The current stage agrees with the paying level on the as-of date (int_lifecycle__mrr_steps, read from the
-- paying lines): a customer in a paying stage (onboarding, active, expanding, advocate, at_risk) is paying
-- (is_paying: level > 0, or under revenue_free_subscriptions = active covered by $0 lines since it paid); a
-- customer that has paid and is paying is in a paying stage; a churned customer is not paying, has level 0 and
-- has paid. And the paying level agrees with the published current_mrr (docs/marts.md#mrr), and is_paying
-- with the published is_active_customer (the as-of month's fct_mrr_movements.is_active): both read the paying
-- periods of int_invoice_lines__paying_periods, so they differ only where the lifecycle presumes a renewal due
-- on the as-of date that the extract does not hold yet (is_renewal_pending; MRR counts no invoice for it).
-- With the default policy is_paying = (level > 0) and is_active_customer = (current_mrr > 0).
-- Returns the offending customers.
with

customers as (

    select * from {{ ref('dim_customers') }}

),

stages as (

    select * from {{ ref('lifecycle_stages') }}

),

mrr_steps as (

    select * from {{ ref('int_lifecycle__mrr_steps') }}

),

paying_lines as (

    select * from {{ ref('int_lifecycle__paying_lines') }}

),

levels as (

    select
        customer_id,
        mrr_level,
        is_paying
    from mrr_steps
    where valid_to is null

),

-- customers whose paying level may differ from MRR: a renewal pending on the as-of date
adjusted as (

    select distinct
        customer_id
    from paying_lines
    where is_renewal_pending

),

checked as (

    select
        customers.customer_id,
        customers.current_stage,
        customers.current_mrr,
        customers.is_active_customer,
        customers.first_paid_at,
        stages.is_paying_stage,
        coalesce(levels.mrr_level, 0) as paying_level,
        coalesce(levels.is_paying, false) as is_paying,
        adjusted.customer_id is not null as is_adjusted
    from customers
    inner join stages
        on stages.stage = customers.current_stage
    left join levels
        on levels.customer_id = customers.customer_id
    left join adjusted
        on adjusted.customer_id = customers.customer_id

)

select *
from checked
where (is_paying_stage and not is_paying)
    or (first_paid_at is not null and is_paying and not is_paying_stage)
    or (current_stage = 'churned' and (is_paying or paying_level <> 0 or first_paid_at is null))
    or (paying_level > 0 and not is_paying)
    or ((current_mrr > 0) <> (paying_level > 0) and not is_adjusted)
    or (is_active_customer <> is_paying and not is_adjusted)
