"""`clm run --target spark` end to end through a Spark Thrift server (issue 16, step 2), compared mart by mart
with `clm run` on DuckDB.

The module runs the fixture landing zone tests/fixtures/landing_small twice with `clm run` (subprocesses, as
a user runs it): on DuckDB, and with `--target spark` and no CLM_SPARK_HOST, so that clm starts its own
local Thrift server for the run and stops it at the end. It then starts one local Thrift server on the same
Spark catalog (clm.targets.spark_server.LocalThriftServer, as a BI reader's server would be) and reads the
published views marts.* and audit.* through it: every published mart holds the same rows as DuckDB's
serving file (money, DECIMAL, and dates exactly; floats within FLOAT_TOLERANCE).

It replaces issue 16's first-step module (a dbt build in an in-process Spark session, compared with DuckDB):
everything that module checked is checked here through the Thrift server (every model and test builds, as
the run publishes; every mart equals DuckDB's; money and dates come back typed; the PII hash has no key in
SQL), so CI starts Spark for one module only. The session method stays for a plain `dbt build --target
spark` by hand (profiles.yml).

Needs Java and the `spark` extra; skips without them, fails instead when CLM_REQUIRE_SPARK=1 (CI).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.environment import without_clm_settings

pytestmark = [pytest.mark.spark, pytest.mark.slow]

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


ROOT = Path(__file__).resolve().parents[2]
CLM = str(Path(sys.executable).with_name("clm"))
FIXTURE = ROOT / "tests" / "fixtures" / "landing_small"
PII_KEY = "test-key"


def _clm(*args: str, env: dict[str, str], timeout: int = 1500) -> subprocess.CompletedProcess:
    return subprocess.run([CLM, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def _java_processes(spark_dir: Path) -> list[int]:
    """JVMs whose command line names ``spark_dir`` (a Thrift server of this module)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if "java" in cmdline and str(spark_dir) in cmdline:
            found.append(proc.info["pid"])
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    _require_spark()
    from clm.targets.spark_server import LocalThriftServer

    tmp = tmp_path_factory.mktemp("spark_run")
    raw = tmp / "raw"
    shutil.copytree(FIXTURE, raw, ignore=shutil.ignore_patterns("README.md"))
    base = without_clm_settings() | {"CLM_RAW_DIR": str(raw), "CLM_PII_KEY": PII_KEY}
    duck_env = base | {"CLM_DATA_DIR": str(tmp / "duckdb")}
    duck = _clm("run", env=duck_env)
    assert duck.returncode == 0, duck.stdout + duck.stderr
    spark_env = base | {"CLM_DATA_DIR": str(tmp / "spark")}
    started = time.monotonic()
    spark = _clm("run", "--target", "spark", env=spark_env)
    spark_seconds = time.monotonic() - started
    spark_dir = tmp / "spark" / "spark"
    left = _java_processes(spark_dir)
    endpoint_left = (spark_dir / "thrift.endpoint").exists()  # before the reader's server writes its own
    reader = LocalThriftServer(spark_dir, port=None)
    if spark.returncode == 0:
        reader.start()
        print(
            f"clm run --target spark: {spark_seconds:.0f} s; reader server start {reader.start_seconds:.1f} s"
        )
    try:
        yield {
            "tmp": tmp,
            "duck": duck,
            "spark": spark,
            "serving": tmp / "duckdb" / "serving.duckdb",
            "spark_env": spark_env,
            "java_left": left,
            "endpoint_left": endpoint_left,
            "reader": reader,
        }
    finally:
        reader.stop()


def _spark_rows(runs: dict, sql: str) -> list[tuple]:
    from clm.targets.spark import fetch, thrift_connection

    assert runs["reader"].endpoint is not None, "the reader's Thrift server did not start"
    with thrift_connection(runs["reader"].endpoint) as conn:
        return fetch(conn.cursor(), sql)


