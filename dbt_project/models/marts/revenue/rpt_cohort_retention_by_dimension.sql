{#-
    Cohort retention (docs/marts.md#cohorts): one row per dimension x dimension_value x cohort month x months
    since start.

    * cohort: the month of a customer's first `new` movement in fct_mrr_movements; its starting MRR is its MRR
      in that month.
    * A customer's MRR in month cohort_month + k is its fct_mrr_movements row's mrr, 0 without a row (after a
      churn; the churn row itself has mrr 0; a later reactivation counts again).
    * Every cell from k = 0 to the as-of month exists (a dense spine per cohort), even with 0 active customers.
    * dimension 'all' (dimension_value 'all') is the whole base, the contract's grain; the cuts split the same
      customers: one per customer attribute of var report_dimensions (macro clm_report_dimensions; default
      'segment' and 'acquisition_channel', current values from dim_customers) and 'billing_interval' (the
      interval of the lines behind the customer's MRR in its cohort month: the lines that pay on the month's
      snapshot date of int_customer_months__mrr, by the one coverage rule, macro clm_line_pays_on).
      A missing value is 'unknown'; a customer billed on several intervals in its cohort month is 'mixed'.
    * Ratios (logo_retention = active_customers / cohort_customers, net_revenue_retention = mrr / starting_mrr,
      gross_revenue_retention = capped_mrr / starting_mrr) go through the dispatched macro clm_exact_ratio:
      rounded half away from zero to 6 decimals with exact integer arithmetic, so that DuckDB (which divides
      decimals as DOUBLE) and Postgres give identical rows; null when the denominator is 0 (a cohort's
      starting MRR is > 0: a `new` movement has MRR > 0). Test test_rpt_cohort_retention_exact_rounding covers
      a tie (161.53 / 160 = 1.0095625 -> 1.009563).
    * Constant currency: starting_mrr_at_current_rate is the cell's members' starting MRR lines revalued at
      month cohort_month + k's rate (int_customer_cohorts__starting_mrr_revalued, cent-rounded per customer,
      then added up; null as soon as one member's figure is null, a missing rate: never a partial sum), and
      net_revenue_retention_constant_currency = mrr / starting_mrr_at_current_rate (clm_exact_ratio): both
      sides at month k's rate, so exchange rates cancel out. net_revenue_retention and gross_revenue_retention
      stay in the reporting currency at each month's own rate (docs/marts.md#mrr). The revalued model's cohort
      month (int_customer_months__mrr.first_paid_month, the first month with MRR > 0) is the month of the
      customer's `new` movement: the join on both keeps the same customers.
    * How: each measure is added up once per combination of the members' attribute values (cohort month x
      month k x segment x channel x ... : few rows), and only those sums are then cut by dimension and added up
      again (counts and sums add up; a revalued sum stays null when any member's figure is). The members'
      months (fct_mrr_movements' rows) are read once, not once per dimension: on Spark, which computes a CTE
      again for every reference, the per-dimension copies of every member's months needed most of a 2 GB
      server's memory at 100,000 customers.
-#}

{%- set customer_dimensions = clm_report_dimensions() %}
{%- set attributes = customer_dimensions + ['billing_interval'] %}

with

movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

customer_months as (

    select * from {{ ref('int_customer_months__mrr') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

paying_lines as (

    select * from {{ ref('int_invoice_lines__paying_periods') }}

),

invoice_lines as (

    select * from {{ ref('int_invoice_lines__normalized') }}

),

starting_mrr_revalued as (

    select * from {{ ref('int_customer_cohorts__starting_mrr_revalued') }}

),

-- cohort: the month of each customer's first `new` movement
first_new_movements as (

    select
        customer_id,
        min(month) as cohort_month
    from movements
    where movement = 'new'
    group by customer_id

),

-- starting MRR: the customer's own MRR in its cohort month; snapshot_date: the day that MRR was measured on
-- (int_customer_months__mrr decides it: the month's last day, or the as-of date in the as-of month)
cohort_members as (

    select
        first_new_movements.customer_id,
        first_new_movements.cohort_month,
        movements.mrr as starting_mrr,
        customer_months.snapshot_date
    from first_new_movements
    inner join movements
        on movements.customer_id = first_new_movements.customer_id
        and movements.month = first_new_movements.cohort_month
    left join customer_months
        on customer_months.customer_id = first_new_movements.customer_id
        and customer_months.month = first_new_movements.cohort_month

),

-- the billing intervals of the lines that make up the customer's MRR in its cohort month: the lines of
-- int_invoice_lines__paying_periods with a positive monthly amount that pay on the snapshot date
cohort_month_intervals as (

    select distinct
        cohort_members.customer_id,
        case
            when invoice_lines.interval_count = 1 then invoice_lines.billing_interval
            else
                cast(invoice_lines.interval_count as {{ clm_type_string() }}) || ' '
                || invoice_lines.billing_interval || 's'
        end as billing_interval
    from cohort_members
    inner join paying_lines
        on paying_lines.customer_id = cohort_members.customer_id
        and {{ clm_line_pays_on('paying_lines', 'cohort_members.snapshot_date') }}
    inner join invoice_lines
        on invoice_lines.invoice_id = paying_lines.invoice_id
        and invoice_lines.line_index = paying_lines.line_index
    where paying_lines.monthly_amount > 0

),

customer_billing_intervals as (

    select
        customer_id,
        case when count(*) > 1 then 'mixed' else min(billing_interval) end as billing_interval
    from cohort_month_intervals
    group by customer_id

),

-- every cohort member with the values of its dimensions
member_attributes as (

    select
        cohort_members.customer_id,
        cohort_members.cohort_month,
        cohort_members.starting_mrr,
        {%- for dimension in customer_dimensions %}
        customers.{{ dimension }} as {{ dimension }},
        {%- endfor %}
        customer_billing_intervals.billing_interval
    from cohort_members
    left join customers
        on customers.customer_id = cohort_members.customer_id
    left join customer_billing_intervals
        on customer_billing_intervals.customer_id = cohort_members.customer_id

),

-- the cohorts by attribute values: members and their starting MRR
cohorts_by_attributes as (

    select
        cohort_month,
        {%- for attribute in attributes %}
        {{ attribute }},
        {%- endfor %}
        count(*) as cohort_customers,
        sum(starting_mrr) as starting_mrr
    from member_attributes
    group by
        cohort_month
        {%- for attribute in attributes %},
        {{ attribute }}
        {%- endfor %}

),

cohorts_by_dimension as (

    {{ clm_cohort_cuts('cohorts_by_attributes', ['cohort_month', 'cohort_customers', 'starting_mrr'], attributes) }}

),

cohorts as (

    select
        dimension,
        dimension_value,
        cohort_month,
        cast(sum(cohort_customers) as bigint) as cohort_customers,
        sum(starting_mrr) as starting_mrr
    from cohorts_by_dimension
    group by dimension, dimension_value, cohort_month

),

months as (

    {{ clm_month_spine('(select min(cohort_month) from cohorts)', clm_month(clm_as_of())) }}

),

-- the dense grid: k = 0 .. the as-of month for every cohort
cells as (

    select
        cohorts.dimension,
        cohorts.dimension_value,
        cohorts.cohort_month,
        cast({{ dbt.datediff('cohorts.cohort_month', 'months.month', 'month') }} as integer) as months_since_start,
        cohorts.cohort_customers,
        cohorts.starting_mrr
    from cohorts
    inner join months
        on months.month >= cohorts.cohort_month

),

-- the members' movements from their cohort month on (sparse: months without a row have MRR 0), added up by
-- attribute values; capped_mrr is the MRR counted by gross revenue retention, at most the starting MRR
activity_by_attributes as (

    select
        member_attributes.cohort_month,
        cast(
            {{ dbt.datediff('member_attributes.cohort_month', 'movements.month', 'month') }} as integer
        ) as months_since_start,
        {%- for attribute in attributes %}
        member_attributes.{{ attribute }},
        {%- endfor %}
        sum(case when movements.is_active then 1 else 0 end) as active_customers,
        sum(movements.mrr) as mrr,
        sum(least(movements.mrr, member_attributes.starting_mrr)) as capped_mrr
    from member_attributes
    inner join movements
        on movements.customer_id = member_attributes.customer_id
        and movements.month >= member_attributes.cohort_month
        and movements.month <= {{ clm_month(clm_as_of()) }}
    group by
        member_attributes.cohort_month,
        movements.month
        {%- for attribute in attributes %},
        member_attributes.{{ attribute }}
        {%- endfor %}

),

activity_by_dimension as (

    {{ clm_cohort_cuts(
        'activity_by_attributes',
        ['cohort_month', 'months_since_start', 'active_customers', 'mrr', 'capped_mrr'],
        attributes,
    ) }}

),

activity as (

    select
        dimension,
        dimension_value,
        cohort_month,
        months_since_start,
        cast(sum(active_customers) as bigint) as active_customers,
        sum(mrr) as mrr,
        sum(capped_mrr) as capped_mrr
    from activity_by_dimension
    group by dimension, dimension_value, cohort_month, months_since_start

),

-- the members' starting MRR lines revalued at month k's rates, added up by attribute values, with how many
-- members have a figure (a missing rate: null)
revalued_by_attributes as (

    select
        member_attributes.cohort_month,
        cast(
            {{ dbt.datediff('member_attributes.cohort_month', 'starting_mrr_revalued.month', 'month') }}
            as integer
        ) as months_since_start,
        {%- for attribute in attributes %}
        member_attributes.{{ attribute }},
        {%- endfor %}
        count(*) as members,
        count(starting_mrr_revalued.starting_mrr_at_month_rate) as members_revalued,
        sum(starting_mrr_revalued.starting_mrr_at_month_rate) as starting_mrr_at_current_rate
    from member_attributes
    inner join starting_mrr_revalued
        on starting_mrr_revalued.customer_id = member_attributes.customer_id
        and starting_mrr_revalued.cohort_month = member_attributes.cohort_month
    group by
        member_attributes.cohort_month,
        starting_mrr_revalued.month
        {%- for attribute in attributes %},
        member_attributes.{{ attribute }}
        {%- endfor %}

),

revalued_by_dimension as (

    {{ clm_cohort_cuts(
        'revalued_by_attributes',
        ['cohort_month', 'months_since_start', 'members', 'members_revalued', 'starting_mrr_at_current_rate'],
        attributes,
    ) }}

),

-- the cell's starting MRR at month k's rates: null as soon as one member's figure is null
revalued_cohorts as (

    select
        dimension,
        dimension_value,
        cohort_month,
        months_since_start,
        case
            when sum(members_revalued) = sum(members) then sum(starting_mrr_at_current_rate)
        end as starting_mrr_at_current_rate
    from revalued_by_dimension
    group by dimension, dimension_value, cohort_month, months_since_start

),

measured as (

    select
        cells.dimension,
        cells.dimension_value,
        cells.cohort_month,
        cells.months_since_start,
        cells.cohort_customers,
        coalesce(activity.active_customers, 0) as active_customers,
        cells.starting_mrr,
        coalesce(activity.mrr, 0) as mrr,
        coalesce(activity.capped_mrr, 0) as capped_mrr,
        revalued_cohorts.starting_mrr_at_current_rate
    from cells
    left join activity
        on activity.dimension = cells.dimension
        and activity.dimension_value = cells.dimension_value
        and activity.cohort_month = cells.cohort_month
        and activity.months_since_start = cells.months_since_start
    left join revalued_cohorts
        on revalued_cohorts.dimension = cells.dimension
        and revalued_cohorts.dimension_value = cells.dimension_value
        and revalued_cohorts.cohort_month = cells.cohort_month
        and revalued_cohorts.months_since_start = cells.months_since_start

),

final as (

    select
        cast(dimension as {{ clm_type_string() }}) as dimension,
        cast(dimension_value as {{ clm_type_string() }}) as dimension_value,
        cast(cohort_month as date) as cohort_month,
        cast(months_since_start as integer) as months_since_start,
        cast(cohort_customers as integer) as cohort_customers,
        cast(active_customers as integer) as active_customers,
        cast({{ clm_exact_ratio('active_customers', 'cohort_customers', 6) }} as decimal(18, 6)) as logo_retention,
        cast(starting_mrr as decimal(18, 2)) as starting_mrr,
        cast(mrr as decimal(18, 2)) as mrr,
        cast({{ clm_exact_ratio('mrr', 'starting_mrr', 6) }} as decimal(18, 6)) as net_revenue_retention,
        cast({{ clm_exact_ratio('capped_mrr', 'starting_mrr', 6) }} as decimal(18, 6)) as gross_revenue_retention,
        cast(starting_mrr_at_current_rate as decimal(18, 2)) as starting_mrr_at_current_rate,
        cast(
            {{ clm_exact_ratio('mrr', 'starting_mrr_at_current_rate', 6) }} as decimal(18, 6)
        ) as net_revenue_retention_constant_currency
    from measured

)

select * from final
