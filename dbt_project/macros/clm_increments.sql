{#
    Incremental staging (docs/commands.md#daily-runs). Raw tables only grow: ingestion appends every landed
    record as a new row stamped _loaded_at (and a full refresh resets raw and every model together). So a
    staging model, the newest version of each key among raw rows with _load_date <= as-of, only changes for
    the keys with a raw row the previous build did not see: a row loaded since (_loaded_at after the newest
    _loaded_at the previous build read) or one the as-of date now reaches (_load_date after the previous
    as-of). An incremental build deletes those keys' rows from the model (pre-hook) and inserts their newest
    versions again (append), computed from all of the key's raw rows as a full build does.

    `clm run` decides once per run, in clm/increments.py, whether dbt may build incrementally, and says so
    through the environment variable CLM_INCREMENTAL_SINCE = '<previous as-of>|<previous newest _loaded_at>';
    when the code, settings, target or FX relation changed, or the as-of date moved back, it passes
    --full-refresh instead. Read only when a model is compiled for execution (as CLM_AS_OF is): a new value
    every day never makes dbt parse the project again. Unset (a plain `dbt build` on an existing build), every
    key counts as changed: the incremental build then rewrites every row, the same rows a full build gives.
#}

{#- clm_is_incremental(): dbt's is_incremental(), false in a dbt unit test (which has no relation `this`). -#}
{% macro clm_is_incremental() %}
    {%- if this is none -%}
        {{- return(false) -}}
    {%- endif -%}
    {{- return(is_incremental()) -}}
{% endmacro %}

{#- clm_incremental_since(): none, or (previous as-of 'YYYY-MM-DD', previous newest _loaded_at text). -#}
{% macro clm_incremental_since() %}
    {%- if not execute -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set text = env_var('CLM_INCREMENTAL_SINCE', '') | trim -%}
    {%- if text == '' -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set match = modules.re.match('^(\d{4}-\d{2}-\d{2})\|(\d{4}-\d{2}-\d{2}[ T][0-9:.]+)?$', text) -%}
    {%- if not match -%}
        {{ exceptions.raise_compiler_error(
            "CLM_INCREMENTAL_SINCE must be 'YYYY-MM-DD|YYYY-MM-DD HH:MM:SS[.ffffff]' (or 'YYYY-MM-DD|'), got '"
            ~ text ~ "'") }}
    {%- endif -%}
    {{- return((match.group(1), match.group(2))) -}}
{% endmacro %}

{#-
    clm_changed_keys(relation, key_expr): a select of the distinct keys (key_expr over `relation`, a raw
    source) whose raw rows changed since the previous build; every key on or before the as-of date when
    CLM_INCREMENTAL_SINCE is unset.
-#}
{% macro clm_changed_keys(relation, key_expr) -%}
    {%- set since = clm_incremental_since() -%}
    select distinct {{ key_expr }} as changed_key
    from {{ relation }}
    where _load_date <= {{ clm_as_of() }}
    {%- if since is not none %}
        and (
            _load_date > cast('{{ since[0] }}' as date)
            {%- if since[1] %}
            or _loaded_at > cast('{{ since[1] }}' as timestamp)
            {%- endif %}
        )
    {%- endif %}
{%- endmacro %}

{#-
    clm_only_changed_keys(column_expr, relation, key_expr): in a staging model's source CTE, after its where
    clause: `and <column_expr> in (changed keys of relation by key_expr)` on an incremental build, nothing on a
    full one. A child table (invoice lines) passes its parent key column and the parent's raw relation.
-#}
{% macro clm_only_changed_keys(column_expr, relation, key_expr) -%}
    {%- if clm_is_incremental() %}
        and {{ column_expr }} in ({{ clm_changed_keys(relation, key_expr) }})
    {%- endif -%}
{%- endmacro %}

{#-
    clm_delete_changed_keys(column, relation, key_expr): the pre-hook of an incremental staging model: delete
    the rows of every changed key (column = the model's key column, key_expr its raw expression), including
    keys whose newest version now has no child rows (an invoice whose lines[] became empty).
-#}
{% macro clm_delete_changed_keys(column, relation, key_expr) -%}
    {%- if clm_is_incremental() -%}
        delete from {{ this }} where {{ column }} in ({{ clm_changed_keys(relation, key_expr) }})
    {%- endif -%}
{%- endmacro %}

{#-
    Incremental intermediate models, by customer (docs/commands.md#daily-runs). A customer-level model (one
    customer's rows depend only on that customer's records, the FX seed and the as-of date) changes between two
    builds only for
    * the customers in int_increments__changed_customers: a billing record of theirs changed (a raw row the
      previous build did not see), a billing customer moved to or from them (identity), or one of their
      invoice lines starts or ends between the previous as-of date and this one (what a move of the as-of date
      changes in a line: its renewal-pending flag, the first snapshot it covers); and
    * for every customer, the rows of months on or after the previous as-of month: the as-of month's snapshot
      is the as-of date, and a new month adds a row.
    Such a model deletes the changed customers' rows (and, where it keeps months, the months since the previous
    as-of month; pre-hook) and inserts them again, computed from the same inputs as a full build.
    On Spark the models stay tables (no DELETE on Parquet), and a full refresh never reads any of this.
-#}

{#- clm_materialized_by_customer(): the materialization of a customer-level intermediate model. -#}
{% macro clm_materialized_by_customer() -%}
    {{- 'table' if target.type == 'spark' else 'incremental' -}}
{%- endmacro %}

{#- clm_since_month(): the first day of the previous build's as-of month (SQL), or none when every month
    counts as changed (CLM_INCREMENTAL_SINCE unset). -#}
{% macro clm_since_month() -%}
    {%- set since = clm_incremental_since() -%}
    {%- if since is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return(clm_month("cast('" ~ since[0] ~ "' as date)")) -}}
{%- endmacro %}

{#- clm_changed_customers(column): `column in (the changed customers)`, for a where clause. -#}
{% macro clm_changed_customers(column) -%}
    {{ column }} in (
        select customer_id from {{ ref('int_increments__changed_customers') }} where customer_id is not null
    )
{%- endmacro %}

{#- clm_changed_billing_customers(column): `column in (the changed billing customers)`. -#}
{% macro clm_changed_billing_customers(column) -%}
    {{ column }} in (select billing_customer_id from {{ ref('int_increments__changed_customers') }})
{%- endmacro %}

{#- clm_changed_or_since(customer_column, month_column): true for a changed customer's rows and for every
    row of a month on or after the previous as-of month. -#}
{% macro clm_changed_or_since(customer_column, month_column) -%}
    {%- set since_month = clm_since_month() -%}
    {%- if since_month is none -%}
        true
    {%- else -%}
        ({{ clm_changed_customers(customer_column) }} or {{ month_column }} >= {{ since_month }})
    {%- endif -%}
{%- endmacro %}

{#- clm_delete_changed_customers(customer_column, month_column=none): the pre-hook of a customer-level
    incremental model: delete the rows it is about to insert again. -#}
{% macro clm_delete_changed_customers(customer_column, month_column=none) -%}
    {%- if clm_is_incremental() -%}
        delete from {{ this }} where
        {%- if month_column is none %} {{ clm_changed_customers(customer_column) }}
        {%- else %} {{ clm_changed_or_since(customer_column, month_column) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- clm_delete_changed_billing_customers(column): the pre-hook of a model keyed by billing customer. -#}
{% macro clm_delete_changed_billing_customers(column) -%}
    {%- if clm_is_incremental() -%}
        delete from {{ this }} where {{ clm_changed_billing_customers(column) }}
    {%- endif -%}
{%- endmacro %}

{#-
    The lifecycle stage models (int_lifecycle__stage_points, int_lifecycle__stage_spells) are incremental by
    customer too, over their own changed set: int_increments__lifecycle_customers, which compares each
    customer's signals and first sighting with the previous build's.
-#}

{#- clm_run_started_at(): this dbt invocation's start, a timestamp literal: what marks a row as written by
    this build. -#}
{% macro clm_run_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#- clm_changed_lifecycle_customers(column): `column in (the customers whose stages are recomputed)`. -#}
{% macro clm_changed_lifecycle_customers(column) -%}
    {{ column }} in (
        select customer_id from {{ ref('int_increments__lifecycle_customers') }}
        where changed_in_run = {{ clm_run_started_at() }}
    )
{%- endmacro %}

{#- clm_delete_changed_lifecycle_customers(column): the pre-hook of a lifecycle stage model. -#}
{% macro clm_delete_changed_lifecycle_customers(column) -%}
    {%- if clm_is_incremental() -%}
        delete from {{ this }} where {{ clm_changed_lifecycle_customers(column) }}
    {%- endif -%}
{%- endmacro %}

{#- clm_forget_gone_customers(): the pre-hook of int_increments__lifecycle_customers: a customer gone in the
    previous build has had its rows deleted then, and is forgotten now. -#}
{% macro clm_forget_gone_customers() -%}
    {%- if clm_is_incremental() -%}
        delete from {{ this }} where fingerprint is null
    {%- endif -%}
{%- endmacro %}

{#-
    clm_rows_fingerprint(columns): an aggregate that is equal for two groups holding the same rows (as a
    multiset, in any order) and, but for a 2^-64 chance, different otherwise: a sum of 64-bit row hashes, as
    text. Only ever compared with a fingerprint of the same engine.
-#}
{% macro clm_rows_fingerprint(columns) -%}
    {{ return(adapter.dispatch('clm_rows_fingerprint', 'clm')(columns)) }}
{%- endmacro %}

{% macro duckdb__clm_rows_fingerprint(columns) -%}
    cast(sum(hash({{ columns | join(', ') }})) as {{ clm_type_string() }})
{%- endmacro %}

{% macro default__clm_rows_fingerprint(columns) -%}
    cast(sum(hashtextextended(concat_ws('|'
    {%- for column in columns %}, coalesce(cast({{ column }} as text), '~'){% endfor -%}
    ), 0)) as {{ clm_type_string() }})
{%- endmacro %}

{% macro spark__clm_rows_fingerprint(columns) -%}
    cast(sum(cast(xxhash64({{ columns | join(', ') }}) as decimal(38, 0))) as {{ clm_type_string() }})
{%- endmacro %}
