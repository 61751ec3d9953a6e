"""One expectation suite per validated table, as code: what the quality gate checks beyond dbt's tests.

A suite is a table plus a list of checks; every check has a stable name ``<table>.<columns>.<kind>``
that ``gate.yml`` uses for thresholds (``mostly``) and severities. To validate a new model, append a
``TableSuite`` to ``SUITES`` built from the helpers below, e.g.::

    TableSuite("marts", "fct_mrr_movements", (non_negative("mrr"), currency())),

A check that a dbt data test or an enforced model contract already makes on the same table does not belong
here: keys, not-nulls and code lists are dbt tests in the model's YAML, which run (with the thresholds of
dbt var ``clm_data_tests``) before the gate. ``proven_by_dbt.py`` lists the checks the suites left to dbt and
the test that proves each; the suites keep value ranges, formats, currency codes, row counts and row-level
identities that no dbt test states for the table (GX only). Validation stays in-database: built-in
expectations and ``rows_where`` SQL run as queries on the warehouse, no table is read into Python.

Schemas are logical (``staging``, ``marts``); the checkpoint's ``Warehouse`` maps them to physical ones
(``build_marts`` on Postgres). The same suites run on DuckDB and Postgres: built-in GX expectations are
dialect-neutral, and each SQL check (``rows_where``) has a form per dialect or one that is valid on both.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.metadata_types import FailureSeverity

# Builds the GX expectation from the configured `mostly`, severity and the warehouse's SQLAlchemy dialect
# name ("duckdb", "postgresql", "hive" for Spark through its Thrift server); only SQL checks look at the
# dialect.
MakeExpectation = Callable[[float, FailureSeverity, str], Expectation]
DIALECTS = ("duckdb", "postgresql", "hive")


def quote(column: str, dialect: str) -> str:
    """A column name in the dialect's SQL: Spark reads "x" as a string, `x` as a name."""
    return f"`{column}`" if dialect == "hive" else f'"{column}"'


@dataclass(frozen=True)
class Check:
    name: str  # "<columns>.<kind>", unique within its table
    columns: tuple[str, ...]  # the columns the check needs; a missing one is reported, not crashed on
    make: MakeExpectation


@dataclass(frozen=True)
class TableSuite:
    schema: str
    table: str
    checks: tuple[Check, ...]

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.table}"

    def check_name(self, check: Check) -> str:
        return f"{self.table}.{check.name}"


# The dbt project's seeds, beside this package: expectations depends on nothing of clm's.
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


