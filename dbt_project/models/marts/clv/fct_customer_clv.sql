{#-
    Customer lifetime value, one row per customer (dim_customers): historical (what the customer has paid,
    net of refunds, against what acquiring it cost) and predicted (the next 12 months from the sBG, BG/NBD and
    Gamma-Gamma fits of clm.clv, source clv.customer_predictions). Money in the reporting currency; gross
    margin is var gross_margin (docs/marts.md#historical-clv). _clv__models.yml documents every column.
-#}
{#- The predicted revenues (DOUBLE) are cast to DECIMAL(26, 10) before the margin, not (38, 10): Spark cuts a
    product of more than 38 digits to 6 decimals, and a 1M-customer run then differed from DuckDB by a cent
    in 328 rows. (26, 10) x (10, 6) fits, so the product is exact on every engine. The margin on lifetime
    revenue and on the initial MRR goes through clm_money_times_ratio: dim_customers' and fct_mrr_movements'
    DECIMAL(18, 2) x (10, 6) fits too, and the macro keeps the product exact on Spark if those types widen. -#}
{%- set gross_margin = 'cast(' ~ var('gross_margin') ~ ' as decimal(10, 6))' -%}

with

customers as (

    select * from {{ ref('dim_customers') }}

),

movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

renewals as (

    select * from {{ ref('int_clv__subscription_renewals') }}

),

predictions as (

    select * from {{ source('clv', 'customer_predictions') }}

),

-- the MRR a customer started with: its first `new` movement
initial_mrr as (

    select
        customer_id,
        mrr as initial_mrr
    from (
        select
            customer_id,
            mrr,
            row_number() over (partition by customer_id order by month) as new_rank
        from movements
        where movement = 'new'
    ) as ranked
    where new_rank = 1

),

combined as (

    select
        customers.customer_id,
        customers.lifetime_revenue,
        customers.cac,
        customers.current_mrr,
        initial_mrr.initial_mrr,
        renewals.period_months,
        predictions.is_subscription_alive,
        predictions.expected_renewals_12m,
        predictions.discounted_expected_residual_lifetime,
        predictions.p_alive_purchases,
        predictions.expected_purchases_12m,
        predictions.expected_spend_per_purchase,
        {{ clm_money_times_ratio('customers.lifetime_revenue', gross_margin) }} as lifetime_margin,
        -- revenue of the renewals expected in the next 12 months: each pays one period at today's MRR
        customers.current_mrr * renewals.period_months * predictions.expected_renewals_12m
            as expected_subscription_revenue_12m,
        predictions.expected_purchases_12m * predictions.expected_spend_per_purchase
            as expected_purchase_revenue_12m,
        customers.current_mrr * renewals.period_months * predictions.discounted_expected_residual_lifetime
            as discounted_expected_residual_revenue
    from customers
    left join initial_mrr
        on initial_mrr.customer_id = customers.customer_id
    left join renewals
        on renewals.customer_id = customers.customer_id
    left join predictions
        on predictions.customer_id = customers.customer_id

),

final as (

    select
        cast(customer_id as {{ clm_type_string() }}) as customer_id,
        cast(lifetime_revenue as decimal(18, 2)) as lifetime_revenue,
        cast(cac as decimal(18, 2)) as cac,
        cast(round(lifetime_margin - coalesce(cac, 0), 2) as decimal(18, 2)) as historical_clv_net,
        cast(
            case when cac > 0 then {{ clm_exact_ratio('lifetime_margin', 'cac', 4) }} end as decimal(18, 4)
        ) as clv_cac_ratio,
        cast(
            case
                when cac = 0 then 0
                when cac > 0 and initial_mrr > 0
                    then {{ clm_exact_ratio('cac', clm_money_times_ratio('initial_mrr', gross_margin), 1) }}
            end as decimal(10, 1)
        ) as cac_payback_months,
        -- observed for subscribers (paying or not), modelled (BG/NBD) for one-off buyers
        cast(
            coalesce(
                p_alive_purchases,
                case when is_subscription_alive then 1.0 when not is_subscription_alive then 0.0 end
            ) as decimal(10, 6)
        ) as p_alive,
        cast(expected_purchases_12m as decimal(18, 6)) as expected_purchases_12m,
        cast(expected_spend_per_purchase as decimal(18, 2)) as expected_spend_per_purchase,
        cast(expected_renewals_12m as decimal(18, 6)) as expected_renewals_12m,
        cast(round(cast(expected_subscription_revenue_12m as decimal(38, 10)), 2) as decimal(18, 2))
            as expected_subscription_revenue_12m,
        cast(round(cast(expected_purchase_revenue_12m as decimal(38, 10)), 2) as decimal(18, 2))
            as expected_purchase_revenue_12m,
        cast(
            case
                when expected_subscription_revenue_12m is not null or expected_purchase_revenue_12m is not null
                    then round(
                        cast(
                            coalesce(expected_subscription_revenue_12m, 0)
                            + coalesce(expected_purchase_revenue_12m, 0) as decimal(26, 10)
                        ) * {{ gross_margin }},
                        2
                    )
            end as decimal(18, 2)
        ) as predicted_clv_12m,
        cast(discounted_expected_residual_lifetime as decimal(18, 6)) as discounted_expected_residual_lifetime,
        cast(
            round(cast(discounted_expected_residual_revenue as decimal(26, 10)) * {{ gross_margin }}, 2)
            as decimal(18, 2)
        ) as discounted_expected_residual_value
    from combined

)

select
    customer_id,
    lifetime_revenue,
    cac,
    historical_clv_net,
    clv_cac_ratio,
    cac_payback_months,
    p_alive,
    expected_purchases_12m,
    expected_spend_per_purchase,
    expected_renewals_12m,
    expected_subscription_revenue_12m,
    expected_purchase_revenue_12m,
    predicted_clv_12m,
    discounted_expected_residual_lifetime,
    discounted_expected_residual_value
from final
