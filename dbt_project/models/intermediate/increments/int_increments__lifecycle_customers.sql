{#-
    Which customers an incremental build recomputes in the lifecycle stage models (int_lifecycle__stage_points,
    int_lifecycle__stage_spells). A customer's stage points depend only on its signals (int_lifecycle__signals),
    its first sighting and the as-of date, which closes a signal on its valid_to once that date is reached. So
    they change between two builds only for a customer
    * whose signals or first sighting differ from the previous build's: this model keeps a fingerprint of both
      per customer (a sum of row hashes, clm_rows_fingerprint) and compares it with the one it kept last time;
    * with a signal ending after the previous as-of date and on or before this one;
    * that is gone since the previous build (identity merged it into another): its rows must go.
    An incremental build writes the rows of those customers only, stamped with the build's start
    (changed_in_run); the stage models recompute the customers stamped by their own build.
    The signals themselves stay a full rebuild: they read identity, billing, CRM and support, and comparing
    what they give is exact whatever changed upstream, an identity move or a record reached by the as-of date.
    With CLM_INCREMENTAL_SINCE unset (a plain `dbt build` on an existing build) every customer counts as
    changed. On Spark, where the lifecycle models stay tables, the model is empty.
-#}
{{ config(
    materialized=clm_materialized_by_customer(),
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    pre_hook="{{ clm_forget_gone_customers() }}",
) }}
{%- set since = clm_incremental_since() -%}
{%- set unused = target.type == 'spark' -%}

with

signals as (

    select * from {{ ref('int_lifecycle__signals') }}

),

first_sightings as (

    select * from {{ ref('int_identity__first_sightings') }}

),

-- one row per signal interval and one per first sighting, the same columns
inputs as (

    select
        customer_id,
        signal as part,
        valid_from,
        valid_to
    from signals
    union all
    select
        customer_id,
        'first_seen' as part,
        cast(first_seen_at as date) as valid_from,
        cast(null as date) as valid_to
    from first_sightings
    where first_seen_at is not null

),

fingerprints as (

    select
        customer_id,
        {{ clm_rows_fingerprint(['part', 'valid_from', 'valid_to']) }} as fingerprint,
        {% if since is none -%}
        true
        {%- else -%}
        max(
            case
                when valid_to > cast('{{ since[0] }}' as date) and valid_to <= {{ clm_as_of() }} then 1 else 0
            end
        ) = 1
        {%- endif %} as has_as_of_end
    from inputs
    {% if unused -%}
    where false
    {% endif -%}
    group by customer_id

),

-- the fingerprints of the previous build, read before this build replaces them (none on a full build)
previous as (

    select
        customer_id,
        fingerprint
    {% if clm_is_incremental() -%}
    from {{ this }}
    {%- else -%}
    from fingerprints
    where false
    {%- endif %}

),

final as (

    select
        fingerprints.customer_id,
        fingerprints.fingerprint
    from fingerprints
    left join previous
        on previous.customer_id = fingerprints.customer_id
    where previous.fingerprint is null
        or previous.fingerprint <> fingerprints.fingerprint
        or fingerprints.has_as_of_end
    union all
    -- gone since the previous build: changed, kept until the next build's pre-hook forgets it
    select
        previous.customer_id,
        cast(null as {{ clm_type_string() }}) as fingerprint
    from previous
    where previous.customer_id not in (select fingerprints.customer_id from fingerprints)

)

-- only the changed customers: delete+insert replaces their rows and leaves every other row as it was
select
    cast(customer_id as {{ clm_type_string() }}) as customer_id,
    cast(fingerprint as {{ clm_type_string() }}) as fingerprint,
    {{ clm_run_started_at() }} as changed_in_run
from final
