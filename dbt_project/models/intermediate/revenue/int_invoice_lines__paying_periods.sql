{#-
    The one place that decides over which days an invoice line pays. MRR (int_customer_months__mrr), the
    lifecycle's paying level (int_lifecycle__paying_lines, int_lifecycle__mrr_steps) and the sBG "alive"
    (int_clv__subscription_renewals, through int_lifecycle__paying_lines) all read these rows, so the stage and
    the MRR of a customer cannot disagree about when it pays.

    The lines: those that count towards MRR (int_invoice_lines__normalized: subscription lines of non-void
    invoices, docs/marts.md#mrr). A voided invoice pays on no day, even if it was paid before being voided.

    The paying period [service_start_date, paying_end_date): the invoiced service period, cut short by the
    revenue policies (dbt vars, macro clm_revenue_policy; README "Revenue policies"). paying_end_date is the one
    column they change, for MRR and lifecycle at once; paying_end_reason says which one ended the period.
    * revenue_churn_recognition = period_end (default, docs/marts.md#mrr): MRR is recognised over the invoiced
    period
      and churn is dated when the last invoiced period ends: a subscription cancelled during a period it was
      invoiced for (immediately after its renewal was invoiced and paid on the renewal day, or with the
      period's charge refunded: a refund lowers lifetime revenue, not MRR) pays until that period ends. The
      lifecycle shows such a customer active until then, with no at_risk signal (cancel_at_period_end is not
      set on an immediate cancellation): the known cost of this default.
    * revenue_churn_recognition = cancellation: a line pays until its subscription's ended_at date at the
      latest: an immediate cancellation churns that day, in MRR (the month-end snapshot after it) and in the
      lifecycle (churned from ended_at).
    * revenue_delinquent_churn_days = N (default null: never): a subscription now past_due or unpaid pays until
      N days after delinquent_since, the creation date of its first open or uncollectible invoice after its
      last paid one (only invoices created on or before the as-of date; none = no cut). It churns then, as
      involuntary churn (int_lifecycle__churn_types).

    * revenue_free_subscriptions = active (default churned): active_from_date, the first day a line makes its
      customer an active customer (MRR and lifecycle), is also set for a $0 line (100%-off coupon, $0 plan)
      covered, without a gap, since a day a paying line (monthly_amount > 0) of the customer started: the
      customer's lines form islands of continuous coverage (one line's paying period starting on or before the
      latest end of the earlier ones); a $0 line is active from the later of its start and the first start of
      a paying line in its island (null when that is not before its end, or the island has none: a customer
      that never paid more than 0 stays a lead). By default a $0 line has no active_from_date: such a customer
      has MRR 0 and is not paying. A line with monthly_amount > 0 is active from its service_start_date.

    is_renewal_pending flags, without changing paying_end_date, the last line of a subscription that will renew
    (ended_at after the as-of date, or no ended_at and trialing, active or past_due) when that line ends on the
    as-of date itself and no policy cut it: the renewal is due that day and invoices are cut at the period's
    end, so an extract taken during the as-of day may not hold it yet. An unpaid subscription (Stripe's "mark
    as unpaid" after failed dunning) renews nothing: not pending, so it churns when its last invoiced period
    ends, in MRR and lifecycle. MRR does not count it (no invoice covers the as-of date); the lifecycle counts
    the customer as still paying on the as-of date, so it is not churned by an extract's timing.

    Incremental by customer (macros/clm_increments.sql): a line's period depends only on its customer's lines,
    subscriptions and invoices, and on the as-of date for lines ending on it; a daily build deletes and
    recomputes the lines of the customers in int_increments__changed_customers.
-#}
-- depends_on: {{ ref('int_increments__changed_customers') }}
{{ config(
    materialized=clm_materialized_by_customer(),
    incremental_strategy='append',
    pre_hook="{{ clm_delete_changed_customers('customer_id') }}",
) }}
{%- set churn_recognition = clm_revenue_policy('revenue_churn_recognition') -%}
{%- set delinquent_days = clm_revenue_policy('revenue_delinquent_churn_days') -%}
{%- set free_subscriptions = clm_revenue_policy('revenue_free_subscriptions') -%}

with

invoice_lines as (

    select * from {{ ref('int_invoice_lines__normalized') }}
    where counts_towards_mrr
    {%- if clm_is_incremental() %}
        and {{ clm_changed_customers('customer_id') }}
    {%- endif %}

),

subscriptions as (

    select * from {{ ref('stg_billing__subscriptions') }}

),

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

-- delinquency as the lifecycle's past_due signal dates it (macro clm_first_unpaid_invoices): the first open
-- or uncollectible invoice after the subscription's last paid one, of a subscription now past_due or unpaid
first_unpaid_invoices as (

    {{ clm_first_unpaid_invoices('invoices') }}

),

delinquencies as (

    select
        subscriptions.subscription_id,
        cast(first_unpaid_invoices.first_unpaid_created_at as date) as delinquent_since
    from subscriptions
    inner join first_unpaid_invoices
        on first_unpaid_invoices.subscription_id = subscriptions.subscription_id
    where subscriptions.status in ('past_due', 'unpaid')

),

lines as (

    select
        invoice_lines.invoice_id,
        invoice_lines.line_index,
        invoice_lines.customer_id,
        invoice_lines.subscription_id,
        invoice_lines.invoice_status,
        invoice_lines.currency,
        invoice_lines.amount,
        invoice_lines.monthly_amount,
        invoice_lines.interval_multiplier,
        invoice_lines.interval_divisor,
        invoice_lines.service_start_date,
        invoice_lines.service_end_date as invoiced_end_date,
        cast(subscriptions.ended_at as date) as subscription_ended_on,
        subscriptions.status as subscription_status,
        delinquencies.delinquent_since,
        max(invoice_lines.service_end_date) over (
            partition by invoice_lines.subscription_id
        ) as subscription_last_end_date
    from invoice_lines
    left join subscriptions
        on subscriptions.subscription_id = invoice_lines.subscription_id
    left join delinquencies
        on delinquencies.subscription_id = invoice_lines.subscription_id

),

-- the day a delinquent subscription churns under the delinquency policy (null: not delinquent, or no policy)
delinquent_churn_dates as (

    select
        lines.*,
        {% if delinquent_days is not none -%}
        {{ clm_add_days('delinquent_since', delinquent_days) }}
        {%- else -%}
        cast(null as date)
        {%- endif %} as delinquent_churn_date
    from lines

),

-- the policies' cuts (null = none); the default settings cut nothing
cuts as (

    select
        delinquent_churn_dates.*,
        {% if churn_recognition == 'cancellation' -%}
        case
            when subscription_ended_on < invoiced_end_date then subscription_ended_on
        end
        {%- else -%}
        cast(null as date)
        {%- endif %} as cancellation_cut_date,
        case
            when delinquent_churn_date < invoiced_end_date then delinquent_churn_date
        end as delinquency_cut_date
    from delinquent_churn_dates

),

paying_ends as (

    select
        cuts.*,
        case
            when cancellation_cut_date is not null
                and (delinquency_cut_date is null or cancellation_cut_date <= delinquency_cut_date)
                then 'cancellation'
            when delinquency_cut_date is not null then 'delinquency'
            else 'invoiced_period_end'
        end as paying_end_reason
    from cuts

),

periods as (

    select
        invoice_id,
        line_index,
        customer_id,
        subscription_id,
        invoice_status,
        currency,
        amount,
        interval_multiplier,
        interval_divisor,
        monthly_amount,
        service_start_date,
        invoiced_end_date,
        case paying_end_reason
            when 'cancellation' then cancellation_cut_date
            when 'delinquency' then delinquency_cut_date
            else invoiced_end_date
        end as paying_end_date,
        paying_end_reason,
        subscription_ended_on,
        delinquent_since,
        delinquent_churn_date,
        coalesce(
            paying_end_reason = 'invoiced_period_end'
            and invoiced_end_date = {{ clm_as_of() }}
            and subscription_last_end_date = {{ clm_as_of() }}
            and (
                subscription_ended_on > {{ clm_as_of() }}
                or (subscription_ended_on is null and subscription_status in ('trialing', 'active', 'past_due'))
            ),
            false
        ) as is_renewal_pending
    from paying_ends

),

-- the lines that pay on some day, in order of start: a new island of continuous coverage starts where a line
-- starts after every earlier line of the customer has ended (end exclusive: a line starting on that day
-- continues the island)
ordered_periods as (

    select
        periods.*,
        max(paying_end_date) over (
            partition by customer_id
            order by service_start_date, paying_end_date, invoice_id, line_index
            rows between unbounded preceding and 1 preceding
        ) as earlier_lines_end_date
    from periods
    where paying_end_date > service_start_date

),

islands as (

    select
        ordered_periods.*,
        sum(
            case
                when earlier_lines_end_date is null or earlier_lines_end_date < service_start_date then 1
                else 0
            end
        ) over (
            partition by customer_id
            order by service_start_date, paying_end_date, invoice_id, line_index
            rows between unbounded preceding and current row
        ) as coverage_island
    from ordered_periods

),

island_first_paying_dates as (

    select
        islands.*,
        min(case when monthly_amount > 0 then service_start_date end) over (
            partition by customer_id, coverage_island
        ) as island_first_paying_date
    from islands

),

final as (

    select
        invoice_id,
        line_index,
        customer_id,
        subscription_id,
        invoice_status,
        currency,
        amount,
        interval_multiplier,
        interval_divisor,
        monthly_amount,
        service_start_date,
        invoiced_end_date,
        paying_end_date,
        paying_end_reason,
        subscription_ended_on,
        delinquent_since,
        delinquent_churn_date,
        is_renewal_pending,
        case
            when monthly_amount > 0 then service_start_date
            {%- if free_subscriptions == 'active' %}
            when monthly_amount = 0 and island_first_paying_date < paying_end_date
                then greatest(service_start_date, island_first_paying_date)
            {%- endif %}
        end as active_from_date
    from island_first_paying_dates

)

select * from final