@cache
def currencies() -> tuple[str, ...]:
    """ISO 4217 codes the warehouse converts (seeds/currencies.csv, the same list ingestion accepts)."""
    with (SEEDS_DIR / "currencies.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(sorted(row["currency"].strip().upper() for row in csv.DictReader(handle)))


@cache
def lifecycle_stages() -> tuple[tuple[str, int], ...]:
    """(stage, stage_order) in funnel order (seeds/lifecycle_stages.csv, the set the lifecycle models use)."""
    with (SEEDS_DIR / "lifecycle_stages.csv").open(encoding="utf-8", newline="") as handle:
        rows = ((row["stage"].strip(), int(row["stage_order"])) for row in csv.DictReader(handle))
        return tuple(sorted(rows, key=lambda row: row[1]))


def not_null(column: str) -> Check:
    name = f"{column}.not_null"
    return Check(
        name,
        (column,),
        lambda mostly, sev, _dialect: gxe.ExpectColumnValuesToNotBeNull(
            column=column, mostly=mostly, severity=sev
        ),
    )


def in_set(column: str, values: tuple[str, ...], kind: str = "in_set") -> Check:
    name = f"{column}.{kind}"
    return Check(
        name,
        (column,),
        lambda mostly, sev, _dialect: gxe.ExpectColumnValuesToBeInSet(
            column=column, value_set=list(values), mostly=mostly, severity=sev
        ),
    )


def currency(column: str = "currency") -> Check:
    return in_set(column, currencies(), kind="currency")


def between(column: str, min_value: float | None, max_value: float | None, kind: str = "between") -> Check:
    name = f"{column}.{kind}"
    return Check(
        name,
        (column,),
        lambda mostly, sev, _dialect: gxe.ExpectColumnValuesToBeBetween(
            column=column,
            min_value=min_value,
            max_value=max_value,
            mostly=mostly,
            severity=sev,
        ),
    )


def non_negative(column: str) -> Check:
    return between(column, 0, None, kind="non_negative")


def rows_where(name: str, columns: tuple[str, ...], bad_rows: str | Mapping[str, str]) -> Check:
    """A check in SQL: ``bad_rows`` is a WHERE condition true for each bad row.

    Either one condition valid on every dialect in ``DIALECTS`` or a mapping dialect -> condition (for
    regexes and other functions that differ, see ``matches``); a dialect without a form is an error when the
    suite is built. Columns are referenced by name only: ``{batch}`` is the physical table.

    GX has no regex support for the duckdb dialect, and some invariants are easiest to state in SQL. GX's
    UnexpectedRowsExpectation has no ``mostly``; the query applies it: bad rows are returned only when their
    share exceeds ``1 - mostly``. With ``mostly`` 1 (the default) any bad row fails, so the query is the
    plain filter: one scan of the table instead of the bad rows twice and a count of the table.
    """
    forms = {dialect: bad_rows for dialect in DIALECTS} if isinstance(bad_rows, str) else dict(bad_rows)

    def make(mostly: float, sev: FailureSeverity, dialect: str) -> Expectation:
        # Only the named columns: GX buffers every returned row (see _gx_duckdb_patch), so keep rows narrow.
        selected = ", ".join(quote(column, dialect) for column in columns) or "1 as bad"
        if dialect not in forms:
            raise ValueError(
                f"check {name!r} has no SQL for the {dialect} dialect (it has: {', '.join(sorted(forms))})"
            )
        condition = forms[dialect].replace("{", "{{").replace("}", "}}")
        query = f"select {selected} from {{batch}} where {condition}"
        if mostly < 1:
            query = (
                f"with bad as ({query}) select * from bad "
                f"where (select count(*) from bad) > {1 - mostly!r} * (select count(*) from {{batch}})"
            )
        return gxe.UnexpectedRowsExpectation(
            unexpected_rows_query=query, severity=sev, description=f"no rows where {forms[dialect]}"
        )

    return Check(name, columns, make)


def matches(column: str, regex: str, kind: str = "format") -> Check:
    """Non-null values fully match ``regex`` (DuckDB ``regexp_full_match``, Postgres ``~`` anchored).

    Keep ``regex`` to the syntax that RE2 (DuckDB) and Postgres' ARE share: classes, ``{m,n}``, ``|``, groups.
    """
    pattern = regex.replace("'", "''")
    quoted = quote(column, "duckdb")
    spark = quote(column, "hive")
    return rows_where(
        f"{column}.{kind}",
        (column,),
        {
            "duckdb": f"{quoted} is not null and not regexp_full_match({quoted}, '{pattern}')",
            # a plain group: "(?:" followed by a letter reads as a SQLAlchemy bind parameter (":all")
            "postgresql": f"{quoted} is not null and not ({quoted} ~ '^({pattern})$')",
            # Spark: Java regexes, rlike finds a match anywhere (so anchored)
            "hive": f"{spark} is not null and not ({spark} rlike '^({pattern})$')",
        },
    )


def at_least(column_a: str, column_b: str) -> Check:
    """column_a >= column_b on rows where both are set."""
    name = f"{column_a}>={column_b}"
    return Check(
        name,
        (column_a, column_b),
        lambda mostly, sev, _dialect: gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=column_a,
            column_B=column_b,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            mostly=mostly,
            severity=sev,
        ),
    )


def row_count_at_least(minimum: int) -> Check:
    name = f"row_count.at_least_{minimum}"
    return Check(
        name,
        (),
        lambda _mostly, sev, _dialect: gxe.ExpectTableRowCountToBeBetween(min_value=minimum, severity=sev),
    )


SEGMENTS = ("smb", "mid_market", "enterprise")
SHA256_HEX = "[0-9a-f]{64}"
# starting + new + expansion + reactivation - contraction - churned + fx_impact = ending
# (docs/marts.md#mrr-bridge), to the cent.
BRIDGE_IDENTITY_BROKEN = (
    "starting_mrr + new_mrr + expansion_mrr + reactivation_mrr - contraction_mrr - churned_mrr"
    " + fx_impact_mrr <> ending_mrr"
)
# rpt_revenue_reconciliation's amount columns (the model's YAML; dbt tests each for not null).
RECONCILIATION_AMOUNTS = (
    "invoiced_subscription",
    "invoiced_prorations",
    "invoiced_one_off",
    "invoiced_total",
    "collected_charges",
    "collected_out_of_band",
    "refunds",
    "collected_net",
    "recognised_mrr",
    "billing_timing",
    "invoiced_uncollectible",
    "invoiced_open",
    "collection_timing",
)
STAGES = tuple(stage for stage, _order in lifecycle_stages())


