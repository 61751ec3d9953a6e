{{ config(pre_hook="{{ clm_delete_changed_keys('charge_id', source('billing', 'charges'), 'trim(id)') }}") }}

with

source as (

    select * from {{ source('billing', 'charges') }}
    where _load_date <= {{ clm_as_of() }}
    {{ clm_only_changed_keys('trim(id)', source('billing', 'charges'), 'trim(id)') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

fx_rates as (

    {{ clm_fx_rates() }}

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
        trim(id) as charge_id,
        trim(customer) as billing_customer_id,
        {{ clm_clean_text('invoice') }} as invoice_id,

        ---------- strings
        {{ clm_clean_code('status') }} as status,
        {{ clm_clean_text('failure_code') }} as failure_code,
        {{ clm_clean_code('currency', 'upper') }} as currency,

        ---------- numerics (minor units as landed)
        amount as amount_minor,
        amount_refunded as amount_refunded_minor,

        ---------- timestamps
        {{ clm_unix_seconds_to_utc('created') }} as created_at,

        ---------- lineage
        _load_date,
        _source_file,
        _row_number

    from newest

),

converted as (

    select
        renamed.charge_id,
        renamed.billing_customer_id,
        renamed.invoice_id,
        renamed.status,
        renamed.failure_code,
        renamed.currency,
        {{ clm_minor_to_major('renamed.amount_minor', 'currencies.minor_unit_digits') }} as amount,
        {{ clm_minor_to_major('renamed.amount_refunded_minor', 'currencies.minor_unit_digits') }} as amount_refunded,
        -- at the rate of the month the charge was created
        {{ clm_to_reporting_currency(
            clm_minor_to_major('renamed.amount_minor', 'currencies.minor_unit_digits'), 'fx_rates.rate'
        ) }} as amount_reporting,
        {{ clm_to_reporting_currency(
            clm_minor_to_major('renamed.amount_refunded_minor', 'currencies.minor_unit_digits'), 'fx_rates.rate'
        ) }} as amount_refunded_reporting,
        renamed.created_at,
        renamed._load_date,
        renamed._source_file,
        renamed._row_number

    from renamed
    left join currencies
        on currencies.currency = renamed.currency
    left join fx_rates
        on fx_rates.currency = renamed.currency
        and fx_rates.month = {{ clm_month('renamed.created_at') }}

)

select * from converted
