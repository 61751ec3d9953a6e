"""clm.clv.store: the CLV inputs read from, and the fitted results written to, the build warehouse.

DuckDB on temp files; Postgres (marked `postgres`) in a scratch database of the server of
tests/postgres_server.py, skipped when it is unreachable unless CLM_REQUIRE_POSTGRES is set.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import psycopg2
import pytest

from clm.clv import pipeline, simulate, store
from clm.clv.bgnbd import BgnbdParams
from clm.clv.gamma_gamma import GammaGammaParams
from clm.clv.sbg import SbgParams
from tests.postgres_server import scratch_database

FITTED_AT = datetime(2024, 6, 30, 12, 30, 15, 123456)
PREDICTION_NAMES = [name for name, _ in pipeline.PREDICTION_COLUMNS]
PARAMETER_NAMES = [name for name, _ in pipeline.PARAMETER_COLUMNS]

# Doubles that a decimal text of fewer than 17 significant digits would not give back exactly.
THIRD = 1 / 3
SUM = 0.1 + 0.2  # 0.30000000000000004
PI = math.pi * 1e10
TINY = 2.2250738585072014e-308  # the smallest normal double
HUGE = -1.7976931348623157e308


def predictions_frame() -> pd.DataFrame:
    """Shaped like pipeline.run's output: the outer merge leaves integers as float64 with NaN and the
    subscription flag as object True / False / NaN; a subscriber, a churned one, a buyer-only customer."""
    return pd.DataFrame(
        {
            "customer_id": ["c_sub", "c_churned", "c_buyer"],
            "sbg_segment": ["billing_period:month", None, None],
            "period_months": [1.0, 12.0, np.nan],
            "renewals": [7.0, 0.0, np.nan],
            "is_subscription_alive": pd.Series([True, False, np.nan], dtype=object),
            "expected_renewals_12m": [THIRD, 0.0, np.nan],
            "discounted_expected_residual_lifetime": [PI, 0.0, np.nan],
            "bg_nbd_segment": [None, None, "all"],
            "p_alive_purchases": [np.nan, np.nan, SUM],
            "expected_purchases_12m": [np.nan, np.nan, TINY],
            "expected_spend_per_purchase": [np.nan, np.nan, 123.45678901234567],
        }
    )[PREDICTION_NAMES]


def parameters_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("sbg", "billing_period:month", "alpha", 0.7041, 0.05, -1680.3, 1000, "month", True, FITTED_AT),
            ("sbg", "billing_period:month", "beta", 1.1823, np.nan, -1680.3, 1000, "month", True, FITTED_AT),
            ("gamma_gamma", "all", "gamma", HUGE, 1 / 7, -1e-300, 3, "reporting_currency", False, FITTED_AT),
        ],
        columns=PARAMETER_NAMES,
    )


def frames(predictions: pd.DataFrame | None = None, parameters: pd.DataFrame | None = None) -> dict:
    return {
        "customer_predictions": predictions_frame() if predictions is None else predictions,
        "model_parameters": parameters_frame() if parameters is None else parameters,
    }


EXPECTED_PREDICTIONS = [
    ("c_buyer", None, None, None, None, None, None, "all", SUM, TINY, 123.45678901234567),
    ("c_churned", None, 12, 0, False, 0.0, 0.0, None, None, None, None),
    ("c_sub", "billing_period:month", 1, 7, True, THIRD, PI, None, None, None, None),
]
EXPECTED_PARAMETERS = [
    ("gamma_gamma", "all", "gamma", HUGE, 1 / 7, -1e-300, 3, "reporting_currency", False, FITTED_AT),
    ("sbg", "billing_period:month", "alpha", 0.7041, 0.05, -1680.3, 1000, "month", True, FITTED_AT),
    ("sbg", "billing_period:month", "beta", 1.1823, None, -1680.3, 1000, "month", True, FITTED_AT),
]
EXPECTED_TYPES = {
    "customer_predictions": {
        "customer_id": "VARCHAR",
        "sbg_segment": "VARCHAR",
        "period_months": "INTEGER",
        "renewals": "INTEGER",
        "is_subscription_alive": "BOOLEAN",
        "expected_renewals_12m": "DOUBLE",
        "discounted_expected_residual_lifetime": "DOUBLE",
        "bg_nbd_segment": "VARCHAR",
        "p_alive_purchases": "DOUBLE",
        "expected_purchases_12m": "DOUBLE",
        "expected_spend_per_purchase": "DOUBLE",
    },
    "model_parameters": {
        "model": "VARCHAR",
        "segment": "VARCHAR",
        "parameter": "VARCHAR",
        "value": "DOUBLE",
        "standard_error": "DOUBLE",
        "log_likelihood": "DOUBLE",
        "n_customers": "INTEGER",
        "time_unit": "VARCHAR",
        "converged": "BOOLEAN",
        "fitted_at": "TIMESTAMP",
    },
}
# The dbt types of the two input models (int_clv__*.sql), as their tables hold them.
RENEWALS_DDL = (
    "customer_id varchar, segment varchar, subscription_id varchar, billing_interval varchar, "
    "interval_count integer, period_months integer, first_period_start date, paid_periods integer, "
    "renewals integer, is_alive boolean, current_mrr decimal(18, 2)"
)
RENEWALS_ROWS = [
    ("k2", "smb", "sub_2", "year", 1, 12, "2023-01-01", 2, 1, False, "0.00"),
    ("k1", "unknown", "sub_1", "month", 3, 3, "2024-01-01", 3, 2, True, "123.45"),
]
PURCHASES_DDL = (
    "customer_id varchar, segment varchar, frequency integer, recency_days integer, age_days integer, "
    "first_purchase_date date, last_purchase_date date, monetary_value decimal(18, 4)"
)
PURCHASES_ROWS = [
    ("k3", "smb", 0, 0, 40, "2024-05-21", "2024-05-21", None),
    ("k1", "unknown", 2, 30, 90, "2024-04-01", "2024-05-01", "12.3456"),
]


@cache
def simulated_result() -> pipeline.ClvResult:
    """A real pipeline.run output with every model fitted: 120 subscribers, 150 buyers (20 in both)."""
    rng = np.random.default_rng(11)
    n = 120
    sample = simulate.sbg(SbgParams(1.0, 3.0), n, rng.integers(1, 13, n), rng)
    renewals = pd.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(n)],
            "segment": "smb",
            "period_months": np.where(np.arange(n) < 80, 1, 12),
            "renewals": sample.renewals.astype("int64"),
            "is_alive": sample.alive,
            "current_mrr": 10.0,
        }
    )
    m = 150
    age = rng.integers(30, 400, m)
    buys = simulate.bgnbd(BgnbdParams(0.5, 30.0, 0.8, 3.0), m, age.astype(float), rng)
    spend = simulate.gamma_gamma(GammaGammaParams(6.0, 4.0, 150.0), buys.frequency, rng)
    purchases = pd.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(100, 100 + m)],
            "segment": "smb",
            "frequency": buys.frequency.astype("int64"),
            "recency_days": np.floor(buys.recency).astype("int64"),
            "age_days": age.astype("int64"),
            "monetary_value": np.where(buys.frequency > 0, spend, np.nan),
        }
    )
    return pipeline.run(renewals, purchases, FITTED_AT, pipeline.ClvSettings(min_customers=30))


def result_frames(result: pipeline.ClvResult) -> dict:
    return {"customer_predictions": result.predictions, "model_parameters": result.parameters}


def frame_rows(frame: pd.DataFrame, sort: list[str]) -> list[tuple]:
    """A frame's rows as a database returns them: NaN as None, integer columns as int."""
    integer = {
        name
        for name, sql_type in pipeline.PREDICTION_COLUMNS + pipeline.PARAMETER_COLUMNS
        if sql_type == "integer"
    }
    rows = []
    for record in frame.sort_values(sort).to_dict("records"):
        row = []
        for name, value in record.items():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                row.append(None)
            elif name in integer:
                row.append(int(value))
            elif isinstance(value, pd.Timestamp):
                row.append(value.to_pydatetime())
            elif isinstance(value, np.generic):
                row.append(value.item())
            else:
                row.append(value)
        rows.append(tuple(row))
    return rows