def stage_order_matches(stage: str, stage_order: str, ids: tuple[str, ...]) -> Check:
    """``stage_order`` is the seed's position of ``stage`` (an unknown stage is left to the stage's list
    check: in_set here or dbt's accepted_values); ``ids`` are the columns that name a bad row."""
    positions = " ".join(f"when '{name}' then {order}" for name, order in lifecycle_stages())
    return rows_where(
        f"{stage_order}.matches_{stage}",
        tuple(dict.fromkeys((*ids, stage, stage_order))),
        f"{stage_order} <> case {stage} {positions} end",
    )


def lifecycle_funnel_checks(*groups: str) -> tuple[Check, ...]:
    """The checks of rpt_lifecycle_funnel and of its cuts, whose grain is ``groups`` x stage."""
    grain = (*groups, "stage")
    return (
        in_set("stage", STAGES),
        stage_order_matches("stage", "stage_order", grain),
        non_negative("customers_current"),
        non_negative("customers_ever"),
        non_negative("customers_from_previous"),
        at_least("customers_ever", "customers_current"),
        at_least("customers_ever", "customers_from_previous"),
        between("conversion_from_previous", 0, 1),
        non_negative("median_days_to_reach"),
        # The first stage has no previous one: nobody converts into it and its conversion is null.
        rows_where(
            "conversion_from_previous.null_for_first_stage",
            (*grain, "stage_order", "customers_from_previous", "conversion_from_previous"),
            "stage_order = 1 and (conversion_from_previous is not null or customers_from_previous <> 0)",
        ),
        # A median over the customers that reached the stage: null exactly when nobody did.
        rows_where(
            "median_days_to_reach.null_iff_never_reached",
            (*grain, "customers_ever", "median_days_to_reach"),
            "(median_days_to_reach is null) <> (customers_ever = 0)",
        ),
    )


# CLV (docs/marts.md#predictive-clv): every parameter of each fitted model (clm.clv.pipeline), and the
# segments fitted.
CLV_MODEL_PARAMETERS: dict[str, tuple[str, ...]] = {
    "sbg": ("alpha", "beta"),
    "bg_nbd": ("r", "alpha", "a", "b"),
    "gamma_gamma": ("p", "q", "gamma"),
}
# 'all', a CRM segment ('unknown' without one) or a billing period (month, year, '<n>_months'). A regex for
# `matches` starts with a bracket: Postgres' form is '^(?:<regex>)$', and SQLAlchemy would take ":all" for a
# bind parameter.
CLV_SEGMENT = f"(all|segment:({'|'.join((*SEGMENTS, 'unknown'))})|billing_period:(month|year|[0-9]+_months))"
CLV_TIME_UNIT = "(day|reporting_currency|billing_period|month|year|[0-9]+_months)"
# Parameters and likelihoods are doubles: NaN (above every number on DuckDB and Postgres) and +-Infinity
# fail these bounds (on Spark too, where NaN is above every number), so one condition is NaN-safe everywhere;
# Spark's SQL has no "double precision".
INFINITY = "cast('Infinity' as double precision)"


def with_spark_double(condition: str) -> dict[str, str]:
    """``condition`` on DuckDB and Postgres, with Spark's name for a double on Spark."""
    return {
        "duckdb": condition,
        "postgresql": condition,
        "hive": condition.replace("double precision", "double"),
    }


def parameter_valid_for_model() -> str:
    """True for a row whose parameter is not one of its model's (an unknown model: dbt's accepted_values)."""
    cases = " ".join(
        f"when '{model}' then parameter not in ({', '.join(repr(name) for name in names)})"
        for model, names in CLV_MODEL_PARAMETERS.items()
    )
    return f"case model {cases} end"


