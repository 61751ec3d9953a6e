{#- rpt_cohort_retention_by_dimension: every cut (each dimension of var report_dimensions, and
    billing_interval) is there and splits the same customers, so per cohort month and months_since_start the
    values of each dimension add up to the whole base (dimension 'all'): customers, active customers, MRR,
    and the starting MRR at month k's rates behind constant-currency NRR (null in a cut's value when a rate is
    missing for one of its customers, and then null in 'all' too: a null must not vanish in the cut's sum).
    Returns the dimension x cell pairs that do not add up, are missing, or are not configured. -#}
{%- set dimensions = clm_report_dimensions() + ['billing_interval'] %}

with

cells as (

    select * from {{ ref('rpt_cohort_retention_by_dimension') }}

),

whole_base as (

    select * from cells where dimension = 'all'

),

configured_dimensions as (

    {{ clm_dimension_names(dimensions) }}

),

-- what each cut must add up to: the whole base, cell by cell
expected as (

    select
        configured_dimensions.dimension,
        whole_base.cohort_month,
        whole_base.months_since_start,
        whole_base.cohort_customers,
        whole_base.active_customers,
        whole_base.starting_mrr,
        whole_base.mrr,
        whole_base.starting_mrr_at_current_rate
    from configured_dimensions
    cross join whole_base

),

cuts as (

    select
        dimension,
        cohort_month,
        months_since_start,
        sum(cohort_customers) as cohort_customers,
        sum(active_customers) as active_customers,
        sum(starting_mrr) as starting_mrr,
        sum(mrr) as mrr,
        -- like the cells themselves: null when one value's figure is null, never a partial sum
        case
            when count(starting_mrr_at_current_rate) = count(*) then sum(starting_mrr_at_current_rate)
        end as starting_mrr_at_current_rate
    from cells
    where dimension <> 'all'
    group by dimension, cohort_month, months_since_start

)

select
    coalesce(expected.dimension, cuts.dimension) as dimension,
    coalesce(expected.cohort_month, cuts.cohort_month) as cohort_month,
    coalesce(expected.months_since_start, cuts.months_since_start) as months_since_start
from expected
full outer join cuts
    on cuts.dimension = expected.dimension
    and cuts.cohort_month = expected.cohort_month
    and cuts.months_since_start = expected.months_since_start
where expected.dimension is null
    or cuts.dimension is null
    or cuts.cohort_customers <> expected.cohort_customers
    or cuts.active_customers <> expected.active_customers
    or cuts.starting_mrr <> expected.starting_mrr
    or cuts.mrr <> expected.mrr
    or cuts.starting_mrr_at_current_rate is distinct from expected.starting_mrr_at_current_rate
