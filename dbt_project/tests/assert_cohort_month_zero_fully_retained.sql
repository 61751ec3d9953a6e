{#- rpt_cohort_retention: in its cohort month (months_since_start 0) every customer of a cohort pays (its first
    `new` movement), so logo retention is 1, active = cohort customers and mrr = starting_mrr. -#}
select
    dimension,
    dimension_value,
    cohort_month,
    cohort_customers,
    active_customers,
    logo_retention,
    starting_mrr,
    mrr
from {{ ref('rpt_cohort_retention_by_dimension') }}
where months_since_start = 0
    and (logo_retention is null
        or logo_retention <> 1
        or active_customers <> cohort_customers
        or mrr <> starting_mrr)
