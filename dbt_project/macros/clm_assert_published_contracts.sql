{#
    on-run-start hook (dbt_project.yml): fail every dbt command (build, run, seed, test, ...) while a published
    model could not be published. Published = an enabled model tagged `published` (the marts folder tags all of
    its models, docs/marts.md#publishing); each must have an enforced dbt contract, so its columns and types
    are what BI was promised, and must build into custom schema `marts`, the only schema clm publishes.

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
                {%- set problems = [] -%}
                {%- set contract = node.config.get('contract') or {} -%}
                {%- if not contract.get('enforced', false) -%}
                    {%- do problems.append('no enforced contract') -%}
                {%- endif -%}
                {%- set custom_schema = node.config.get('schema') -%}
                {%- if custom_schema != 'marts' -%}
                    {%- do problems.append("custom schema is " ~ (custom_schema or 'none (target schema)')
                        ~ ", not marts") -%}
                {%- endif -%}
                {%- if problems -%}
                    {%- do offenders.append('  - ' ~ node.name ~ ' (' ~ node.original_file_path ~ '): '
                        ~ problems | join('; ')) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if offenders -%}
            {{ exceptions.raise_compiler_error(
                "Published marts must each have an enforced contract and build into schema marts "
                ~ "(docs/marts.md#publishing); "
                ~ offenders | length ~ " model(s) tagged 'published' do not:\n"
                ~ offenders | join('\n') ~ "\n"
                ~ "Fix: in the folder's YAML give the model `config: {contract: {enforced: true}}` and "
                ~ "every column with a data_type and a description; or, if it is not meant for BI, move it out "
                ~ "of dbt_project/models/marts (or remove its 'published' tag)."
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
