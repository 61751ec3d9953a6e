{#
    Generic test: the column checks of one model (not_null, unique, accepted_values and
    unique_combination_of_columns, with dbt's own semantics) folded into one data test node, named
    column_checks_<model> (issue 15: a production run ran one node per check, 250 of them, mostly dbt's
    per-node overhead).

    Arguments, each optional:
      not_null: [<column> or {name: <column>, where: <condition>}]   nulls (where the condition holds)
      unique: [<column>]                                              values found more than once
      accepted_values: [{column: <column>, values: [...], quote: true}]  distinct values outside the list
      unique_combinations: [[<column>, ...]]                          combinations found more than once

    The failing rows are one row per failing check: check_name (the name dbt gave the check's former single
    test, e.g. not_null_<model>_<column>, macro clm_column_check_specs), failing_rows (what that test
    counted) and model_rows (the rows of the model, for percentage thresholds); the test's failures are their
    sum. Each check keeps its own threshold under its check_name in var clm_data_tests (macro
    clm_column_checks_test_sql).

    A not_null column whose contract constraint the target enforces (a published mart on DuckDB or Postgres:
    a null fails the model's build before any test runs) is left out there; on Spark, whose Parquet tables
    enforce no constraint, it is checked here, never relaxed.
#}
{% test clm_column_checks(model, not_null=[], unique=[], accepted_values=[], unique_combinations=[]) %}
    {{ config(fail_calc='cast(coalesce(sum(failing_rows), 0) as bigint)') }}
    {%- set checks = clm_column_check_specs(
        clm_column_checks_model_node(model), not_null, unique, accepted_values, unique_combinations) -%}
    {%- if checks | length == 0 %}
    select
        cast(null as {{ dbt.type_string() }}) as check_name,
        cast(0 as bigint) as failing_rows,
        cast(0 as bigint) as model_rows
    where 1 = 0
    {%- else %}
    with counts as (
        select
            count(*) as model_rows
            {%- for check in checks if check.kind == 'not_null' %},
            count(case when {{ check.column }} is null{% if check.where %} and ({{ check.where }}){% endif %} then 1 end) as failing_{{ check.index }}
            {%- endfor %}
        from {{ model }}
    )
    {%- for check in checks if check.kind != 'not_null' %},
    check_{{ check.index }} as (
        select count(*) as failing_{{ check.index }}
        from (
        {%- if check.kind == 'unique' %}
            select {{ check.column }}
            from {{ model }}
            where {{ check.column }} is not null
            group by {{ check.column }}
            having count(*) > 1
        {%- elif check.kind == 'accepted_values' %}
            select {{ check.column }} as value_field
            from {{ model }}
            group by {{ check.column }}
        {%- else %}
            select {{ check.columns | join(', ') }}
            from {{ model }}
            group by {{ check.columns | join(', ') }}
            having count(*) > 1
        {%- endif %}
        ) failing
        {%- if check.kind == 'accepted_values' %}
        where value_field not in (
            {%- for value in check['values'] -%}
            {{ ("'" ~ (value | string | replace("'", "''")) ~ "'") if check.quote else value }}
            {%- if not loop.last %}, {% endif -%}
            {%- endfor -%}
        )
        {%- endif %}
    )
    {%- endfor %},
    all_counts as (
        select *
        from counts
        {%- for check in checks if check.kind != 'not_null' %}
        cross join check_{{ check.index }}
        {%- endfor %}
    )
    {%- for check in checks %}
    select
        cast('{{ check.test_name }}' as {{ dbt.type_string() }}) as check_name,
        cast(failing_{{ check.index }} as bigint) as failing_rows,
        cast(model_rows as bigint) as model_rows
    from all_counts
    where failing_{{ check.index }} > 0
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endif %}
{% endtest %}

{#- The graph node of the model or seed a clm_column_checks test reads (its relation `model`), or none. -#}
{%- macro clm_column_checks_model_node(relation) -%}
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

{#- dbt's name of a generic test's argument values, as in its test names: non-alphanumerics to '_'. -#}
{%- macro _clm_name_part(value) -%}
    {{ return(modules.re.sub('[^0-9a-zA-Z_]+', '_', value | string)) }}
{%- endmacro -%}

{#- The checks of a clm_column_checks test on this target: [{index, kind, column / columns, where, values,
    quote, test_name, never_relaxed}]. test_name is the name dbt gave the check's former single test (its
    entry in var clm_data_tests and its name in messages); the published marts' grain (unique, unique
    combinations) and contracted not-nulls are never relaxed. Where the target enforces a not_null
    constraint, the build has checked it and the column is left out, unless all_targets. -#}
{%- macro clm_column_check_specs(node, not_null=[], unique=[], accepted_values=[], unique_combinations=[],
    all_targets=false) -%}
    {%- set model_name = node.name if node is not none else none -%}
    {%- set published = node is not none and 'published' in node.tags -%}
    {%- set enforced = clm_enforces_not_null_constraints() -%}
    {%- set checks = [] -%}
    {%- for column in not_null or [] -%}
        {%- set name = column.name if column is mapping else column -%}
        {%- set constrained = clm_column_has_not_null_constraint(node, name) -%}
        {%- if all_targets or not (constrained and enforced) -%}
            {%- do checks.append({'kind': 'not_null', 'column': name,
                'where': column.get('where') if column is mapping else none,
                'test_name': 'not_null_' ~ model_name ~ '_' ~ name,
                'never_relaxed': published and constrained}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for column in unique or [] -%}
        {%- do checks.append({'kind': 'unique', 'column': column,
            'test_name': 'unique_' ~ model_name ~ '_' ~ column, 'never_relaxed': published}) -%}
    {%- endfor -%}
    {%- for spec in accepted_values or [] -%}
        {%- set quote = spec.get('quote', true) -%}
        {%- set parts = [spec.column] + ([] if quote else ['False']) + spec['values'] -%}
        {%- set cleaned = [] -%}
        {%- for part in parts -%}
            {%- do cleaned.append(_clm_name_part(part)) -%}
        {%- endfor -%}
        {%- do checks.append({'kind': 'accepted_values', 'column': spec.column, 'values': spec['values'],
            'quote': quote, 'test_name': 'accepted_values_' ~ model_name ~ '_' ~ cleaned | join('__'),
            'never_relaxed': false}) -%}
    {%- endfor -%}
    {%- for columns in unique_combinations or [] -%}
        {%- do checks.append({'kind': 'unique_combination', 'columns': columns,
            'test_name': 'unique_combination_of_columns_' ~ model_name ~ '_' ~ columns | join('__'),
            'never_relaxed': published}) -%}
    {%- endfor -%}
    {%- for check in checks -%}
        {%- do check.update({'index': loop.index}) -%}
    {%- endfor -%}
    {{ return(checks) }}
{%- endmacro -%}
