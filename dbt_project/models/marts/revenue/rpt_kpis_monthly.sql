{#-
    Monthly customer-lifecycle KPIs (docs/marts.md#kpis), one row per month from the first month with any
    activity (MRR, marketing spend, a first payment, a CRM contact created, an NPS response, a ticket, a
    one-off purchase) through the as-of month. Definitions in _kpis__models.yml; in short:
    * new_customers / churned_customers: fct_mrr_movements rows with movement new / churn in the month;
    * customer_churn_rate = churned_customers / active customers at the end of the previous month
      (rpt_mrr_bridge: MRR > 0, or under revenue_free_subscriptions = active kept active by $0 lines);
    * mrr = ending MRR; arpu = mrr / active customers in the month;
    * starting_mrr ... ending_mrr, new_customers, churned_customers and the paying customers: read from
      rpt_mrr_bridge, the one model that sums fct_mrr_movements by month (test
      assert_kpi_reconciles_with_movements_and_dim_customers ties them to the movements again);
    * cac = marketing spend of the month / customers acquired (first payment) in the month, all channels;
    * nps = % promoters (9-10) - % detractors (0-6) of the month's responses, -100..100;
    * csat = good / (good + bad) ratings of tickets created in the month;
    * referral_rate = share of the month's acquired customers whose CRM contact was referred;
    * lead_to_customer_conversion = customers acquired in the month / live CRM contacts created in the month;
    * repeat_purchase_rate = among customers with >= 1 paid one-off purchase up to the month's end, the share
      with >= 2;
    * quick_ratio = (new + expansion + reactivation MRR) / (contraction + churned MRR).
    Every ratio is null, not 0, when its denominator is 0. Divisions go through the dispatched macro
    clm_exact_ratio: the exact quotient rounded once, half away from zero, to the column's decimals, with the
    same digits on DuckDB and Postgres.
-#}

{#-
    The ratios: column -> (numerator, denominator, decimals): clm_exact_ratio(numerator, denominator, decimals),
    numerator / denominator rounded once, half away from zero (nps can be negative: -3.125 -> -3.13); null
    when the denominator (a count of customers, responses or tickets; MRR lost for quick_ratio) is 0.
    Values changed by the single rounding: the model used to round the quotient twice (clm_exact_divide at 10
    decimals, then round() to `decimals`) after cutting the numerator to 4 decimals, and marketing_spend has
    up to 10 (FX-converted): a spend of 10.00495 for 1 customer gave cac 10.0050 -> 10.01, it now gives the
    exact 10.00495 -> 10.00 (test test_rpt_kpis_monthly_exact_rounding). The other ratios have integer or
    cent numerators and small denominators, for which both ways give the same digits.
-#}
{%- set ratios = {
    'customer_churn_rate': ('churned_customers', 'paying_customers_previous_month', 4),
    'arpu': ('ending_mrr', 'paying_customers', 2),
    'cac': ('marketing_spend', 'customers_acquired', 2),
    'nps': ('(promoters - detractors) * 100', 'nps_responses', 2),
    'csat': ('good_ratings', 'rated_tickets', 4),
    'referral_rate': ('referred_customers_acquired', 'customers_acquired', 4),
    'repeat_purchase_rate': ('repeat_buyers', 'one_off_buyers', 4),
    'lead_to_customer_conversion': ('customers_acquired', 'contacts_created', 4),
    'quick_ratio': ('new_mrr + expansion_mrr + reactivation_mrr', 'contraction_mrr + churned_mrr', 4),
} %}

with

mrr_bridge as (

    select * from {{ ref('rpt_mrr_bridge') }}

),

acquisitions as (

    select * from {{ ref('int_marketing__customer_acquisitions') }}

),

marketing_spend as (

    select * from {{ ref('stg_crm__marketing_spend') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

nps_responses as (

    select * from {{ ref('stg_crm__nps_responses') }}

),

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

billing_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

---------- per month facts

-- the month's MRR bridge and customer counts, by name: columns the bridge adds do not reach this report
bridge_months as (

    select
        month,
        new_customers,
        churned_customers,
        ending_customers as paying_customers,
        starting_mrr,
        new_mrr,
        expansion_mrr,
        reactivation_mrr,
        contraction_mrr,
        churned_mrr,
        fx_impact_mrr,
        ending_mrr
    from mrr_bridge
    where month <= {{ clm_month(clm_as_of()) }}

),

spend_by_month as (

    select
        {{ clm_month('spend_date') }} as month,
        sum(amount_reporting) as marketing_spend
    from marketing_spend
    where spend_date <= {{ clm_as_of() }}
    group by {{ clm_month('spend_date') }}

),

acquisitions_by_month as (

    select
        acquired_month as month,
        count(*) as customers_acquired,
        sum(case when is_referred then 1 else 0 end) as referred_customers_acquired
    from acquisitions
    where acquired_month is not null
    group by acquired_month

),

contacts_by_month as (

    select
        {{ clm_month('created_at') }} as month,
        count(*) as contacts_created
    from contacts
    where not is_deleted
        and created_at < {{ clm_as_of_end() }}
    group by {{ clm_month('created_at') }}

),

nps_by_month as (

    select
        {{ clm_month('responded_at') }} as month,
        count(*) as nps_responses,
        sum(case when score >= 9 then 1 else 0 end) as promoters,
        sum(case when score <= 6 then 1 else 0 end) as detractors
    from nps_responses
    where score between 0 and 10
        and responded_at < {{ clm_as_of_end() }}
    group by {{ clm_month('responded_at') }}

),

tickets_by_month as (

    select
        {{ clm_month('created_at') }} as month,
        count(*) as tickets_created,
        sum(case when satisfaction_rating = 'good' then 1 else 0 end) as good_ratings,
        sum(case when satisfaction_rating in ('good', 'bad') then 1 else 0 end) as rated_tickets
    from tickets
    where created_at < {{ clm_as_of_end() }}
    group by {{ clm_month('created_at') }}

),

-- one-off purchases: paid invoices without a subscription, with money paid, on or before the as-of date
one_off_purchases as (

    select
        billing_matches.customer_id,
        invoices.invoice_id,
        coalesce(invoices.paid_at, invoices.created_at) as paid_at
    from invoices
    inner join billing_matches
        on billing_matches.billing_customer_id = invoices.billing_customer_id
    where invoices.subscription_id is null
        and invoices.status = 'paid'
        and invoices.amount_paid > 0
        and coalesce(invoices.paid_at, invoices.created_at) < {{ clm_as_of_end() }}

),

ranked_purchases as (

    select
        customer_id,
        {{ clm_month('paid_at') }} as month,
        row_number() over (partition by customer_id order by paid_at, invoice_id) as purchase_number
    from one_off_purchases

),

-- the month each customer became a one-off buyer (1st purchase) and a repeat buyer (2nd purchase)
purchases_by_month as (

    select
        month,
        sum(case when purchase_number = 1 then 1 else 0 end) as first_purchases,
        sum(case when purchase_number = 2 then 1 else 0 end) as second_purchases
    from ranked_purchases
    where purchase_number <= 2
    group by month

),

---------- the month spine

months as (

    {{ clm_activity_month_spine([
        'bridge_months', 'spend_by_month', 'acquisitions_by_month', 'contacts_by_month', 'nps_by_month',
        'tickets_by_month', 'purchases_by_month',
    ]) }}

),

---------- KPIs

joined as (

    select
        months.month,
        coalesce(bridge_months.new_customers, 0) as new_customers,
        coalesce(bridge_months.churned_customers, 0) as churned_customers,
        coalesce(bridge_months.paying_customers, 0) as paying_customers,
        coalesce(previous_month.paying_customers, 0) as paying_customers_previous_month,
        coalesce(bridge_months.starting_mrr, 0) as starting_mrr,
        coalesce(bridge_months.new_mrr, 0) as new_mrr,
        coalesce(bridge_months.expansion_mrr, 0) as expansion_mrr,
        coalesce(bridge_months.reactivation_mrr, 0) as reactivation_mrr,
        coalesce(bridge_months.contraction_mrr, 0) as contraction_mrr,
        coalesce(bridge_months.churned_mrr, 0) as churned_mrr,
        coalesce(bridge_months.fx_impact_mrr, 0) as fx_impact_mrr,
        coalesce(bridge_months.ending_mrr, 0) as ending_mrr,
        coalesce(spend_by_month.marketing_spend, 0) as marketing_spend,
        coalesce(acquisitions_by_month.customers_acquired, 0) as customers_acquired,
        coalesce(acquisitions_by_month.referred_customers_acquired, 0) as referred_customers_acquired,
        coalesce(contacts_by_month.contacts_created, 0) as contacts_created,
        coalesce(nps_by_month.nps_responses, 0) as nps_responses,
        coalesce(nps_by_month.promoters, 0) as promoters,
        coalesce(nps_by_month.detractors, 0) as detractors,
        coalesce(tickets_by_month.good_ratings, 0) as good_ratings,
        coalesce(tickets_by_month.rated_tickets, 0) as rated_tickets,
        sum(coalesce(purchases_by_month.first_purchases, 0))
            over (order by months.month rows between unbounded preceding and current row) as one_off_buyers,
        sum(coalesce(purchases_by_month.second_purchases, 0))
            over (order by months.month rows between unbounded preceding and current row) as repeat_buyers
    from months
    left join bridge_months
        on bridge_months.month = months.month
    left join bridge_months as previous_month
        on previous_month.month = cast({{ dbt.dateadd('month', -1, 'months.month') }} as date)
    left join spend_by_month
        on spend_by_month.month = months.month
    left join acquisitions_by_month
        on acquisitions_by_month.month = months.month
    left join contacts_by_month
        on contacts_by_month.month = months.month
    left join nps_by_month
        on nps_by_month.month = months.month
    left join tickets_by_month
        on tickets_by_month.month = months.month
    left join purchases_by_month
        on purchases_by_month.month = months.month

),

ratios as (

    select
        joined.*,
        {%- for name, (numerator, denominator, decimals) in ratios.items() %}
        {{ clm_exact_ratio(numerator, denominator, decimals) }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from joined

),

final as (

    select
        cast(month as date) as month,
        cast(new_customers as integer) as new_customers,
        cast(churned_customers as integer) as churned_customers,
        cast(customer_churn_rate as decimal(10, 4)) as customer_churn_rate,
        cast(ending_mrr as decimal(18, 2)) as mrr,
        cast(arpu as decimal(18, 2)) as arpu,
        cast(cac as decimal(18, 2)) as cac,
        cast(nps as decimal(6, 2)) as nps,
        cast(csat as decimal(10, 4)) as csat,
        cast(referral_rate as decimal(10, 4)) as referral_rate,
        cast(repeat_purchase_rate as decimal(10, 4)) as repeat_purchase_rate,
        cast(quick_ratio as decimal(18, 4)) as quick_ratio,
        cast(lead_to_customer_conversion as decimal(18, 4)) as lead_to_customer_conversion,
        cast(starting_mrr as decimal(18, 2)) as starting_mrr,
        cast(new_mrr as decimal(18, 2)) as new_mrr,
        cast(expansion_mrr as decimal(18, 2)) as expansion_mrr,
        cast(reactivation_mrr as decimal(18, 2)) as reactivation_mrr,
        cast(contraction_mrr as decimal(18, 2)) as contraction_mrr,
        cast(churned_mrr as decimal(18, 2)) as churned_mrr,
        cast(fx_impact_mrr as decimal(18, 2)) as fx_impact_mrr,
        cast(ending_mrr as decimal(18, 2)) as ending_mrr,
        cast(paying_customers as integer) as paying_customers,
        cast(paying_customers_previous_month as integer) as paying_customers_previous_month,
        cast(round(marketing_spend, 2) as decimal(18, 2)) as marketing_spend,
        cast(customers_acquired as integer) as customers_acquired,
        cast(contacts_created as integer) as contacts_created,
        cast(nps_responses as integer) as nps_responses,
        cast(rated_tickets as integer) as rated_tickets,
        cast(one_off_buyers as integer) as one_off_buyers,
        cast(repeat_buyers as integer) as repeat_buyers
    from ratios

)

select * from final
