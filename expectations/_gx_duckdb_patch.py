"""Workarounds for Great Expectations 1.x on DuckDB through SQLAlchemy (duckdb-engine 0.17, SQLAlchemy 2.1).

1. ``SqlAlchemyExecutionEngine.execute_query`` returns the live ``CursorResult`` after its ``with
   get_connection()`` block has closed the connection. duckdb-engine discards the pending rows on close, so
   every bundled metric comes back empty and every expectation fails with ``IndexError: list index out of
   range`` (GX issues 10738 and 11579). We fetch the rows inside the block (``CursorResult.freeze()``) and
   return a buffered ``Result`` with the same fetch API. Queries still run in DuckDB; only the (small)
   metric rows are buffered.
2. Column reflection fails on DuckDB under SQLAlchemy 2.1 (its PostgreSQL column query joins
   ``pg_catalog.pg_collation``, which DuckDB lacks). GX then falls back to ``SELECT * FROM <table> LIMIT 1``
   but drops the schema (only Redshift gets a qualified name), so any table outside ``main`` fails. We pass
   the schema-qualified, quoted name for the duckdb dialect.

Both halves act on the duckdb dialect only: other engines (Postgres, for ``clm run --target postgres``)
go through GX's own code unchanged. ``apply()`` is idempotent and ``remove()`` restores the originals.
Two tests in ``tests/gate/test_gx_duckdb_patch.py`` assert that each bug still exists upstream; when one of
them fails after an upgrade, delete the matching half here. When both are gone, delete this file, the
``apply()`` call in ``expectations/checkpoint.py`` and ``tests/gate/test_gx_duckdb_patch.py``.
"""

from __future__ import annotations

from typing import Any

from great_expectations.execution_engine import sqlalchemy_execution_engine as _engine_module
from great_expectations.expectations.metrics import util as _metrics_util

_Engine = _engine_module.SqlAlchemyExecutionEngine
_ORIGINAL_EXECUTE_QUERY = _Engine.execute_query
_ORIGINAL_REFLECTION_FALLBACK = _metrics_util.column_reflection_fallback


def _execute_query_buffered(self: Any, query: Any) -> Any:
    if self.engine.dialect.name != "duckdb":
        return _ORIGINAL_EXECUTE_QUERY(self, query)
    with self.get_connection() as connection:
        result = self._execute_query_with_recovery(connection, query)
        # Rows must be read before the connection closes; freeze() buffers them into a detached Result.
        return result.freeze()() if result.returns_rows else result


def _reflection_fallback_with_schema(
    selectable: Any, dialect: Any, sqlalchemy_engine: Any, schema_name: str | None = None
) -> Any:
    if dialect.name == "duckdb" and schema_name and isinstance(selectable, str):
        quote = dialect.identifier_preparer.quote
        selectable = f"{quote(schema_name)}.{quote(str(selectable))}"
    return _ORIGINAL_REFLECTION_FALLBACK(selectable, dialect, sqlalchemy_engine, schema_name)


def is_applied() -> bool:
    return _Engine.execute_query is _execute_query_buffered


def apply() -> None:
    """Install both workarounds; calling it again is a no-op."""
    _Engine.execute_query = _execute_query_buffered  # type: ignore[method-assign]
    _metrics_util.column_reflection_fallback = _reflection_fallback_with_schema


def remove() -> None:
    """Restore GX's own functions (used by the test that checks the bugs still exist upstream)."""
    _Engine.execute_query = _ORIGINAL_EXECUTE_QUERY  # type: ignore[method-assign]
    _metrics_util.column_reflection_fallback = _ORIGINAL_REFLECTION_FALLBACK


__all__ = ["apply", "is_applied", "remove"]