def assert_rows_equal(actual: list[tuple], expected: list[tuple]) -> None:
    """Exact equality, floats included (a NaN would fail: nulls must come back as None)."""
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert tuple(got) == want
        for value, wanted in zip(got, want, strict=True):
            assert type(value) is type(wanted) or wanted is None, (value, wanted)


# ----------------------------------------------------------------------------------------------- DuckDB


def write_duckdb(db: Path, outputs: dict[str, pd.DataFrame]) -> None:
    with duckdb.connect(str(db)) as con:
        store.write_duckdb(con, outputs)


def read_inputs_duckdb(db: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with duckdb.connect(str(db), read_only=True) as con:
        return store.read_inputs_duckdb(con)


def duck_rows(db: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"select * from clv.{table} order by 1, 2, 3").fetchall()


def test_write_duckdb_round_trip_types_nulls_booleans_timestamps(tmp_path: Path):
    db = tmp_path / "build.duckdb"
    write_duckdb(db, frames())

    with duckdb.connect(str(db), read_only=True) as con:
        for table, types in EXPECTED_TYPES.items():
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'clv' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            assert dict(columns) == types
            assert [name for name, _ in columns] == list(types)
    assert_rows_equal(duck_rows(db, "customer_predictions"), EXPECTED_PREDICTIONS)
    assert_rows_equal(duck_rows(db, "model_parameters"), EXPECTED_PARAMETERS)


def test_write_duckdb_replaces_earlier_rows(tmp_path: Path):
    db = tmp_path / "build.duckdb"
    write_duckdb(db, frames())
    later = parameters_frame().iloc[[0]].assign(value=9.5)
    write_duckdb(db, frames(predictions_frame().iloc[[2]], later))

    assert [row[0] for row in duck_rows(db, "customer_predictions")] == ["c_buyer"]
    assert [(row[2], row[3]) for row in duck_rows(db, "model_parameters")] == [("alpha", 9.5)]


def test_write_duckdb_keeps_other_schemas_and_ignores_extra_columns(tmp_path: Path):
    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.keep as select 1 as x")
    extra = predictions_frame().assign(scratch="not written")
    write_duckdb(db, frames(extra))
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select x from marts.keep").fetchall() == [(1,)]
        assert "scratch" not in {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns where table_schema = 'clv'"
            ).fetchall()
        }


