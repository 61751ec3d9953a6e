"""rpt_cohort_retention on the hand-written raw fixture (raw_fixture.py), as of 2024-03-31.

The cell-by-cell arithmetic is pinned by the dbt unit tests beside the model
(marts/revenue/_cohort__unit_tests.yml). Here the built mart is checked against the built fct_mrr_movements,
recomputed independently in Python from the definitions of docs/marts.md#cohorts, and DuckDB against Postgres.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from tests.dbt.conftest import AS_OF, PG_SCHEMA_PREFIX

COLUMNS = (
    "dimension, dimension_value, cohort_month, months_since_start, cohort_customers, active_customers, "
    "logo_retention, starting_mrr, mrr, net_revenue_retention, gross_revenue_retention"
)
ORDER = "order by dimension, dimension_value, cohort_month, months_since_start"


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.000001"), ROUND_HALF_UP)


def expected_whole_base(movements: list[tuple]) -> list[tuple]:
    """The dimension = 'all' rows from (customer_id, month, mrr, movement) rows, by docs/marts.md#cohorts."""
    as_of_month = date.fromisoformat(AS_OF).replace(day=1)
    mrr_by_customer: dict[str, dict[date, Decimal]] = defaultdict(dict)
    cohort_of: dict[str, date] = {}
    for customer_id, month, mrr, movement in movements:
        mrr_by_customer[customer_id][month] = mrr
        if movement == "new":
            cohort_of[customer_id] = min(month, cohort_of.get(customer_id, month))
    cohorts: dict[date, list[str]] = defaultdict(list)
    for customer_id, cohort_month in cohort_of.items():
        cohorts[cohort_month].append(customer_id)
    rows = []
    for cohort_month, members in sorted(cohorts.items()):
        starting = {c: mrr_by_customer[c][cohort_month] for c in members}
        starting_mrr = sum(starting.values(), Decimal(0))
        for k in range(_months_between(cohort_month, as_of_month) + 1):
            month = date(
                cohort_month.year + (cohort_month.month - 1 + k) // 12,
                (cohort_month.month - 1 + k) % 12 + 1,
                1,
            )
            # no row in fct_mrr_movements: MRR 0
            mrr_at = {c: mrr_by_customer[c].get(month, Decimal(0)) for c in members}
            active = sum(1 for value in mrr_at.values() if value > 0)
            mrr = sum(mrr_at.values(), Decimal(0))
            capped = sum((min(mrr_at[c], starting[c]) for c in members), Decimal(0))
            rows.append(
                (
                    "all",
                    "all",
                    cohort_month,
                    k,
                    len(members),
                    active,
                    _ratio(Decimal(active), Decimal(len(members))),
                    starting_mrr,
                    mrr,
                    _ratio(mrr, starting_mrr),
                    _ratio(capped, starting_mrr),
                )
            )
    return rows


def _grain(row: tuple) -> tuple:
    return row[:4]


def test_whole_base_follows_the_definitions(duckdb_query):
    movements = duckdb_query("select customer_id, month, mrr, movement from marts.fct_mrr_movements")
    expected = expected_whole_base(movements)
    assert expected, "the fixture should give at least one cohort"
    rows = duckdb_query(
        f"select {COLUMNS} from marts.rpt_cohort_retention_by_dimension where dimension = 'all' {ORDER}"
    )
    assert rows == expected


def test_every_cut_splits_the_whole_base(duckdb_query):
    totals = duckdb_query(
        "select dimension, cohort_month, months_since_start, sum(cohort_customers), sum(active_customers), "
        "sum(starting_mrr), sum(mrr) from marts.rpt_cohort_retention_by_dimension "
        "group by dimension, cohort_month, months_since_start"
    )
    by_dimension: dict[str, set] = defaultdict(set)
    for dimension, *cell in totals:
        by_dimension[dimension].add(tuple(cell))
    assert set(by_dimension) == {"all", "segment", "acquisition_channel", "billing_interval"}
    for dimension, cells in by_dimension.items():
        assert cells == by_dimension["all"], dimension


def test_postgres_cohort_retention_identical(postgres_build, duckdb_query):
    run, query = postgres_build
    run.assert_ok()
    columns = f"{COLUMNS}, starting_mrr_at_current_rate, net_revenue_retention_constant_currency"
    rows = query(f"select {columns} from {PG_SCHEMA_PREFIX}marts.rpt_cohort_retention_by_dimension")
    expected = duckdb_query(f"select {columns} from marts.rpt_cohort_retention_by_dimension")
    # sorted here: text collation may differ between the engines
    assert sorted(rows, key=_grain) == sorted(expected, key=_grain)


def test_constant_currency_nrr_unit_tests_ran(duckdb_build):
    _, run = duckdb_build
    run.assert_ok()
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in run.results}
    assert statuses.get("test_cohort_cuts_constant_currency_nrr") == "pass"
    assert statuses.get("test_cohort_retention_is_the_whole_base") == "pass"
    assert statuses.get("test_int_customer_cohorts__starting_mrr_revalued") == "pass"


def test_constant_currency_nrr_on_a_single_currency_base(duckdb_query):
    """raw_fixture.py's only cohort customer with MRR (c2, February 2024) pays 4980 JPY in February only:
    starting 4980 x 0.006805 = 33.89; in March (churned) mrr 0, its starting lines at March's rate
    4980 x 0.00676167 = 33.6731166 -> 33.67, so constant-currency NRR = 0 / 33.67 = 0."""
    rows = duckdb_query(
        "select cohort_month, months_since_start, starting_mrr, mrr, starting_mrr_at_current_rate, "
        "net_revenue_retention_constant_currency from marts.rpt_cohort_retention order by 1, 2"
    )
    feb = date(2024, 2, 1)
    assert rows == [
        (feb, 0, Decimal("33.89"), Decimal("33.89"), Decimal("33.89"), Decimal("1.000000")),
        (feb, 1, Decimal("33.89"), Decimal("0.00"), Decimal("33.67"), Decimal("0.000000")),
    ]
