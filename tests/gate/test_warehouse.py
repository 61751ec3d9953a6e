"""Where the gate validates: the DuckDB build file or the Postgres build schemas (no server needed here)."""

from __future__ import annotations

import getpass
from pathlib import Path

import duckdb
import great_expectations.expectations as gxe
import pytest
from great_expectations.expectations.metadata_types import FailureSeverity

from expectations.checkpoint import duckdb_warehouse, postgres_warehouse
from expectations.suites import DIALECTS, SUITES, matches, rows_where

CRITICAL = FailureSeverity.CRITICAL


def test_duckdb_warehouse_keeps_schema_names_and_opens_read_only(tmp_path: Path):
    warehouse = duckdb_warehouse(tmp_path / "build.duckdb")
    assert warehouse.dialect == "duckdb"
    assert warehouse.physical("marts") == "marts"
    assert warehouse.connect_args == {"read_only": True}


def test_duckdb_warehouse_engine_gets_the_duckdb_config(tmp_path: Path):
    db = tmp_path / "build.duckdb"
    duckdb.connect(str(db)).close()
    warehouse = duckdb_warehouse(db, config={"threads": "1"})
    assert warehouse.connect_args == {"read_only": True, "config": {"threads": "1"}}
    engine = warehouse.create_engine()
    try:
        for _ in range(2):  # every connection of the engine, not only the first
            with engine.connect() as connection:
                assert connection.exec_driver_sql("select current_setting('threads')").fetchall() == [(1,)]
    finally:
        engine.dispose()


def test_postgres_warehouse_from_pg_variables_without_the_password():
    env = {
        "PGHOST": "db.internal",
        "PGPORT": "6543",
        "PGUSER": "clm",
        "PGDATABASE": "warehouse",
        "PGPASSWORD": "s3cret-Pa55",
    }
    warehouse = postgres_warehouse(environ=env)

    assert warehouse.dialect == "postgresql"
    assert warehouse.url.drivername == "postgresql+psycopg2"
    assert (warehouse.url.host, warehouse.url.port) == ("db.internal", 6543)
    assert (warehouse.url.username, warehouse.url.database) == ("clm", "warehouse")
    # libpq reads PGPASSWORD itself: the secret is in no URL, config or description.
    assert warehouse.url.password is None
    assert "s3cret" not in warehouse.url.render_as_string(hide_password=False)
    assert "s3cret" not in repr(warehouse) + str(warehouse)
    assert {s: warehouse.physical(s) for s in ("staging", "intermediate", "marts")} == {
        "staging": "build_staging",
        "intermediate": "build_intermediate",
        "marts": "build_marts",
    }
    assert "default_transaction_read_only=on" in warehouse.connect_args["options"]


def test_postgres_warehouse_defaults_match_clm_postgres_connection():
    warehouse = postgres_warehouse("gt_x_", environ={})
    user = getpass.getuser()
    # Unset PGHOST is the local TCP server (clm.targets.postgres.connection, profiles.yml); libpq defaults.
    assert (warehouse.url.host, warehouse.url.port) == ("127.0.0.1", 5432)
    assert (warehouse.url.username, warehouse.url.database) == (user, user)
    assert warehouse.physical("marts") == "gt_x_marts"
    assert postgres_warehouse(database="test", environ={"PGDATABASE": "other"}).url.database == "test"


def test_postgres_warehouse_unix_socket_host():
    warehouse = postgres_warehouse(environ={"PGHOST": "/var/run/postgresql", "PGUSER": "u"})
    assert warehouse.url.host is None
    assert warehouse.url.query["host"] == "/var/run/postgresql"


def test_every_check_builds_on_every_dialect():
    for suite in SUITES:
        for check in suite.checks:
            for dialect in DIALECTS:
                assert check.make(1.0, CRITICAL, dialect) is not None, (suite.check_name(check), dialect)


def test_regex_check_has_a_form_per_dialect():
    check = matches("country", "[A-Z]{2}")
    duck = check.make(1.0, CRITICAL, "duckdb")
    pg = check.make(1.0, CRITICAL, "postgresql")
    assert isinstance(pg, gxe.UnexpectedRowsExpectation)
    assert "regexp_full_match(\"country\", '[A-Z]{{2}}')" in duck.unexpected_rows_query
    assert "\"country\" ~ '^([A-Z]{{2}})$'" in pg.unexpected_rows_query
    assert "regexp_full_match" not in pg.unexpected_rows_query


def test_sql_check_without_a_form_for_the_dialect_is_an_error():
    check = rows_where("x.only_duckdb", ("x",), {"duckdb": "x is null"})
    with pytest.raises(ValueError, match="no SQL for the postgresql dialect"):
        check.make(1.0, CRITICAL, "postgresql")
    # One condition for all dialects.
    neutral = rows_where("x.null", ("x",), "x is null").make(1.0, CRITICAL, "postgresql")
    assert "x is null" in neutral.unexpected_rows_query


def test_spark_forms_quote_names_with_backquotes_and_match_with_rlike():
    spark = matches("country", "[A-Z]{2}").make(1.0, CRITICAL, "hive")
    assert "select `country` from" in spark.unexpected_rows_query
    assert "`country` rlike '^([A-Z]{{2}})$'" in spark.unexpected_rows_query
    # Spark reads "x" as a string: no double-quoted name in any of its SQL checks
    for suite in SUITES:
        for check in suite.checks:
            made = check.make(1.0, CRITICAL, "hive")
            query = getattr(made, "unexpected_rows_query", None) or ""
            assert '"' not in query and "double precision" not in query, suite.check_name(check)


def test_spark_warehouse_maps_the_build_databases():
    from expectations.checkpoint import spark_warehouse

    warehouse = spark_warehouse(
        "127.0.0.1", 10001, "build_", {"set:hiveconf:spark.sql.session.timeZone": "UTC"}
    )
    assert warehouse.dialect == "hive"
    assert warehouse.physical("marts") == "build_marts" and warehouse.physical("raw") == "raw"
    assert warehouse.connect_args["configuration"]["set:hiveconf:spark.sql.session.timeZone"] == "UTC"
