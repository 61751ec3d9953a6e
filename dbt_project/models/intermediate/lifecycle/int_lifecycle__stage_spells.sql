{#-
    Stage spells: one row per customer and uninterrupted period in one lifecycle stage, from the first sighting
    to the as-of date (int_lifecycle__stage_points, consecutive points with the same stage merged).
    valid_from inclusive, valid_to exclusive (the next spell's valid_from), null for the current spell.
    fct_lifecycle_stages adds what depends on the as-of date alone (days in the current stage).

    Incremental (macros/clm_increments.sql): a daily build recomputes the spells of the customers whose stage
    points it recomputes (int_increments__lifecycle_customers).
-#}
-- depends_on: {{ ref('int_increments__lifecycle_customers') }}
{{ config(
    materialized=clm_materialized_by_customer(),
    incremental_strategy='append',
    pre_hook="{{ clm_delete_changed_lifecycle_customers('customer_id') }}",
) }}
with

stage_points as (

    select * from {{ ref('int_lifecycle__stage_points') }}
    {%- if clm_is_incremental() %}
    where {{ clm_changed_lifecycle_customers('customer_id') }}
    {%- endif %}

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

)

select
    cast(customer_id as {{ clm_type_string() }}) as customer_id,
    cast(stage as {{ clm_type_string() }}) as stage,
    cast(spell_number as integer) as spell_number,
    cast(valid_from as date) as valid_from,
    cast(valid_to as date) as valid_to
from spells
