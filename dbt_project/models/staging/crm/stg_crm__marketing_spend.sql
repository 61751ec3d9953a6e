with

source as (

    select * from {{ source('crm', 'marketing_spend') }}
    where _load_date <= {{ clm_as_of() }}

),

fx_rates as (

    {{ clm_fx_rates() }}

),

newest as (

    {{ clm_newest_versions(
        'source',
        ['cast(trim(spend_date) as date)', clm_clean_code('channel')]
    ) }}

),

renamed as (

    select

        ---------- ids
        cast(trim(spend_date) as date) as spend_date,
        {{ clm_clean_code('channel') }} as channel,

        ---------- strings
        {{ clm_clean_code('currency', 'upper') }} as currency,

        ---------- numerics
        {{ clm_to_amount('amount') }} as amount,

        ---------- lineage
        _load_date,
        _source_file,
        _row_number

    from newest

),

converted as (

    select
        renamed.spend_date,
        renamed.channel,
        renamed.currency,
        renamed.amount,
        {{ clm_to_reporting_currency('renamed.amount', 'fx_rates.rate') }} as amount_reporting,
        renamed._load_date,
        renamed._source_file,
        renamed._row_number

    from renamed
    left join fx_rates
        on fx_rates.currency = renamed.currency
        and fx_rates.month = {{ clm_month('renamed.spend_date') }}

)

select * from converted
