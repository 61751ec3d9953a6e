-- rpt_lifecycle_funnel counts agree with the spells and customers: customers_current sums to the number of
-- customers, customers_ever per stage equals the customers with a spell in it, and every dimension of
-- rpt_lifecycle_funnel_by_dimension adds up to the whole-base funnel. Returns the mismatches.
with

funnel as (

    select * from {{ ref('rpt_lifecycle_funnel') }}

),

by_dimension as (

    select * from {{ ref('rpt_lifecycle_funnel_by_dimension') }}

),

spells as (

    select * from {{ ref('fct_lifecycle_stages') }}

),

ever as (

    select
        stage,
        count(distinct customer_id) as customers_ever
    from spells
    group by stage

),

dimension_totals as (

    select
        dimension,
        stage,
        sum(customers_current) as customers_current,
        sum(customers_ever) as customers_ever
    from by_dimension
    group by dimension, stage

)

select
    'current does not sum to customers' as problem,
    cast(null as {{ clm_type_string() }}) as dimension,
    cast(null as {{ clm_type_string() }}) as stage
from funnel
having sum(customers_current) <> (select count(*) from {{ ref('dim_customers') }})

union all

select
    'customers_ever differs from spells' as problem,
    cast(null as {{ clm_type_string() }}) as dimension,
    funnel.stage
from funnel
left join ever
    on ever.stage = funnel.stage
where funnel.customers_ever <> coalesce(ever.customers_ever, 0)

union all

select
    'dimension does not add up' as problem,
    dimension_totals.dimension,
    dimension_totals.stage
from dimension_totals
inner join funnel
    on funnel.stage = dimension_totals.stage
where dimension_totals.customers_current <> funnel.customers_current
    or dimension_totals.customers_ever <> funnel.customers_ever
