{#
    on-run-start hook (dbt_project.yml): fail every dbt command (build, run, seed, test, ...) while a published
    model could not be published. Published = an enabled model tagged `published` (the marts folder tags all of
    its models, docs/marts.md#publishing). Each must:
    - have an enforced dbt contract, so its columns and types are what BI was promised;
    - have a description, and a description on every column: they reach BI as table and column comments
      (persist_docs, docs/marts.md#descriptions), so an undocumented column would reach BI unexplained;
    - build into custom schema `marts`, the only schema clm publishes.

    Every published model in the project is checked, selected or not: `dbt run --select some_model` must fail
    too, otherwise an unpublishable mart could get through a partial build. clm/manifest.py applies the same
    rule to target/manifest.json as the publisher's second line of defence.

    Returns '' (nothing to execute): the check lives entirely at compile time.
#}
{% macro clm_assert_published_contracts() %}
    {%- if execute -%}
        {%- set offenders = [] -%}
        {#- graph.nodes holds enabled nodes only; disabled models are in graph.disabled and never built -#}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
            {%- if node.resource_type == 'model' and 'published' in node.tags
                and node.config.get('enabled', true) -%}
                {%- set problems = clm_published_model_problems(node) -%}
                {%- if problems -%}
                    {%- do offenders.append('  - ' ~ node.name ~ ' (' ~ node.original_file_path ~ '): '
                        ~ problems | join('; ')) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if offenders -%}
            {{ exceptions.raise_compiler_error(
                "Published marts must each have an enforced contract, a description and a description on "
                ~ "every column, and build into schema marts (docs/marts.md#publishing); "
                ~ offenders | length ~ " model(s) tagged 'published' do not:\n"
                ~ offenders | join('\n') ~ "\n"
                ~ "Fix: in the folder's YAML give the model `config: {contract: {enforced: true}}`, a "
                ~ "`description:`, and every column a data_type and a description; or, if it is not meant for "
                ~ "BI, move it out of dbt_project/models/marts (or remove its 'published' tag)."
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{#- What keeps one published model from being published, each with what to add and in which file. -#}
{% macro clm_published_model_problems(node) %}
    {%- set problems = [] -%}
    {%- set yaml = clm_model_yaml_path(node) -%}
    {%- set contract = node.config.get('contract') or {} -%}
    {%- if not contract.get('enforced', false) -%}
        {%- do problems.append('no enforced contract (add `config: {contract: {enforced: true}}` in '
            ~ yaml ~ ')') -%}
    {%- endif -%}
    {%- if not (node.description or '') | trim -%}
        {%- do problems.append('no description (add `description:` to the model in ' ~ yaml ~ ')') -%}
    {%- endif -%}
    {%- set columns = (node.columns or {}).values() | list -%}
    {%- set undocumented = [] -%}
    {%- for column in columns if not (column.description or '') | trim -%}
        {%- do undocumented.append(column.name) -%}
    {%- endfor -%}
    {%- if not columns -%}
        {%- do problems.append('no columns in its YAML (list every column with a data_type and a '
            ~ '`description:` under `columns:` in ' ~ yaml ~ ')') -%}
    {%- elif undocumented -%}
        {%- do problems.append('columns without a description: ' ~ undocumented | join(', ')
            ~ ' (add `description:` to each under `columns:` in ' ~ yaml ~ ')') -%}
    {%- endif -%}
    {%- set custom_schema = node.config.get('schema') -%}
    {%- if custom_schema != 'marts' -%}
        {%- do problems.append("custom schema is " ~ (custom_schema or 'none (target schema)')
            ~ ", not marts") -%}
    {%- endif -%}
    {{- return(problems) -}}
{% endmacro %}


{#- The YAML that documents the model (its patch file, e.g. dbt_project/models/marts/core/_core__models.yml),
    or, for a model that no YAML names yet, the conventional one of its folder. -#}
{% macro clm_model_yaml_path(node) %}
    {%- if node.patch_path -%}
        {{- return(node.patch_path.split('://')[-1]) -}}
    {%- endif -%}
    {%- set folder = node.original_file_path.rsplit('/', 1)[0] -%}
    {{- return('a YAML beside it, e.g. ' ~ folder ~ '/_' ~ folder.rsplit('/', 1)[-1] ~ '__models.yml') -}}
{% endmacro %}
