{#-
    Revenue policies (dbt vars in dbt_project.yml, README "Revenue policies"): the choices finance teams argue
    about, each with a default equal to clm's behaviour before the var existed.

    clm_revenue_policy(name): the validated value of one policy var; an invalid value fails compilation with a
    message naming the var, its allowed values and what it got (a typo must never silently fall back to the
    default: it would publish other numbers than the ones asked for). The models that read a policy call it
    while dbt parses the project, which every dbt command does first (vars changed: a full parse), so any dbt
    command refuses an invalid value, whatever it selects.
      revenue_churn_recognition          'period_end' (default) | 'cancellation'
      revenue_delinquent_churn_days      null (default: never) | an integer >= 0
      revenue_reactivation_window_months null (default: never) | an integer >= 0
      revenue_free_subscriptions         'churned' (default) | 'active'

-#}
{% macro clm_revenue_policy(name) -%}
    {%- set value = var(name, none) -%}
    {%- if name == 'revenue_churn_recognition' -%}
        {%- set value = 'period_end' if value is none else value -%}
        {%- if value not in ('period_end', 'cancellation') -%}
            {{ exceptions.raise_compiler_error(
                "var revenue_churn_recognition must be 'period_end' or 'cancellation', got " ~ (value | tojson)
            ) }}
        {%- endif -%}
    {%- elif name == 'revenue_free_subscriptions' -%}
        {%- set value = 'churned' if value is none else value -%}
        {%- if value not in ('churned', 'active') -%}
            {{ exceptions.raise_compiler_error(
                "var revenue_free_subscriptions must be 'churned' or 'active', got " ~ (value | tojson)
            ) }}
        {%- endif -%}
    {%- elif name in ('revenue_delinquent_churn_days', 'revenue_reactivation_window_months') -%}
        {#- YAML and --vars JSON give an integer; true/false are ints to Jinja, so they are refused by name -#}
        {%- if value is not none and (value is boolean or value is not integer or value < 0) -%}
            {{ exceptions.raise_compiler_error(
                "var " ~ name ~ " must be null (never) or an integer >= 0, got " ~ (value | tojson)
            ) }}
        {%- endif -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("clm_revenue_policy: unknown revenue policy var '" ~ name ~ "'") }}
    {%- endif -%}
    {{- return(value) -}}
{%- endmacro %}
