{#-
    clm_lifecycle_funnel(customer_dimensions_cte): the lifecycle funnel per (dimension, dimension_value) group,
    shared by rpt_lifecycle_funnel (one group: the whole base) and rpt_lifecycle_funnel_by_dimension.
    The caller defines a CTE named as given with columns customer_id, dimension, dimension_value (a customer
    may sit in one group per dimension), and CTEs `stages` (seed lifecycle_stages) and `spells`
    (fct_lifecycle_stages). Every stage appears in every group, with 0 customers when none reached it.

    * customers_current: customers whose current spell is in the stage.
    * customers_ever: customers with at least one spell in the stage.
    * customers_from_previous: customers that reached the stage after first reaching the previous stage in funnel
      order (stage_order - 1): an ordered funnel, so skipping a stage (lead straight to onboarding) never counts
      as converting from it.
    * conversion_from_previous = customers_from_previous / customers_ever of the previous stage (4 decimals,
      null for the first stage and when nobody reached the previous stage).
    * median_days_to_reach: median over customers_ever of the days from the customer's first spell (its first
      sighting) to its first spell in the stage (0 for the stage it started in); null when nobody reached it.
-#}
{% macro clm_lifecycle_funnel(customer_dimensions_cte) %}

customer_starts as (

    select
        customer_id,
        min(valid_from) as started_on
    from spells
    group by customer_id

),

reaches as (

    select
        customer_id,
        stage,
        stage_order,
        min(valid_from) as first_reached_on,
        max(valid_from) as last_reached_on,
        max(case when is_current then 1 else 0 end) as is_current
    from spells
    group by customer_id, stage, stage_order

),

customer_reaches as (

    select
        reaches.customer_id,
        reaches.stage,
        reaches.is_current,
        {{ dbt.datediff('customer_starts.started_on', 'reaches.first_reached_on', 'day') }} as days_to_reach,
        case
            when previous_reaches.first_reached_on is not null
                and reaches.last_reached_on > previous_reaches.first_reached_on
                then 1
            else 0
        end as is_from_previous
    from reaches
    inner join customer_starts
        on customer_starts.customer_id = reaches.customer_id
    left join reaches as previous_reaches
        on previous_reaches.customer_id = reaches.customer_id
        and previous_reaches.stage_order = reaches.stage_order - 1

),

group_stages as (

    select
        {{ customer_dimensions_cte }}.dimension,
        {{ customer_dimensions_cte }}.dimension_value,
        customer_reaches.stage,
        count(*) as customers_ever,
        sum(customer_reaches.is_current) as customers_current,
        sum(customer_reaches.is_from_previous) as customers_from_previous,
        percentile_cont(0.5) within group (order by customer_reaches.days_to_reach) as median_days_to_reach
    from customer_reaches
    inner join {{ customer_dimensions_cte }}
        on {{ customer_dimensions_cte }}.customer_id = customer_reaches.customer_id
    group by
        {{ customer_dimensions_cte }}.dimension,
        {{ customer_dimensions_cte }}.dimension_value,
        customer_reaches.stage

),

groups as (

    select distinct
        dimension,
        dimension_value
    from {{ customer_dimensions_cte }}

),

grid as (

    select
        groups.dimension,
        groups.dimension_value,
        stages.stage,
        stages.stage_order,
        coalesce(group_stages.customers_current, 0) as customers_current,
        coalesce(group_stages.customers_ever, 0) as customers_ever,
        coalesce(group_stages.customers_from_previous, 0) as customers_from_previous,
        group_stages.median_days_to_reach
    from groups
    cross join stages
    left join group_stages
        on group_stages.dimension = groups.dimension
        and group_stages.dimension_value = groups.dimension_value
        and group_stages.stage = stages.stage

),

funnel as (

    select
        grid.dimension,
        grid.dimension_value,
        grid.stage,
        grid.stage_order,
        grid.customers_current,
        grid.customers_ever,
        grid.customers_from_previous,
        case
            when previous_grid.stage is not null
                then {{ clm_exact_ratio('grid.customers_from_previous', 'previous_grid.customers_ever', 4) }}
        end as conversion_from_previous,
        grid.median_days_to_reach
    from grid
    left join grid as previous_grid
        on previous_grid.dimension = grid.dimension
        and previous_grid.dimension_value = grid.dimension_value
        and previous_grid.stage_order = grid.stage_order - 1

)

{% endmacro %}
