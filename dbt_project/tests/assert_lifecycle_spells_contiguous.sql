-- A customer's spells are contiguous and non-overlapping: each spell ends (valid_to) on the day the next one
-- starts, spell numbers run 1, 2, 3, ..., only the last spell is open, consecutive spells differ in stage and
-- every spell lasts at least a day. Returns the offending spells.
with

spells as (

    select
        customer_id,
        stage,
        spell_number,
        valid_from,
        valid_to,
        is_current,
        lead(valid_from) over (partition by customer_id order by valid_from) as next_valid_from,
        lead(stage) over (partition by customer_id order by valid_from) as next_stage,
        row_number() over (partition by customer_id order by valid_from) as position
    from {{ ref('fct_lifecycle_stages') }}

)

select *
from spells
where spell_number <> position
    or (next_valid_from is null and (valid_to is not null or not is_current))
    or (next_valid_from is not null and (valid_to is null or valid_to <> next_valid_from or is_current))
    or (valid_to is not null and valid_to <= valid_from)
    or stage = next_stage
