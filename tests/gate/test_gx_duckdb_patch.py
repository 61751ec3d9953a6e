"""The GX-on-DuckDB workaround: expectation results are right with it, and both bugs still exist upstream."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import pytest
import sqlalchemy as sa
from great_expectations.datasource.fluent.interfaces import Batch
from great_expectations.execution_engine import SqlAlchemyExecutionEngine

from expectations import _gx_duckdb_patch

# 2 of 5 amounts are null; ids are unique; 10 and 5 exceed 4.
ROWS = "select * from (values (1, 10), (2, null), (3, 5), (4, null), (5, 0)) v(id, amount)"


def make_batch(tmp_path: Path, schema: str) -> Iterator[Batch]:
    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create table {schema}.t as {ROWS}")
    datasource = gx.get_context(mode="ephemeral").data_sources.add_sql(
        name="build", connection_string=f"duckdb:///{db}", kwargs={"connect_args": {"read_only": True}}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # schema_name, see expectations/checkpoint.py
        asset = datasource.add_table_asset(name="t", table_name="t", schema_name=schema)
    yield asset.add_batch_definition_whole_table("all").get_batch()
    datasource.get_execution_engine().engine.dispose()
    datasource.get_engine().dispose()


@pytest.fixture
def marts_batch(tmp_path: Path) -> Iterator[Batch]:
    # Outside the main schema, as every staged and mart table is.
    yield from make_batch(tmp_path, "marts")


@pytest.fixture
def main_batch(tmp_path: Path) -> Iterator[Batch]:
    yield from make_batch(tmp_path, "main")


def test_apply_is_idempotent():
    _gx_duckdb_patch.apply()
    patched = SqlAlchemyExecutionEngine.execute_query
    _gx_duckdb_patch.apply()
    assert _gx_duckdb_patch.is_applied()
    assert SqlAlchemyExecutionEngine.execute_query is patched


def test_expectation_results_are_correct_with_the_patch(marts_batch: Batch):
    _gx_duckdb_patch.apply()

    nulls = marts_batch.validate(gxe.ExpectColumnValuesToNotBeNull(column="amount"))
    assert not nulls.success
    assert (nulls.result["element_count"], nulls.result["unexpected_count"]) == (5, 2)

    ids = marts_batch.validate(gxe.ExpectColumnValuesToBeUnique(column="id"))
    assert ids.success
    assert ids.result["unexpected_count"] == 0

    small = marts_batch.validate(gxe.ExpectColumnValuesToBeBetween(column="amount", max_value=4))
    assert small.result["unexpected_count"] == 2


def test_upstream_still_loses_rows_after_closing_the_connection(main_batch: Batch):
    """Fails once GX fetches inside execute_query (issues 10738, 11579): then drop that half of the patch."""
    _gx_duckdb_patch.remove()
    try:
        result = main_batch.validate(gxe.ExpectColumnValuesToNotBeNull(column="amount"))
    finally:
        _gx_duckdb_patch.apply()
    assert not result.success
    assert "list index out of range" in str(result.exception_info)


def test_upstream_column_reflection_still_fails_on_duckdb(tmp_path: Path):
    """Fails once duckdb-engine reflects columns under SQLAlchemy 2.1: then drop the fallback half."""
    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"create schema marts; create table marts.t as {ROWS}")
    engine = sa.create_engine(f"duckdb:///{db}")
    try:
        with pytest.raises(sa.exc.ProgrammingError, match="pg_collation"):
            sa.inspect(engine).get_columns("t", schema="marts")
    finally:
        engine.dispose()
