{{ config(pre_hook="{{ clm_delete_changed_keys('contact_id', source('crm', 'contacts'), 'trim(contact_id)') }}") }}

with

source as (

    select * from {{ source('crm', 'contacts') }}
    where _load_date <= {{ clm_as_of() }}
    {{ clm_only_changed_keys('trim(contact_id)', source('crm', 'contacts'), 'trim(contact_id)') }}

),

newest as (

    {{ clm_newest_versions(
        'source',
        ['trim(contact_id)'],
        [clm_iso_timestamp_to_utc('updated_at')]
    ) }}

),

renamed as (

    select

        ---------- ids
        trim(contact_id) as contact_id,
        {{ clm_clean_text('referred_by_contact_id') }} as referred_by_contact_id,

        ---------- strings
        {{ clm_normalize_email('email') }} as email,
        {{ clm_clean_text('first_name') }} as first_name,
        {{ clm_clean_text('last_name') }} as last_name,
        {{ clm_clean_text('company') }} as company,
        {{ clm_clean_code('country', 'upper') }} as country,
        {{ clm_clean_code('segment') }} as segment,
        {{ clm_clean_code('acquisition_channel') }} as acquisition_channel,

        ---------- booleans
        coalesce({{ clm_to_boolean('is_deleted') }}, false) as is_deleted,

        ---------- timestamps
        {{ clm_iso_timestamp_to_utc('created_at') }} as created_at,
        {{ clm_iso_timestamp_to_utc('updated_at') }} as updated_at,

        ---------- lineage
        _load_date,
        _source_file,
        _row_number

    from newest

)

select * from renamed
