{#-
    The lifecycle funnel cut by acquisition channel and by segment: one row per dimension, value and stage
    (macro clm_lifecycle_funnel documents every column). Customers without a value (billing-only customers
    have no CRM channel or segment) sit under 'unknown', so the groups of a dimension add up to the whole base
    in customers_current and customers_ever.
-#}
with

stages as (

    select * from {{ ref('lifecycle_stages') }}

),

spells as (

    select * from {{ ref('fct_lifecycle_stages') }}

),

customers as (

    select * from {{ ref('int_identity__customers') }}

),

customer_dimensions as (

    select
        customer_id,
        'acquisition_channel' as dimension,
        coalesce(acquisition_channel, 'unknown') as dimension_value
    from customers

    union all

    select
        customer_id,
        'segment' as dimension,
        coalesce(segment, 'unknown') as dimension_value
    from customers

),

{{ clm_lifecycle_funnel('customer_dimensions') }}

select
    cast(dimension as varchar) as dimension,
    cast(dimension_value as varchar) as dimension_value,
    cast(stage as varchar) as stage,
    cast(stage_order as integer) as stage_order,
    cast(customers_current as bigint) as customers_current,
    cast(customers_ever as bigint) as customers_ever,
    cast(customers_from_previous as bigint) as customers_from_previous,
    cast(conversion_from_previous as decimal(10, 4)) as conversion_from_previous,
    cast(median_days_to_reach as decimal(10, 1)) as median_days_to_reach
from funnel
