{#-
    The time spine of the dbt semantic layer (README "Semantic layer"): one row per day from 2000-01-01 (no
    event before 2000 is loaded: docs/bad-input.md#faults) through 2050-12-31. MetricFlow joins it for metrics
    that fill months without rows (join_to_timespine) and for time offsets; _semantic__models.yml declares it
    (time_spine:). Built with dbt's own dbt.date_spine, so DuckDB, Postgres and Spark render it from their
    adapters' dateadd/datediff; 18,628 rows, a fixed range (never the as-of date: it does not depend on data).
-#}
with

days as (

    {{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2051-01-01' as date)") }}

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
