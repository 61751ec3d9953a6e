{#- rpt_cohort_retention: every cut splits the same customers, so per cohort month and months_since_start the
    values of each dimension add up to the whole base (dimension 'all'): customers, active customers, MRR. -#}
with

cells as (

    select * from {{ ref('rpt_cohort_retention_by_dimension') }}

),

whole_base as (

    select * from cells where dimension = 'all'

),

cuts as (

    select
        dimension,
        cohort_month,
        months_since_start,
        sum(cohort_customers) as cohort_customers,
        sum(active_customers) as active_customers,
        sum(starting_mrr) as starting_mrr,
        sum(mrr) as mrr
    from cells
    where dimension <> 'all'
    group by dimension, cohort_month, months_since_start

)

select
    cuts.dimension,
    cuts.cohort_month,
    cuts.months_since_start
from cuts
left join whole_base
    on whole_base.cohort_month = cuts.cohort_month
    and whole_base.months_since_start = cuts.months_since_start
where whole_base.cohort_month is null
    or whole_base.cohort_customers <> cuts.cohort_customers
    or whole_base.active_customers <> cuts.active_customers
    or whole_base.starting_mrr <> cuts.starting_mrr
    or whole_base.mrr <> cuts.mrr
