"""The gate's checks that dbt proves, so the GX suites do not repeat them (issue 15: validation stays cheap).

Inventory of the quality checks, before this split: 273 GX expectations in 25 suites. 143 of them repeated a
dbt data test or an enforced model contract on the same table; they are listed below with what proves them,
and the suites (``suites.py``) keep the 130 that no dbt test makes on that table (``GX only``: value ranges,
formats, currency codes, row counts, row-level identities). dbt runs before the gate, in the same `clm run`:

* a generic test (``not_null``, ``unique``, ``accepted_values``, ``unique_combination_of_columns``) on the
  same model and columns, with the same value set, named as dbt named its test (a model's column checks
  are now one dbt node, ``column_checks_<model>``, generic test ``clm_column_checks``, and each keeps that
  name for its threshold and messages);
* ``contract: not_null constraint``: the published mart's enforced contract (``constraints: [not_null]``),
  so a null fails the model's build itself;
* a singular test (``dbt_project/tests/<name>.sql``) reading the same table whose failing rows include the
  check's bad rows (e.g. assert_kpi_rates_in_range returns every month with a rate outside 0..1).

What blocks publishing is then the dbt test's threshold (dbt var ``clm_data_tests``, the ``dbt_tests:``
section of ``gate.yml``): a failing dbt test fails the build before the gate runs. The published marts' grain
(``unique`` / ``unique_combination_of_columns``) and their contracted not-nulls are never relaxed (first bad
row); the others warn from the first bad row and fail above 1% of the model's rows unless configured, as every
cross-row check does (docs/bad-input.md#thresholds). tests/gate/test_suites.py checks that every test named
here exists in the dbt project and that no suite check repeats one of dbt's generic tests.
"""

from __future__ import annotations

