{#-
    Cohort retention (CONTRACT 6): one row per dimension x dimension_value x cohort month x months since start.

    * cohort: the month of a customer's first `new` movement in fct_mrr_movements; its starting MRR is its MRR
      in that month.
    * A customer's MRR in month cohort_month + k is its fct_mrr_movements row's mrr, 0 without a row (after a
      churn; the churn row itself has mrr 0; a later reactivation counts again).
    * Every cell from k = 0 to the as-of month exists (a dense spine per cohort), even with 0 active customers.
    * dimension 'all' (dimension_value 'all') is the whole base, the contract's grain; the cuts 'segment',
      'acquisition_channel' (current values from dim_customers) and 'billing_interval' (the interval of the
      invoice lines behind the customer's MRR in its cohort month, int_invoice_lines__normalized) split the same
      customers.
      A missing value is 'unknown'; a customer billed on several intervals in its cohort month is 'mixed'.
    * Ratios (logo_retention = active_customers / cohort_customers, net_revenue_retention = mrr / starting_mrr,
      gross_revenue_retention = capped_mrr / starting_mrr) go through the dispatched macro clm_exact_ratio:
      rounded half away from zero to 6 decimals with exact integer arithmetic, so that DuckDB (which divides
      decimals as DOUBLE) and Postgres give identical rows; null when the denominator is 0 (a cohort's
      starting MRR is > 0: a `new` movement has MRR > 0). Test test_rpt_cohort_retention_exact_rounding covers
      a tie (161.53 / 160 = 1.0095625 -> 1.009563).
-#}

with

movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

invoice_lines as (

    select * from {{ ref('int_invoice_lines__normalized') }}

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

-- starting MRR: the customer's own MRR in its cohort month; snapshot_date is the day MRR is measured on in that
-- month (its last day, or the as-of date in the as-of month)
cohort_members as (

    select
        first_new_movements.customer_id,
        first_new_movements.cohort_month,
        movements.mrr as starting_mrr,
        cast(
            least({{ dbt.last_day('first_new_movements.cohort_month', 'month') }}, {{ clm_as_of() }}) as date
        ) as snapshot_date
    from first_new_movements
    inner join movements
        on movements.customer_id = first_new_movements.customer_id
        and movements.month = first_new_movements.cohort_month

),

-- the billing intervals of the lines that make up the customer's MRR in its cohort month: the lines that count
-- towards MRR (subscription lines of non-void invoices, int_invoice_lines__normalized) with a positive monthly
-- amount whose service period covers the snapshot date, by the same rule as int_customer_months__mrr
cohort_month_intervals as (

    select distinct
        cohort_members.customer_id,
        case
            when invoice_lines.interval_count = 1 then invoice_lines.billing_interval
            else cast(invoice_lines.interval_count as varchar) || ' ' || invoice_lines.billing_interval || 's'
        end as billing_interval
    from cohort_members
    inner join invoice_lines
        on invoice_lines.customer_id = cohort_members.customer_id
        and invoice_lines.service_start_date <= cohort_members.snapshot_date
        and invoice_lines.service_end_date > cohort_members.snapshot_date
    where invoice_lines.counts_towards_mrr
        and invoice_lines.monthly_amount > 0

),

customer_billing_intervals as (

    select
        customer_id,
        case when count(*) > 1 then 'mixed' else min(billing_interval) end as billing_interval
    from cohort_month_intervals
    group by customer_id

),

-- every cohort member once per dimension: the whole base and the three cuts
members_by_dimension as (

    select
        cast('all' as varchar) as dimension,
        cast('all' as varchar) as dimension_value,
        customer_id,
        cohort_month,
        starting_mrr
    from cohort_members

    union all

    select
        cast('segment' as varchar) as dimension,
        cast(coalesce(customers.segment, 'unknown') as varchar) as dimension_value,
        cohort_members.customer_id,
        cohort_members.cohort_month,
        cohort_members.starting_mrr
    from cohort_members
    left join customers
        on customers.customer_id = cohort_members.customer_id

    union all

    select
        cast('acquisition_channel' as varchar) as dimension,
        cast(coalesce(customers.acquisition_channel, 'unknown') as varchar) as dimension_value,
        cohort_members.customer_id,
        cohort_members.cohort_month,
        cohort_members.starting_mrr
    from cohort_members
    left join customers
        on customers.customer_id = cohort_members.customer_id

    union all

    select
        cast('billing_interval' as varchar) as dimension,
        cast(coalesce(customer_billing_intervals.billing_interval, 'unknown') as varchar) as dimension_value,
        cohort_members.customer_id,
        cohort_members.cohort_month,
        cohort_members.starting_mrr
    from cohort_members
    left join customer_billing_intervals
        on customer_billing_intervals.customer_id = cohort_members.customer_id

),

cohorts as (

    select
        dimension,
        dimension_value,
        cohort_month,
        count(*) as cohort_customers,
        sum(starting_mrr) as starting_mrr,
        cast(
            {{ dbt.datediff('cohort_month', clm_month(clm_as_of()), 'month') }} as integer
        ) as months_to_as_of
    from members_by_dimension
    group by dimension, dimension_value, cohort_month

),

-- the dense spine: k = 0 .. the as-of month for every cohort
cells as (

    select
        cohorts.dimension,
        cohorts.dimension_value,
        cohorts.cohort_month,
        cast(offsets.months_since_start as integer) as months_since_start,
        cohorts.cohort_customers,
        cohorts.starting_mrr
    from cohorts
    cross join lateral generate_series(0, cohorts.months_to_as_of) as offsets (months_since_start)

),

-- the members' movements from their cohort month on (sparse: months without a row have MRR 0);
-- capped_mrr is the MRR counted by gross revenue retention, at most the customer's starting MRR
member_months as (

    select
        members_by_dimension.dimension,
        members_by_dimension.dimension_value,
        members_by_dimension.cohort_month,
        cast(
            {{ dbt.datediff('members_by_dimension.cohort_month', 'movements.month', 'month') }} as integer
        ) as months_since_start,
        movements.mrr,
        least(movements.mrr, members_by_dimension.starting_mrr) as capped_mrr
    from members_by_dimension
    inner join movements
        on movements.customer_id = members_by_dimension.customer_id
        and movements.month >= members_by_dimension.cohort_month
        and movements.month <= {{ clm_month(clm_as_of()) }}

),

activity as (

    select
        dimension,
        dimension_value,
        cohort_month,
        months_since_start,
        sum(case when mrr > 0 then 1 else 0 end) as active_customers,
        sum(mrr) as mrr,
        sum(capped_mrr) as capped_mrr
    from member_months
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
        coalesce(activity.capped_mrr, 0) as capped_mrr
    from cells
    left join activity
        on activity.dimension = cells.dimension
        and activity.dimension_value = cells.dimension_value
        and activity.cohort_month = cells.cohort_month
        and activity.months_since_start = cells.months_since_start

),

final as (

    select
        cast(dimension as varchar) as dimension,
        cast(dimension_value as varchar) as dimension_value,
        cast(cohort_month as date) as cohort_month,
        cast(months_since_start as integer) as months_since_start,
        cast(cohort_customers as integer) as cohort_customers,
        cast(active_customers as integer) as active_customers,
        cast({{ clm_exact_ratio('active_customers', 'cohort_customers', 6) }} as decimal(18, 6)) as logo_retention,
        cast(starting_mrr as decimal(18, 2)) as starting_mrr,
        cast(mrr as decimal(18, 2)) as mrr,
        cast({{ clm_exact_ratio('mrr', 'starting_mrr', 6) }} as decimal(18, 6)) as net_revenue_retention,
        cast({{ clm_exact_ratio('capped_mrr', 'starting_mrr', 6) }} as decimal(18, 6)) as gross_revenue_retention
    from measured

)

select * from final