def test_write_duckdb_is_one_transaction(tmp_path: Path):
    db = tmp_path / "build.duckdb"
    write_duckdb(db, frames())
    broken = parameters_frame().drop(columns="value")
    with pytest.raises(KeyError):
        write_duckdb(db, frames(predictions_frame().iloc[[0]], broken))
    # customer_predictions was replaced inside the failed transaction: rolled back with it.
    assert len(duck_rows(db, "customer_predictions")) == 3
    assert len(duck_rows(db, "model_parameters")) == 3


def test_write_duckdb_of_a_run_without_any_fit(tmp_path: Path):
    # Too few customers: the parameters frame is empty (object columns), predictions all null but known.
    renewals = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "segment": "smb",
            "period_months": [1, 12],
            "renewals": [3, 0],
            "is_alive": [True, False],
            "current_mrr": 10.0,
        }
    )
    purchases = pd.DataFrame(
        {
            "customer_id": ["c"],
            "segment": "smb",
            "frequency": [0],
            "recency_days": [0],
            "age_days": [5],
            "monetary_value": [np.nan],
        }
    )
    result = pipeline.run(renewals, purchases, FITTED_AT)
    db = tmp_path / "build.duckdb"
    write_duckdb(
        db, {"customer_predictions": result.predictions, "model_parameters": result.parameters}
    )
    assert duck_rows(db, "model_parameters") == []
    assert duck_rows(db, "customer_predictions") == [
        ("a", None, 1, 3, True, None, None, None, None, None, None),
        ("b", None, 12, 0, False, 0.0, 0.0, None, None, None, None),
        ("c", None, None, None, None, None, None, None, None, None, None),
    ]


