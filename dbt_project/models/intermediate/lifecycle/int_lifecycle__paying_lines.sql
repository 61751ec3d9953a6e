{#-
    The subscription lines that make a customer "paying" in the lifecycle and "alive" in the sBG model: the
    paying periods of int_invoice_lines__paying_periods, the same rows and the same period ends that MRR reads
    (that model decides when a line pays; nothing here changes it), with one presumption that MRR does not make:
    * A renewal due on the as-of date (is_renewal_pending): the last line of a subscription that has not ended
      ends on the as-of date and its renewal is not in the extract yet. The line pays through the as-of date
      (service_end_date = as-of + 1 day): the subscription's next decision is after the extract. MRR shows 0 for
      it on the as-of date, the only case where the paying level and MRR differ (and the case that
      assert_lifecycle_stage_agrees_with_mrr allows).
    active_from_date: from int_invoice_lines__paying_periods (the first day the line makes its customer active;
    for a $0 line only under revenue_free_subscriptions = active).
-#}
with

paying_periods as (

    select * from {{ ref('int_invoice_lines__paying_periods') }}

)

select
    customer_id,
    subscription_id,
    invoice_status,
    amount,
    monthly_amount,
    service_start_date,
    case
        when is_renewal_pending then {{ clm_add_days(clm_as_of(), 1) }}
        else paying_end_date
    end as service_end_date,
    invoiced_end_date,
    paying_end_reason,
    delinquent_churn_date,
    is_renewal_pending,
    active_from_date
from paying_periods
