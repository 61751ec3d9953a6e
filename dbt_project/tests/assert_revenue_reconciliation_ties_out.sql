-- rpt_revenue_reconciliation ties out: every month, cash equals MRR plus the explained differences, to the cent,
-- the totals are the sums of their parts, and recognised_mrr is rpt_mrr_bridge's ending MRR (0 for months the
-- bridge does not cover). Returns the months that do not tie.
with

reconciliation as (

    select * from {{ ref('rpt_revenue_reconciliation') }}

),

mrr_bridge as (

    select * from {{ ref('rpt_mrr_bridge') }}

)

select
    reconciliation.month
from reconciliation
left join mrr_bridge
    on mrr_bridge.month = reconciliation.month
where reconciliation.collected_net <> reconciliation.recognised_mrr + reconciliation.billing_timing
        + reconciliation.invoiced_prorations + reconciliation.invoiced_one_off
        - reconciliation.invoiced_uncollectible - reconciliation.invoiced_open - reconciliation.refunds
        + reconciliation.collection_timing
    or reconciliation.invoiced_total <> reconciliation.invoiced_subscription
        + reconciliation.invoiced_prorations + reconciliation.invoiced_one_off
    or reconciliation.collected_net <> reconciliation.collected_charges + reconciliation.collected_out_of_band
        - reconciliation.refunds
    or reconciliation.recognised_mrr <> coalesce(mrr_bridge.ending_mrr, 0)
