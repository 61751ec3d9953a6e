{#-
    Stage spells: one row per customer and uninterrupted period in one lifecycle stage, from the first sighting
    to the as-of date (int_lifecycle__stage_spells), with the stage's funnel position and the days spent in it
    (to the as-of date for the current spell). valid_from inclusive, valid_to exclusive (the next spell's
    valid_from), null for the current spell.
-#}
with

stage_spells as (

    select * from {{ ref('int_lifecycle__stage_spells') }}

),

stages as (

    select * from {{ ref('lifecycle_stages') }}

),

final as (

    select
        cast(stage_spells.customer_id as {{ clm_type_string() }}) as customer_id,
        cast(stage_spells.stage as {{ clm_type_string() }}) as stage,
        cast(stages.stage_order as integer) as stage_order,
        cast(stage_spells.spell_number as integer) as spell_number,
        cast(stage_spells.valid_from as date) as valid_from,
        cast(stage_spells.valid_to as date) as valid_to,
        cast(stage_spells.valid_to is null as boolean) as is_current,
        cast(
            {{ dbt.datediff(
                'stage_spells.valid_from', 'coalesce(stage_spells.valid_to, ' ~ clm_as_of() ~ ')', 'day'
            ) }}
            as integer
        ) as days_in_stage
    from stage_spells
    inner join stages
        on stages.stage = stage_spells.stage

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
