{#
    clm_month_spine(start_month_expr, end_month_expr): the one month spine of the project. A select (use it as
    a CTE body) with one column `month`: the DATE of every first day of a month from start_month through
    end_month inclusive (both first days of a month). Every model that builds a month series reads it, the
    way dbt_stripe builds its date spine from the data's own bounds:

        months as (
            {{ clm_month_spine('(select first_month from bounds)', '(select last_month from bounds)') }}
        )

    The bounds are SQL expressions (scalar subqueries on a one-row CTE, or literals); a null bound or an end
    before the start gives no row. A series per entity (a customer's months from its first paid month) joins
    the spine on `month >= <its first month>` instead of building its own.

    Built from the same cross-database bricks as dbt.date_spine (dbt.generate_series, dbt.dateadd,
    dbt.datediff), so DuckDB, Postgres and Spark render it from dbt's own macros. Not dbt.date_spine itself:
    it counts its rows with a query at compile time (dbt.get_intervals_between), which cannot read bounds
    that come from the model's own inputs (nor from a unit test's fixture rows). Here the row count is
    bounded at compile time by clm_month_spine_max_months() and the data's bounds filter it at run time.
#}
{% macro clm_month_spine(start_month_expr, end_month_expr) -%}
    select
        cast({{ dbt.dateadd('month', 'month_offsets.month_offset', start_month_expr) }} as date) as month
    from (
        select cast(generated_number - 1 as integer) as month_offset
        from ({{ dbt.generate_series(clm_month_spine_max_months()) }}) as numbers
    ) as month_offsets
    where month_offsets.month_offset <= {{ dbt.datediff(start_month_expr, end_month_expr, 'month') }}
{%- endmacro %}

{#
    clm_activity_month_spine(relations): the month spine of a monthly report, from the first month any of
    ``relations`` (names of CTEs or relations, each with a DATE column `month`, first days) has a row for,
    through the as-of month. A select (use it as a CTE body):

        months as (
            {{ clm_activity_month_spine(['invoiced_by_month', 'collected_by_month']) }}
        )

    No row when none of them has a month.
#}
{% macro clm_activity_month_spine(relations) -%}
    {%- set first_month -%}
    (select min(month) from (
        {%- for relation in relations %}
        select month from {{ relation }}
        {%- if not loop.last %} union all{% endif %}
        {%- endfor %}
    ) as activity_months)
    {%- endset -%}
    {{ clm_month_spine(first_month, clm_month(clm_as_of())) }}
{%- endmacro %}

{#-
    clm_month_spine_max_months(): the longest spine, in months: 100 years of history up to the as-of month,
    far beyond any billing history (the series costs nothing: 2,048 generated rows at most).
-#}
{% macro clm_month_spine_max_months() -%}
    {{- return(1200) -}}
{%- endmacro %}

{#- clm_month_end(month_expr): the DATE of the last day of the month starting on month_expr. -#}
{% macro clm_month_end(month_expr) -%}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, month_expr)) }} as date)
{%- endmacro %}
