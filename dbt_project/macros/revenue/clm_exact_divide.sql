{#
    clm_exact_divide(numerator_expr, divisor_expr): numerator / divisor as DECIMAL(38,10), rounded half away
    from zero at the 10th decimal, computed in integers so that DuckDB and Postgres give the same digits
    (DuckDB divides decimals as DOUBLE; Postgres rounds numeric division at its own scale).
    numerator_expr: a DECIMAL with at most 10 decimals (e.g. DECIMAL(38,4) money); divisor_expr: a positive
    integer expression. 100.0000 / 3 -> 33.3333333333; 2.0000 / 3 -> 0.6666666667.
#}
{% macro clm_exact_divide(numerator_expr, divisor_expr) -%}
    {{ return(adapter.dispatch('clm_exact_divide', 'clm')(numerator_expr, divisor_expr)) }}
{%- endmacro %}

{% macro default__clm_exact_divide(numerator_expr, divisor_expr) -%}
    cast(
        sign(round(({{ numerator_expr }}) * 10000000000))
        * div(abs(round(({{ numerator_expr }}) * 10000000000)) * 2 + ({{ divisor_expr }}), 2 * ({{ divisor_expr }}))
        * cast(0.0000000001 as decimal(38, 10))
        as decimal(38, 10)
    )
{%- endmacro %}

{% macro duckdb__clm_exact_divide(numerator_expr, divisor_expr) -%}
    cast(
        cast(
            sign(cast(({{ numerator_expr }}) * 10000000000 as hugeint))
            * ((abs(cast(({{ numerator_expr }}) * 10000000000 as hugeint)) * 2 + cast({{ divisor_expr }} as hugeint))
                // (2 * cast({{ divisor_expr }} as hugeint)))
            as decimal(38, 0)
        ) * cast(0.0000000001 as decimal(38, 10))
        as decimal(38, 10)
    )
{%- endmacro %}
