{#-
    Customer acquisition cost per acquisition channel and month (docs/marts.md#cac):

        cac = marketing spend of the channel in the month (reporting currency)
              / customers acquired through the channel in the month

    * spend: stg_crm__marketing_spend.amount_reporting (each row at its spend month's FX rate), spend_date on
      or before the as-of date, summed by the month of spend_date and channel;
    * acquired: int_marketing__customer_acquisitions, a customer is acquired in the month of its first payment
      (acquired_month) through its CRM acquisition_channel. Channels match as trimmed lower-case codes.
    * one row per channel and month with spend or acquisitions: a channel-month with spend and nobody
      acquired has cac null (the spend bought no customer that month); one with acquisitions and no spend
      (organic, referral, ...) has marketing_spend 0 and cac 0.
    Customers without a channel (billing-only) cannot be attributed to a channel and have no row here; the
    monthly blended CAC in rpt_kpis_monthly counts them.
    cac is unrounded (DECIMAL(38,10), exact on every target through clm_exact_divide); marts round to cents.
-#}
with

marketing_spend as (

    select * from {{ ref('stg_crm__marketing_spend') }}

),

acquisitions as (

    select * from {{ ref('int_marketing__customer_acquisitions') }}

),

spend_by_channel_month as (

    select
        {{ clm_month('spend_date') }} as month,
        channel,
        sum(amount_reporting) as marketing_spend
    from marketing_spend
    where spend_date <= {{ clm_as_of() }}
        and channel is not null
    group by {{ clm_month('spend_date') }}, channel

),

acquisitions_by_channel_month as (

    select
        acquired_month as month,
        acquisition_channel as channel,
        count(*) as customers_acquired
    from acquisitions
    where acquired_month is not null
        and acquisition_channel is not null
    group by acquired_month, acquisition_channel

),

channel_months as (

    select month, channel from spend_by_channel_month
    union
    select month, channel from acquisitions_by_channel_month

),

final as (

    select
        cast(channel_months.month as date) as month,
        cast(channel_months.channel as {{ clm_type_string() }}) as channel,
        cast(coalesce(spend_by_channel_month.marketing_spend, 0) as decimal(38, 10)) as marketing_spend,
        cast(coalesce(acquisitions_by_channel_month.customers_acquired, 0) as integer) as customers_acquired,
        cast(
            case
                when acquisitions_by_channel_month.customers_acquired > 0
                    then {{ clm_exact_divide(
                        'coalesce(spend_by_channel_month.marketing_spend, 0)',
                        'acquisitions_by_channel_month.customers_acquired'
                    ) }}
            end
            as decimal(38, 10)
        ) as cac
    from channel_months
    left join spend_by_channel_month
        on spend_by_channel_month.month = channel_months.month
        and spend_by_channel_month.channel = channel_months.channel
    left join acquisitions_by_channel_month
        on acquisitions_by_channel_month.month = channel_months.month
        and acquisitions_by_channel_month.channel = channel_months.channel

)

select * from final
