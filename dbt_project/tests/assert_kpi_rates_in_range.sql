-- rpt_kpis_monthly: every rate is a fraction between 0 and 1 (lead_to_customer_conversion is a period ratio and
-- only needs to be >= 0), NPS lies in -100..100, money and counts are not negative. Returns the offending months.
select *
from {{ ref('rpt_kpis_monthly') }}
where customer_churn_rate not between 0 and 1
    or csat not between 0 and 1
    or referral_rate not between 0 and 1
    or repeat_purchase_rate not between 0 and 1
    or nps not between -100 and 100
    or lead_to_customer_conversion < 0
    or quick_ratio < 0
    or mrr < 0
    or arpu < 0
    or cac < 0
    or new_customers < 0
    or churned_customers < 0
    or churned_customers > paying_customers_previous_month
    or repeat_buyers > one_off_buyers
