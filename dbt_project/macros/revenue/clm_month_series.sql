{#
    Superseded by clm_month_spine (macros/clm_month_spine.sql), the one month spine; kept only until
    rpt_mrr_bridge reads the spine too, then deleted.

    clm_month_series(start_month_expr, end_month_expr): a set-returning select-list expression that expands
    each row into one row per month, the DATE of every first day from start_month to end_month inclusive
    (both first days of a month). Use it like dbt_stripe's date spine, built from the data's own bounds:

        select customer_id, {{ clm_month_series('first_month', 'last_month') }} as month from bounds

    An end before the start gives no row.
#}
{% macro clm_month_series(start_month_expr, end_month_expr) -%}
    {{ return(adapter.dispatch('clm_month_series', 'clm')(start_month_expr, end_month_expr)) }}
{%- endmacro %}

{% macro default__clm_month_series(start_month_expr, end_month_expr) -%}
    cast(generate_series(
        cast({{ start_month_expr }} as timestamp), cast({{ end_month_expr }} as timestamp), interval '1 month'
    ) as date)
{%- endmacro %}

{% macro duckdb__clm_month_series(start_month_expr, end_month_expr) -%}
    cast(unnest(generate_series(
        cast({{ start_month_expr }} as timestamp), cast({{ end_month_expr }} as timestamp), interval 1 month
    )) as date)
{%- endmacro %}
