{#- rpt_cohort_retention: gross revenue retention caps every customer at its starting MRR, so it is never above
    1 and never above net revenue retention (where both are defined), and never below 0. -#}
select
    dimension,
    dimension_value,
    cohort_month,
    months_since_start,
    net_revenue_retention,
    gross_revenue_retention
from {{ ref('rpt_cohort_retention_by_dimension') }}
where gross_revenue_retention > 1
    or gross_revenue_retention < 0
    or (gross_revenue_retention is not null
        and net_revenue_retention is not null
        and gross_revenue_retention > net_revenue_retention)
