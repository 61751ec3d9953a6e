{#-
    The lifecycle funnel cut by each customer attribute of var report_dimensions (macro clm_report_dimensions;
    default acquisition channel and segment, current values from dim_customers): one row per dimension, value
    and stage (macro clm_lifecycle_funnel documents every column). Customers without a value (billing-only
    customers have no CRM channel or segment) sit under 'unknown', so the groups of a dimension add up to the
    whole base in customers_current and customers_ever (test assert_lifecycle_funnel_cuts_add_up_to_all).
-#}
{%- set dimensions = clm_report_dimensions() %}

with

stages as (

    select * from {{ ref('lifecycle_stages') }}

),

spells as (

    select * from {{ ref('fct_lifecycle_stages') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

customer_dimensions as (

    {%- set cuts = {} %}
    {%- for dimension in dimensions %}{% do cuts.update({dimension: dimension}) %}{% endfor %}
    {{ clm_dimension_rows('customers', ['customer_id'], cuts) }}

),

{{ clm_lifecycle_funnel('customer_dimensions') }}

select
    cast(dimension as {{ clm_type_string() }}) as dimension,
    cast(dimension_value as {{ clm_type_string() }}) as dimension_value,
    cast(stage as {{ clm_type_string() }}) as stage,
    cast(stage_order as integer) as stage_order,
    cast(customers_current as bigint) as customers_current,
    cast(customers_ever as bigint) as customers_ever,
    cast(customers_from_previous as bigint) as customers_from_previous,
    cast(conversion_from_previous as decimal(10, 4)) as conversion_from_previous,
    cast(median_days_to_reach as decimal(10, 1)) as median_days_to_reach
from funnel
