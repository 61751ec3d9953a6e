{#
    Source freshness judged against the as-of date, not the wall clock (docs/marts.md#time):
    `dbt source freshness` compares the newest loaded_at_field value on or before the as-of date with the end
    of the as-of date (midnight after it). Overrides dbt's default__collect_freshness for this project.
#}
{% macro default__collect_freshness(source, loaded_at_field, filter) %}
    {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
        select
            max({{ loaded_at_field }}) as max_loaded_at,
            {{ clm_as_of_end() }} as snapshotted_at
        from {{ source }}
        where _load_date <= {{ clm_as_of() }}
        {% if filter %}
            and ({{ filter }})
        {% endif %}
    {%- endcall %}
    {{ return(load_result('collect_freshness')) }}
{% endmacro %}
