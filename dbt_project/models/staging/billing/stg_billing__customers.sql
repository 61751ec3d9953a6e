{{ config(pre_hook="{{ clm_delete_changed_keys('billing_customer_id', source('billing', 'customers'), 'trim(id)') }}") }}

with

source as (

    select * from {{ source('billing', 'customers') }}
    where _load_date <= {{ clm_as_of() }}
    {{ clm_only_changed_keys('trim(id)', source('billing', 'customers'), 'trim(id)') }}

),

newest as (

    {{ clm_newest_versions(
        'source',
        ['trim(id)'],
        [clm_unix_seconds_to_utc('created')]
    ) }}

),

renamed as (

    select

        ---------- ids
        trim(id) as billing_customer_id,
        {{ clm_clean_text('metadata__crm_contact_id') }} as crm_contact_id,

        ---------- strings
        {{ clm_normalize_email('email') }} as email,
        {{ clm_clean_code('currency', 'upper') }} as currency,

        ---------- timestamps
        {{ clm_unix_seconds_to_utc('created') }} as created_at,

        ---------- lineage
        _load_date,
        _source_file,
        _row_number

    from newest

)

select * from renamed