# Column names are those of the staging models in dbt_project/models/staging (Stripe ids become
# `<entity>_id`, a Stripe customer is `billing_customer_id`; amounts in major units; currency upper-case).
# Keys, not-nulls and code lists are dbt's (expectations/proven_by_dbt.py): the suites hold what no dbt test
# checks on the same table.
SUITES: tuple[TableSuite, ...] = (
    TableSuite("staging", "stg_crm__contacts", (matches("country", "[A-Z]{2}"),)),
    TableSuite("staging", "stg_crm__deals", (non_negative("amount"), currency())),
    TableSuite("staging", "stg_crm__marketing_spend", (non_negative("amount"), currency())),
    TableSuite("staging", "stg_crm__nps_responses", (between("score", 0, 10, kind="score_0_10"),)),
    TableSuite("staging", "stg_billing__customers", (currency(),)),
    TableSuite(
        "staging",
        "stg_billing__subscription_items",
        (non_negative("unit_amount"), non_negative("quantity"), currency()),
    ),
    TableSuite(
        "staging",
        "stg_billing__invoices",
        (non_negative("amount_due"), non_negative("amount_paid"), currency()),
    ),
    # No amount check: proration credits are negative.
    TableSuite("staging", "stg_billing__invoice_lines", (currency(),)),
    TableSuite(
        "staging",
        "stg_billing__charges",
        (non_negative("amount"), non_negative("amount_refunded"), currency()),
    ),
    TableSuite("staging", "stg_support__tickets", (non_negative("reopens"),)),
    TableSuite(
        "marts",
        "dim_customers",
        (
            matches("email_hash", SHA256_HEX, kind="sha256_hex"),
            non_negative("current_mrr"),
            non_negative("lifetime_revenue"),
            non_negative("cac"),
            row_count_at_least(1),
            rows_where(
                "churn_type.only_when_churned",
                ("customer_id", "current_stage", "churn_type"),
                "churn_type is not null and current_stage <> 'churned'",
            ),
            rows_where(
                "churn_reason.only_when_churned",
                ("customer_id", "current_stage", "churn_reason"),
                "churn_reason is not null and current_stage <> 'churned'",
            ),
            rows_where(
                "is_at_risk.matches_current_stage",
                ("customer_id", "current_stage", "is_at_risk"),
                "is_at_risk <> (current_stage = 'at_risk')",
            ),
            rows_where(
                "at_risk_reasons.iff_at_risk",
                ("customer_id", "is_at_risk", "at_risk_reasons"),
                "is_at_risk <> (at_risk_reasons is not null)",
            ),
        ),
    ),
    TableSuite(
        "marts",
        "fct_lifecycle_stages",
        (
            stage_order_matches("stage", "stage_order", ("customer_id", "spell_number")),
            non_negative("days_in_stage"),
            # Closed spells: the days between valid_from and valid_to (date - date is whole days on DuckDB and
            # Postgres, an interval on Spark).
            rows_where(
                "days_in_stage.equals_span",
                ("customer_id", "spell_number", "valid_from", "valid_to", "days_in_stage"),
                {
                    "duckdb": "valid_to is not null and days_in_stage <> valid_to - valid_from",
                    "postgresql": "valid_to is not null and days_in_stage <> valid_to - valid_from",
                    "hive": "valid_to is not null and days_in_stage <> datediff(valid_to, valid_from)",
                },
            ),
        ),
    ),
    TableSuite(
        "marts",
        "fct_lifecycle_transitions",
        (
            between("transition_number", 1, None, kind="positive"),
            in_set("from_stage", STAGES),
            in_set("to_stage", STAGES),
            stage_order_matches("from_stage", "from_stage_order", ("customer_id", "transition_number")),
            stage_order_matches("to_stage", "to_stage_order", ("customer_id", "transition_number")),
            rows_where(
                "to_stage.differs_from_from_stage",
                ("customer_id", "transition_number", "from_stage", "to_stage"),
                "from_stage = to_stage",
            ),
            between("days_in_from_stage", 1, None, kind="positive"),
        ),
    ),
    # Every stage has a row, 0 when nobody reached it.
    TableSuite(
        "marts",
        "rpt_lifecycle_funnel",
        (*lifecycle_funnel_checks(), row_count_at_least(len(STAGES))),
    ),
    TableSuite(
        "marts",
        "rpt_lifecycle_funnel_by_dimension",
        lifecycle_funnel_checks("dimension", "dimension_value"),
    ),
    TableSuite(
        "marts",
        "fct_mrr_movements",
        (
            non_negative("mrr"),
            non_negative("previous_mrr"),
            non_negative("previous_mrr_at_current_rate"),
            # an all-zero row only for a customer active at MRR 0 in the month or the one before (revenue
            # policy revenue_free_subscriptions = active: retained at 0, or the churn when its $0 lines end);
            # by default is_active = mrr > 0, so no all-zero row at all
            rows_where(
                "movement.both_zero",
                ("customer_id", "month"),
                "mrr = 0 and previous_mrr = 0 and previous_mrr_at_current_rate = 0"
                " and not is_active and not previous_is_active",
            ),
        ),
    ),
    TableSuite(
        "marts",
        "rpt_mrr_bridge",
        (
            non_negative("starting_mrr"),
            non_negative("ending_mrr"),
            non_negative("contraction_mrr"),
            non_negative("churned_mrr"),
        ),
    ),
    # The whole base (the dimension 'all' rows of rpt_cohort_retention_by_dimension, whose dbt tests cover
    # these): checked here too, as dbt tests nothing on this model beyond its key.
    TableSuite(
        "marts",
        "rpt_cohort_retention",
        (
            between("logo_retention", 0, 1),
            between("gross_revenue_retention", 0, 1),
            non_negative("net_revenue_retention"),
            rows_where(
                "gross_revenue_retention.within_net",
                ("cohort_month", "months_since_start"),
                "gross_revenue_retention > net_revenue_retention",
            ),
        ),
    ),
    TableSuite(
        "marts",
        "rpt_cohort_retention_by_dimension",
        (non_negative("net_revenue_retention"),),
    ),
    TableSuite(
        "marts",
        "rpt_kpis_monthly",
        (rows_where("bridge.reconciles", ("month",), BRIDGE_IDENTITY_BROKEN),),
    ),
    # Invoiced, collected and recognised revenue by month; dbt ties its totals and identities out
    # (assert_revenue_reconciliation_ties_out).
    TableSuite(
        "marts",
        "rpt_revenue_reconciliation",
        (
            non_negative("invoiced_one_off"),
            non_negative("collected_charges"),
            non_negative("collected_out_of_band"),
            non_negative("refunds"),
            non_negative("recognised_mrr"),
            non_negative("invoiced_uncollectible"),
            non_negative("invoiced_open"),
        ),
    ),
    TableSuite(
        "marts",
        "fct_customer_clv",
        (
            not_null("lifetime_revenue"),
            non_negative("lifetime_revenue"),
            non_negative("cac"),
            non_negative("clv_cac_ratio"),
            non_negative("cac_payback_months"),
            # Null only for customers who never bought (and one-off buyers while BG/NBD 'all' is not fitted).
            between("p_alive", 0, 1),
            non_negative("expected_purchases_12m"),
            non_negative("expected_spend_per_purchase"),
            # At most one renewal decision a month over the 12-month horizon.
            between("expected_renewals_12m", 0, 12),
            non_negative("expected_subscription_revenue_12m"),
            non_negative("expected_purchase_revenue_12m"),
            non_negative("predicted_clv_12m"),
            non_negative("discounted_expected_residual_lifetime"),
            non_negative("discounted_expected_residual_value"),
            rows_where(
                "clv_cac_ratio.null_without_cac",
                ("customer_id", "cac", "clv_cac_ratio"),
                "clv_cac_ratio is not null and (cac is null or cac = 0)",
            ),
            rows_where(
                "cac_payback_months.zero_when_cac_zero",
                ("customer_id", "cac", "cac_payback_months"),
                "cac = 0 and cac_payback_months <> 0",
            ),
            # A customer that a model predicts for has a P(alive): the model's, or its observed subscription.
            rows_where(
                "p_alive.set_when_predicted",
                ("customer_id", "p_alive", "expected_purchases_12m", "expected_renewals_12m"),
                "p_alive is null "
                "and (expected_purchases_12m is not null or expected_renewals_12m is not null)",
            ),
            # Revenue is the product of its prediction (null exactly when a factor is), CLV their sum.
            rows_where(
                "expected_subscription_revenue_12m.iff_renewals",
                ("customer_id", "expected_renewals_12m", "expected_subscription_revenue_12m"),
                "(expected_subscription_revenue_12m is null) <> (expected_renewals_12m is null)",
            ),
            rows_where(
                "expected_purchase_revenue_12m.iff_purchases_and_spend",
                (
                    "customer_id",
                    "expected_purchases_12m",
                    "expected_spend_per_purchase",
                    "expected_purchase_revenue_12m",
                ),
                "(expected_purchase_revenue_12m is null) "
                "<> (expected_purchases_12m is null or expected_spend_per_purchase is null)",
            ),
            rows_where(
                "predicted_clv_12m.iff_expected_revenue",
                (
                    "customer_id",
                    "expected_subscription_revenue_12m",
                    "expected_purchase_revenue_12m",
                    "predicted_clv_12m",
                ),
                "(predicted_clv_12m is null) "
                "<> (expected_subscription_revenue_12m is null and expected_purchase_revenue_12m is null)",
            ),
            rows_where(
                "discounted_expected_residual_lifetime.iff_renewals",
                ("customer_id", "expected_renewals_12m", "discounted_expected_residual_lifetime"),
                "(discounted_expected_residual_lifetime is null) <> (expected_renewals_12m is null)",
            ),
            rows_where(
                "discounted_expected_residual_value.iff_lifetime",
                (
                    "customer_id",
                    "discounted_expected_residual_lifetime",
                    "discounted_expected_residual_value",
                ),
                "(discounted_expected_residual_value is null) "
                "<> (discounted_expected_residual_lifetime is null)",
            ),
        ),
    ),
    # A segment (or a whole model) that could not be fitted has no rows: a warning of the run, not a failure.
    TableSuite(
        "marts",
        "clv_model_parameters",
        (
            matches("segment", CLV_SEGMENT),
            rows_where(
                "parameter.valid_for_model",
                ("model", "segment", "parameter"),
                parameter_valid_for_model(),
            ),
            rows_where(
                "value.positive_finite",
                ("model", "segment", "parameter", "value"),
                with_spark_double(f"not (value > 0 and value < {INFINITY})"),
            ),
            # Null or NaN where the observed information is singular.
            non_negative("standard_error"),
            rows_where(
                "log_likelihood.finite",
                ("model", "segment", "log_likelihood"),
                with_spark_double(f"not (log_likelihood > -{INFINITY} and log_likelihood < {INFINITY})"),
            ),
            # sBG's likelihood is a probability. BG/NBD's is a density of the purchase times in days, above 1
            # only if customers bought several times a day (wrong time unit). Gamma-Gamma's is a density of
            # money and may be positive (small spends), so it is not checked.
            rows_where(
                "log_likelihood.sbg_non_positive",
                ("model", "segment", "log_likelihood"),
                "model = 'sbg' and not (log_likelihood <= 0)",
            ),
            rows_where(
                "log_likelihood.bg_nbd_non_positive",
                ("model", "segment", "log_likelihood"),
                "model = 'bg_nbd' and not (log_likelihood <= 0)",
            ),
            between("n_customers", 1, None, kind="positive"),
            not_null("time_unit"),
            matches("time_unit", CLV_TIME_UNIT),
            # BG/NBD is in days, Gamma-Gamma in money, sBG in its billing period (only sBG fits periods).
            rows_where(
                "time_unit.valid_for_model",
                ("model", "segment", "time_unit"),
                "case model when 'bg_nbd' then time_unit <> 'day' "
                "when 'gamma_gamma' then time_unit <> 'reporting_currency' "
                "when 'sbg' then time_unit in ('day', 'reporting_currency') end",
            ),
            rows_where(
                "segment.billing_period_only_for_sbg",
                ("model", "segment", "time_unit"),
                "segment like 'billing_period:%' and (model <> 'sbg' or time_unit <> substr(segment, 16))",
            ),
            not_null("converged"),
            not_null("fitted_at"),
        ),
    ),
    TableSuite(
        "marts",
        "rpt_clv_by_cohort_channel",
        (
            rows_where(
                "cohort_month.first_of_month",
                ("cohort_month", "acquisition_channel"),
                "extract(day from cohort_month) <> 1",
            ),
            not_null("customers"),
            between("customers", 1, None, kind="positive"),
            not_null("lifetime_revenue"),
            non_negative("lifetime_revenue"),
            non_negative("cac"),
            not_null("historical_clv_net"),
            not_null("historical_clv_net_per_customer"),
            non_negative("clv_cac_ratio"),
            non_negative("median_cac_payback_months"),
            non_negative("predicted_clv_12m"),
            # historical_clv_net / customers rounded to cents.
            rows_where(
                "historical_clv_net_per_customer.equals_ratio",
                ("cohort_month", "acquisition_channel"),
                "abs(historical_clv_net_per_customer * customers - historical_clv_net) > 0.005 * customers",
            ),
            rows_where(
                "clv_cac_ratio.null_without_cac",
                ("cohort_month", "acquisition_channel", "cac", "clv_cac_ratio"),
                "clv_cac_ratio is not null and (cac is null or cac = 0)",
            ),
        ),
    ),
)
