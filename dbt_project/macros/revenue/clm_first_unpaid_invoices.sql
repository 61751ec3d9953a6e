{#
    clm_first_unpaid_invoices(invoices): a select (use it as a CTE body) of (subscription_id,
    first_unpaid_created_at): per subscription, the creation time of its first open or uncollectible invoice
    after its last paid one (any, when none was ever paid), among the invoices created before the end of the
    as-of date. ``invoices`` names a relation or CTE with stg_billing__invoices' subscription_id, status and
    created_at.
    The one definition of when a subscription fell behind on payment: the lifecycle's past_due signal
    (int_lifecycle__signals) dates it so, and the delinquency policy (int_invoice_lines__paying_periods, var
    revenue_delinquent_churn_days) counts its days from it, so MRR and the lifecycle agree on the day.
#}
{% macro clm_first_unpaid_invoices(invoices) -%}
    select
        unpaid.subscription_id,
        min(unpaid.created_at) as first_unpaid_created_at
    from {{ invoices }} as unpaid
    left join (
        select
            subscription_id,
            max(created_at) as last_paid_created_at
        from {{ invoices }}
        where status = 'paid'
            and subscription_id is not null
            and created_at < {{ clm_as_of_end() }}
        group by subscription_id
    ) as last_paid
        on last_paid.subscription_id = unpaid.subscription_id
    where unpaid.status in ('open', 'uncollectible')
        and unpaid.created_at < {{ clm_as_of_end() }}
        and (last_paid.last_paid_created_at is null
            or unpaid.created_at > last_paid.last_paid_created_at)
    group by unpaid.subscription_id
{%- endmacro %}
