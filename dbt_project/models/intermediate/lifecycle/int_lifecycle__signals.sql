{#-
    The lifecycle signals of every customer as date intervals [valid_from, valid_to) (valid_to null = still on
    at the as-of date), one row per interval: the events that stage assignment (int_lifecycle__stage_points)
    sweeps over. Day granularity, UTC dates; nothing after the as-of date starts a signal.
    The windows and thresholds are dbt vars (dbt_project.yml, documented in _lifecycle__models.yml):

    seen               from the customer's first sighting (int_identity__first_sightings)
    trial              a subscription's trial [trial_start, trial_end)
    paid               from the first payment (int_marketing__customer_acquisitions.first_paid_at)
    onboarding_window  [first payment, + lifecycle_onboarding_days)
    paying             int_lifecycle__mrr_steps.is_paying: daily MRR > 0 (or, under revenue_free_subscriptions =
                       active, covered by $0 lines without a gap since a day with MRR > 0)
    expansion          MRR above its level lifecycle_mrr_lookback_days earlier, and that level > 0
    contraction        MRR > 0 and below its level lifecycle_mrr_lookback_days earlier
    nps_promoter       the latest NPS response scored >= lifecycle_promoter_min_score, for at most
                       lifecycle_nps_window_days (a newer response replaces it)
    nps_detractor      the same for a score <= lifecycle_detractor_max_score
    paying_referral    from the first payment of a contact it referred (referred_by_contact_id), for
                       lifecycle_referral_window_days (null = no end)
    failed_payment     from a failed charge until the customer's next payment (a succeeded charge or a paid
                       invoice: the failed one or any later one)
    past_due           a subscription now past_due or unpaid: from its first open/uncollectible invoice after
                       its last paid one (the as-of date when there is none)
    cancel_at_period_end  a subscription set to cancel at period end: from canceled_at (the as-of date when
                       missing) until it ends
    bad_csat           a ticket rated bad, for lifecycle_bad_csat_window_days from its solve (else update) date
    ticket_spike       >= lifecycle_ticket_spike_count tickets created within lifecycle_ticket_spike_window_days
-#}
{%- set as_of = clm_as_of() -%}
{%- set lookback = var('lifecycle_mrr_lookback_days') -%}

with

customers as (

    select * from {{ ref('int_identity__customers') }}

),

first_sightings as (

    select * from {{ ref('int_identity__first_sightings') }}

),

acquisitions as (

    select * from {{ ref('int_marketing__customer_acquisitions') }}

),

mrr_steps as (

    select * from {{ ref('int_lifecycle__mrr_steps') }}

),

billing_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

subscriptions as (

    select * from {{ ref('stg_billing__subscriptions') }}

),

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