def test_write_duckdb_of_a_fitted_run_keeps_every_value(tmp_path: Path):
    result = simulated_result()
    assert {"sbg", "bg_nbd", "gamma_gamma"} <= set(result.parameters["model"])
    db = tmp_path / "build.duckdb"
    write_duckdb(db, result_frames(result))
    assert duck_rows(db, "customer_predictions") == frame_rows(result.predictions, ["customer_id"])
    assert duck_rows(db, "model_parameters") == frame_rows(
        result.parameters, ["model", "segment", "parameter"]
    )


def make_duckdb_inputs(db: Path) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("create schema intermediate")
        con.execute(f"create table intermediate.int_clv__subscription_renewals ({RENEWALS_DDL})")
        con.executemany(
            "insert into intermediate.int_clv__subscription_renewals values (?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?)",
            RENEWALS_ROWS,
        )
        con.execute(f"create table intermediate.int_clv__purchase_histories ({PURCHASES_DDL})")
        con.executemany(
            "insert into intermediate.int_clv__purchase_histories values (?, ?, ?, ?, ?, ?, ?, ?)",
            PURCHASES_ROWS,
        )


def assert_inputs(renewals: pd.DataFrame, purchases: pd.DataFrame) -> None:
    """The frames pipeline.run expects: model columns only, ordered by customer_id, numpy dtypes."""
    assert list(renewals.columns) == [
        "customer_id",
        "segment",
        "period_months",
        "renewals",
        "is_alive",
        "current_mrr",
    ]
    assert renewals["customer_id"].tolist() == ["k1", "k2"]
    assert renewals["segment"].tolist() == ["unknown", "smb"]
    assert renewals["period_months"].tolist() == [3, 12]
    assert renewals["renewals"].dtype == np.int64 and renewals["renewals"].tolist() == [2, 1]
    assert renewals["is_alive"].dtype == np.bool_ and renewals["is_alive"].tolist() == [True, False]
    assert renewals["current_mrr"].dtype == np.float64 and renewals["current_mrr"].tolist() == [123.45, 0.0]

    assert list(purchases.columns) == [
        "customer_id",
        "segment",
        "frequency",
        "recency_days",
        "age_days",
        "monetary_value",
    ]
    assert purchases["customer_id"].tolist() == ["k1", "k3"]
    for column, values in (("frequency", [2, 0]), ("recency_days", [30, 0]), ("age_days", [90, 40])):
        assert purchases[column].dtype == np.int64 and purchases[column].tolist() == values
    assert purchases["monetary_value"].dtype == np.float64
    assert purchases["monetary_value"].iloc[0] == 12.3456 and np.isnan(purchases["monetary_value"].iloc[1])


def test_read_inputs_duckdb(tmp_path: Path):
    db = tmp_path / "build.duckdb"
    make_duckdb_inputs(db)
    renewals, purchases = read_inputs_duckdb(db)
    assert_inputs(renewals, purchases)
    # What it reads, the pipeline takes.
    result = pipeline.run(renewals, purchases, FITTED_AT)
    assert result.predictions["customer_id"].tolist() == ["k1", "k2", "k3"]


