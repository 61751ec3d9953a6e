{#
    Custom schema names are used verbatim (staging, intermediate, marts, reference), not appended to the
    target schema as dbt does by default: the published marts live in schema `marts` on every target
    (docs/marts.md#where-the-marts-are). var schema_prefix (default '') is put in front of every custom
    schema, so that a build can go to e.g. build_staging / build_intermediate / build_marts / build_reference
    and be swapped in by publishing (clm/postgres.py). Nodes without a custom schema land in the target schema
    (main / public). Sources are not affected: raw stays raw.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ (var('schema_prefix', '') or '') | trim }}{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
