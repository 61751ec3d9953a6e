"""`dbt build` on Spark (method session, in-process) of the small fixture landing zone, compared row by row
with the DuckDB build of the same raw layer (issue 16, first step).

The landing zone tests/fixtures/landing_small is ingested once into a DuckDB file (clm.ingest, as `clm run`
does); the interim raw loader clm.targets.spark.load_raw_from_duckdb copies its raw tables to Spark. Both
engines then build every model and seed but the CLV phase (its tables come from the Python fits),
as of the fixture's newest drop, without the tests (SPARK_EXCLUDE). Every mart must hold the
same rows on both: money (DECIMAL) and dates exactly, floats within FLOAT_TOLERANCE.

Needs Java and the `spark` extra. Without them the module skips, unless CLM_REQUIRE_SPARK=1 (CI sets it): then
it fails, so that CI never passes without running it. One Spark session for the module (local[2]).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from clm.pii import SPARK_PAD_SETTINGS, hmac_pads, spark_pad_env
from tests.dbt.conftest import PII_KEY, Build, duckdb_reader, run_dbt

pytestmark = [pytest.mark.spark, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "landing_small"
# The fixture's newest drop (its README): the as-of date `clm run` would use.
AS_OF = "2024-03-02"
# Both builds leave out the CLV phase and every test: models and seeds only (66 of 332 nodes). The data and
# unit tests run on DuckDB and Postgres in tests/dbt; on Spark nearly all of their time is per-node overhead
# (7.6 min of a 10-min module under load), too much for CI's 30 minutes until the Spark path runs them in
# fewer nodes. The comparison of every mart with DuckDB's below is this module's check.
SPARK_EXCLUDE = ["--exclude", "source:clv+", "--resource-type", "model", "seed"]
# DOUBLE columns (rates, medians, model outputs) computed by two engines may differ in the last bits.
FLOAT_TOLERANCE = 1e-9


def _require_spark() -> None:
    """Skip (fail when CLM_REQUIRE_SPARK=1) without Java or pyspark."""
    missing = []
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing.append("java (Java 17) on PATH or JAVA_HOME")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing.append("pyspark (pip install -e '.[spark]')")
    if missing:
        message = "Spark tests need " + " and ".join(missing)
        if os.environ.get("CLM_REQUIRE_SPARK") == "1":
            pytest.fail(message + " (CLM_REQUIRE_SPARK=1)")
        pytest.skip(message)


def _ingest(workdir: Path) -> Path:
    from clm.ingest import ingest

    database = workdir / "build.duckdb"
    with duckdb.connect(str(database)) as con:
        result = ingest(con, FIXTURE, workdir / "quarantine", "spark-test")
    # 27 data rows in 10 files, none bad (tests/test_end_to_end.py, fixture README)
    assert sum(f.rows_loaded for f in result.files) == 27
    return database


def _run_dbt_in_process(workdir: Path, env: dict[str, str]) -> tuple[bool, list[tuple[str, str]], float]:
    """`dbt build` in this process (dbtRunner), so that dbt-spark's session method finds this process's
    Spark session; returns success, (unique_id, status) of every node, and the wall time."""
    from dbt.cli.main import dbtRunner

    args = [
        "build",
        *SPARK_EXCLUDE,
        "--project-dir", str(REPO),
        "--profiles-dir", str(REPO),
        "--target-path", str(workdir / "target"),
        "--log-path", str(workdir / "logs"),
        "--threads", "2",
        "--vars", json.dumps({"as_of": AS_OF}),
    ]  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        started = time.monotonic()
        result = dbtRunner().invoke(args)
        elapsed = time.monotonic() - started
    statuses = [(r.node.unique_id, str(r.status)) for r in (result.result or [])]
    return result.success, statuses, elapsed


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    _require_spark()
    from clm.targets import spark as spark_target

    workdir = tmp_path_factory.mktemp("spark_build")
    database = _ingest(workdir)
    spark_dir = workdir / "spark"
    started = time.monotonic()
    spark = spark_target.session(spark_dir)
    spark.sparkContext.setLogLevel("ERROR")
    loaded = spark_target.load_raw_from_duckdb(database, spark, workdir / "raw_parquet")
    load_seconds = time.monotonic() - started
    # The DuckDB build, on the same raw layer (after the export: dbt then writes the file)
    duck_env = {"CLM_BUILD_DB": str(database), "CLM_TARGET": "duckdb"}
    (workdir / "duckdb").mkdir()
    duck_run = run_dbt(["build", *SPARK_EXCLUDE], workdir / "duckdb", duck_env, as_of=AS_OF)
    duck = Build("duckdb", duck_run, duckdb_reader(database), duck_env, database)
    # The PII hash's HMAC pads reach Spark as session settings (profiles.yml), as clm passes them.
    spark_env = {"CLM_TARGET": "spark", "CLM_SPARK_DIR": str(spark_dir)} | spark_pad_env(PII_KEY)
    ok, statuses, build_seconds = _run_dbt_in_process(workdir / "spark_dbt", spark_env)
    print(f"Spark: start + raw load {load_seconds:.0f} s, dbt build {build_seconds:.0f} s")
    compiled = workdir / "spark_dbt" / "target" / "compiled"
    yield {
        "spark": spark,
        "duckdb": duck,
        "ok": ok,
        "statuses": statuses,
        "loaded": loaded,
        "compiled": compiled,
    }
    spark.stop()


def _duckdb_marts(build: Build) -> list[str]:
    rows = build.query(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
    )
    return [name for (name,) in rows]


def test_raw_layer_is_copied_whole(builds: dict) -> None:
    # The fixture's rows per raw table (its README): contacts 4 + 1 update, 2 deals, 3 spend days, 2 NPS,
    # 3 billing customers, 3 subscriptions (3 items), 4 invoices (4 lines), 3 charges, 2 tickets.
    assert builds["loaded"] == {
        "billing__charges": 3,
        "billing__customers": 3,
        "billing__invoice_lines": 4,
        "billing__invoices": 4,
        "billing__subscription_items": 3,
        "billing__subscriptions": 3,
        "crm__contacts": 5,
        "crm__deals": 2,
        "crm__marketing_spend": 3,
        "crm__nps_responses": 2,
        "support__tickets": 2,
    }


def test_every_node_builds_on_spark(builds: dict) -> None:
    builds["duckdb"].run.assert_nothing_failed(bad=("error", "fail"))
    bad = [(node, status) for node, status in builds["statuses"] if status in ("error", "fail", "skipped")]
    assert not bad, bad
    assert builds["ok"]


def _normal(value: object) -> object:
    """A value as both engines' rows are compared: floats rounded to the tolerance's digits."""
    if isinstance(value, float):
        return round(value, 9)
    return value


def _sort_key(row: tuple) -> tuple:
    return tuple((value is None, str(type(value)), str(_normal(value))) for value in row)


def _assert_rows_equal(table: str, expected: list[tuple], actual: list[tuple]) -> None:
    assert len(actual) == len(expected), f"{table}: {len(actual)} rows on Spark, {len(expected)} on DuckDB"
    for want, got in zip(sorted(expected, key=_sort_key), sorted(actual, key=_sort_key), strict=True):
        for column, (a, b) in enumerate(zip(want, got, strict=True)):
            if isinstance(a, float) or isinstance(b, float):
                assert (
                    a is not None
                    and b is not None
                    and math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
                ), (table, column, want, got)
            else:
                # Decimal, date, datetime, str, int, bool: exactly, and of the same Python type
                assert type(a) is type(b) and a == b, (table, column, want, got)


MARTS = [
    "dim_customers",
    "fct_lifecycle_stages",
    "fct_lifecycle_transitions",
    "fct_mrr_movements",
    "rpt_cohort_retention",
    "rpt_cohort_retention_by_dimension",
    "rpt_kpis_monthly",
    "rpt_lifecycle_funnel",
    "rpt_lifecycle_funnel_by_dimension",
    "rpt_mrr_bridge",
    "rpt_revenue_reconciliation",
]


def test_the_marts_compared_are_every_mart_built(builds: dict) -> None:
    assert _duckdb_marts(builds["duckdb"]) == MARTS


@pytest.mark.parametrize("table", MARTS)
def test_mart_rows_equal_duckdb(builds: dict, table: str) -> None:
    duck = builds["duckdb"].query(f"select * from marts.{table}")
    spark_rows = [tuple(row) for row in builds["spark"].sql(f"select * from marts.{table}").collect()]
    assert duck, f"{table} is empty on DuckDB: the comparison would prove nothing"
    _assert_rows_equal(table, duck, spark_rows)


def test_money_and_dates_come_back_typed(builds: dict) -> None:
    # The comparison above is exact only if Spark's rows carry Decimal and date, as DuckDB's do.
    sql = "select current_mrr, first_seen_at from marts.dim_customers limit 1"
    (row,) = builds["spark"].sql(sql).collect()
    assert isinstance(row[0], Decimal) and isinstance(row[1], datetime)
    (month,) = builds["spark"].sql("select month from marts.rpt_mrr_bridge limit 1").collect()[0]
    assert isinstance(month, date)


def test_the_pii_hash_needs_no_function_and_no_key_in_sql(builds: dict) -> None:
    """dim_customers' email_hash is the same hex as DuckDB's (test_mart_rows_equal_duckdb), computed by
    sha2() from two session settings: the compiled SQL holds neither the key nor its pads, and a session
    without the settings refuses to hash instead of writing nulls."""
    sql = next(builds["compiled"].rglob("dim_customers.sql")).read_text()
    assert "${clm.pii_inner_pad}" in sql
    assert PII_KEY not in sql and not any(pad in sql for pad in hmac_pads(PII_KEY))
    spark = builds["spark"]
    saved = {name: spark.conf.get(name) for name in SPARK_PAD_SETTINGS}
    for name in SPARK_PAD_SETTINGS:
        spark.conf.unset(name)
    try:
        with pytest.raises(Exception, match="the Spark session has no clm.pii_inner_pad"):
            spark.sql(sql).collect()
    finally:
        for name, value in saved.items():
            spark.conf.set(name, value)
