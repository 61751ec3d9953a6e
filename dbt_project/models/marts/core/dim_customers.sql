with

customers as (

    select * from {{ ref('int_identity__customers') }}

),

first_sightings as (

    select * from {{ ref('int_identity__first_sightings') }}

),

current_spells as (

    select * from {{ ref('fct_lifecycle_stages') }}
    where is_current

),

stage_points as (

    select * from {{ ref('int_lifecycle__stage_points') }}

),

churn_types as (

    select * from {{ ref('int_lifecycle__churn_types') }}

),

acquisitions as (

    select * from {{ ref('int_marketing__customer_acquisitions') }}

),

cac_by_channel_month as (

    select * from {{ ref('int_marketing__cac_by_channel_month') }}

),

mrr_movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

lifetime_revenue as (

    select * from {{ ref('int_customers__lifetime_revenue') }}

),

-- current_mrr: the MRR of the as-of month (a churn row there has mrr 0; no row at all means 0)
current_mrr as (

    select
        customer_id,
        mrr,
        is_active
    from mrr_movements
    where month = {{ clm_month(clm_as_of()) }}

),

-- cac: the CAC of the customer's acquisition channel in its acquisition month (first payment); 0 when that
-- channel-month had no spend or the customer has no channel; null while the customer has never paid
customer_cac as (

    select
        acquisitions.customer_id,
        acquisitions.first_paid_at,
        case
            when acquisitions.acquired_month is not null
                then coalesce(cac_by_channel_month.cac, 0)
        end as cac
    from acquisitions
    left join cac_by_channel_month
        on cac_by_channel_month.month = acquisitions.acquired_month
        and cac_by_channel_month.channel = acquisitions.acquisition_channel

),

-- the health signals on the as-of date: the customer's last stage point
current_signals as (

    select
        customer_id,
        {%- for signal in clm_lifecycle_health_signals() %}
        is_{{ signal }},
        {%- endfor %}
        is_nps_promoter,
        is_paying_referral
    from (
        select
            stage_points.*,
            row_number() over (partition by customer_id order by point desc) as point_rank
        from stage_points
    ) as ranked
    where point_rank = 1

),

final as (

    select
        cast(customers.customer_id as {{ clm_type_string() }}) as customer_id,
        cast({{ clm_pii_hash('customers.email') }} as {{ clm_type_string() }}) as email_hash,
        cast(customers.country as {{ clm_type_string() }}) as country,
        cast(customers.segment as {{ clm_type_string() }}) as segment,
        cast(customers.acquisition_channel as {{ clm_type_string() }}) as acquisition_channel,
        cast(first_sightings.first_seen_at as timestamp) as first_seen_at,
        cast(customer_cac.first_paid_at as timestamp) as first_paid_at,
        cast(current_spells.stage as {{ clm_type_string() }}) as current_stage,
        cast(current_spells.valid_from as date) as current_stage_since,
        cast(
            case when current_spells.stage = 'churned' then churn_types.churn_type end as {{ clm_type_string() }}
        ) as churn_type,
        cast(
            case when current_spells.stage = 'churned' then churn_types.churn_reason end as {{ clm_type_string() }}
        ) as churn_reason,
        cast(current_spells.stage = 'at_risk' as boolean) as is_at_risk,
        cast(
            case
                when current_spells.stage = 'at_risk'
                    then {{ clm_concat_flags(clm_lifecycle_health_signals(), 'current_signals.is_') }}
            end as {{ clm_type_string() }}
        ) as at_risk_reasons,
        {%- for signal in clm_lifecycle_health_signals() %}
        cast(coalesce(current_signals.is_{{ signal }}, false) as boolean) as has_{{ signal }},
        {%- endfor %}
        cast(coalesce(current_signals.is_nps_promoter, false) as boolean) as is_nps_promoter,
        cast(coalesce(current_signals.is_paying_referral, false) as boolean) as has_paying_referral,
        cast(coalesce(current_mrr.mrr, 0) as decimal(18, 2)) as current_mrr,
        cast(coalesce(current_mrr.is_active, false) as boolean) as is_active_customer,
        cast(round(coalesce(lifetime_revenue.lifetime_revenue, 0), 2) as decimal(18, 2)) as lifetime_revenue,
        cast(round(customer_cac.cac, 2) as decimal(18, 2)) as cac
    from customers
    left join first_sightings
        on first_sightings.customer_id = customers.customer_id
    left join current_spells
        on current_spells.customer_id = customers.customer_id
    left join current_signals
        on current_signals.customer_id = customers.customer_id
    left join churn_types
        on churn_types.customer_id = customers.customer_id
    left join customer_cac
        on customer_cac.customer_id = customers.customer_id
    left join current_mrr
        on current_mrr.customer_id = customers.customer_id
    left join lifetime_revenue
        on lifetime_revenue.customer_id = customers.customer_id

)

select * from final
