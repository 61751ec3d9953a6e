{#- rpt_lifecycle_funnel_by_dimension: every dimension of var report_dimensions is there, and per stage the
    values of each dimension add up to the whole-base funnel (rpt_lifecycle_funnel) in customers_current and
    customers_ever: every customer sits in exactly one value of every dimension. Returns the dimension x stage
    pairs that do not add up, are missing, or are not configured. -#}
{%- set dimensions = clm_report_dimensions() %}

with

funnel as (

    select * from {{ ref('rpt_lifecycle_funnel') }}

),

by_dimension as (

    select * from {{ ref('rpt_lifecycle_funnel_by_dimension') }}

),

configured_dimensions as (

    {{ clm_dimension_names(dimensions) }}

),

-- what each cut must add up to: the whole base, stage by stage
expected as (

    select
        configured_dimensions.dimension,
        funnel.stage,
        funnel.customers_current,
        funnel.customers_ever
    from configured_dimensions
    cross join funnel

),

cuts as (

    select
        dimension,
        stage,
        sum(customers_current) as customers_current,
        sum(customers_ever) as customers_ever
    from by_dimension
    group by dimension, stage

)

select
    coalesce(expected.dimension, cuts.dimension) as dimension,
    coalesce(expected.stage, cuts.stage) as stage,
    expected.customers_current as whole_base_current,
    cuts.customers_current as cut_current,
    expected.customers_ever as whole_base_ever,
    cuts.customers_ever as cut_ever
from expected
full outer join cuts
    on cuts.dimension = expected.dimension
    and cuts.stage = expected.stage
where expected.dimension is null
    or cuts.dimension is null
    or cuts.customers_current <> expected.customers_current
    or cuts.customers_ever <> expected.customers_ever
