{#
    Generic test: the not-null checks of one model, folded into one data test node (issue 15: a production
    run ran one node per checked column, 182 of them, mostly dbt's per-node overhead; one scan per model
    does the same checks).

    `columns` lists the checked columns, each a name or {name: ..., where: <condition>} (null only counts
    where the condition holds, as dbt's `where` config did on a single not_null test). The failing rows are
    one row per column with nulls: column_name, null_rows (the nulls of that column) and model_rows (the rows
    of the model, for percentage thresholds); the test's failures are the sum of null_rows.

    Each column keeps its own threshold and its own name for var clm_data_tests: the name dbt gave its
    single not_null test, not_null_<model>_<column> (macro clm_not_null_column_checks). A column whose
    not_null contract constraint the target enforces (a published mart on DuckDB or Postgres: a null fails
    the model's build before any test runs) is left out there; on Spark, whose Parquet tables enforce no
    constraint, it is checked here, never relaxed.
#}
{% test clm_not_null_columns(model, columns) %}
    {{ config(fail_calc='cast(coalesce(sum(null_rows), 0) as bigint)') }}
    {%- set checks = clm_not_null_column_checks(clm_not_null_columns_model_node(model), columns) -%}
    {%- if checks | length == 0 %}
    select
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(0 as bigint) as null_rows,
        cast(0 as bigint) as model_rows
    where 1 = 0
    {%- else %}
    with counts as (
        select
            count(*) as model_rows
            {%- for check in checks %},
            count(case when {{ check.name }} is null{% if check.where %} and ({{ check.where }}){% endif %} then 1 end) as null_rows_{{ loop.index }}
            {%- endfor %}
        from {{ model }}
    )
    {%- for check in checks %}
    select
        cast('{{ check.name }}' as {{ dbt.type_string() }}) as column_name,
        cast(null_rows_{{ loop.index }} as bigint) as null_rows,
        cast(model_rows as bigint) as model_rows
    from counts
    where null_rows_{{ loop.index }} > 0
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endif %}
{% endtest %}

{#- The graph node of the model or seed a clm_not_null_columns test reads (its relation `model`), or none. -#}
{%- macro clm_not_null_columns_model_node(relation) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set identifier = relation.identifier if relation.identifier is defined else none -%}
    {%- for resource_type in ('model', 'seed', 'snapshot') -%}
        {%- set node = graph.nodes.get(resource_type ~ '.' ~ project_name ~ '.' ~ identifier) -%}
        {%- if node -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro -%}

{#- Whether the target enforces a contract's not_null constraints while it builds the table: DuckDB and
    Postgres do; Spark's Parquet tables do not (macro spark__persist_constraints). -#}
{%- macro clm_enforces_not_null_constraints() -%}
    {{ return(adapter.dispatch('clm_enforces_not_null_constraints', 'clm')()) }}
{%- endmacro -%}

{%- macro default__clm_enforces_not_null_constraints() -%}
    {{ return(true) }}
{%- endmacro -%}

{%- macro spark__clm_enforces_not_null_constraints() -%}
    {{ return(false) }}
{%- endmacro -%}

{#- Whether a column of `node` has a not_null constraint in the model's enforced contract. -#}
{%- macro clm_column_has_not_null_constraint(node, column_name) -%}
    {%- if node is none or not ((node.config.contract or {}).get('enforced', false)) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set column = node.columns.get(column_name, {}) -%}
    {%- for constraint in column.get('constraints', []) -%}
        {%- if constraint.get('type') == 'not_null' -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro -%}

{#- The columns a clm_not_null_columns test checks on this target: [{name, where, test_name,
    never_relaxed}], test_name being the name of the column's former single not_null test (its entry in var
    clm_data_tests). A column of a published mart with a not_null constraint is never relaxed; where the
    target enforces that constraint, the build has checked it and it is left out. -#}
{%- macro clm_not_null_column_checks(node, columns, all_targets=false) -%}
    {%- set model_name = node.name if node is not none else none -%}
    {%- set published = node is not none and 'published' in node.tags -%}
    {%- set enforced = clm_enforces_not_null_constraints() -%}
    {%- set checks = [] -%}
    {%- for column in columns -%}
        {%- set name = column.name if column is mapping else column -%}
        {%- set constrained = clm_column_has_not_null_constraint(node, name) -%}
        {%- if all_targets or not (constrained and enforced) -%}
            {%- do checks.append({
                'name': name,
                'where': column.get('where') if column is mapping else none,
                'test_name': 'not_null_' ~ model_name ~ '_' ~ name,
                'never_relaxed': published and constrained,
            }) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(checks) }}
{%- endmacro -%}
