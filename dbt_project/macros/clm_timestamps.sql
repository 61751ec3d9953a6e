{#
    Landed text -> UTC timestamps (TIMESTAMP without time zone, holding UTC wall time) on every target.
#}

{#- clm_regex_matches(expr, pattern): boolean, true when the text matches the (POSIX/RE2-compatible) pattern. -#}
{% macro clm_regex_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('clm_regex_matches', 'clm')(expr, pattern)) }}
{%- endmacro %}

{% macro default__clm_regex_matches(expr, pattern) -%}
    ({{ expr }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__clm_regex_matches(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{#- Spark: Java regex via rlike (patterns here use no backslash, which Spark's string literals would eat). -#}
{% macro spark__clm_regex_matches(expr, pattern) -%}
    ({{ expr }} rlike '{{ pattern }}')
{%- endmacro %}

{#
    clm_iso_timestamp_to_utc(expr): ISO-8601 text -> UTC timestamp.
    With an offset (Z, +02:00, -0500, +02) the instant is converted to UTC; without one the text is UTC already
    (docs/landing-zone.md#crm); date-only text is midnight UTC. Independent of the session time zone. Empty
    text -> null.
#}
{% macro clm_iso_timestamp_to_utc(expr) -%}
    {{ return(adapter.dispatch('clm_iso_timestamp_to_utc', 'clm')(expr)) }}
{%- endmacro %}

{% macro default__clm_iso_timestamp_to_utc(expr) -%}
    {%- set text = "upper(nullif(trim(" ~ expr ~ "), ''))" -%}
    case
        when {{ clm_regex_matches(text, '[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)? ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$') }}
            then cast((cast({{ text }} as timestamp with time zone) at time zone 'UTC') as timestamp)
        else cast({{ text }} as timestamp)
    end
{%- endmacro %}

{#
    Spark has no TIMESTAMP WITH TIME ZONE: with the session time zone UTC (profiles.yml), a cast of ISO text
    converts an offset to UTC and reads text without one as UTC. Spark's cast wants seconds before an offset
    ('09:00-05:00' gives null), a '.' before fractions and no space before the offset: the text is first
    normalised to that form.
#}
{% macro spark__clm_iso_timestamp_to_utc(expr) -%}
    {%- set text = "upper(nullif(trim(" ~ expr ~ "), ''))" -%}
    {%- set no_space = "regexp_replace(" ~ text ~ ", ' (Z|[+-][0-9]{2}(:?[0-9]{2})?)$', '$1')" -%}
    {%- set with_seconds = "regexp_replace(" ~ no_space ~ ", '([T ][0-9]{2}:[0-9]{2})(Z|[+-]|$)', '$1:00$2')" -%}
    cast(regexp_replace({{ with_seconds }}, '(:[0-9]{2}),([0-9]+)', '$1.$2') as timestamp)
{%- endmacro %}

{#- clm_unix_seconds_to_utc(expr): integer seconds since the epoch (text or number) -> UTC timestamp. -#}
{% macro clm_unix_seconds_to_utc(expr) -%}
    {{ return(adapter.dispatch('clm_unix_seconds_to_utc', 'clm')(expr)) }}
{%- endmacro %}

{% macro default__clm_unix_seconds_to_utc(expr) -%}
    cast((to_timestamp(cast(nullif(trim(cast({{ expr }} as {{ clm_type_string() }})), '') as bigint)) at time zone 'UTC') as timestamp)
{%- endmacro %}

{% macro spark__clm_unix_seconds_to_utc(expr) -%}
    timestamp_seconds(cast(nullif(trim(cast({{ expr }} as string)), '') as bigint))
{%- endmacro %}

{% macro duckdb__clm_unix_seconds_to_utc(expr) -%}
    make_timestamp(cast(nullif(trim(cast({{ expr }} as {{ clm_type_string() }})), '') as bigint) * 1000000)
{%- endmacro %}

{#- clm_month(expr): the DATE of the first day of the (UTC) month of a timestamp or date. -#}
{% macro clm_month(expr) -%}
    cast({{ dbt.date_trunc('month', expr) }} as date)
{%- endmacro %}
