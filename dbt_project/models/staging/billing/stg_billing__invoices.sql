{{ config(pre_hook="{{ clm_delete_changed_keys('invoice_id', source('billing', 'invoices'), 'trim(id)') }}") }}

with

source as (

    select * from {{ source('billing', 'invoices') }}
    where _load_date <= {{ clm_as_of() }}
    {{ clm_only_changed_keys('trim(id)', source('billing', 'invoices'), 'trim(id)') }}

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
        trim(id) as invoice_id,
        trim(customer) as billing_customer_id,
        {{ clm_clean_text('subscription') }} as subscription_id,

        ---------- strings
        {{ clm_clean_code('status') }} as status,
        {{ clm_clean_code('currency', 'upper') }} as currency,

        ---------- numerics (minor units as landed)
        amount_due as amount_due_minor,
        amount_paid as amount_paid_minor,

        ---------- timestamps
        {{ clm_unix_seconds_to_utc('created') }} as created_at,
        {{ clm_unix_seconds_to_utc('status_transitions__paid_at') }} as paid_at,

        ---------- lineage
        _load_date,
        _source_file,
        _row_number

    from newest

),

converted as (

    select
        renamed.invoice_id,
        renamed.billing_customer_id,
        renamed.subscription_id,
        renamed.status,
        renamed.currency,
        {{ clm_minor_to_major('renamed.amount_due_minor', 'currencies.minor_unit_digits') }} as amount_due,
        {{ clm_minor_to_major('renamed.amount_paid_minor', 'currencies.minor_unit_digits') }} as amount_paid,
        -- at the rate of the month the invoice was created
        {{ clm_to_reporting_currency(
            clm_minor_to_major('renamed.amount_due_minor', 'currencies.minor_unit_digits'), 'fx_rates.rate'
        ) }} as amount_due_reporting,
        {{ clm_to_reporting_currency(
            clm_minor_to_major('renamed.amount_paid_minor', 'currencies.minor_unit_digits'), 'fx_rates.rate'
        ) }} as amount_paid_reporting,
        renamed.created_at,
        renamed.paid_at,
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
