"""The Postgres target (`clm run --target postgres`).

Ingestion always lands in the DuckDB build database (one loader, one manifest, one quarantine). For Postgres:
1. ``mirror_raw`` copies the raw schema into Postgres with COPY (one transaction);
2. dbt builds into ``build_staging``, ``build_intermediate``, ``build_marts`` (var ``schema_prefix``);
3. the quality gate validates those schemas in Postgres;
4. ``publish_postgres`` replaces schemas ``marts`` and ``audit`` in one transaction: Postgres DDL is
   transactional, so a reader sees the old marts or the new ones, never a mix.
Connection settings come from libpq's PG* variables (CONTRACT 2).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg2
from psycopg2 import sql

BUILD_PREFIX = "build_"
PUBLISHED_SCHEMAS = ("marts", "audit")

_PG_TYPES = {
    "VARCHAR": "text",
    "DATE": "date",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "DOUBLE": "double precision",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


@contextlib.contextmanager
def connection() -> Iterator[psycopg2.extensions.connection]:
    """libpq defaults, except that an unset PGHOST means the local TCP server (as in profiles.yml)."""
    pg = psycopg2.connect(host=os.environ.get("PGHOST", "127.0.0.1"))
    try:
        yield pg
    finally:
        pg.close()


def mart_row_counts(pg: psycopg2.extensions.connection) -> list[tuple[str, int]]:
    with pg.cursor() as cur:
        cur.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        )
        tables = [r[0] for r in cur.fetchall()]
        counts = []
        for table in tables:
            cur.execute(sql.SQL("select count(*) from {}").format(sql.Identifier("marts", table)))
            counts.append((table, cur.fetchone()[0]))
    return counts


def pii_pgoptions(key: str) -> str:
    """PGOPTIONS that expose the PII key to SQL as current_setting('clm.pii_key') for one session."""
    escaped = key.replace("\\", "\\\\").replace(" ", "\\ ")
    return f"-c clm.pii_key={escaped}"


def ensure_pgcrypto(pg: psycopg2.extensions.connection) -> None:
    with pg, pg.cursor() as cur:
        cur.execute("create extension if not exists pgcrypto")


def _pg_type(duck_type: str) -> str:
    if duck_type.startswith("DECIMAL"):
        return duck_type.lower().replace("decimal", "numeric")
    return _PG_TYPES.get(duck_type, "text")


def _copy_table(
    duck: duckdb.DuckDBPyConnection,
    cur: psycopg2.extensions.cursor,
    src_schema: str,
    table: str,
    dst_schema: str,
    workdir: Path,
) -> int:
    columns = duck.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [src_schema, table],
    ).fetchall()
    target = sql.Identifier(dst_schema, table)
    cur.execute(sql.SQL("drop table if exists {}").format(target))
    cur.execute(
        sql.SQL("create table {} ({})").format(
            target,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(_pg_type(kind)))
                for name, kind in columns
            ),
        )
    )
    # DuckDB writes NULL unquoted and empty strings as "", which Postgres' CSV COPY reads back the same way.
    path = workdir / f"{src_schema}.{table}.csv"
    duck.execute(f'copy (select * from "{src_schema}"."{table}") to \'{path}\' (format csv, header false)')
    with path.open() as data:
        cur.copy_expert(sql.SQL("copy {} from stdin with (format csv)").format(target), data)
    path.unlink()
    return cur.rowcount


def _tables(duck: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = duck.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
    ).fetchall()
    return [r[0] for r in rows]


def copy_schema(duck: duckdb.DuckDBPyConnection, pg: psycopg2.extensions.connection, schema: str) -> dict:
    """Replace Postgres schema ``schema`` with the DuckDB one of the same name, in one transaction."""
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp, pg, pg.cursor() as cur:
        cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        for table in _tables(duck, schema):
            counts[table] = _copy_table(duck, cur, schema, table, schema, Path(tmp))
    return counts


def mirror_raw(build_db: Path, pg: psycopg2.extensions.connection) -> dict[str, int]:
    with duckdb.connect(str(build_db), read_only=True) as duck:
        return copy_schema(duck, pg, "raw")


def publish_postgres(build_db: Path, pg: psycopg2.extensions.connection) -> dict[str, int]:
    """Swap in ``marts`` (from ``build_marts``) and ``audit`` (from the DuckDB build file) atomically."""
    counts: dict[str, int] = {}
    with (
        duckdb.connect(str(build_db), read_only=True) as duck,
        tempfile.TemporaryDirectory() as tmp,
        pg,
        pg.cursor() as cur,
    ):
        cur.execute("drop schema if exists marts cascade")
        cur.execute("create schema marts")
        cur.execute(
            "select table_name from information_schema.tables "
            "where table_schema = %s and table_type = 'BASE TABLE' order by 1",
            (BUILD_PREFIX + "marts",),
        )
        for (table,) in cur.fetchall():
            cur.execute(
                sql.SQL("create table {} as table {}").format(
                    sql.Identifier("marts", table), sql.Identifier(BUILD_PREFIX + "marts", table)
                )
            )
            counts[f"marts.{table}"] = cur.rowcount
        cur.execute("drop schema if exists audit cascade")
        cur.execute("create schema audit")
        for table in _tables(duck, "audit"):
            counts[f"audit.{table}"] = _copy_table(duck, cur, "audit", table, "audit", Path(tmp))
    return counts
