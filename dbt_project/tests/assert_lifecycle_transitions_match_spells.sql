-- Transitions agree with spells: every pair of consecutive spells is exactly one transition (same customer,
-- from/to stage, transitioned_at = the later spell's valid_from, days = the earlier spell's length) and there
-- is no other transition. Returns the rows found on one side only; a percentage threshold (var
-- clm_data_tests) counts the transitions.
{{ config(meta={'clm_rows_of': 'fct_lifecycle_transitions'}) }}
with

spells as (

    select * from {{ ref('fct_lifecycle_stages') }}

),

expected as (

    select
        earlier.customer_id,
        earlier.stage as from_stage,
        later.stage as to_stage,
        later.valid_from as transitioned_at,
        {{ dbt.datediff('earlier.valid_from', 'earlier.valid_to', 'day') }} as days_in_from_stage
    from spells as earlier
    inner join spells as later
        on later.customer_id = earlier.customer_id
        and later.spell_number = earlier.spell_number + 1

),

actual as (

    select
        customer_id,
        from_stage,
        to_stage,
        transitioned_at,
        days_in_from_stage
    from {{ ref('fct_lifecycle_transitions') }}

),

missing as (

    select 'missing' as problem, expected.* from expected
    except
    select 'missing' as problem, actual.* from actual

),

extra as (

    select 'extra' as problem, actual.* from actual
    except
    select 'extra' as problem, expected.* from expected

)

select * from missing
union all
select * from extra
