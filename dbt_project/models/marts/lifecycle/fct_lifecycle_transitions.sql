{#-
    One row per change of lifecycle stage: the customer left from_stage for to_stage on transitioned_at (the
    new spell's valid_from) after days_in_from_stage days. Entering the first stage at the first sighting is not
    a transition. Every row matches two consecutive spells of fct_lifecycle_stages.
-#}
with

spells as (

    select * from {{ ref('fct_lifecycle_stages') }}

),

paired as (

    select
        customer_id,
        lag(stage) over (partition by customer_id order by spell_number) as from_stage,
        lag(stage_order) over (partition by customer_id order by spell_number) as from_stage_order,
        lag(valid_from) over (partition by customer_id order by spell_number) as from_valid_from,
        stage as to_stage,
        stage_order as to_stage_order,
        spell_number,
        valid_from as transitioned_at
    from spells

),

final as (

    select
        cast(customer_id as {{ clm_type_string() }}) as customer_id,
        cast(spell_number - 1 as integer) as transition_number,
        cast(from_stage as {{ clm_type_string() }}) as from_stage,
        cast(to_stage as {{ clm_type_string() }}) as to_stage,
        cast(from_stage_order as integer) as from_stage_order,
        cast(to_stage_order as integer) as to_stage_order,
        cast(transitioned_at as date) as transitioned_at,
        cast({{ dbt.datediff('from_valid_from', 'transitioned_at', 'day') }} as integer) as days_in_from_stage
    from paired
    where from_stage is not null

)

select
    customer_id,
    transition_number,
    from_stage,
    to_stage,
    from_stage_order,
    to_stage_order,
    transitioned_at,
    days_in_from_stage
from final
