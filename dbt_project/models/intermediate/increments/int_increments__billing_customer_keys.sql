{#-
    Each billing customer's customer (int_identity__billing_customer_matches) and the customer it had in the
    previous build (null on a full build, and for a billing customer new since). The table keeps the mapping
    from one build to the next, so that an incremental build can tell which customers a change of identity
    (a contact created, deleted or given a billing customer's email) moved lines from and to.
-#}
{{ config(
    materialized=clm_materialized_by_customer(),
    incremental_strategy='delete+insert',
    unique_key='billing_customer_id',
) }}

with

billing_customer_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

-- the mapping of the previous build, read before this build replaces it (none on a full build)
previous as (

    select
        billing_customer_id,
        customer_id
    {% if clm_is_incremental() -%}
    from {{ this }}
    {%- else -%}
    from billing_customer_matches
    where false
    {%- endif %}

),

final as (

    select
        cast(billing_customer_matches.billing_customer_id as {{ clm_type_string() }}) as billing_customer_id,
        cast(billing_customer_matches.customer_id as {{ clm_type_string() }}) as customer_id,
        cast(previous.customer_id as {{ clm_type_string() }}) as previous_customer_id
    from billing_customer_matches
    left join previous
        on previous.billing_customer_id = billing_customer_matches.billing_customer_id

)

select * from final
