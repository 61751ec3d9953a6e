{#
    clm_as_of(): the as-of DATE every model measures time from (docs/marts.md#time), as a SQL literal.

    * var('as_of') set (`dbt build --vars '{as_of: YYYY-MM-DD}'`): that date.
    * else the environment variable CLM_AS_OF, YYYY-MM-DD (`clm run` sets it for every dbt command): that date.
      An environment variable, not a var, so that a new as-of date every day does not make dbt parse the
      whole project again (dbt re-parses everything when --vars change; an env_var read only at execution
      time is not part of the parse).
    * neither set, or null / '' / 'latest' (the dbt_project.yml default, for plain `dbt build`): the newest
      `_load_date` in the raw tables of the crm, billing and support sources that exist, read with run_query
      at execution time; the same default `clm run` uses (the newest load date in the landing zone).
      If raw holds no rows at all, compilation fails with a message asking for --vars '{as_of: ...}'.

    Never the wall clock: the same extracts and as-of give the same marts on any day.
    clm_as_of_end(): the exclusive upper bound for event timestamps, midnight after the as-of date.
#}
{% macro clm_as_of() -%}
    cast('{{ clm_as_of_date() }}' as date)
{%- endmacro %}

{% macro clm_as_of_end() -%}
    cast({{ dbt.dateadd('day', 1, clm_as_of()) }} as timestamp)
{%- endmacro %}

{% macro clm_as_of_date() %}
    {%- if not execute -%}
        {#- parsing: any valid date; the real value is computed when the model is compiled for execution, so
            neither the var nor CLM_AS_OF is part of the parse -#}
        {{- return('2099-12-31') -}}
    {%- endif -%}
    {%- for source, configured in [('var as_of', var('as_of', none)), ('CLM_AS_OF', env_var('CLM_AS_OF', ''))] -%}
        {%- if configured is not none and (configured | string | trim | lower) not in ('', 'none', 'null', 'latest') -%}
            {%- set text = configured | string | trim -%}
            {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', text) -%}
                {{ exceptions.raise_compiler_error(source ~ " must be a date YYYY-MM-DD, got '" ~ text ~ "'") }}
            {%- endif -%}
            {{- return(text) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return(clm_newest_raw_load_date()) -}}
{% endmacro %}

{% macro clm_newest_raw_load_date() %}
    {%- set selects = [] -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- if node.source_name in ('crm', 'billing', 'support') -%}
            {%- set relation = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.identifier) -%}
            {%- if relation is not none -%}
                {%- do selects.append('select max(_load_date) as load_date from ' ~ relation) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set newest = none -%}
    {%- if selects -%}
        {%- set result = run_query(
            'select cast(max(load_date) as varchar(10)) as newest from (' ~ (selects | join(' union all ')) ~ ') as loads') -%}
        {%- set newest = result.columns[0].values()[0] -%}
    {%- endif -%}
    {%- if newest is none -%}
        {{ exceptions.raise_compiler_error(
            "var as_of and CLM_AS_OF are unset and the raw schema holds no loaded rows to derive the as-of "
            ~ "date from: pass --vars '{as_of: YYYY-MM-DD}'") }}
    {%- endif -%}
    {{- return(newest | string) -}}
{% endmacro %}
