{#- rpt_cohort_retention: logo retention is a share of the cohort, between 0 and 1 (never above: only the
    cohort's own customers count as active), and consistent with its counts. -#}
select
    dimension,
    dimension_value,
    cohort_month,
    months_since_start,
    cohort_customers,
    active_customers,
    logo_retention
from {{ ref('rpt_cohort_retention_by_dimension') }}
where logo_retention is null
    or logo_retention < 0
    or logo_retention > 1
    or active_customers < 0
    or active_customers > cohort_customers
