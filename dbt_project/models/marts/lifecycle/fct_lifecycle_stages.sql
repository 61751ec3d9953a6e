{#-
    Stage spells: one row per customer and uninterrupted period in one lifecycle stage, from the first sighting
    to the as-of date (int_lifecycle__stage_points, consecutive points with the same stage merged).
    valid_from inclusive, valid_to exclusive (the next spell's valid_from), null for the current spell.
-#}
with

stage_points as (

    select * from {{ ref('int_lifecycle__stage_points') }}

),

stages as (

    select * from {{ ref('lifecycle_stages') }}

),

stage_changes as (

    select
        customer_id,
        point,
        stage,
        lag(stage) over (partition by customer_id order by point) as previous_stage
    from stage_points

),

spells as (

    select
        customer_id,
        stage,
        point as valid_from,
        lead(point) over (partition by customer_id order by point) as valid_to,
        row_number() over (partition by customer_id order by point) as spell_number
    from stage_changes
    where previous_stage is null
        or stage <> previous_stage

),

final as (

    select
        cast(spells.customer_id as {{ clm_type_string() }}) as customer_id,
        cast(spells.stage as {{ clm_type_string() }}) as stage,
        cast(stages.stage_order as integer) as stage_order,
        cast(spells.spell_number as integer) as spell_number,
        cast(spells.valid_from as date) as valid_from,
        cast(spells.valid_to as date) as valid_to,
        cast(spells.valid_to is null as boolean) as is_current,
        cast(
            {{ dbt.datediff('spells.valid_from', 'coalesce(spells.valid_to, ' ~ clm_as_of() ~ ')', 'day') }}
            as integer
        ) as days_in_stage
    from spells
    inner join stages
        on stages.stage = spells.stage

)

select
    customer_id,
    stage,
    stage_order,
    spell_number,
    valid_from,
    valid_to,
    is_current,
    days_in_stage
from final
