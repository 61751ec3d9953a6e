{#-
    Input of the shifted-beta-geometric model (sBG, Fader and Hardie 2007): one row per customer with a paid
    subscription period, describing its first subscription (the contractual relationship the model is about).

    * paid_periods: distinct billing periods of that subscription with a paid, non-proration subscription line
      of amount > 0 starting on or before the as-of date; renewals = paid_periods - 1 (the first period is the
      acquisition, every later one a renewal decision survived).
    * is_alive: a paying line (int_lifecycle__paying_lines: cut at the subscription's end, a renewal due on
      the as-of date still pending) of the subscription with amount > 0 on a paid or open (still in dunning)
      invoice covers the as-of date: the same notion of paying as the lifecycle's churned stage. Stricter
      than the MRR rule of docs/marts.md#mrr, which also counts an uncollectible invoice's period: that is the
      period an involuntary churner never paid, so counting it would make recent involuntary churners look
      like survivors and bias the fit. A subscription that is not alive churned
      after `renewals` renewals; an alive one is right-censored: it has survived `renewals` renewals and its
      next decision is still ahead.
    * period_months: the billing period in months (month x interval_count, year x 12 x interval_count);
      the sBG time unit is this period.
    * current_mrr: the customer's MRR at the as-of date (reporting currency), the revenue of a future period
      is current_mrr x period_months.
-#}
with

invoice_lines as (

    select * from {{ ref('int_invoice_lines__normalized') }}

),

paying_lines as (

    select * from {{ ref('int_lifecycle__paying_lines') }}

),

customers as (

    select * from {{ ref('int_identity__customers') }}

),

customer_months as (

    select * from {{ ref('int_customer_months__mrr') }}

),

subscription_lines as (

    select
        customer_id,
        subscription_id,
        invoice_status,
        billing_interval,
        interval_count,
        amount,
        is_proration,
        service_start_date,
        service_end_date
    from invoice_lines
    where counts_towards_mrr
        and subscription_id is not null
        and service_start_date <= {{ clm_as_of() }}

),

first_subscriptions as (

    select
        customer_id,
        subscription_id
    from (
        select
            customer_id,
            subscription_id,
            row_number() over (
                partition by customer_id order by min(service_start_date), subscription_id
            ) as subscription_rank
        from subscription_lines
        where invoice_status = 'paid'
            and amount > 0
            and not coalesce(is_proration, false)
        group by customer_id, subscription_id
    ) as ranked
    where subscription_rank = 1

),

periods as (

    select
        subscription_lines.customer_id,
        subscription_lines.subscription_id,
        min(subscription_lines.billing_interval) as billing_interval,
        min(subscription_lines.interval_count) as interval_count,
        min(case
            when subscription_lines.invoice_status = 'paid'
                and subscription_lines.amount > 0
                and not coalesce(subscription_lines.is_proration, false)
                then subscription_lines.service_start_date
        end) as first_period_start,
        count(distinct case
            when subscription_lines.invoice_status = 'paid'
                and subscription_lines.amount > 0
                and not coalesce(subscription_lines.is_proration, false)
                then subscription_lines.service_start_date
        end) as paid_periods
    from subscription_lines
    inner join first_subscriptions
        on first_subscriptions.subscription_id = subscription_lines.subscription_id
        and first_subscriptions.customer_id = subscription_lines.customer_id
    group by subscription_lines.customer_id, subscription_lines.subscription_id

),

alive_subscriptions as (

    select distinct
        subscription_id
    from paying_lines
    where service_start_date <= {{ clm_as_of() }}
        and service_end_date > {{ clm_as_of() }}
        and invoice_status in ('paid', 'open')
        and amount > 0

),

current_mrr as (

    select
        customer_id,
        mrr
    from customer_months
    where month = {{ clm_month(clm_as_of()) }}

)

select
    cast(periods.customer_id as {{ clm_type_string() }}) as customer_id,
    cast(coalesce(customers.segment, 'unknown') as {{ clm_type_string() }}) as segment,
    cast(periods.subscription_id as {{ clm_type_string() }}) as subscription_id,
    cast(periods.billing_interval as {{ clm_type_string() }}) as billing_interval,
    cast(periods.interval_count as integer) as interval_count,
    cast(
        case periods.billing_interval
            when 'year' then 12 * periods.interval_count
            when 'month' then periods.interval_count
        end as integer
    ) as period_months,
    cast(periods.first_period_start as date) as first_period_start,
    cast(periods.paid_periods as integer) as paid_periods,
    cast(periods.paid_periods - 1 as integer) as renewals,
    cast(alive_subscriptions.subscription_id is not null as boolean) as is_alive,
    cast(coalesce(current_mrr.mrr, 0) as decimal(18, 2)) as current_mrr
from periods
inner join customers
    on customers.customer_id = periods.customer_id
left join alive_subscriptions
    on alive_subscriptions.subscription_id = periods.subscription_id
left join current_mrr
    on current_mrr.customer_id = periods.customer_id
where periods.paid_periods >= 1
