with

customers as (

    select * from {{ ref('int_identity__customers') }}

),

billing_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

ticket_matches as (

    select * from {{ ref('int_identity__ticket_matches') }}

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

-- first_seen_at: the earliest of the CRM contact's creation, any of its billing customers' creation and
-- any of its tickets' creation
sightings as (

    select customer_id, anchor_created_at as seen_at from customers
    union all
    select customer_id, created_at as seen_at from billing_matches
    union all
    select customer_id, created_at as seen_at from ticket_matches where customer_id is not null

),

first_sightings as (

    select
        customer_id,
        min(seen_at) as first_seen_at
    from sightings
    group by customer_id

),

-- current_mrr: the MRR of the as-of month (a churn row there has mrr 0; no row at all means 0)
current_mrr as (

    select
        customer_id,
        mrr
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

final as (

    select
        cast(customers.customer_id as varchar) as customer_id,
        cast({{ clm_pii_hash('customers.email') }} as varchar) as email_hash,
        cast(customers.country as varchar) as country,
        cast(customers.segment as varchar) as segment,
        cast(customers.acquisition_channel as varchar) as acquisition_channel,
        cast(first_sightings.first_seen_at as timestamp) as first_seen_at,
        cast(customer_cac.first_paid_at as timestamp) as first_paid_at,
        cast(coalesce(current_mrr.mrr, 0) as decimal(18, 2)) as current_mrr,
        cast(round(coalesce(lifetime_revenue.lifetime_revenue, 0), 2) as decimal(18, 2)) as lifetime_revenue,
        cast(round(customer_cac.cac, 2) as decimal(18, 2)) as cac
    from customers
    left join first_sightings
        on first_sightings.customer_id = customers.customer_id
    left join customer_cac
        on customer_cac.customer_id = customers.customer_id
    left join current_mrr
        on current_mrr.customer_id = customers.customer_id
    left join lifetime_revenue
        on lifetime_revenue.customer_id = customers.customer_id

)

select * from final
