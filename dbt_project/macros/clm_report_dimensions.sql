{#
    clm_report_dimensions(): the customer attributes that the per-dimension reports cut by (var
    report_dimensions, dbt_project.yml), as a list of column names of dim_customers. Read by
    rpt_cohort_retention_by_dimension and rpt_lifecycle_funnel_by_dimension (and by the quality gate's
    suites), so a dimension is added in one place. Each name must be a column of dim_customers documented in
    its YAML (the contract lists them all), not 'all' (the whole base) nor 'billing_interval' (the cohort
    report's own cut), and appear once; anything else fails compilation naming the var.
#}
{% macro clm_report_dimensions() -%}
    {%- set configured = var('report_dimensions', ['segment', 'acquisition_channel']) -%}
    {%- if configured is string or configured is mapping or configured is not iterable -%}
        {{ exceptions.raise_compiler_error(
            "var report_dimensions must be a list of dim_customers columns, got '" ~ configured ~ "'") }}
    {%- endif -%}
    {%- set dimensions = [] -%}
    {%- for item in configured -%}
        {%- set name = item | string | trim | lower -%}
        {%- if not modules.re.match('^[a-z_][a-z0-9_]*$', name) or name in ('all', 'billing_interval')
            or name in dimensions -%}
            {{ exceptions.raise_compiler_error(
                "var report_dimensions: '" ~ item ~ "' is not a dimension name (a dim_customers column, "
                ~ "once, not 'all' nor 'billing_interval')") }}
        {%- endif -%}
        {%- do dimensions.append(name) -%}
    {%- endfor -%}
    {#- the graph is empty when a unit test renders the model: nothing to check the names against -#}
    {%- if execute and graph.get('nodes') -%}
        {%- set customers = graph.get('nodes').values() | selectattr('resource_type', 'equalto', 'model')
            | selectattr('name', 'equalto', 'dim_customers') | list -%}
        {%- set columns = customers[0].columns.keys() | list if customers else [] -%}
        {%- for name in dimensions if name not in columns -%}
            {{ exceptions.raise_compiler_error(
                "var report_dimensions: '" ~ name ~ "' is not a column of dim_customers (its columns: "
                ~ (columns | join(', ')) ~ ")") }}
        {%- endfor -%}
    {%- endif -%}
    {{- return(dimensions) -}}
{%- endmacro %}

{#
    clm_dimension_rows(relation, columns, dimensions): one row per row of `relation` and dimension: the
    `columns` as they are, `dimension` (the dimension's name) and `dimension_value` (its value as text,
    'unknown' when null). `dimensions` maps each dimension name to the column (or expression over
    `relation`) that holds its value. Renders `select ... union all select ...`; no dimension gives no row.
#}
{% macro clm_dimension_rows(relation, columns, dimensions) -%}
    {%- for name, value_expr in dimensions.items() %}
    select
        {%- for column in columns %}
        {{ relation }}.{{ column }},
        {%- endfor %}
        cast('{{ name }}' as {{ clm_type_string() }}) as dimension,
        cast(coalesce(cast({{ value_expr }} as {{ clm_type_string() }}), 'unknown') as {{ clm_type_string() }}) as dimension_value
    from {{ relation }}
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- else %}
    select
        {%- for column in columns %}
        {{ relation }}.{{ column }},
        {%- endfor %}
        cast(null as {{ clm_type_string() }}) as dimension,
        cast(null as {{ clm_type_string() }}) as dimension_value
    from {{ relation }}
    where 1 = 0
    {%- endfor %}
{%- endmacro %}

{#
    clm_dimension_names(dimensions): a select (use it as a CTE body) of one row per name in `dimensions`, in
    column `dimension`: the cuts a per-dimension report must have (its add-up tests compare with it). No name
    gives no row.
#}
{% macro clm_dimension_names(dimensions) -%}
    {%- for dimension in dimensions %}
    select cast('{{ dimension }}' as {{ clm_type_string() }}) as dimension
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select cast(null as {{ clm_type_string() }}) as dimension where 1 = 0
    {%- endfor %}
{%- endmacro %}

{#
    clm_cohort_cuts(relation, columns, attributes): a select (use it as a CTE body) of `relation`'s `columns`
    once as dimension 'all' (dimension_value 'all') and once per attribute (dimension = its name,
    dimension_value = its value, 'unknown' when null). `relation` holds figures already added up by attribute
    values, so each copy is small; the consumer adds them up again by dimension.
#}
{% macro clm_cohort_cuts(relation, columns, attributes) -%}
    select
        {%- for column in columns %}
        {{ relation }}.{{ column }},
        {%- endfor %}
        cast('all' as {{ clm_type_string() }}) as dimension,
        cast('all' as {{ clm_type_string() }}) as dimension_value
    from {{ relation }}

    union all
    {%- set cuts = {} %}
    {%- for attribute in attributes %}{% do cuts.update({attribute: attribute}) %}{% endfor %}
    {{ clm_dimension_rows(relation, columns, cuts) }}
{%- endmacro %}
