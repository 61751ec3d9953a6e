{#-
    Lifecycle helpers (docs/marts.md#lifecycle-stages).

    clm_add_days(date_expr, days): date_expr + days as a DATE on every engine (dbt.dateadd gives a timestamp
    on Postgres).

    clm_lifecycle_health_signals(): the signals that put a paying customer at risk, in the order
    dim_customers.at_risk_reasons lists them. Each is a dbt var-driven rule in int_lifecycle__signals.

    clm_lifecycle_advocacy_signals(): the signals that make a paying customer an advocate.
-#}
{% macro clm_add_days(date_expr, days) -%}
    cast({{ dbt.dateadd('day', days, date_expr) }} as date)
{%- endmacro %}

{% macro clm_lifecycle_health_signals() -%}
    {{ return([
        'failed_payment',
        'past_due',
        'cancel_at_period_end',
        'contraction',
        'nps_detractor',
        'bad_csat',
        'ticket_spike',
    ]) }}
{%- endmacro %}

{% macro clm_lifecycle_advocacy_signals() -%}
    {{ return(['nps_promoter', 'paying_referral']) }}
{%- endmacro %}

{#- every signal int_lifecycle__signals emits, in the column order of int_lifecycle__stage_points -#}
{% macro clm_lifecycle_signals() -%}
    {{ return(
        ['seen', 'trial', 'paid', 'onboarding_window', 'paying', 'expansion']
        + clm_lifecycle_advocacy_signals()
        + clm_lifecycle_health_signals()
    ) }}
{%- endmacro %}

{#- the names whose boolean column `<prefix><name>` is true, comma-separated in list order; null when none -#}
{% macro clm_concat_flags(names, prefix) -%}
    nullif(concat_ws(', '
    {%- for name in names %}, case when {{ prefix }}{{ name }} then '{{ name }}' end{% endfor -%}
    ), '')
{%- endmacro %}
