{#-
    Each customer's daily MRR as a step function: one row per period over which its MRR level is constant,
    up to the as-of date. The level on day d is the sum of monthly_amount of the paying lines
    (int_lifecycle__paying_lines: the paying periods of int_invoice_lines__paying_periods, which MRR reads too)
    whose period [service_start_date, service_end_date) contains d: the month-end MRR snapshot's lines and
    containment (CONTRACT 6), evaluated on every day instead of month ends.

    Built from the points where a line starts (+amount) or ends (-amount) with a running sum, so it costs one
    row per line boundary, never one per customer-day. Levels are in the lines' own currency (a billing
    customer has one), so FX moves never look like expansion or contraction in the lifecycle. Consecutive
    periods with the same level are merged.
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
        monthly_amount
    from paying_lines
    where service_start_date <= {{ clm_as_of() }}

),

deltas as (

    select customer_id, service_start_date as change_date, monthly_amount as delta from mrr_lines
    union all
    select customer_id, service_end_date as change_date, -monthly_amount as delta from mrr_lines
    where service_end_date <= {{ clm_as_of() }}

),

daily_deltas as (

    select
        customer_id,
        change_date,
        sum(delta) as delta
    from deltas
    group by customer_id, change_date

),

levels as (

    select
        customer_id,
        change_date,
        sum(delta) over (
            partition by customer_id order by change_date rows between unbounded preceding and current row
        ) as mrr_level
    from daily_deltas

),

level_changes as (

    select
        customer_id,
        change_date,
        mrr_level,
        lag(mrr_level) over (partition by customer_id order by change_date) as previous_level
    from levels

),

steps as (

    select
        customer_id,
        change_date as valid_from,
        mrr_level
    from level_changes
    where previous_level is null
        or mrr_level <> previous_level

)

select
    customer_id,
    valid_from,
    lead(valid_from) over (partition by customer_id order by valid_from) as valid_to,
    mrr_level
from steps
