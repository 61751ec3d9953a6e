{#
    clm_pii_hash(expr): keyed hash (hex HMAC-SHA256 with CLM_PII_KEY) that replaces personal data in marts.
    Pass the normalized value (clm_normalize_email). The key never appears in SQL or logs:
    * duckdb: HMAC computed with sha256() from two session variables that the dbt plugin clm.dbt_plugin
      derives from the environment (duckdb__clm_pii_hash);
    * postgres: pgcrypto's hmac() with the session setting clm.pii_key, which the caller sets through
      PGOPTIONS='-c clm.pii_key=...' (CREATE EXTENSION pgcrypto first: macro clm_postgres_setup);
    * spark: HMAC computed with sha2() from two session settings (spark__clm_pii_hash).
    All give identical hex for the same key and value; null stays null.
#}
{% macro clm_pii_hash(expr) -%}
    {{ return(adapter.dispatch('clm_pii_hash', 'clm')(expr)) }}
{%- endmacro %}

{#- HMAC-SHA256 from SHA-256, as on Spark below: the pads are the session variables clm_pii_inner_pad and
    clm_pii_outer_pad (hex), which clm.dbt_plugin sets on every connection. Without them (a connection that is
    not dbt's) getvariable gives null, and the error names what is missing rather than hashing to null. -#}
{% macro duckdb__clm_pii_hash(expr) -%}
    case
        when getvariable('clm_pii_inner_pad') is null or getvariable('clm_pii_outer_pad') is null
            then error('clm_pii_hash: no clm_pii_inner_pad / clm_pii_outer_pad session variables (clm.dbt_plugin)')
        else sha256(
            unhex(getvariable('clm_pii_outer_pad'))
            || unhex(sha256(unhex(getvariable('clm_pii_inner_pad')) || encode(cast({{ expr }} as varchar))))
        )
    end
{%- endmacro %}

{#- HMAC-SHA256 from SHA-256 (RFC 2104): sha256(outer pad || sha256(inner pad || value)). The pads are the
    session settings clm.pii_inner_pad / clm.pii_outer_pad (profiles.yml, from CLM_PII_INNER_PAD and
    CLM_PII_OUTER_PAD, which clm derives from CLM_PII_KEY), referenced as ${...}: Spark substitutes them, so
    neither they nor the key are in compiled SQL. Unset pads stay as literal text, which fails the check below
    with a clear error rather than hashing to null. -#}
{% macro spark__clm_pii_hash(expr) -%}
    {%- set inner = "'${clm.pii_inner_pad}'" -%}
    {%- set outer = "'${clm.pii_outer_pad}'" -%}
    case
        when {{ inner }} rlike '^[0-9a-f]{128}$' and {{ outer }} rlike '^[0-9a-f]{128}$'
            then sha2(
                concat(
                    unhex({{ outer }}),
                    unhex(sha2(concat(unhex({{ inner }}), encode(cast({{ expr }} as string), 'UTF-8')), 256))
                ),
                256
            )
        else raise_error(concat(
            'clm_pii_hash: the Spark session has no clm.pii_inner_pad and clm.pii_outer_pad settings: ',
            'set CLM_PII_KEY and run through clm, or CLM_PII_INNER_PAD and CLM_PII_OUTER_PAD (clm.pii.spark_pad_env)'
        ))
    end
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