charges as (

    select * from {{ ref('stg_billing__charges') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

nps_responses as (

    select * from {{ ref('stg_crm__nps_responses') }}

),

ticket_matches as (

    select * from {{ ref('int_identity__ticket_matches') }}

),

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

-- customers, first payment and MRR ----------------------------------------------------------------------------

seen as (

    select
        customer_id,
        'seen' as signal,
        cast(first_seen_at as date) as valid_from,
        cast(null as date) as valid_to
    from first_sightings
    where first_seen_at is not null

),

paid as (

    select
        customer_id,
        'paid' as signal,
        cast(first_paid_at as date) as valid_from,
        cast(null as date) as valid_to
    from acquisitions
    where first_paid_at is not null

),

onboarding_window as (

    select
        customer_id,
        'onboarding_window' as signal,
        cast(first_paid_at as date) as valid_from,
        {{ clm_add_days('cast(first_paid_at as date)', var('lifecycle_onboarding_days')) }} as valid_to
    from acquisitions
    where first_paid_at is not null

),

paying as (

    select
        customer_id,
        'paying' as signal,
        valid_from,
        valid_to
    from mrr_steps
    where is_paying

),

-- MRR now against MRR lookback days earlier changes only where a step starts or lookback days after one
comparison_points as (

    select customer_id, valid_from as point from mrr_steps
    union
    select customer_id, {{ clm_add_days('valid_from', lookback) }} as point from mrr_steps

),

comparison_intervals as (

    select
        customer_id,
        point,
        lead(point) over (partition by customer_id order by point) as next_point
    from comparison_points
    where point <= {{ as_of }}

),

mrr_comparisons as (

    select
        comparison_intervals.customer_id,
        comparison_intervals.point,
        comparison_intervals.next_point,
        coalesce(now_step.mrr_level, 0) as mrr_now,
        coalesce(earlier_step.mrr_level, 0) as mrr_earlier
    from comparison_intervals
    left join mrr_steps as now_step
        on now_step.customer_id = comparison_intervals.customer_id
        and now_step.valid_from <= comparison_intervals.point
        and (now_step.valid_to is null or now_step.valid_to > comparison_intervals.point)
    left join mrr_steps as earlier_step
        on earlier_step.customer_id = comparison_intervals.customer_id
        and earlier_step.valid_from <= {{ clm_add_days('comparison_intervals.point', -lookback) }}
        and (
            earlier_step.valid_to is null
            or earlier_step.valid_to > {{ clm_add_days('comparison_intervals.point', -lookback) }}
        )

),

mrr_movements as (

    select
        customer_id,
        case
            when mrr_earlier > 0 and mrr_now > mrr_earlier then 'expansion'
            when mrr_now > 0 and mrr_now < mrr_earlier then 'contraction'
        end as signal,
        point as valid_from,
        next_point as valid_to
    from mrr_comparisons

),

-- trials ------------------------------------------------------------------------------------------------------

subscription_customers as (

    select
        billing_matches.customer_id,
        subscriptions.*
    from subscriptions
    inner join billing_matches
        on billing_matches.billing_customer_id = subscriptions.billing_customer_id

),

trial as (

    select
        customer_id,
        'trial' as signal,
        cast(trial_start_at as date) as valid_from,
        cast(coalesce(trial_end_at, ended_at) as date) as valid_to
    from subscription_customers
    where trial_start_at is not null

),

-- NPS and referrals -------------------------------------------------------------------------------------------

customer_responses as (

    select
        customers.customer_id,
        nps_responses.score,
        cast(nps_responses.responded_at as date) as responded_on,
        lead(cast(nps_responses.responded_at as date)) over (
            partition by customers.customer_id
            order by nps_responses.responded_at, nps_responses.response_id
        ) as next_responded_on
    from nps_responses
    inner join customers
        on customers.contact_id = nps_responses.contact_id
    where nps_responses.responded_at < {{ clm_as_of_end() }}
        and nps_responses.score is not null

),

nps as (

    select
        customer_id,
        case
            when score >= {{ var('lifecycle_promoter_min_score') }} then 'nps_promoter'
            when score <= {{ var('lifecycle_detractor_max_score') }} then 'nps_detractor'
        end as signal,
        responded_on as valid_from,
        case
            when next_responded_on is not null
                and next_responded_on < {{ clm_add_days('responded_on', var('lifecycle_nps_window_days')) }}
                then next_responded_on
            else {{ clm_add_days('responded_on', var('lifecycle_nps_window_days')) }}
        end as valid_to
    from customer_responses

),

paying_referral as (

    select
        referrers.customer_id,
        'paying_referral' as signal,
        cast(acquisitions.first_paid_at as date) as valid_from,
        {% if var('lifecycle_referral_window_days') is none -%}
        cast(null as date)
        {%- else -%}
        {{ clm_add_days('cast(acquisitions.first_paid_at as date)', var('lifecycle_referral_window_days')) }}
        {%- endif %} as valid_to
    from contacts
    inner join customers as referees
        on referees.contact_id = contacts.contact_id
    inner join acquisitions
        on acquisitions.customer_id = referees.customer_id
    inner join customers as referrers
        on referrers.contact_id = contacts.referred_by_contact_id
    where acquisitions.first_paid_at is not null
        and referrers.customer_id <> referees.customer_id

),

-- billing health ----------------------------------------------------------------------------------------------

customer_charges as (

    select
        billing_matches.customer_id,
        charges.charge_id,
        charges.invoice_id,
        charges.status,
        charges.created_at,
        min(case when charges.status = 'succeeded' then charges.created_at end) over (
            partition by billing_matches.customer_id
            order by charges.created_at, charges.charge_id
            rows between 1 following and unbounded following
        ) as next_succeeded_at
    from charges
    inner join billing_matches
        on billing_matches.billing_customer_id = charges.billing_customer_id
    where charges.created_at < {{ clm_as_of_end() }}

),

customer_paid_invoices as (

    select
        billing_matches.customer_id,
        invoices.paid_at
    from invoices
    inner join billing_matches
        on billing_matches.billing_customer_id = invoices.billing_customer_id
    where invoices.paid_at < {{ clm_as_of_end() }}
        and invoices.amount_paid > 0

),

failed_charges as (

    select
        customer_charges.customer_id,
        customer_charges.charge_id,
        customer_charges.created_at,
        customer_charges.next_succeeded_at,
        min(customer_paid_invoices.paid_at) as next_paid_invoice_at
    from customer_charges
    left join customer_paid_invoices
        on customer_paid_invoices.customer_id = customer_charges.customer_id
        and customer_paid_invoices.paid_at > customer_charges.created_at
    where customer_charges.status = 'failed'
    group by
        customer_charges.customer_id,
        customer_charges.charge_id,
        customer_charges.created_at,
        customer_charges.next_succeeded_at

),

-- recovered by the customer's next payment: a succeeded charge or an invoice paid (the failed one or any
-- later one, e.g. paid out of band or on a new subscription after the failed invoice was voided)
failed_payment as (

    select
        customer_id,
        'failed_payment' as signal,
        cast(created_at as date) as valid_from,
        cast(
            case
                when next_paid_invoice_at is not null
                    and (next_succeeded_at is null or next_paid_invoice_at < next_succeeded_at)
                    then next_paid_invoice_at
                else next_succeeded_at
            end as date
        ) as valid_to
    from failed_charges

),

-- the first open or uncollectible invoice after the subscription's last paid one (the same date the
-- delinquency policy of int_invoice_lines__paying_periods counts from)
first_unpaid_invoices as (

    {{ clm_first_unpaid_invoices('invoices') }}

),

past_due as (

    select
        subscription_customers.customer_id,
        'past_due' as signal,
        coalesce(cast(first_unpaid_invoices.first_unpaid_created_at as date), {{ as_of }}) as valid_from,
        cast(null as date) as valid_to
    from subscription_customers
    left join first_unpaid_invoices
        on first_unpaid_invoices.subscription_id = subscription_customers.subscription_id
    where subscription_customers.status in ('past_due', 'unpaid')

),

cancel_at_period_end as (

    select
        customer_id,
        'cancel_at_period_end' as signal,
        case
            when canceled_at < {{ clm_as_of_end() }} then cast(canceled_at as date)
            else {{ as_of }}
        end as valid_from,
        cast(ended_at as date) as valid_to
    from subscription_customers
    where cancel_at_period_end

),

-- support -----------------------------------------------------------------------------------------------------

customer_tickets as (

    select
        ticket_matches.customer_id,
        tickets.ticket_id,
        tickets.satisfaction_rating,
        tickets.created_at,
        coalesce(tickets.solved_at, tickets.updated_at, tickets.created_at) as rated_at
    from tickets
    inner join ticket_matches
        on ticket_matches.ticket_id = tickets.ticket_id
    where ticket_matches.customer_id is not null
        and tickets.created_at < {{ clm_as_of_end() }}

),

bad_csat as (

    select
        customer_id,
        'bad_csat' as signal,
        cast(rated_at as date) as valid_from,
        {{ clm_add_days('cast(rated_at as date)', var('lifecycle_bad_csat_window_days')) }} as valid_to
    from customer_tickets
    where satisfaction_rating = 'bad'
        and rated_at < {{ clm_as_of_end() }}

),

-- on day d a spike is on while the tickets created in (d - window, d] number at least the threshold: from the
-- ticket that reaches the threshold until the window has passed the oldest of those tickets
ticket_sequences as (

    select
        customer_id,
        cast(created_at as date) as created_on,
        cast(
            lag(created_at, {{ var('lifecycle_ticket_spike_count') - 1 }}) over (
                partition by customer_id order by created_at, ticket_id
            ) as date
        ) as oldest_in_spike_on
    from customer_tickets

),

ticket_spike as (

    select
        customer_id,
        'ticket_spike' as signal,
        created_on as valid_from,
        {{ clm_add_days('oldest_in_spike_on', var('lifecycle_ticket_spike_window_days')) }} as valid_to
    from ticket_sequences
    where oldest_in_spike_on is not null

),

signals as (

    select * from seen
    union all
    select * from trial
    union all
    select * from paid
    union all
    select * from onboarding_window
    union all
    select * from paying
    union all
    select * from mrr_movements where signal is not null
    union all
    select * from nps where signal is not null
    union all
    select * from paying_referral
    union all
    select * from failed_payment
    union all
    select * from past_due
    union all
    select * from cancel_at_period_end
    union all
    select * from bad_csat
    union all
    select * from ticket_spike

)

select
    cast(customer_id as {{ clm_type_string() }}) as customer_id,
    cast(signal as {{ clm_type_string() }}) as signal,
    cast(valid_from as date) as valid_from,
    cast(valid_to as date) as valid_to
from signals
where valid_from <= {{ as_of }}
    and (valid_to is null or valid_to > valid_from)
