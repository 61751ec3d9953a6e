-- rpt_kpis_monthly has one row for every month from its first month through the as-of month, and none after:
-- returns the months that break this (a gap, a month after the as-of month, or a missing as-of month).
with

kpis as (

    select month from {{ ref('rpt_kpis_monthly') }}

),

bounds as (

    select
        min(month) as first_month,
        max(month) as last_month,
        count(*) as months
    from kpis

),

problems as (

    select
        'month after the as-of month' as problem,
        month
    from kpis
    where month > {{ clm_month(clm_as_of()) }}

    union all

    select
        'gap between ' || cast(first_month as {{ clm_type_string() }})
        || ' and ' || cast(last_month as {{ clm_type_string() }}) as problem,
        last_month as month
    from bounds
    where months <> {{ dbt.datediff('first_month', 'last_month', 'month') }} + 1

    union all

    select
        'as-of month missing' as problem,
        last_month as month
    from bounds
    where months > 0
        and last_month <> {{ clm_month(clm_as_of()) }}

)

select * from problems
