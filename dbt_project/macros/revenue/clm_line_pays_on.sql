{#
    clm_line_pays_on(lines, date_expr): the coverage rule of docs/marts.md#mrr as a condition: a line of
    int_invoice_lines__paying_periods (alias `lines`) pays on the day date_expr when its paying period
    [service_start_date, paying_end_date) contains it (UTC dates, end exclusive). int_invoice_lines__paying_periods
    decides the period; this macro is the one way to ask whether a day falls in it.
#}
{% macro clm_line_pays_on(lines, date_expr) -%}
    {{ lines }}.service_start_date <= {{ date_expr }}
        and {{ lines }}.paying_end_date > {{ date_expr }}
{%- endmacro %}
