"""Read the CLV model inputs from the build warehouse and write the fitted results back into it.

DuckDB: the build file (schemas `intermediate` and `clv`). Postgres: the build schemas of `clm run --target
postgres` (`build_intermediate`, `build_clv`). dbt reads the results as source('clv', ...), so they go
through the same contracts, tests, quality gate and atomic publish as every other mart.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import duckdb
import pandas as pd
import psycopg2.extensions

from clm.clv.pipeline import PARAMETER_COLUMNS, PREDICTION_COLUMNS

RENEWALS_MODEL = "int_clv__subscription_renewals"
PURCHASES_MODEL = "int_clv__purchase_histories"
OUTPUTS = {"customer_predictions": PREDICTION_COLUMNS, "model_parameters": PARAMETER_COLUMNS}


def input_queries(schema_prefix: str = "") -> tuple[str, str]:
    """The two input models, in the build's intermediate schema (``schema_prefix`` as dbt's var)."""
    schema = f"{schema_prefix}intermediate"
    return (
        f"select customer_id, segment, period_months, renewals, is_alive, current_mrr "
        f"from {schema}.{RENEWALS_MODEL} order by customer_id",
        f"select customer_id, segment, frequency, recency_days, age_days, monetary_value "
        f"from {schema}.{PURCHASES_MODEL} order by customer_id",
    )


def _typed_inputs(renewals: pd.DataFrame, purchases: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    renewals = renewals.astype({"renewals": "int64", "is_alive": "bool", "current_mrr": "float64"})
    purchases = purchases.astype({"frequency": "int64", "recency_days": "int64", "age_days": "int64"})
    purchases["monetary_value"] = purchases["monetary_value"].astype("float64")
    return renewals, purchases


def read_inputs_duckdb(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    renewals_sql, purchases_sql = input_queries()
    return _typed_inputs(con.sql(renewals_sql).df(), con.sql(purchases_sql).df())


def read_inputs_postgres(
    pg: psycopg2.extensions.connection, schema_prefix: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    frames = []
    for sql in input_queries(schema_prefix):
        with pg.cursor() as cur:
            cur.execute(sql)
            frames.append(pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description]))
    return _typed_inputs(*frames)


def _ddl(schema: str, table: str, columns: Sequence[tuple[str, str]]) -> str:
    body = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
    return f"create table {schema}.{table} ({body})"


def write_duckdb(con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]) -> None:
    """Replace clv.<table> for every output in one transaction."""
    con.execute("begin")
    try:
        con.execute("create schema if not exists clv")
        for table, columns in OUTPUTS.items():
            frame = frames[table][[name for name, _ in columns]]
            con.execute(f"drop table if exists clv.{table}")
            con.execute(_ddl("clv", table, columns))
            con.register("clv_frame", frame)
            con.execute(f"insert into clv.{table} select * from clv_frame")
            con.unregister("clv_frame")
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def write_postgres(
    pg: psycopg2.extensions.connection, frames: dict[str, pd.DataFrame], schema_prefix: str
) -> None:
    """Replace build_clv.<table> for every output in one transaction (COPY from CSV)."""
    schema = f"{schema_prefix}clv"
    with pg.cursor() as cur:
        cur.execute(f"create schema if not exists {schema}")
        for table, columns in OUTPUTS.items():
            frame = frames[table][[name for name, _ in columns]]
            cur.execute(f"drop table if exists {schema}.{table}")
            cur.execute(_ddl(schema, table, columns))
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False, header=False, na_rep="\\N", float_format="%.17g")
            buffer.seek(0)
            cur.copy_expert(f"copy {schema}.{table} from stdin with (format csv, null '\\N')", buffer)
    pg.commit()
