"""What sqlfluff's jinja templater renders for dbt's and clm's macros (.sqlfluff, library_path).

sqlfluff lints the SQL each model writes around its macro calls, not the macros' own SQL: each stub returns
an expression or query of the shape the real macro renders on DuckDB (dbt_project/macros), so the model
parses and its layout, aliases and keywords are checked. The real macros need dbt's adapter, `return()` and
queries at compile time, which only the dbt templater gives; sqlfluff-templater-dbt does not install with the
pinned click (pyproject.toml). A macro that a model calls and that is missing here fails `make lint` with
"Undefined jinja template variable", the sign to add a stub.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import yaml

# var(): the defaults of dbt_project.yml (sqlfluff's own dbt `var` returns a string, which `-var(...)` breaks)
_VARS = yaml.safe_load((Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text())["vars"]


def var(name: str, default: object = None) -> object:
    return _VARS.get(name, default)


# ------------------------------------------------------------------------------------- dbt's cross-db macros
# flags: dbt's run flags (a full refresh renders a model's incremental-only parts away)
flags = SimpleNamespace(FULL_REFRESH=False)
target = SimpleNamespace(type="duckdb")
dbt = SimpleNamespace(
    datediff=lambda first, second, part: f"date_diff('{part}', {first}, {second})",
    dateadd=lambda part, interval, expr: f"date_add({expr}, interval ({interval}) {part})",
    date_trunc=lambda part, expr: f"date_trunc('{part}', {expr})",
    # a query with one column date_<part> (metricflow_time_spine)
    date_spine=lambda part, start, end: (
        f"select cast(generated as date) as date_{part}"
        f" from generate_series({start}, {end}, interval 1 {part}) as series (generated)"
    ),
)


# ------------------------------------------------------------------------------------------ dates and time
def clm_as_of() -> str:
    return "cast('2024-03-31' as date)"


def clm_as_of_end() -> str:
    return "cast('2024-04-01 00:00:00' as timestamp)"


def clm_month(expr: str) -> str:
    return f"cast(date_trunc('month', {expr}) as date)"


def clm_month_end(expr: str) -> str:
    return f"cast(last_day({expr}) as date)"


def clm_add_days(expr: str, days: object) -> str:
    return f"cast({expr} + to_days(cast({days} as integer)) as date)"


def clm_unix_seconds_to_utc(expr: str) -> str:
    return f"cast(to_timestamp(cast({expr} as double)) as timestamp)"


def clm_iso_timestamp_to_utc(expr: str) -> str:
    return f"cast(cast({expr} as timestamptz) as timestamp)"


def clm_month_spine(start: str, end: str) -> str:
    return f"select cast(range as date) as month from range({start}, {end}, interval 1 month)"


def clm_activity_month_spine(relations: list[str]) -> str:
    return f"select month from {relations[0]}"


# ------------------------------------------------------------------------------------------- text and ids
def clm_clean_text(expr: str) -> str:
    return f"nullif(trim({expr}), '')"


def clm_clean_code(expr: str, case: str = "lower") -> str:
    return f"nullif({case}(trim({expr})), '')"


def clm_normalize_email(expr: str) -> str:
    return f"nullif(lower(trim({expr})), '')"


def clm_to_boolean(expr: str) -> str:
    return f"cast({expr} as boolean)"


def clm_id_hash(prefix: str, key_expr: str) -> str:
    return f"'{prefix}' || md5({key_expr})"


def clm_pii_hash(expr: str) -> str:
    return f"md5({expr})"


def clm_concat_flags(names: list[str], prefix: str) -> str:
    return f"nullif(concat_ws(', ', case when {prefix}{names[0]} then '{names[0]}' end), '')"


# ----------------------------------------------------------------------------------------- money and fx
def clm_to_amount(expr: str) -> str:
    return f"cast({expr} as decimal(18, 2))"


def clm_minor_to_major(amount_expr: str, digits_expr: str) -> str:
    return f"cast({amount_expr} as decimal(38, 6)) / power(10, {digits_expr})"


def clm_to_reporting_currency(amount_expr: str, rate_expr: str) -> str:
    return f"cast({amount_expr} * {rate_expr} as decimal(18, 2))"


def clm_money_times_ratio(money_expr: str, ratio_expr: str) -> str:
    return f"{money_expr} * {ratio_expr}"


def clm_fx_rates() -> str:
    return "select month, currency, rate from fx_rates"


def clm_fx_rates_usd() -> str:
    return "select month, currency, rate from fx_rates"


def clm_exact_ratio(numerator_expr: str, denominator_expr: str, scale: object = 6) -> str:
    return f"cast({numerator_expr} as decimal(38, {scale})) / nullif({denominator_expr}, 0)"


def clm_exact_ratio_by_integer(numerator_expr: str, divisor_expr: str, scale: object = 10) -> str:
    return f"cast({numerator_expr} as decimal(38, {scale})) / {divisor_expr}"


def clm_type_string() -> str:
    return "varchar"


def clm_type_double() -> str:
    return "double"


def clm_exact_divide(numerator_expr: str, divisor_expr: str) -> str:
    return f"cast({numerator_expr} as decimal(38, 10)) / {divisor_expr}"


def clm_mrr_part(amount_expr: str, multiplier_expr: str, divisor_expr: str, rate_expr: str) -> str:
    return f"{amount_expr} * {multiplier_expr} / {divisor_expr} * {rate_expr}"


def clm_mrr_total(parts_sum_expr: str) -> str:
    return f"cast(round({parts_sum_expr}, 2) as decimal(18, 2))"


def clm_line_pays_on(lines: str, date_expr: str) -> str:
    return f"{date_expr} >= {lines}.active_from_date and {date_expr} < {lines}.active_to_date"


# ----------------------------------------------------------------------------------- queries and policies
def clm_newest_versions(relation: str, key_columns: list[str], version_by: list[str] | None = None) -> str:
    return f"select * from {relation} qualify row_number() over (partition by {key_columns[0]}) = 1"


def clm_is_incremental() -> bool:
    return True


def clm_changed_keys(relation: str, key_expr: str) -> str:
    return f"select distinct {key_expr} from {relation}"


def clm_only_changed_keys(column_expr: str, relation: str, key_expr: str) -> str:
    # the incremental form, so that it is linted too (a full build renders nothing)
    return f"and {column_expr} in ({clm_changed_keys(relation, key_expr)})"


def clm_delete_changed_keys(column: str, relation: str, key_expr: str) -> str:
    return f"delete from this where {column} in ({clm_changed_keys(relation, key_expr)})"


def clm_materialized_by_customer() -> str:
    return "incremental"


def clm_incremental_since() -> tuple[str, str]:
    return ("2024-02-29", "2024-02-29 06:00:00")


def clm_since_month() -> str:
    return "cast('2024-02-01' as date)"


def clm_changed_customers(column: str) -> str:
    return f"{column} in (select customer_id from int_increments__changed_customers)"


def clm_changed_billing_customers(column: str) -> str:
    return f"{column} in (select billing_customer_id from int_increments__changed_customers)"


def clm_changed_or_since(customer_column: str, month_column: str) -> str:
    return f"({clm_changed_customers(customer_column)} or {month_column} >= cast('2024-02-01' as date))"


def clm_delete_changed_customers(customer_column: str, month_column: str | None = None) -> str:
    return f"delete from this where {clm_changed_customers(customer_column)}"


def clm_delete_changed_billing_customers(column: str) -> str:
    return f"delete from this where {clm_changed_billing_customers(column)}"


def clm_run_started_at() -> str:
    return "cast('2024-03-31 06:00:00.000000' as timestamp)"


def clm_changed_lifecycle_customers(column: str) -> str:
    return (
        f"{column} in (select customer_id from int_increments__lifecycle_customers "
        f"where changed_in_run = {clm_run_started_at()})"
    )


def clm_delete_changed_lifecycle_customers(column: str) -> str:
    return f"delete from this where {clm_changed_lifecycle_customers(column)}"


def clm_forget_gone_customers() -> str:
    return "delete from this where fingerprint is null"


def clm_rows_fingerprint(columns: list[str]) -> str:
    return f"cast(sum(hash({', '.join(columns)})) as varchar)"


def clm_first_unpaid_invoices(invoices: str) -> str:
    return f"select * from {invoices}"


def clm_revenue_policy(name: str) -> object:
    # the defaults of dbt_project.yml
    return {"revenue_churn_recognition": "period_end", "revenue_free_subscriptions": "churned"}.get(name)


def clm_report_dimensions() -> list[str]:
    return ["segment", "acquisition_channel"]


def clm_dimension_rows(relation: str, columns: list[str], dimensions: dict[str, str]) -> str:
    return f"select {', '.join(columns)}, 'all' as dimension, 'all' as dimension_value from {relation}"


def clm_cohort_cuts(relation: str, columns: list[str], attributes: list[str]) -> str:
    return clm_dimension_rows(relation, columns, {a: a for a in attributes})


def clm_dimension_names(dimensions: list[str]) -> str:
    return "select 'all' as dimension"


def clm_lifecycle_health_signals() -> list[str]:
    return ["failed_payment", "past_due", "cancel_at_period_end", "contraction", "nps_detractor"]


def clm_lifecycle_advocacy_signals() -> list[str]:
    return ["nps_promoter", "paying_referral"]


def clm_lifecycle_signals() -> list[str]:
    first = ["seen", "trial", "paid", "paying"]
    return [*first, *clm_lifecycle_advocacy_signals(), *clm_lifecycle_health_signals()]


def clm_lifecycle_funnel(customer_dimensions_cte: str) -> str:
    # CTEs ending in `funnel`; like the real one, it reads the model's CTEs spells and stages
    return (
        "funnel as (\n\n    select stages.stage, spells.customer_id, dims.dimension\n"
        f"    from {customer_dimensions_cte} as dims\n"
        "    inner join spells\n        on spells.customer_id = dims.customer_id\n"
        "    cross join stages\n\n)\n"
    )
