{#-
    items[] of the newest version of each subscription: a child row belongs to the parent version that landed
    in the same file at the same row (_source_file, _row_number), so items of superseded versions are dropped.
-#}
{{ config(pre_hook="{{ clm_delete_changed_keys('subscription_id', source('billing', 'subscriptions'), 'trim(id)') }}") }}

with

source as (

    select * from {{ source('billing', 'subscription_items') }}
    where _load_date <= {{ clm_as_of() }}
    {{ clm_only_changed_keys('trim(subscription_id)', source('billing', 'subscriptions'), 'trim(id)') }}

),

subscriptions as (

    select * from {{ ref('stg_billing__subscriptions') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

newest as (

    select source.*
    from source
    inner join subscriptions
        on subscriptions.subscription_id = trim(source.subscription_id)
        and subscriptions._source_file = source._source_file
        and subscriptions._row_number = source._row_number

),

renamed as (

    select

        ---------- ids
        trim(newest.subscription_id) as subscription_id,
        cast(newest.item_index as integer) as item_index,
        {{ clm_clean_text('newest.id') }} as subscription_item_id,
        {{ clm_clean_text('newest.price__id') }} as price_id,

        ---------- strings
        {{ clm_clean_code('newest.price__currency', 'upper') }} as currency,
        {{ clm_clean_code('newest.price__recurring__interval') }} as billing_interval,

        ---------- numerics
        {{ clm_minor_to_major('newest.price__unit_amount', 'currencies.minor_unit_digits') }} as unit_amount,
        cast(nullif(trim(newest.price__recurring__interval_count), '') as integer) as interval_count,
        cast(nullif(trim(newest.quantity), '') as integer) as quantity,

        ---------- lineage
        newest._load_date,
        newest._source_file,
        newest._row_number

    from newest
    left join currencies
        on currencies.currency = {{ clm_clean_code('newest.price__currency', 'upper') }}

)

select * from renamed
