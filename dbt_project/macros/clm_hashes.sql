{#
    clm_pii_hash(expr): keyed hash (hex HMAC-SHA256 with CLM_PII_KEY) that replaces personal data in marts.
    Pass the normalized value (clm_normalize_email). The key never appears in SQL or logs:
    * duckdb: the UDF clm_pii_hash(varchar) registered by the dbt plugin clm.dbt_plugin from the environment;
    * postgres: pgcrypto's hmac() with the session setting clm.pii_key, which the caller sets through
      PGOPTIONS='-c clm.pii_key=...' (CREATE EXTENSION pgcrypto first: macro clm_postgres_setup).
    Both give identical hex for the same key and value; null stays null.
#}
{% macro clm_pii_hash(expr) -%}
    {{ return(adapter.dispatch('clm_pii_hash', 'clm')(expr)) }}
{%- endmacro %}

{% macro default__clm_pii_hash(expr) -%}
    clm_pii_hash(cast({{ expr }} as {{ clm_type_string() }}))
{%- endmacro %}

{% macro postgres__clm_pii_hash(expr) -%}
    encode(hmac(cast({{ expr }} as text), current_setting('clm.pii_key'), 'sha256'), 'hex')
{%- endmacro %}

{#
    clm_id_hash(prefix, key_expr): deterministic surrogate id, md5 hex of '<prefix>:<key>' as varchar
    (e.g. customer_id = clm_id_hash('crm', 'contact_id') = md5('crm:' || contact_id)).
    md5 of the same text is the same lower-case hex on DuckDB and Postgres: same inputs, same id on every
    run and target (docs/identity.md#customer-ids).
#}
{% macro clm_id_hash(prefix, key_expr) -%}
    cast(md5('{{ prefix }}:' || cast({{ key_expr }} as {{ clm_type_string() }})) as {{ clm_type_string() }})
{%- endmacro %}

{#
    clm_postgres_setup(): run-operation / on-run-start hook for the postgres target: creates pgcrypto (needed
    by clm_pii_hash). A no-op on other targets. `dbt run-operation clm_postgres_setup`.
#}
{% macro clm_postgres_setup() %}
    {{ return(adapter.dispatch('clm_postgres_setup', 'clm')()) }}
{% endmacro %}

{% macro default__clm_postgres_setup() %}
{% endmacro %}

{% macro postgres__clm_postgres_setup() %}
    {% do run_query('create extension if not exists pgcrypto') %}
{% endmacro %}
