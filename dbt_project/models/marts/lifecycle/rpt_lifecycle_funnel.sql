{#-
    The lifecycle funnel of the whole base, one row per stage in funnel order (macro clm_lifecycle_funnel
    documents every column).
-#}
with

stages as (

    select * from {{ ref('lifecycle_stages') }}

),

spells as (

    select * from {{ ref('fct_lifecycle_stages') }}

),

whole_base as (

    select distinct
        customer_id,
        'all' as dimension,
        'all' as dimension_value
    from spells

),

{{ clm_lifecycle_funnel('whole_base') }}

select
    cast(stage as {{ clm_type_string() }}) as stage,
    cast(stage_order as integer) as stage_order,
    cast(customers_current as bigint) as customers_current,
    cast(customers_ever as bigint) as customers_ever,
    cast(customers_from_previous as bigint) as customers_from_previous,
    cast(conversion_from_previous as decimal(10, 4)) as conversion_from_previous,
    cast(median_days_to_reach as decimal(10, 1)) as median_days_to_reach
from funnel
