{{ config(pre_hook="{{ clm_delete_changed_keys('response_id', source('crm', 'nps_responses'), 'trim(response_id)') }}") }}

with

source as (

    select * from {{ source('crm', 'nps_responses') }}
    where _load_date <= {{ clm_as_of() }}
    {{ clm_only_changed_keys('trim(response_id)', source('crm', 'nps_responses'), 'trim(response_id)') }}

),

newest as (

    {{ clm_newest_versions('source', ['trim(response_id)']) }}

),

renamed as (

    select

        ---------- ids
        trim(response_id) as response_id,
        trim(contact_id) as contact_id,

        ---------- numerics
        cast(trim(score) as integer) as score,

        ---------- timestamps
        {{ clm_iso_timestamp_to_utc('responded_at') }} as responded_at,

        ---------- lineage
        _load_date,
        _source_file,
        _row_number

    from newest

)

select * from renamed
