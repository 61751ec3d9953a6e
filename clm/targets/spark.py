"""Spark (issue 16), first step: dbt builds every model on Spark from a copy of the DuckDB raw layer.

Not yet a ``Target``: ingestion, the CLV fits, the gate and publishing on Spark come in later steps. What is
here:
- ``session``: the in-process Spark that profiles.yml's ``spark`` output (method session) also starts, with
  the same settings, its table catalog (Derby metastore) and files under one directory instead of the
  working directory;
- ``load_raw_from_duckdb``: the interim raw loader, the raw tables of a DuckDB build file copied to Spark;
- the PII hash needs no session function: macro spark__clm_pii_hash computes HMAC-SHA256 with sha2() from
  two session settings (clm.pii.spark_pad_env, profiles.yml), so it works through a Thrift server too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # pyspark is the optional extra `spark`, and slow to import
    from pyspark.sql import SparkSession

RAW_SCHEMA = "raw"


def session_settings(spark_dir: Path) -> dict[str, str]:
    """Spark settings of profiles.yml's spark output (server_side_parameters) for the catalog in
    ``spark_dir``; kept equal to it so that dbt's session and this one are the same session."""
    return {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir}",
        "spark.ui.enabled": "false",
        # dbt-spark sets it so on every connection: division by zero and overflows give null, not an error.
        "spark.sql.ansi.enabled": "false",
    }


def session(spark_dir: Path, master: str = "local[2]") -> SparkSession:
    """The process's Spark session with the catalog in ``spark_dir`` (created if missing). dbt run in the
    same process (dbtRunner, profile method session) then builds in this session: getOrCreate returns it."""
    from pyspark.sql import SparkSession

    spark_dir.mkdir(parents=True, exist_ok=True)
    # Python UDF workers run the interpreter of this process (its venv has clm).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName("clm").enableHiveSupport()
    # One shuffle partition per local core instead of 200: small builds are dominated by task overhead.
    builder = builder.config("spark.sql.shuffle.partitions", "2")
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    for key, value in session_settings(spark_dir).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _raw_tables(duck: duckdb.DuckDBPyConnection) -> list[str]:
    rows = duck.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1", [RAW_SCHEMA]
    ).fetchall()
    return [name for (name,) in rows]


def load_raw_from_duckdb(build_db: Path, spark: SparkSession, parquet_dir: Path) -> dict[str, int]:
    """Interim raw loader (issue 16, first step; Spark's own ingestion replaces it): every table of schema
    raw in the DuckDB build file ``build_db``, as `clm run` ingested it, exported as Parquet to
    ``parquet_dir`` and registered as the Spark table raw.<name> over that file (replacing any earlier one;
    the files must stay as long as the tables are read). Column types carry over through Parquet (VARCHAR ->
    string, DATE, BIGINT, TIMESTAMP -> timestamp_ntz). Returns the rows of each table as Spark counts them."""
    parquet_dir.mkdir(parents=True, exist_ok=True)
    spark.sql(f"create database if not exists {RAW_SCHEMA}")
    counts: dict[str, int] = {}
    with duckdb.connect(str(build_db), read_only=True) as duck:
        for table in _raw_tables(duck):
            path = parquet_dir / f"{table}.parquet"
            spark.sql(f"drop table if exists {RAW_SCHEMA}.{table}")
            duck.execute(f"copy {RAW_SCHEMA}.\"{table}\" to '{path}' (format parquet)")
            # An external table over the file: no copy, only the footer is read for the schema.
            spark.sql(f"create table {RAW_SCHEMA}.{table} using parquet location '{path}'")
            counts[table] = spark.table(f"{RAW_SCHEMA}.{table}").count()
    return counts
