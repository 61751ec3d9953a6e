{#
    Type names that differ between engines (issue 16). Spark rejects VARCHAR without a length, TEXT and
    DOUBLE PRECISION; its text type is STRING and its 8-byte float DOUBLE.

    clm_type_string(): the unbounded text type to cast to: varchar (DuckDB, Postgres), string (Spark).
    clm_type_double(): the 8-byte float: double precision (DuckDB, Postgres), double (Spark).
#}
{% macro clm_type_string() -%}
    {{ return(adapter.dispatch('clm_type_string', 'clm')()) }}
{%- endmacro %}

{% macro default__clm_type_string() -%}
    varchar
{%- endmacro %}

{% macro spark__clm_type_string() -%}
    string
{%- endmacro %}

{% macro clm_type_double() -%}
    {{ return(adapter.dispatch('clm_type_double', 'clm')()) }}
{%- endmacro %}

{% macro default__clm_type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__clm_type_double() -%}
    double
{%- endmacro %}

{#
    clm_spark_type(data_type): a type name as the model contracts (YAML data_type) write it, in Spark's
    spelling: varchar / varchar(n) / text -> string, double precision -> double, anything else unchanged. The contracts
    keep one spelling valid on DuckDB and Postgres; Spark reads them through this.
#}
{% macro clm_spark_type(data_type) -%}
    {%- set name = data_type | string | trim | lower -%}
    {%- if name in ('varchar', 'text', 'character varying') or name.startswith('varchar(') -%}
        string
    {%- elif name == 'double precision' -%}
        double
    {%- else -%}
        {{ data_type }}
    {%- endif -%}
{%- endmacro %}

{#- dbt.cast on Spark: dbt builds a contract's empty-schema query with it (get_empty_schema_sql), so the
    YAML types compare with what the model's SQL gives. -#}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ clm_spark_type(type) }})
{%- endmacro %}

{#- dbt-spark's seed table (its spark__create_csv_table) with the seeds' column_types (_seeds.yml, written
    for DuckDB and Postgres) in Spark's spelling. -#}
{% macro spark__create_csv_table(model, agate_table) %}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}

  {% set sql %}
    create table {{ this.render() }} (
        {%- for col_name in agate_table.column_names -%}
            {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
            {%- set type = clm_spark_type(column_override.get(col_name, inferred_type)) -%}
            {%- set column_name = (col_name | string) -%}
            {{ adapter.quote_seed_column(column_name, quote_seed_column) }} {{ type }} {%- if not loop.last -%}, {%- endif -%}
        {%- endfor -%}
    )
    {{ file_format_clause() }}
    {{ partition_cols(label="partitioned by") }}
    {{ clustered_cols(label="clustered by") }}
    {{ location_clause() }}
    {{ comment_clause() }}
  {% endset %}

  {% call statement('_') -%}
    {{ sql }}
  {%- endcall %}

  {{ return(sql) }}
{% endmacro %}

{#- dbt-spark's seed rows (its spark__load_csv_rows), cast to the same Spark types. -#}
{% macro spark__load_csv_rows(model, agate_table) %}

  {% set batch_size = get_batch_size() %}
  {% set column_override = model['config'].get('column_types', {}) %}

  {% set statements = [] %}

  {% for chunk in agate_table.rows | batch(batch_size) %}
      {% set bindings = [] %}

      {% for row in chunk %}
          {% do bindings.extend(row) %}
      {% endfor %}

      {% set sql %}
          insert into {{ this.render() }} values
          {% for row in chunk -%}
              ({%- for col_name in agate_table.column_names -%}
                  {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                  {%- set type = clm_spark_type(column_override.get(col_name, inferred_type)) -%}
                    cast({{ get_binding_char() }} as {{type}})
                  {%- if not loop.last%},{%- endif %}
              {%- endfor -%})
              {%- if not loop.last%},{%- endif %}
          {%- endfor %}
      {% endset %}

      {% do adapter.add_query(sql, bindings=bindings, abridge_sql_log=True) %}

      {% if loop.index0 == 0 %}
          {% do statements.append(sql) %}
      {% endif %}
  {% endfor %}

  {# Return SQL so we can render it out into the compiled files #}
  {{ return(statements[0]) }}
{% endmacro %}