# check name as the suites had it ("<table>.<columns>.<kind>") -> the dbt test or contract that proves it
PROVEN_BY_DBT: dict[str, str] = {
    # stg_crm__contacts
    "stg_crm__contacts.contact_id.not_null": "not_null_stg_crm__contacts_contact_id",
    "stg_crm__contacts.contact_id.unique": "unique_stg_crm__contacts_contact_id",
    "stg_crm__contacts.segment.in_set": (
        "accepted_values_stg_crm__contacts_segment__smb__mid_market__enterprise"
    ),
    # stg_crm__deals
    "stg_crm__deals.deal_id.not_null": "not_null_stg_crm__deals_deal_id",
    "stg_crm__deals.deal_id.unique": "unique_stg_crm__deals_deal_id",
    "stg_crm__deals.deal_stage.in_set": "accepted_values_stg_crm__deals_deal_stage__open__won__lost",
    # stg_crm__marketing_spend
    "stg_crm__marketing_spend.spend_date.not_null": "not_null_stg_crm__marketing_spend_spend_date",
    "stg_crm__marketing_spend.channel.not_null": "not_null_stg_crm__marketing_spend_channel",
    "stg_crm__marketing_spend.spend_date+channel.unique": (
        "unique_combination_of_columns_stg_crm__marketing_spend_spend_date__channel"
    ),
    # stg_crm__nps_responses
    "stg_crm__nps_responses.response_id.not_null": "not_null_stg_crm__nps_responses_response_id",
    "stg_crm__nps_responses.response_id.unique": "unique_stg_crm__nps_responses_response_id",
    "stg_crm__nps_responses.contact_id.not_null": "not_null_stg_crm__nps_responses_contact_id",
    # stg_billing__customers
    "stg_billing__customers.billing_customer_id.not_null": (
        "not_null_stg_billing__customers_billing_customer_id"
    ),
    "stg_billing__customers.billing_customer_id.unique": "unique_stg_billing__customers_billing_customer_id",
    # stg_billing__subscriptions
    "stg_billing__subscriptions.subscription_id.not_null": (
        "not_null_stg_billing__subscriptions_subscription_id"
    ),
    "stg_billing__subscriptions.subscription_id.unique": "unique_stg_billing__subscriptions_subscription_id",
    "stg_billing__subscriptions.billing_customer_id.not_null": (
        "not_null_stg_billing__subscriptions_billing_customer_id"
    ),
    "stg_billing__subscriptions.status.in_set": (
        "accepted_values_stg_billing__subscriptions_status__trialing__active__past_due__unpaid__canceled__incomplete__incomplete_expired"
    ),
    "stg_billing__subscriptions.cancellation_reason.in_set": (
        "accepted_values_stg_billing__subscriptions_cancellation_reason__cancellation_requested__payment_failed__payment_disputed"
    ),
    # stg_billing__subscription_items
    "stg_billing__subscription_items.subscription_id.not_null": (
        "not_null_stg_billing__subscription_items_subscription_id"
    ),
    "stg_billing__subscription_items.item_index.not_null": (
        "not_null_stg_billing__subscription_items_item_index"
    ),
    "stg_billing__subscription_items.subscription_id+item_index.unique": (
        "unique_combination_of_columns_stg_billing__subscription_items_subscription_id__item_index"
    ),
    "stg_billing__subscription_items.billing_interval.in_set": (
        "accepted_values_stg_billing__subscription_items_billing_interval__day__week__month__year"
    ),
    # stg_billing__invoices
    "stg_billing__invoices.invoice_id.not_null": "not_null_stg_billing__invoices_invoice_id",
    "stg_billing__invoices.invoice_id.unique": "unique_stg_billing__invoices_invoice_id",
    "stg_billing__invoices.billing_customer_id.not_null": (
        "not_null_stg_billing__invoices_billing_customer_id"
    ),
    "stg_billing__invoices.status.in_set": (
        "accepted_values_stg_billing__invoices_status__draft__open__paid__void__uncollectible"
    ),
    # stg_billing__invoice_lines
    "stg_billing__invoice_lines.invoice_id.not_null": "not_null_stg_billing__invoice_lines_invoice_id",
    "stg_billing__invoice_lines.line_index.not_null": "not_null_stg_billing__invoice_lines_line_index",
    "stg_billing__invoice_lines.invoice_id+line_index.unique": (
        "unique_combination_of_columns_stg_billing__invoice_lines_invoice_id__line_index"
    ),
    "stg_billing__invoice_lines.line_type.in_set": (
        "accepted_values_stg_billing__invoice_lines_line_type__subscription__invoiceitem"
    ),
    "stg_billing__invoice_lines.billing_interval.in_set": (
        "accepted_values_stg_billing__invoice_lines_billing_interval__day__week__month__year"
    ),
    # stg_billing__charges
    "stg_billing__charges.charge_id.not_null": "not_null_stg_billing__charges_charge_id",
    "stg_billing__charges.charge_id.unique": "unique_stg_billing__charges_charge_id",
    "stg_billing__charges.billing_customer_id.not_null": "not_null_stg_billing__charges_billing_customer_id",
    "stg_billing__charges.status.in_set": (
        "accepted_values_stg_billing__charges_status__succeeded__failed__pending"
    ),
    # stg_support__tickets
    "stg_support__tickets.ticket_id.not_null": "not_null_stg_support__tickets_ticket_id",
    "stg_support__tickets.ticket_id.unique": "unique_stg_support__tickets_ticket_id",
    "stg_support__tickets.status.in_set": (
        "accepted_values_stg_support__tickets_status__new__open__pending__hold__solved__closed"
    ),
    "stg_support__tickets.satisfaction_rating.in_set": (
        "accepted_values_stg_support__tickets_satisfaction_rating__good__bad__offered__unoffered"
    ),
    # dim_customers
    "dim_customers.customer_id.not_null": "not_null_dim_customers_customer_id",
    "dim_customers.customer_id.unique": "unique_dim_customers_customer_id",
    "dim_customers.segment.in_set": "accepted_values_dim_customers_segment__smb__mid_market__enterprise",
    "dim_customers.first_paid_at>=first_seen_at": "assert_dim_customers_first_paid_not_before_first_seen",
    "dim_customers.current_stage.not_null": "not_null_dim_customers_current_stage",
    "dim_customers.current_stage.in_set": (
        "accepted_values_dim_customers_current_stage__lead__trial__onboarding__active__expanding__advocate__at_risk__churned"
    ),
    "dim_customers.current_stage_since.not_null": "not_null_dim_customers_current_stage_since",
    "dim_customers.churn_type.in_set": "accepted_values_dim_customers_churn_type__voluntary__involuntary",
    "dim_customers.is_at_risk.not_null": "contract: not_null constraint",
    # fct_lifecycle_stages
    "fct_lifecycle_stages.customer_id.not_null": "not_null_fct_lifecycle_stages_customer_id",
    "fct_lifecycle_stages.spell_number.not_null": "contract: not_null constraint",
    "fct_lifecycle_stages.customer_id+spell_number.unique": (
        "unique_combination_of_columns_fct_lifecycle_stages_customer_id__spell_number"
    ),
    "fct_lifecycle_stages.customer_id+valid_from.unique": (
        "unique_combination_of_columns_fct_lifecycle_stages_customer_id__valid_from"
    ),
    "fct_lifecycle_stages.stage.not_null": "not_null_fct_lifecycle_stages_stage",
    "fct_lifecycle_stages.stage.in_set": (
        "accepted_values_fct_lifecycle_stages_stage__lead__trial__onboarding__active__expanding__advocate__at_risk__churned"
    ),
    "fct_lifecycle_stages.stage_order.not_null": "contract: not_null constraint",
    "fct_lifecycle_stages.spell_number.positive": "assert_lifecycle_spells_contiguous",
    "fct_lifecycle_stages.valid_from.not_null": "not_null_fct_lifecycle_stages_valid_from",
    "fct_lifecycle_stages.is_current.not_null": "contract: not_null constraint",
    "fct_lifecycle_stages.valid_to.after_valid_from": "assert_lifecycle_spells_contiguous",
    "fct_lifecycle_stages.is_current.iff_valid_to_null": "assert_lifecycle_spells_contiguous",
    # fct_lifecycle_transitions
    "fct_lifecycle_transitions.customer_id.not_null": "not_null_fct_lifecycle_transitions_customer_id",
    "fct_lifecycle_transitions.transition_number.not_null": "contract: not_null constraint",
    "fct_lifecycle_transitions.customer_id+transition_number.unique": (
        "unique_combination_of_columns_fct_lifecycle_transitions_customer_id__transition_number"
    ),
    "fct_lifecycle_transitions.from_stage.not_null": "contract: not_null constraint",
    "fct_lifecycle_transitions.to_stage.not_null": "contract: not_null constraint",
    "fct_lifecycle_transitions.transitioned_at.not_null": "contract: not_null constraint",
    # rpt_lifecycle_funnel
    "rpt_lifecycle_funnel.stage.not_null": "not_null_rpt_lifecycle_funnel_stage",
    "rpt_lifecycle_funnel.stage.unique": "unique_rpt_lifecycle_funnel_stage",
    "rpt_lifecycle_funnel.stage_order.not_null": "contract: not_null constraint",
    # rpt_lifecycle_funnel_by_dimension
    "rpt_lifecycle_funnel_by_dimension.dimension.not_null": (
        "not_null_rpt_lifecycle_funnel_by_dimension_dimension"
    ),
    "rpt_lifecycle_funnel_by_dimension.dimension_value.not_null": "contract: not_null constraint",
    "rpt_lifecycle_funnel_by_dimension.stage.not_null": "contract: not_null constraint",
    "rpt_lifecycle_funnel_by_dimension.dimension+dimension_value+stage.unique": (
        "unique_combination_of_columns_rpt_lifecycle_funnel_by_dimension_dimension__dimension_value__stage"
    ),
    "rpt_lifecycle_funnel_by_dimension.stage_order.not_null": "contract: not_null constraint",
    "rpt_lifecycle_funnel_by_dimension.dimension.in_set": "assert_lifecycle_funnel_cuts_add_up_to_all",
    # fct_mrr_movements
    "fct_mrr_movements.customer_id.not_null": "not_null_fct_mrr_movements_customer_id",
    "fct_mrr_movements.month.not_null": "not_null_fct_mrr_movements_month",
    "fct_mrr_movements.customer_id+month.unique": (
        "unique_combination_of_columns_fct_mrr_movements_customer_id__month"
    ),
    "fct_mrr_movements.movement.in_set": (
        "accepted_values_fct_mrr_movements_movement__new__expansion__contraction__churn__reactivation__retained"
    ),
    "fct_mrr_movements.mrr_change.equals_difference": "assert_mrr_bridge_reconciles",
    "fct_mrr_movements.fx_impact.equals_difference": "assert_mrr_bridge_reconciles",
    # rpt_mrr_bridge
    "rpt_mrr_bridge.month.not_null": "not_null_rpt_mrr_bridge_month",
    "rpt_mrr_bridge.month.unique": "unique_rpt_mrr_bridge_month",
    "rpt_mrr_bridge.bridge.reconciles": "assert_mrr_bridge_reconciles",
    # rpt_cohort_retention
    "rpt_cohort_retention.cohort_month.not_null": "not_null_rpt_cohort_retention_cohort_month",
    "rpt_cohort_retention.months_since_start.not_null": "not_null_rpt_cohort_retention_months_since_start",
    "rpt_cohort_retention.cohort_month+months_since_start.unique": (
        "unique_combination_of_columns_rpt_cohort_retention_cohort_month__months_since_start"
    ),
    # rpt_cohort_retention_by_dimension
    "rpt_cohort_retention_by_dimension.dimension.not_null": (
        "not_null_rpt_cohort_retention_by_dimension_dimension"
    ),
    "rpt_cohort_retention_by_dimension.dimension_value.not_null": (
        "not_null_rpt_cohort_retention_by_dimension_dimension_value"
    ),
    "rpt_cohort_retention_by_dimension.cohort_month.not_null": (
        "not_null_rpt_cohort_retention_by_dimension_cohort_month"
    ),
    "rpt_cohort_retention_by_dimension.months_since_start.not_null": (
        "not_null_rpt_cohort_retention_by_dimension_months_since_start"
    ),
    "rpt_cohort_retention_by_dimension.dimension+dimension_value+cohort_month+months_since_start.unique": (
        "unique_combination_of_columns_rpt_cohort_retention_by_dimension_dimension__dimension_value__cohort_month__months_since_start"
    ),
    "rpt_cohort_retention_by_dimension.dimension.in_set": "assert_cohort_cuts_add_up_to_all",
    "rpt_cohort_retention_by_dimension.logo_retention.between": (
        "assert_cohort_logo_retention_between_0_and_1"
    ),
    "rpt_cohort_retention_by_dimension.gross_revenue_retention.between": (
        "assert_cohort_gross_retention_within_net_retention"
    ),
    "rpt_cohort_retention_by_dimension.gross_revenue_retention.within_net": (
        "assert_cohort_gross_retention_within_net_retention"
    ),
    "rpt_cohort_retention_by_dimension.active_customers.within_cohort": (
        "assert_cohort_logo_retention_between_0_and_1"
    ),
    # rpt_kpis_monthly
    "rpt_kpis_monthly.month.not_null": "not_null_rpt_kpis_monthly_month",
    "rpt_kpis_monthly.month.unique": "unique_rpt_kpis_monthly_month",
    "rpt_kpis_monthly.new_customers.non_negative": "assert_kpi_rates_in_range",
    "rpt_kpis_monthly.churned_customers.non_negative": "assert_kpi_rates_in_range",
    "rpt_kpis_monthly.customer_churn_rate.between": "assert_kpi_rates_in_range",
    "rpt_kpis_monthly.mrr.non_negative": "assert_kpi_rates_in_range",
    "rpt_kpis_monthly.arpu.non_negative": "assert_kpi_rates_in_range",
    "rpt_kpis_monthly.cac.non_negative": "assert_kpi_rates_in_range",
    "rpt_kpis_monthly.nps.between": "assert_kpi_rates_in_range",
    "rpt_kpis_monthly.csat.between": "assert_kpi_rates_in_range",
    "rpt_kpis_monthly.referral_rate.between": "assert_kpi_rates_in_range",
    "rpt_kpis_monthly.repeat_purchase_rate.between": "assert_kpi_rates_in_range",
    "rpt_kpis_monthly.quick_ratio.non_negative": "assert_kpi_rates_in_range",
    # rpt_revenue_reconciliation
    "rpt_revenue_reconciliation.month.not_null": "not_null_rpt_revenue_reconciliation_month",
    "rpt_revenue_reconciliation.month.unique": "unique_rpt_revenue_reconciliation_month",
    "rpt_revenue_reconciliation.invoiced_subscription.not_null": (
        "not_null_rpt_revenue_reconciliation_invoiced_subscription"
    ),
    "rpt_revenue_reconciliation.invoiced_prorations.not_null": (
        "not_null_rpt_revenue_reconciliation_invoiced_prorations"
    ),
    "rpt_revenue_reconciliation.invoiced_one_off.not_null": (
        "not_null_rpt_revenue_reconciliation_invoiced_one_off"
    ),
    "rpt_revenue_reconciliation.invoiced_total.not_null": (
        "not_null_rpt_revenue_reconciliation_invoiced_total"
    ),
    "rpt_revenue_reconciliation.collected_charges.not_null": (
        "not_null_rpt_revenue_reconciliation_collected_charges"
    ),
    "rpt_revenue_reconciliation.collected_out_of_band.not_null": (
        "not_null_rpt_revenue_reconciliation_collected_out_of_band"
    ),
    "rpt_revenue_reconciliation.refunds.not_null": "not_null_rpt_revenue_reconciliation_refunds",
    "rpt_revenue_reconciliation.collected_net.not_null": "not_null_rpt_revenue_reconciliation_collected_net",
    "rpt_revenue_reconciliation.recognised_mrr.not_null": (
        "not_null_rpt_revenue_reconciliation_recognised_mrr"
    ),
    "rpt_revenue_reconciliation.billing_timing.not_null": (
        "not_null_rpt_revenue_reconciliation_billing_timing"
    ),
    "rpt_revenue_reconciliation.invoiced_uncollectible.not_null": (
        "not_null_rpt_revenue_reconciliation_invoiced_uncollectible"
    ),
    "rpt_revenue_reconciliation.invoiced_open.not_null": "not_null_rpt_revenue_reconciliation_invoiced_open",
    "rpt_revenue_reconciliation.collection_timing.not_null": (
        "not_null_rpt_revenue_reconciliation_collection_timing"
    ),
    "rpt_revenue_reconciliation.invoiced_total.adds_up": "assert_revenue_reconciliation_ties_out",
    "rpt_revenue_reconciliation.collected_net.adds_up": "assert_revenue_reconciliation_ties_out",
    "rpt_revenue_reconciliation.collected_net.reconciles_with_mrr": "assert_revenue_reconciliation_ties_out",
    # fct_customer_clv
    "fct_customer_clv.customer_id.not_null": "not_null_fct_customer_clv_customer_id",
    "fct_customer_clv.customer_id.unique": "unique_fct_customer_clv_customer_id",
    "fct_customer_clv.historical_clv_net.not_null": "not_null_fct_customer_clv_historical_clv_net",
    # clv_model_parameters
    "clv_model_parameters.model.not_null": "contract: not_null constraint",
    "clv_model_parameters.segment.not_null": "contract: not_null constraint",
    "clv_model_parameters.parameter.not_null": "contract: not_null constraint",
    "clv_model_parameters.model+segment+parameter.unique": (
        "unique_combination_of_columns_clv_model_parameters_model__segment__parameter"
    ),
    "clv_model_parameters.model.in_set": (
        "accepted_values_clv_model_parameters_model__sbg__bg_nbd__gamma_gamma"
    ),
    "clv_model_parameters.value.not_null": "contract: not_null constraint",
    "clv_model_parameters.log_likelihood.not_null": "contract: not_null constraint",
    "clv_model_parameters.n_customers.not_null": "contract: not_null constraint",
    # rpt_clv_by_cohort_channel
    "rpt_clv_by_cohort_channel.cohort_month.not_null": "contract: not_null constraint",
    "rpt_clv_by_cohort_channel.acquisition_channel.not_null": "contract: not_null constraint",
    "rpt_clv_by_cohort_channel.cohort_month+acquisition_channel.unique": (
        "unique_combination_of_columns_rpt_clv_by_cohort_channel_cohort_month__acquisition_channel"
    ),
}
