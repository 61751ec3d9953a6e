{#-
    The lifecycle stage of every customer at every date where one of its signals starts or ends
    (int_lifecycle__signals), from its first sighting to the as-of date: a sweep over the signal boundaries
    (+1 where an interval starts, -1 where it ends, a running sum per signal), so the cost grows with the number
    of events, never with customers x days. The stage holds from a point until the customer's next point.

    Rules (docs/marts.md#lifecycle-stages; the windows are dbt vars, see int_lifecycle__signals). A customer
    is a *customer* once it has paid (first payment) and *paying* on a day its MRR is > 0
    (int_lifecycle__mrr_steps.is_paying; under revenue_free_subscriptions = active also while $0 lines cover
    it without a gap since it paid). The stage is the last stage in funnel order whose rule holds:
      1 lead        always (from the first sighting)
      2 trial       never paid, in a subscription trial
      3 onboarding  paid and paying, first payment within lifecycle_onboarding_days
      4 active      paid and paying, first payment longer ago
      5 expanding   paid and paying, MRR above its level lifecycle_mrr_lookback_days earlier (which was > 0)
      6 advocate    paid and paying, promoter NPS as latest response in the window, or a referral that paid
      7 at_risk     paid and paying, with any health signal (clm_lifecycle_health_signals)
      8 churned     paid before, not paying now

    Incremental (macros/clm_increments.sql): a daily build deletes and recomputes the points of the customers
    int_increments__lifecycle_customers marks changed (their signals or first sighting differ, or one of their
    signals ends on a date the as-of date has now reached); every other customer's points are as they were.
-#}
-- depends_on: {{ ref('int_increments__lifecycle_customers') }}
{{ config(
    materialized=clm_materialized_by_customer(),
    incremental_strategy='append',
    pre_hook="{{ clm_delete_changed_lifecycle_customers('customer_id') }}",
) }}
{%- set signals = clm_lifecycle_signals() -%}

with

signals as (

    select * from {{ ref('int_lifecycle__signals') }}
    {%- if clm_is_incremental() %}
    where {{ clm_changed_lifecycle_customers('customer_id') }}
    {%- endif %}

),

first_sightings as (

    select * from {{ ref('int_identity__first_sightings') }}
    {%- if clm_is_incremental() %}
    where {{ clm_changed_lifecycle_customers('customer_id') }}
    {%- endif %}

),

deltas as (

    select customer_id, valid_from as point, signal, 1 as delta from signals
    union all
    select customer_id, valid_to as point, signal, -1 as delta from signals
    where valid_to <= {{ clm_as_of() }}

),

point_deltas as (

    select
        customer_id,
        point,
        {%- for signal in signals %}
        sum(case when signal = '{{ signal }}' then delta else 0 end) as {{ signal }}_delta{{ ',' if not loop.last }}
        {%- endfor %}
    from deltas
    group by customer_id, point

),

point_states as (

    select
        customer_id,
        point,
        {%- for signal in signals %}
        sum({{ signal }}_delta) over customer_points > 0 as is_{{ signal }}{{ ',' if not loop.last }}
        {%- endfor %}
    from point_deltas
    window customer_points as (
        partition by customer_id order by point rows between unbounded preceding and current row
    )

),

staged as (

    select
        point_states.*,
        {%- for signal in clm_lifecycle_health_signals() %}
        {{ 'is_' ~ signal }}{{ ' or' if not loop.last }}
        {%- endfor %} as has_health_signal,
        case
            when is_paid and not is_paying then 'churned'
            when is_paid and is_paying and (
                {%- for signal in clm_lifecycle_health_signals() %}
                {{ 'is_' ~ signal }}{{ ' or' if not loop.last }}
                {%- endfor %}
            ) then 'at_risk'
            when is_paid and is_paying and (
                {%- for signal in clm_lifecycle_advocacy_signals() %}
                {{ 'is_' ~ signal }}{{ ' or' if not loop.last }}
                {%- endfor %}
            ) then 'advocate'
            when is_paid and is_paying and is_expansion then 'expanding'
            when is_paid and is_paying and not is_onboarding_window then 'active'
            when is_paid and is_paying then 'onboarding'
            when is_trial then 'trial'
            else 'lead'
        end as stage
    from point_states

)

select
    staged.*
from staged
inner join first_sightings
    on first_sightings.customer_id = staged.customer_id
-- signals dated before the first sighting (say, a trial start a day before the contact's creation) count from
-- the first sighting on
where staged.point >= cast(first_sightings.first_seen_at as date)
