{{ config(pre_hook="{{ clm_delete_changed_keys('ticket_id', source('support', 'tickets'), 'trim(ticket_id)') }}") }}

with

source as (

    select * from {{ source('support', 'tickets') }}
    where _load_date <= {{ clm_as_of() }}
    {{ clm_only_changed_keys('trim(ticket_id)', source('support', 'tickets'), 'trim(ticket_id)') }}

),

newest as (

    {{ clm_newest_versions(
        'source',
        ['trim(ticket_id)'],
        [clm_iso_timestamp_to_utc('updated_at')]
    ) }}

),

renamed as (

    select

        ---------- ids
        trim(ticket_id) as ticket_id,

        ---------- strings
        {{ clm_normalize_email('requester_email') }} as requester_email,
        {{ clm_clean_code('status') }} as status,
        {{ clm_clean_code('priority') }} as priority,
        {{ clm_clean_code('channel') }} as channel,
        {{ clm_clean_code('satisfaction_rating') }} as satisfaction_rating,

        ---------- numerics
        cast(nullif(trim(reopens), '') as integer) as reopens,

        ---------- timestamps
        {{ clm_iso_timestamp_to_utc('created_at') }} as created_at,
        {{ clm_iso_timestamp_to_utc('updated_at') }} as updated_at,
        {{ clm_iso_timestamp_to_utc('first_reply_at') }} as first_reply_at,
        {{ clm_iso_timestamp_to_utc('solved_at') }} as solved_at,

        ---------- lineage
        _load_date,
        _source_file,
        _row_number

    from newest

)

select * from renamed