def _duck_rows(runs: dict, sql: str) -> list[tuple]:
    with duckdb.connect(str(runs["serving"]), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_clm_run_on_spark_publishes(runs: dict) -> None:
    result = runs["spark"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PUBLISHED" in result.stdout
    assert "Spark databases marts and audit" in result.stdout


def test_the_local_thrift_server_is_stopped_with_the_run(runs: dict) -> None:
    assert runs["java_left"] == [], "clm run left its Spark Thrift server running"
    assert not runs["endpoint_left"]


def _published(runs: dict) -> list[str]:
    return [
        name
        for (name,) in _duck_rows(
            runs, "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        )
    ]


def test_the_same_marts_are_published(runs: dict) -> None:
    spark = sorted(name for _db, name, _tmp in _spark_rows(runs, "show tables in marts"))
    assert spark == _published(runs)


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, str(type(v)), str(round(v, 9) if isinstance(v, float) else v)) for v in row)


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
                # Decimal (money to the cent), date, datetime, str, int, bool: exactly, and of the same type
                assert type(a) is type(b) and a == b, (table, column, want, got)


def test_every_published_mart_holds_duckdbs_rows(runs: dict) -> None:
    marts = _published(runs)
    assert len(marts) >= 10
    for table in marts:
        duck = _duck_rows(runs, f"select * from marts.{table}")
        spark = _spark_rows(runs, f"select * from marts.{table}")
        _assert_rows_equal(table, duck, spark)


def test_money_and_dates_are_typed(runs: dict) -> None:
    ((mrr, month),) = _spark_rows(
        runs, "select ending_mrr, month from marts.rpt_mrr_bridge order by month desc limit 1"
    )
    assert isinstance(mrr, Decimal) and isinstance(month, date)


def test_the_published_audit_says_published(runs: dict) -> None:
    rows = _spark_rows(runs, "select status, target from audit.runs")
    assert ("published", "spark") in rows
    ((files,),) = _spark_rows(runs, "select count(*) from audit.load_manifest")
    assert files == 10


def test_a_rerun_with_nothing_new_is_unchanged_without_a_server(runs: dict) -> None:
    """Nothing new since the published run: recorded unchanged before any server would start."""
    again = _clm("run", "--target", "spark", env=runs["spark_env"], timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "UNCHANGED" in again.stdout


def test_the_pii_hash_has_no_key_in_sql_and_needs_the_session_pads(runs: dict) -> None:
    """dim_customers' email_hash equals DuckDB's (above), computed by sha2() from two session settings that
    clm gives dbt's Thrift sessions: the compiled SQL holds neither the key nor its pads, and a session
    without them (clm's own connections) refuses to hash instead of writing nulls."""
    from clm.pii import hmac_pads

    target_dir = runs["tmp"] / "spark" / "dbt_target"
    compiled = next(target_dir.rglob("compiled/**/dim_customers.sql")).read_text()
    assert "${clm.pii_inner_pad}" in compiled
    assert PII_KEY not in compiled and not any(pad in compiled for pad in hmac_pads(PII_KEY))
    with pytest.raises(Exception, match="clm.pii_inner_pad"):
        _spark_rows(runs, compiled)


def _publish_while_reading(runs: dict, query: str, message: str) -> tuple[set[tuple], dict[str, int]]:
    """Publish the build's marts again while a reader runs ``query`` over and over: every answer it saw, and
    the publish's row counts."""
    import threading

    from clm.config import load_settings
    from clm.targets.spark import SparkTarget, fetch, thrift_connection

    endpoint = runs["reader"].endpoint
    env = runs["spark_env"] | {"CLM_SPARK_HOST": endpoint.host, "CLM_SPARK_PORT": str(endpoint.port)}
    target = SparkTarget(load_settings(env))
    ((run_id,),) = _spark_rows(runs, "select run_id from audit.runs where status = 'published'")
    seen: set[tuple] = set()
    queries = [0]
    published = threading.Event()

    errors: list[BaseException] = []

    def read() -> None:
        # Reads until one query that started after the publish returned has answered: under load one query can
        # outlast the publish, and a reader stopped by a clock would then never see the new version. A failed
        # query is a failed test (a view that was missing for a moment), not an end of reading.
        try:
            with thrift_connection(endpoint) as conn:
                cur = conn.cursor()
                while True:
                    after = published.is_set()
                    seen.add(fetch(cur, query)[0])
                    queries[0] += 1
                    if after:
                        return
        except Exception as error:
            errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        while not queries[0] and reader.is_alive():  # the reader is answering before the publish starts
            time.sleep(0.1)
        counts = target.publish(_published(runs), run_id, message)
    finally:
        published.set()
        reader.join(timeout=300)
    assert not reader.is_alive(), "the reader's last query did not answer within 300 s"
    assert not errors, f"a reader's query failed during the publish: {errors[0]}"
    return seen, counts


def test_a_reader_never_sees_half_a_publish_nor_an_empty_changed_mart(runs: dict) -> None:
    """Publish again while a reader counts two published marts in one query, again and again. The build's
    rows of both marts are doubled, and one of them also gains a column (a code upgrade: its rows go to a
    new serving table, and its view changes before the pointer moves). Every answer is the old version of
    both marts or the new version of both: never a mix, and never the changed mart empty. Afterwards its
    view has the new column, null in every row. (Last in the module: it changes what is published.)

    One publish checks both properties: each Spark publish copies every mart, about a minute in CI."""
    both = "select (select count(*) from marts.dim_customers), (select count(*) from marts.rpt_mrr_bridge)"
    ((customers, months),) = _spark_rows(runs, both)
    assert customers > 0 and months > 0
    for table in ("dim_customers", "rpt_mrr_bridge"):
        _spark_rows(runs, f"insert into build_marts.{table} select * from build_marts.{table}")
    _spark_rows(runs, "alter table build_marts.rpt_mrr_bridge add columns (clm_test_extra int)")
    seen, counts = _publish_while_reading(runs, both, "published again by the reader test")
    assert counts["marts.dim_customers"] == 2 * customers
    assert counts["marts.rpt_mrr_bridge"] == 2 * months
    assert seen <= {(customers, months), (2 * customers, 2 * months)}, seen
    assert (customers, months) in seen and (2 * customers, 2 * months) in seen, seen
    after = "select count(*), count(clm_test_extra) from marts.rpt_mrr_bridge"
    assert _spark_rows(runs, after) == [(2 * months, 0)]


def _compiled_for_spark(runs: dict, tmp_path: Path, inline: str) -> str:
    """``inline`` (a select with clm's macros) compiled by dbt for the Spark target, as a model is."""
    from clm.config import load_settings
    from clm.targets.spark import SparkTarget

    endpoint = runs["reader"].endpoint
    env = runs["spark_env"] | {"CLM_SPARK_HOST": endpoint.host, "CLM_SPARK_PORT": str(endpoint.port)}
    dbt_env = env | SparkTarget(load_settings(env)).dbt_env() | {"CLM_TARGET": "spark"}
    dbt = str(Path(sys.executable).with_name("dbt"))
    compiled = subprocess.run(
        [dbt, "compile", "--quiet", "--target-path", str(tmp_path / "target"), "--inline", inline],
        env=dbt_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    return compiled.stdout.strip()


def test_money_products_are_exact_on_spark(runs: dict, tmp_path: Path) -> None:
    """A GBP 749.70 line at 1.334167 (seeds/fx_rates.csv, 2026-03) is exactly 1000.2249999 USD, so MRR
    1000.22. Spark cuts a product of more than 38 digits to 6 decimals (1000.225000, MRR 1000.23): a
    1,000,000-customer run on Spark had such cents in six marts. The Spark forms of clm_mrr_part's numerator
    and of clm_to_reporting_currency keep the product exact. Compiled by dbt for Spark, run on the server."""
    amount, rate = "cast(749.7 as decimal(38, 4))", "cast(1.334167 as decimal(38, 10))"
    inline = (
        f"select {{{{ clm_to_reporting_currency('{amount}', '{rate}') }}}} as reporting, "
        f"{{{{ clm_mrr_total(clm_mrr_part('{amount}', '1', '1', '{rate}')) }}}} as mrr"
    )
    compiled = _compiled_for_spark(runs, tmp_path, inline)
    assert _spark_rows(runs, compiled) == [(Decimal("1000.2249999000"), Decimal("1000.22"))]


def test_margin_products_are_exact_on_spark(runs: dict, tmp_path: Path) -> None:
    """The gross margin products of fct_customer_clv and rpt_clv_by_cohort_channel (clm_money_times_ratio)
    with a margin of 6 decimals, 0.654321. By hand: 45.95 x 0.654321 = 30.06604995 (4595 x 654321 =
    3006604995), and 30.06604995 / 1.00 at 4 decimals is 30.0660 (the 5th decimal is 4); 25.95 x 0.654321 =
    16.97962995.

    The old forms, run by hand on the server (pyspark 4.3.0, allowPrecisionLoss on):
    rpt_clv_by_cohort_channel's `sum(lifetime_revenue) * cast(0.654321 as decimal(10, 6))` is DECIMAL(28, 2)
    x (10, 6) = DECIMAL(38, 7) and gives 30.0660500, so its clv_cac_ratio over a cac of 1.00 came out 30.0661
    instead of 30.0660; a DECIMAL(38, 2) amount x the margin is DECIMAL(38, 6), 16.979630. fct_customer_clv's
    per-customer products were exact already (DECIMAL(18, 2) x (10, 6) = DECIMAL(29, 8), 16.97962995); the
    macro keeps them exact whatever the amount's type. Two customers of one group: revenue 20.00 + 25.95,
    cac 0.40 + 0.60."""
    margin = "cast(0.654321 as decimal(10, 6))"
    inline = (
        f"select {{{{ clm_money_times_ratio('sum(revenue)', '{margin}') }}}} as lifetime_margin, "
        f"{{{{ clm_exact_ratio(clm_money_times_ratio('sum(revenue)', '{margin}'), 'sum(cac)', 4) }}}} "
        "as clv_cac_ratio, "
        f"{{{{ clm_money_times_ratio('max(cast(revenue as decimal(38, 2)))', '{margin}') }}}} as wide_margin "
        "from (select cast(r as decimal(18, 2)) as revenue, cast(c as decimal(18, 2)) as cac "
        "from values (20.00, 0.40), (25.95, 0.60) as t(r, c))"
    )
    compiled = _compiled_for_spark(runs, tmp_path, inline)
    assert _spark_rows(runs, compiled) == [
        (Decimal("30.06604995"), Decimal("30.0660"), Decimal("16.97962995"))
    ]
