{#-
    lines[] of the newest version of each invoice: a child row belongs to the parent version that landed in the
    same file at the same row (_source_file, _row_number), so lines of superseded versions are dropped.
    A line without its own currency takes the invoice's. amount_reporting uses the rate of the invoice's
    creation month; MRR converts amount at each month's rate itself (docs/marts.md#mrr).
-#}
{{ config(pre_hook="{{ clm_delete_changed_keys('invoice_id', source('billing', 'invoices'), 'trim(id)') }}") }}

with

source as (

    select * from {{ source('billing', 'invoice_lines') }}
    where _load_date <= {{ clm_as_of() }}
    {{ clm_only_changed_keys('trim(invoice_id)', source('billing', 'invoices'), 'trim(id)') }}

),

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

fx_rates as (

    {{ clm_fx_rates() }}

),

newest as (

    select
        source.*,
        invoices.currency as invoice_currency,
        invoices.created_at as invoice_created_at
    from source
    inner join invoices
        on invoices.invoice_id = trim(source.invoice_id)
        and invoices._source_file = source._source_file
        and invoices._row_number = source._row_number

),

renamed as (

    select

        ---------- ids
        trim(invoice_id) as invoice_id,
        cast(line_index as integer) as line_index,
        {{ clm_clean_text('id') }} as invoice_line_id,
        {{ clm_clean_text('price__id') }} as price_id,

        ---------- strings
        {{ clm_clean_code('type') }} as line_type,
        coalesce({{ clm_clean_code('currency', 'upper') }}, invoice_currency) as currency,
        {{ clm_clean_code('price__recurring__interval') }} as billing_interval,

        ---------- numerics
        amount as amount_minor,
        cast(nullif(trim(price__recurring__interval_count), '') as integer) as interval_count,
        cast(nullif(trim(quantity), '') as integer) as quantity,

        ---------- booleans
        {{ clm_to_boolean('proration') }} as is_proration,

        ---------- timestamps
        {{ clm_unix_seconds_to_utc('period__start') }} as period_start_at,
        {{ clm_unix_seconds_to_utc('period__end') }} as period_end_at,
        invoice_created_at,

        ---------- lineage
        _load_date,
        _source_file,
        _row_number

    from newest

),

converted as (

    select
        renamed.invoice_id,
        renamed.line_index,
        renamed.invoice_line_id,
        renamed.price_id,
        renamed.line_type,
        renamed.currency,
        renamed.billing_interval,
        renamed.interval_count,
        renamed.quantity,
        {{ clm_minor_to_major('renamed.amount_minor', 'currencies.minor_unit_digits') }} as amount,
        {{ clm_to_reporting_currency(
            clm_minor_to_major('renamed.amount_minor', 'currencies.minor_unit_digits'), 'fx_rates.rate'
        ) }} as amount_reporting,
        renamed.is_proration,
        renamed.period_start_at,
        renamed.period_end_at,
        renamed._load_date,
        renamed._source_file,
        renamed._row_number

    from renamed
    left join currencies
        on currencies.currency = renamed.currency
    left join fx_rates
        on fx_rates.currency = renamed.currency
        and fx_rates.month = {{ clm_month('renamed.invoice_created_at') }}

)

select * from converted