def test_read_inputs_duckdb_opens_the_file_read_only(tmp_path: Path):
    db = tmp_path / "build.duckdb"
    make_duckdb_inputs(db)
    before = db.stat().st_mtime_ns
    read_inputs_duckdb(db)
    assert db.stat().st_mtime_ns == before
    with pytest.raises(duckdb.Error):
        read_inputs_duckdb(tmp_path / "missing.duckdb")


def test_input_queries_name_the_build_schemas():
    duck = store.input_queries()
    pg = store.input_queries("build_")  # the Postgres target's prefix (clm.targets.postgres.BUILD_PREFIX)
    assert "from intermediate.int_clv__subscription_renewals" in duck[0]
    assert "from intermediate.int_clv__purchase_histories" in duck[1]
    assert "from build_intermediate.int_clv__subscription_renewals" in pg[0]
    assert "from build_intermediate.int_clv__purchase_histories" in pg[1]


# --------------------------------------------------------------------------------------------- Postgres


@pytest.fixture
def pg() -> Iterator:
    """A transactional (not autocommit) scratch-database connection, as clm.targets.postgres.connection()."""
    with scratch_database("clm_clv_store") as name:
        conn = psycopg2.connect(host=os.environ.get("PGHOST") or "127.0.0.1", dbname=name, connect_timeout=5)
        try:
            yield conn
        finally:
            conn.close()


def pg_rows(pg, table: str) -> list[tuple]:
    with pg.cursor() as cur:
        cur.execute(f"select * from build_clv.{table} order by 1, 2, 3")
        rows = cur.fetchall()
    pg.rollback()
    return rows


PG_TYPES = {
    "VARCHAR": "character varying",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "DOUBLE": "double precision",
    "TIMESTAMP": "timestamp without time zone",
}


@pytest.mark.postgres
def test_write_postgres_round_trip_is_exact(pg, tmp_path: Path):
    store.write_postgres(pg, frames(), "build_")

    with pg.cursor() as cur:
        for table, types in EXPECTED_TYPES.items():
            cur.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'build_clv' and table_name = %s order by ordinal_position",
                (table,),
            )
            assert cur.fetchall() == [(name, PG_TYPES[t]) for name, t in types.items()]
    pg.rollback()
    # Floats come back bit for bit (%.17g in the COPY CSV), nulls as nulls, booleans and timestamps typed.
    assert_rows_equal(pg_rows(pg, "customer_predictions"), EXPECTED_PREDICTIONS)
    assert_rows_equal(pg_rows(pg, "model_parameters"), EXPECTED_PARAMETERS)
    # The same rows as DuckDB.
    db = tmp_path / "build.duckdb"
    write_duckdb(db, frames())
    assert pg_rows(pg, "customer_predictions") == duck_rows(db, "customer_predictions")
    assert pg_rows(pg, "model_parameters") == duck_rows(db, "model_parameters")


@pytest.mark.postgres
def test_write_postgres_of_a_fitted_run_matches_duckdb(pg, tmp_path: Path):
    result = simulated_result()
    store.write_postgres(pg, result_frames(result), "build_")
    db = tmp_path / "build.duckdb"
    write_duckdb(db, result_frames(result))
    for table, sort in (
        ("customer_predictions", ["customer_id"]),
        ("model_parameters", ["model", "segment", "parameter"]),
    ):
        expected = frame_rows(result_frames(result)[table], sort)
        # Postgres sorts text by collation; compare as sorted Python tuples.
        assert sorted(pg_rows(pg, table), key=repr) == sorted(expected, key=repr)
        assert sorted(duck_rows(db, table), key=repr) == sorted(expected, key=repr)


