{#- clm_clean_text(expr): trimmed text, empty -> null. -#}
{% macro clm_clean_text(expr) -%}
    nullif(trim({{ expr }}), '')
{%- endmacro %}

{#- clm_clean_code(expr, case='lower'): enum/code text compared the way ingestion validates it: trimmed, one case. -#}
{% macro clm_clean_code(expr, case='lower') -%}
    {{ case }}(nullif(trim({{ expr }}), ''))
{%- endmacro %}

{#
    clm_normalize_email(expr): the normalization of docs/identity.md#email-normalization, the same as
    clm.pii.normalize_email: leading/trailing whitespace removed, lower-cased, empty -> null.
#}
{% macro clm_normalize_email(expr) -%}
    {{ return(adapter.dispatch('clm_normalize_email', 'clm')(expr)) }}
{%- endmacro %}

{% macro default__clm_normalize_email(expr) -%}
    nullif(lower(regexp_replace({{ expr }}, '^\s+|\s+$', '', 'g')), '')
{%- endmacro %}

{#- Spark: regexp_replace replaces every match (its 4th argument is a position) and string literals take
    backslash escapes; the class is RE2's \s (tab, newline, form feed, carriage return, space). -#}
{% macro spark__clm_normalize_email(expr) -%}
    nullif(lower(regexp_replace({{ expr }}, '^[\\t\\n\\f\\r ]+|[\\t\\n\\f\\r ]+$', '')), '')
{%- endmacro %}

{#- clm_to_boolean(expr): true/false/t/f/1/0/yes/no/y/n in any case and padding -> boolean; anything else -> null. -#}
{% macro clm_to_boolean(expr) -%}
    case
        when lower(trim({{ expr }})) in ('true', 't', '1', 'yes', 'y') then true
        when lower(trim({{ expr }})) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}
