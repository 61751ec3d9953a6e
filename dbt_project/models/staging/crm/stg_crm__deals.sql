{{ config(pre_hook="{{ clm_delete_changed_keys('deal_id', source('crm', 'deals'), 'trim(deal_id)') }}") }}

with

source as (

    select * from {{ source('crm', 'deals') }}
    where _load_date <= {{ clm_as_of() }}
    {{ clm_only_changed_keys('trim(deal_id)', source('crm', 'deals'), 'trim(deal_id)') }}

),

fx_rates as (

    {{ clm_fx_rates() }}

),

newest as (

    {{ clm_newest_versions(
        'source',
        ['trim(deal_id)'],
        [clm_iso_timestamp_to_utc('created_at')]
    ) }}

),

renamed as (

    select

        ---------- ids
        trim(deal_id) as deal_id,
        {{ clm_clean_text('contact_id') }} as contact_id,

        ---------- strings
        {{ clm_clean_code('deal_stage') }} as deal_stage,
        {{ clm_clean_code('currency', 'upper') }} as currency,

        ---------- numerics
        {{ clm_to_amount('amount') }} as amount,

        ---------- timestamps
        {{ clm_iso_timestamp_to_utc('created_at') }} as created_at,
        {{ clm_iso_timestamp_to_utc('closed_at') }} as closed_at,

        ---------- lineage
        _load_date,
        _source_file,
        _row_number

    from newest

),

converted as (

    select
        renamed.deal_id,
        renamed.contact_id,
        renamed.deal_stage,
        renamed.currency,
        renamed.amount,
        -- at the rate of the month the deal closed (created, while open)
        {{ clm_to_reporting_currency('renamed.amount', 'fx_rates.rate') }} as amount_reporting,
        renamed.created_at,
        renamed.closed_at,
        renamed._load_date,
        renamed._source_file,
        renamed._row_number

    from renamed
    left join fx_rates
        on fx_rates.currency = renamed.currency
        and fx_rates.month = {{ clm_month('coalesce(renamed.closed_at, renamed.created_at)') }}

)

select * from converted
