{#
    clm_newest_versions(relation, key_columns, version_by=[]): a select of the newest version of every key in
    `relation` (a CTE holding raw rows already limited to _load_date <= as-of). Records are upserts
    (docs/landing-zone.md#upserts): newest by the entity's version_by expressions (schemas.py; typed, e.g.
    updated_at converted to UTC), then _load_date, _source_file, _row_number, all descending; nulls sort last
    on every engine. Adds a column _version_rank (always 1), which the staging model's renamed CTE leaves out.
#}
{% macro clm_newest_versions(relation, key_columns, version_by=[]) -%}
    select *
    from (
        select
            {{ relation }}.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by
                    {% for expression in version_by -%}
                    {{ expression }} desc nulls last,
                    {% endfor -%}
                    _load_date desc,
                    _source_file desc,
                    _row_number desc
            ) as _version_rank
        from {{ relation }}
    ) as versions
    where _version_rank = 1
{%- endmacro %}
