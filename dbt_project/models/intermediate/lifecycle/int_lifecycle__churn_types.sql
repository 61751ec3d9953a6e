{#-
    Why each customer's paying relationship ended, for customers whose last MRR line has ended
    (docs/marts.md#churn-type: churn is involuntary when the subscription ended for non-payment, voluntary
    otherwise). The subscription that ended it is the one whose paying line (int_lifecycle__paying_lines: its
    paying period, by default the invoiced one; monthly amount > 0: a $0 trial line ends nothing) ends last
    (ties: the latest ended_at, then the smallest subscription_id). Involuntary when that subscription's
    cancellation reason is payment_failed, its status is unpaid, its last non-void invoice is uncollectible,
    or its paying ended by the delinquency policy (revenue_delinquent_churn_days: past_due or unpaid for that
    many days, churn_reason delinquent); voluntary otherwise.
    dim_customers publishes churn_type for customers whose current stage is churned; a customer that paid only
    one-off invoices (no subscription) churns voluntarily.
-#}
with

paying_lines as (

    select * from {{ ref('int_lifecycle__paying_lines') }}

),

subscriptions as (

    select * from {{ ref('stg_billing__subscriptions') }}

),

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

acquisitions as (

    select * from {{ ref('int_marketing__customer_acquisitions') }}

),

subscription_ends as (

    select
        customer_id,
        subscription_id,
        max(service_end_date) as service_end_date,
        -- the delinquency policy cuts every line of the subscription at one date, so its paying ends there
        -- (a line that would start on or after it is gone: the one before may end on that date uncut)
        max(case when service_end_date = delinquent_churn_date then 1 else 0 end) as is_delinquency_end
    from paying_lines
    where monthly_amount > 0
        and subscription_id is not null
    group by customer_id, subscription_id

),

last_subscriptions as (

    select
        customer_id,
        subscription_id,
        service_end_date,
        is_delinquency_end
    from (
        select
            subscription_ends.customer_id,
            subscription_ends.subscription_id,
            subscription_ends.service_end_date,
            subscription_ends.is_delinquency_end,
            row_number() over (
                partition by subscription_ends.customer_id
                order by
                    subscription_ends.service_end_date desc,
                    subscriptions.ended_at desc nulls last,
                    subscription_ends.subscription_id asc
            ) as end_rank
        from subscription_ends
        left join subscriptions
            on subscriptions.subscription_id = subscription_ends.subscription_id
    ) as ranked
    where end_rank = 1

),

last_invoices as (

    select
        subscription_id,
        status
    from (
        select
            subscription_id,
            status,
            row_number() over (
                partition by subscription_id order by created_at desc, invoice_id desc
            ) as invoice_rank
        from invoices
        where subscription_id is not null
            and status <> 'void'
    ) as ranked
    where invoice_rank = 1

),

classified as (

    select
        acquisitions.customer_id,
        last_subscriptions.subscription_id,
        last_subscriptions.service_end_date,
        case
            when subscriptions.cancellation_reason = 'payment_failed' then 'payment_failed'
            when subscriptions.status = 'unpaid' then 'unpaid'
            when last_invoices.status = 'uncollectible' then 'uncollectible_invoice'
            when last_subscriptions.is_delinquency_end = 1 then 'delinquent'
            when subscriptions.cancellation_reason is not null then subscriptions.cancellation_reason
            when last_subscriptions.subscription_id is null then 'no_subscription'
            else 'unknown'
        end as churn_reason
    from acquisitions
    left join last_subscriptions
        on last_subscriptions.customer_id = acquisitions.customer_id
    left join subscriptions
        on subscriptions.subscription_id = last_subscriptions.subscription_id
    left join last_invoices
        on last_invoices.subscription_id = last_subscriptions.subscription_id
    where acquisitions.first_paid_at is not null

)

select
    customer_id,
    subscription_id as churned_subscription_id,
    service_end_date as paying_ended_on,
    churn_reason,
    case
        when churn_reason in ('payment_failed', 'unpaid', 'uncollectible_invoice', 'delinquent')
            then 'involuntary'
        else 'voluntary'
    end as churn_type
from classified
