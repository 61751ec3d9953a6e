{#-
    Each customer's daily MRR as a step function: one row per period over which its MRR level is constant,
    up to the as-of date. The level on day d is the sum of monthly_amount of the paying lines
    (int_lifecycle__paying_lines: the paying periods of int_invoice_lines__paying_periods, which MRR reads too)
    whose period [service_start_date, service_end_date) contains d: the month-end MRR snapshot's lines and
    containment (docs/marts.md#mrr), evaluated on every day instead of month ends.

    Built from the points where a line starts (+amount) or ends (-amount) with a running sum, so it costs one
    row per line boundary, never one per customer-day. Levels are in the lines' own currency (a billing
    customer has one), so FX moves never look like expansion or contraction in the lifecycle. Consecutive
    periods with the same level are merged.

    paying_lines: the number of paying lines covering the step (any amount, $0 included); is_paying: the
    customer is paying (an active customer): mrr_level > 0, or, under revenue policy revenue_free_subscriptions =
    active, a $0 line covers it that is active (int_invoice_lines__paying_periods.active_from_date: covered
    without a gap since a day with level > 0). With the default policy, is_paying = (mrr_level > 0). A step
    ends where the level, the line count or is_paying changes.
-#}
with

paying_lines as (

    select * from {{ ref('int_lifecycle__paying_lines') }}

),

mrr_lines as (

    select
        customer_id,
        service_start_date,
        service_end_date,
        monthly_amount,
        active_from_date
    from paying_lines
    where service_start_date <= {{ clm_as_of() }}

),

-- $0 lines over the days they keep the customer active (none with the default policy)
free_active_lines as (

    select
        customer_id,
        active_from_date,
        service_end_date
    from mrr_lines
    where monthly_amount = 0
        and active_from_date < service_end_date
        and active_from_date <= {{ clm_as_of() }}

),

-- per change date: the level's, the line count's and the active $0 line count's changes
deltas as (

    select customer_id, service_start_date as change_date, monthly_amount as delta, 1 as line_delta, 0 as free_delta
    from mrr_lines
    union all
    select customer_id, service_end_date as change_date, -monthly_amount as delta, -1 as line_delta, 0 as free_delta
    from mrr_lines
    where service_end_date <= {{ clm_as_of() }}
    union all
    select customer_id, active_from_date as change_date, 0 as delta, 0 as line_delta, 1 as free_delta
    from free_active_lines
    union all
    select customer_id, service_end_date as change_date, 0 as delta, 0 as line_delta, -1 as free_delta
    from free_active_lines
    where service_end_date <= {{ clm_as_of() }}

),

daily_deltas as (

    select
        customer_id,
        change_date,
        sum(delta) as delta,
        sum(line_delta) as line_delta,
        sum(free_delta) as free_delta
    from deltas
    group by customer_id, change_date

),

levels as (

    select
        customer_id,
        change_date,
        sum(delta) over (
            partition by customer_id order by change_date rows between unbounded preceding and current row
        ) as mrr_level,
        sum(line_delta) over (
            partition by customer_id order by change_date rows between unbounded preceding and current row
        ) as paying_lines,
        sum(free_delta) over (
            partition by customer_id order by change_date rows between unbounded preceding and current row
        ) as free_active_lines
    from daily_deltas

),

paying_levels as (

    select
        customer_id,
        change_date,
        mrr_level,
        paying_lines,
        mrr_level > 0 or free_active_lines > 0 as is_paying
    from levels

),

level_changes as (

    select
        customer_id,
        change_date,
        mrr_level,
        paying_lines,
        is_paying,
        lag(mrr_level) over (partition by customer_id order by change_date) as previous_level,
        lag(paying_lines) over (partition by customer_id order by change_date) as previous_paying_lines,
        lag(is_paying) over (partition by customer_id order by change_date) as previous_is_paying
    from paying_levels

),

steps as (

    select
        customer_id,
        change_date as valid_from,
        mrr_level,
        paying_lines,
        is_paying
    from level_changes
    where previous_level is null
        or mrr_level <> previous_level
        or paying_lines <> previous_paying_lines
        or is_paying <> previous_is_paying

)

select
    customer_id,
    valid_from,
    lead(valid_from) over (partition by customer_id order by valid_from) as valid_to,
    mrr_level,
    cast(paying_lines as integer) as paying_lines,
    cast(is_paying as boolean) as is_paying
from steps
