"""The dbt semantic layer (README "Semantic layer"): every metric of the semantic models
(dbt_project/models/marts/*/_*__semantic_models.yml), queried through MetricFlow on the dbt suite's fixture
build (raw_fixture.py, as of 2024-03-31), gives the numbers of the mart that defines it, month by month.

MetricFlow writes nothing but opens the DuckDB file read-write, so the queries run on a private copy of the
session build (duckdb_build). The copy also gets the CLV marts, which the session build leaves out (they
read what clm.clv's fits write between the two dbt phases of `clm run`): the fixture's handful of customers
is below clv_min_customers, so the CLV source tables are written here by hand (PREDICTIONS), and one
`dbt run --select source:clv+` builds the CLV marts and writes the semantic manifest MetricFlow reads. The
queries run in one process of their own (tests/dbt/metricflow_queries.py), on one MetricFlowEngine.

MetricFlow divides in floating point and does not round; the marts round the exact quotient once (half away
from zero). A ratio matches when it rounds to the mart's figure; sums match to the cent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from clm.clv import pipeline
from tests.dbt.conftest import AS_OF, PII_KEY, REPO, duckdb_reader, run_dbt

# The core KPIs of issue 17 and where each is defined.
KPI_METRICS = (
    "mrr",
    "customer_churn_rate",
    "revenue_churn_rate",
    "nrr",
    "arpu",
    "cac",
    "clv",
    "predicted_clv_12m",
)

# clv.customer_predictions by hand: every customer expects 2 one-off purchases of 12.50 in the next 12
# months and 1 renewal (at its current MRR, 0 for everyone on 2024-03-31), so predicted_clv_12m =
# (0 + 2 x 12.50) x gross_margin 1.0 = 25.00 for each (fct_customer_clv.sql).
PREDICTIONS = {
    "expected_purchases_12m": 2.0,
    "expected_spend_per_purchase": 12.5,
    "expected_renewals_12m": 1.0,
}

QUERIES = {
    "revenue": {
        "metrics": [
            "mrr",
            "arpu",
            "customer_churn_rate",
            "revenue_churn_rate",
            "active_customers",
            "starting_customers",
            "churned_customers",
        ],
        "group_by": ["metric_time__month"],
    },
    "revenue_by_quarter": {"metrics": ["mrr", "starting_customers"], "group_by": ["metric_time__quarter"]},
    "mrr_by_segment": {"metrics": ["mrr"], "group_by": ["metric_time__month", "customer__segment"]},
    "cac": {"metrics": ["cac", "marketing_spend", "customers_acquired"], "group_by": ["metric_time__month"]},
    "nrr": {"metrics": ["nrr"], "group_by": ["metric_time__month", "cohort__months_since_start"]},
    "clv": {"metrics": ["clv", "predicted_clv_12m"], "group_by": ["metric_time__month"]},
    "clv_by_channel": {
        "metrics": ["clv", "predicted_clv_12m"],
        "group_by": ["metric_time__month", "clv_cohort__acquisition_channel"],
    },
}


def write_clv_sources(database: Path) -> None:
    """clv.customer_predictions (PREDICTIONS for every customer) and an empty clv.model_parameters, with the
    columns clm.clv writes (pipeline.PREDICTION_COLUMNS, PARAMETER_COLUMNS)."""

    def ddl(table: str, columns: tuple[tuple[str, str], ...]) -> str:
        return f"create or replace table clv.{table} ({', '.join(f'{n} {t}' for n, t in columns)})"

    conn = duckdb.connect(str(database))
    try:
        conn.execute("create schema if not exists clv")
        conn.execute(ddl("customer_predictions", pipeline.PREDICTION_COLUMNS))
        conn.execute(ddl("model_parameters", pipeline.PARAMETER_COLUMNS))
        names = ", ".join(PREDICTIONS)
        values = ", ".join(str(v) for v in PREDICTIONS.values())
        conn.execute(
            f"insert into clv.customer_predictions (customer_id, {names}) "
            f"select customer_id, {values} from marts.dim_customers"
        )
    finally:
        conn.close()


@pytest.fixture(scope="module")
def semantic(duckdb_build, tmp_path_factory):
    """(answers of QUERIES by name, a query function on the private copy, the semantic manifest)."""
    database, run = duckdb_build
    run.assert_ok()
    workdir = tmp_path_factory.mktemp("semantic_layer")
    copy = workdir / "build.duckdb"
    shutil.copyfile(database, copy)
    write_clv_sources(copy)
    env = {"CLM_BUILD_DB": str(copy), "CLM_TARGET": "duckdb"}
    clv = run_dbt(["run", "--select", "source:clv+"], workdir, env)
    clv.assert_nothing_failed()
    semantic_manifest = clv.target_path / "semantic_manifest.json"

    request = workdir / "metricflow_request.json"
    output = workdir / "metricflow_answers.json"
    request.write_text(
        json.dumps({"semantic_manifest": str(semantic_manifest), "queries": QUERIES, "output": str(output)})
    )
    inherited = {k: v for k, v in os.environ.items() if k != "CLM_AS_OF"}
    mf_env = inherited | env | {
        "CLM_AS_OF": AS_OF,
        "CLM_PII_KEY": PII_KEY,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # dbt debug (run by MetricFlow's set-up) logs here, not in the repo
        "DBT_LOG_PATH": str(workdir / "metricflow_logs"),
        "DBT_TARGET_PATH": str(workdir / "metricflow_target"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "tests.dbt.metricflow_queries", str(request)],
        cwd=REPO,
        env=mf_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return json.loads(output.read_text()), duckdb_reader(copy), json.loads(semantic_manifest.read_text())


# ------------------------------------------------------------------------------------------------ helpers


def by_key(answers: dict, name: str) -> dict[tuple, dict[str, str | None]]:
    """Query ``name``'s rows keyed by its group-by columns (a time as its date, YYYY-MM-DD), each row a dict
    of the other columns (the metrics) to their text."""
    answer = answers[name]
    keys = QUERIES[name]["group_by"]
    found = {}
    for row in answer["rows"]:
        values = dict(zip(answer["columns"], row, strict=True))
        key = tuple(values.pop(k)[:10] if k.startswith("metric_time") else values.pop(k) for k in keys)
        assert key not in found, (key, answer["sql"])
        found[key] = values
    return found


def described(node: dict) -> bool:
    return bool((node.get("description") or "").strip())


def month(value: date) -> str:
    return value.isoformat()


def rounds_to(actual: str | None, expected: Decimal | None, places: int) -> bool:
    """MetricFlow's unrounded figure rounds (half away from zero) to the mart's, rounded to ``places``."""
    if expected is None or actual is None:
        return expected is None and actual is None
    return abs(Decimal(actual) - expected) <= Decimal(5) / 10 ** (places + 1) + Decimal("1e-9")


def exact(actual: str | None, expected: Decimal | None) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    return Decimal(actual) == expected


def assert_by_month(found: dict, mart: dict, metric: str, matches, absent) -> None:
    """Every month of the mart: the metric's figure matches; a month MetricFlow has no row for (no row in
    the semantic model's table) must be ``absent`` in the mart (0 or null). No month beyond the mart's."""
    assert set(found) <= set(mart), (metric, sorted(found), sorted(mart))
    for key, expected in mart.items():
        if key in found:
            assert matches(found[key][metric], expected), (metric, key, found[key][metric], expected)
        else:
            assert expected in absent, (metric, key, "no row from MetricFlow", expected)


# ------------------------------------------------------------------------------------------------- tests


def test_every_kpi_metric_is_defined_valid_and_described(semantic):
    answers, _, manifest = semantic
    # MetricFlow's semantic validations (`mf validate-configs --skip-dw`): no error, future error or warning
    assert answers["validation_issues"] == []
    metrics = {m["name"]: m for m in manifest["metrics"]}
    assert set(KPI_METRICS) <= set(metrics)
    undescribed = [f"metric {name}" for name, m in metrics.items() if not described(m)]
    for model in manifest["semantic_models"]:
        if not described(model):
            undescribed.append(f"semantic model {model['name']}")
        for kind in ("entities", "dimensions", "measures"):
            undescribed += [
                f"{model['name']}.{item['name']}"
                for item in model[kind]
                if not described(item)
            ]
    assert not undescribed
    assert {m["name"] for m in manifest["semantic_models"]} == {
        "mrr_movements",
        "cohort_retention",
        "monthly_kpis",
        "customers",
        "clv_by_cohort_channel",
    }
    # The time spine MetricFlow joins: one row per day, 2000-01-01 through 2050-12-31.
    (spine,) = manifest["project_configuration"]["time_spines"]
    assert spine["node_relation"]["alias"] == "metricflow_time_spine"


def test_time_spine_rows(semantic):
    _, query, _ = semantic
    assert query("select count(*), min(date_day), max(date_day) from intermediate.metricflow_time_spine") == [
        (18628, date(2000, 1, 1), date(2050, 12, 31))
    ]


def test_mrr_arpu_and_customer_churn_rate_equal_rpt_kpis_monthly(semantic):
    answers, query, _ = semantic
    found = by_key(answers, "revenue")
    kpis = {
        month(row[0]): row[1:]
        for row in query(
            "select month, mrr, arpu, customer_churn_rate, paying_customers, paying_customers_previous_month,"
            " churned_customers from marts.rpt_kpis_monthly"
        )
    }

    def column(i: int) -> dict:
        return {(m,): values[i] for m, values in kpis.items()}

    zero = (Decimal("0.00"), 0)
    assert_by_month(found, column(0), "mrr", exact, zero)
    assert_by_month(found, column(1), "arpu", lambda a, e: rounds_to(a, e, 2), (None,))
    assert_by_month(found, column(2), "customer_churn_rate", lambda a, e: rounds_to(a, e, 4), (None,))
    counts = lambda a, e: exact(a, Decimal(e))  # noqa: E731
    assert_by_month(found, column(3), "active_customers", counts, zero)
    assert_by_month(found, column(4), "starting_customers", counts, zero)
    assert_by_month(found, column(5), "churned_customers", counts, zero)


def test_revenue_churn_rate_is_gross_mrr_churn_of_rpt_mrr_bridge(semantic):
    answers, query, _ = semantic
    found = by_key(answers, "revenue")
    bridge = {
        (month(m),): (churned + contraction) / (starting + fx) if starting + fx else None
        for m, churned, contraction, starting, fx in query(
            "select month, churned_mrr, contraction_mrr, starting_mrr, fx_impact_mrr"
            " from marts.rpt_mrr_bridge"
        )
    }
    assert_by_month(found, bridge, "revenue_churn_rate", lambda a, e: rounds_to(a, e, 10), (None,))


def test_cac_equals_rpt_kpis_monthly(semantic):
    answers, query, _ = semantic
    found = by_key(answers, "cac")
    kpis = {(month(m),): cac for m, cac in query("select month, cac from marts.rpt_kpis_monthly")}
    # Exact here: no month of the fixture has spend within half a cent of a rounding boundary (the metric's
    # description says when the two may differ by a cent).
    assert_by_month(found, kpis, "cac", lambda a, e: rounds_to(a, e, 2), (None,))


def test_nrr_equals_rpt_cohort_retention(semantic):
    answers, query, _ = semantic
    found = by_key(answers, "nrr")
    cohorts = {
        (month(m), str(k)): nrr
        for m, k, nrr in query(
            "select cohort_month, months_since_start, net_revenue_retention from marts.rpt_cohort_retention"
        )
    }
    assert cohorts
    assert_by_month(found, cohorts, "nrr", lambda a, e: rounds_to(a, e, 6), ())
    assert set(found) == set(cohorts)


def test_clv_metrics_equal_rpt_clv_by_cohort_channel(semantic):
    answers, query, _ = semantic
    rows = query(
        "select cohort_month, acquisition_channel, customers, historical_clv_net,"
        " historical_clv_net_per_customer, predicted_clv_12m from marts.rpt_clv_by_cohort_channel"
    )
    assert rows
    by_channel = by_key(answers, "clv_by_channel")
    clv = {(month(r[0]), r[1]): r[4] for r in rows}
    predicted = {(month(r[0]), r[1]): r[5] for r in rows}
    assert set(by_channel) == set(clv)
    assert_by_month(by_channel, clv, "clv", lambda a, e: rounds_to(a, e, 2), ())
    assert_by_month(by_channel, predicted, "predicted_clv_12m", exact, ())

    # by month: the ratio of the sums over the channels, as the mart says ("ratios are of the sums")
    by_month = by_key(answers, "clv")
    months = {(month(r[0]),) for r in rows}
    sums = {m: [sum(r[i] for r in rows if (month(r[0]),) == m) for i in (2, 3, 5)] for m in months}
    ratio_of_sums = {m: s[1] / s[0] for m, s in sums.items()}
    assert_by_month(by_month, ratio_of_sums, "clv", lambda a, e: rounds_to(a, e, 10), ())
    assert_by_month(by_month, {m: s[2] for m, s in sums.items()}, "predicted_clv_12m", exact, ())


def test_figures_computed_by_hand(semantic):
    answers, _, _ = semantic
    revenue = by_key(answers, "revenue")
    # tests/dbt/test_kpis.py's fixture story: only in_1 (c2, 4980 JPY a month, 2024-02-10 to 03-10) covers a
    # month end. February: 4980 x 0.006805 (seeds/fx_rates.csv, JPY 2024-02) = 33.8889 -> 33.89, one active
    # customer, ARPU 33.89. March: c2 churns; its February lines at March's rate 4980 x 0.00676167 = 33.67 are
    # both the churned MRR and the constant-currency base: revenue churn 33.67 / 33.67 = 1; logo churn 1 / 1.
    assert Decimal(revenue[("2024-02-01",)]["mrr"]) == Decimal("33.89")
    assert Decimal(revenue[("2024-02-01",)]["arpu"]) == Decimal("33.89")
    assert Decimal(revenue[("2024-03-01",)]["revenue_churn_rate"]) == 1
    assert Decimal(revenue[("2024-03-01",)]["customer_churn_rate"]) == 1
    # CAC: paid_search 100.50 GBP on 2024-02-15 x 1.265250 (GBP 2024-02) = 127.157625 -> 127.16 for the one
    # customer acquired in February (c2); March: no spend, 2 acquired -> 0.
    cac = by_key(answers, "cac")
    assert Decimal(cac[("2024-02-01",)]["cac"]) == Decimal("127.16")
    assert Decimal(cac[("2024-03-01",)]["cac"]) == 0
    # NRR of the February cohort (c2 alone): 33.89 / 33.89 = 1 in its first month, 0 / 33.89 = 0 in March.
    nrr = by_key(answers, "nrr")
    assert Decimal(nrr[("2024-02-01", "0")]["nrr"]) == 1
    assert Decimal(nrr[("2024-02-01", "1")]["nrr"]) == 0
    # Predicted CLV (PREDICTIONS): March's cohort is c1 (first payment 03-10) and cus_c (03-05), 2 x 25.00.
    clv = by_key(answers, "clv")
    assert Decimal(clv[("2024-03-01",)]["predicted_clv_12m"]) == Decimal("50.00")


def test_snapshots_take_the_period_end_not_a_sum(semantic):
    answers, _, _ = semantic
    # Q1 2024: MRR is March's 0.00 (c2 churned), not February + March = 33.89; the starting customers are
    # those of the quarter's first month with rows (February: nobody active at the end of January).
    quarter = by_key(answers, "revenue_by_quarter")
    assert {key: {k: Decimal(v) for k, v in row.items()} for key, row in quarter.items()} == {
        ("2024-01-01",): {"mrr": Decimal("0.00"), "starting_customers": 0}
    }


def test_metrics_slice_by_the_customer_entity(semantic):
    answers, query, _ = semantic
    found = by_key(answers, "mrr_by_segment")
    expected = {
        (month(m), segment): mrr
        for m, segment, mrr in query(
            "select movements.month, customers.segment, sum(movements.mrr)"
            " from marts.fct_mrr_movements as movements inner join marts.dim_customers as customers"
            " on customers.customer_id = movements.customer_id"
            " group by all"
        )
    }
    assert {key: Decimal(row["mrr"]) for key, row in found.items()} == expected
