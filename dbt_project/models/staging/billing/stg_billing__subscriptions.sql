{{ config(pre_hook="{{ clm_delete_changed_keys('subscription_id', source('billing', 'subscriptions'), 'trim(id)') }}") }}

with

source as (

    select * from {{ source('billing', 'subscriptions') }}
    where _load_date <= {{ clm_as_of() }}
    {{ clm_only_changed_keys('trim(id)', source('billing', 'subscriptions'), 'trim(id)') }}

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
        trim(id) as subscription_id,
        trim(customer) as billing_customer_id,

        ---------- strings
        {{ clm_clean_code('status') }} as status,
        {{ clm_clean_code('cancellation_details__reason') }} as cancellation_reason,

        ---------- booleans
        {{ clm_to_boolean('cancel_at_period_end') }} as cancel_at_period_end,

        ---------- timestamps
        {{ clm_unix_seconds_to_utc('created') }} as created_at,
        {{ clm_unix_seconds_to_utc('start_date') }} as started_at,
        {{ clm_unix_seconds_to_utc('trial_start') }} as trial_start_at,
        {{ clm_unix_seconds_to_utc('trial_end') }} as trial_end_at,
        {{ clm_unix_seconds_to_utc('canceled_at') }} as canceled_at,
        {{ clm_unix_seconds_to_utc('ended_at') }} as ended_at,

        ---------- lineage
        _load_date,
        _source_file,
        _row_number

    from newest

)

select * from renamed
