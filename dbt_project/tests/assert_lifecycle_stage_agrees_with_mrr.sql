-- The current stage agrees with the published MRR on the as-of date: a customer in a paying stage
-- (onboarding, active, expanding, advocate, at_risk) has current_mrr > 0; a customer that has paid and has
-- current_mrr > 0 is in a paying stage; a churned customer has current_mrr = 0 and has paid.
-- Returns the offending customers.
with

customers as (

    select * from {{ ref('dim_customers') }}

),

stages as (

    select * from {{ ref('lifecycle_stages') }}

)

select
    customers.customer_id,
    customers.current_stage,
    customers.current_mrr,
    customers.first_paid_at
from customers
inner join stages
    on stages.stage = customers.current_stage
where (stages.is_paying_stage and customers.current_mrr <= 0)
    or (customers.first_paid_at is not null and customers.current_mrr > 0 and not stages.is_paying_stage)
    or (customers.current_stage = 'churned' and (customers.current_mrr <> 0 or customers.first_paid_at is null))