@pytest.mark.postgres
def test_write_postgres_of_a_run_without_any_fit(pg):
    renewals = pd.DataFrame(
        {
            "customer_id": ["a"],
            "segment": "smb",
            "period_months": [1],
            "renewals": [0],
            "is_alive": [True],
            "current_mrr": 10.0,
        }
    )
    purchases = pd.DataFrame(
        {
            "customer_id": ["b"],
            "segment": "smb",
            "frequency": [0],
            "recency_days": [0],
            "age_days": [5],
            "monetary_value": [np.nan],
        }
    )
    result = pipeline.run(renewals, purchases, FITTED_AT)
    store.write_postgres(pg, result_frames(result), "build_")
    assert pg_rows(pg, "model_parameters") == []
    assert pg_rows(pg, "customer_predictions") == [
        ("a", None, 1, 0, True, None, None, None, None, None, None),
        ("b", None, None, None, None, None, None, None, None, None, None),
    ]


@pytest.mark.postgres
def test_write_postgres_replaces_earlier_rows_and_commits(pg):
    store.write_postgres(pg, frames(), "build_")
    later = parameters_frame().iloc[[0]].assign(value=9.5)
    store.write_postgres(pg, frames(predictions_frame().iloc[[2]], later), "build_")
    # Visible from another session: committed.
    other = psycopg2.connect(pg.dsn)
    try:
        assert [row[0] for row in pg_rows(other, "customer_predictions")] == ["c_buyer"]
        assert [(row[2], row[3]) for row in pg_rows(other, "model_parameters")] == [("alpha", 9.5)]
    finally:
        other.close()


@pytest.mark.postgres
def test_write_postgres_is_one_transaction(pg):
    store.write_postgres(pg, frames(), "build_")
    broken = parameters_frame().drop(columns="value")
    with pytest.raises(KeyError):
        store.write_postgres(pg, frames(predictions_frame().iloc[[0]], broken), "build_")
    pg.rollback()  # what clm.targets.postgres.connection() does with a failed block
    assert len(pg_rows(pg, "customer_predictions")) == 3
    assert len(pg_rows(pg, "model_parameters")) == 3


@pytest.mark.postgres
def test_write_postgres_text_with_csv_specials(pg):
    # Segment names come from the CRM: commas, quotes and newlines must survive the CSV.
    odd = parameters_frame().assign(segment=["segment:a,b", 'segment:"quoted"', "segment:multi\nline"])
    odd.loc[0, "time_unit"] = ""  # an empty text is not a null
    store.write_postgres(pg, frames(parameters=odd), "build_")
    rows = pg_rows(pg, "model_parameters")
    assert sorted(row[1] for row in rows) == sorted(odd["segment"])
    assert sorted(row[7] for row in rows) == ["", "month", "reporting_currency"]


@pytest.mark.postgres
def test_read_inputs_postgres_matches_duckdb(pg, tmp_path: Path):
    with pg.cursor() as cur:
        cur.execute("create schema build_intermediate")
        cur.execute(f"create table build_intermediate.int_clv__subscription_renewals ({RENEWALS_DDL})")
        cur.executemany(
            "insert into build_intermediate.int_clv__subscription_renewals values "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            RENEWALS_ROWS,
        )
        cur.execute(f"create table build_intermediate.int_clv__purchase_histories ({PURCHASES_DDL})")
        cur.executemany(
            "insert into build_intermediate.int_clv__purchase_histories values "
            "(%s, %s, %s, %s, %s, %s, %s, %s)",
            PURCHASES_ROWS,
        )
    pg.commit()

    renewals, purchases = store.read_inputs_postgres(pg, "build_")
    assert_inputs(renewals, purchases)
    db = tmp_path / "build.duckdb"
    make_duckdb_inputs(db)
    duck_renewals, duck_purchases = read_inputs_duckdb(db)
    pd.testing.assert_frame_equal(renewals, duck_renewals, check_dtype=False)
    pd.testing.assert_frame_equal(purchases, duck_purchases, check_dtype=False)
    # The fits see the same numbers on both targets.
    assert pipeline.run(renewals, purchases, FITTED_AT).predictions.equals(
        pipeline.run(duck_renewals, duck_purchases, FITTED_AT).predictions
    )
