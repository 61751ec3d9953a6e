"""The Postgres target (`clm run --target postgres`).

Ingestion always lands in the DuckDB build database (one loader, one manifest, one quarantine). For Postgres:
1. ``prepare_build`` mirrors the raw schema into Postgres with COPY (one transaction);
2. dbt builds into ``build_staging``, ``build_intermediate``, ``build_marts`` (var ``schema_prefix``);
3. the quality gate validates those schemas in Postgres;
4. publishing copies the declared marts and the audit tables into staging schemas outside any lock, then
   swaps them into ``marts`` and ``audit`` in one short transaction with a lock timeout (``pg_swap``):
   readers see the old tables or the new ones, BI views on the marts are recreated, grants are kept, and
   the read-only role (CLM_READER_ROLE) can read ``marts`` and ``audit`` and nothing else. The copies carry
   the table and column comments: the marts' dbt YAML descriptions (persist_docs) and ``clm.audit_docs``.
Connection settings come from libpq's PG* variables (docs/configuration.md#postgres-target).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import psycopg2
from psycopg2 import sql

from clm import audit_docs
from clm.clv import store
from clm.ingest.fx import RateMonths, postgres_rate_months
from clm.targets import PUBLISHED_AS_OF_SQL, PUBLISHED_RUNS_SQL, Target, pg_swap
from clm.warehouse import connect_build

BUILD_PREFIX = "build_"
PUBLISHED_SCHEMAS = ("marts", "audit")
# Where publish copies the new tables before the swap; left over only by a killed publish.
STAGE_PREFIX = "clm_stage_"
# How long one swap attempt waits for BI queries that hold the published tables. New queries queue behind
# the swap's lock request while it waits, so attempts are short and retried a few times.
LOCK_TIMEOUT_MS = 3_000
SWAP_ATTEMPTS = 3
RETRY_PAUSE_S = 2.0

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
    # Postgres text cannot hold a NUL byte (COPY fails on 0x00): ingestion quarantines such rows, and rows
    # loaded before it did are copied without the byte rather than failing every later run.
    select = ", ".join(
        f"replace({_duck_ident(name)}, chr(0), '')" if kind == "VARCHAR" else _duck_ident(name)
        for name, kind in columns
    )
    path = workdir / f"{src_schema}.{table}.csv"
    source = f"{_duck_ident(src_schema)}.{_duck_ident(table)}"
    duck.execute(f"copy (select {select} from {source}) to '{path}' (format csv, header false)")
    with path.open() as data:
        cur.copy_expert(sql.SQL("copy {} from stdin with (format csv)").format(target), data)
    path.unlink()
    return cur.rowcount


def _describe_audit(cur: psycopg2.extensions.cursor, schema: str, table: str) -> None:
    """The audit tables' descriptions (clm.audit_docs) as comments: BI reads them from pg_description."""
    cur.execute(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
        (schema, table),
    )
    columns = {name: audit_docs.comment(table, name) or "" for (name,) in cur.fetchall()}
    pg_swap.set_comments(cur, schema, table, audit_docs.comment(table), columns)


def _duck_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def nul_rows(duck: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    """Rows per table with a NUL byte in a text value (copied to Postgres without it)."""
    found = {}
    for table in _tables(duck, schema):
        texts = [
            name
            for (name,) in duck.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? and data_type = 'VARCHAR'",
                [schema, table],
            ).fetchall()
        ]
        if not texts:
            continue
        test = " or ".join(f"contains({_duck_ident(name)}, chr(0))" for name in texts)
        count = duck.execute(
            f"select count(*) from {_duck_ident(schema)}.{_duck_ident(table)} where {test}"
        ).fetchall()[0][0]
        if count:
            found[table] = count
    return found


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


def _stage_audit(duck: duckdb.DuckDBPyConnection, cur, workdir: Path) -> dict[str, int]:
    """Copy the DuckDB build's audit tables into the audit staging schema."""
    stage = STAGE_PREFIX + "audit"
    cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(stage)))
    cur.execute(sql.SQL("create schema {}").format(sql.Identifier(stage)))
    counts = {}
    for table in _tables(duck, "audit"):
        counts[f"audit.{table}"] = _copy_table(duck, cur, "audit", table, stage, workdir)
        _describe_audit(cur, stage, table)
    return counts


def _stage_marts(cur, marts: list[str]) -> dict[str, int]:
    stage = STAGE_PREFIX + "marts"
    cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(stage)))
    cur.execute(sql.SQL("create schema {}").format(sql.Identifier(stage)))
    counts = {}
    for table in marts:
        cur.execute(
            sql.SQL("create table {} as table {}").format(
                sql.Identifier(stage, table), sql.Identifier(BUILD_PREFIX + "marts", table)
            )
        )
        counts[f"marts.{table}"] = cur.rowcount
        # The dbt YAML descriptions persist_docs wrote on the build's table (docs/marts.md#descriptions).
        pg_swap.copy_comments(cur, BUILD_PREFIX + "marts", stage, table)
    return counts


class PostgresTarget(Target):
    name = "postgres"

    def dbt_vars(self) -> dict[str, str]:
        # Build beside the published schemas; publishing swaps the declared marts in.
        return {"schema_prefix": BUILD_PREFIX}

    def dbt_env(self) -> dict[str, str]:
        # The HMAC key reaches SQL as current_setting('clm.pii_key'), never through compiled SQL or logs.
        return {"PGOPTIONS": pii_pgoptions(self.settings.pii_key)}

    def fx_rate_months(self, build: duckdb.DuckDBPyConnection) -> RateMonths:
        # dbt on Postgres reads the user's FX relation in the Postgres database, not in the DuckDB build file
        return postgres_rate_months(connection)

    preparing = "copying the raw tables to Postgres"

    def prepare_build(self) -> str:
        # dbt on Postgres reads raw.* there: mirror the DuckDB raw schema in one transaction.
        with connection() as pg, connect_build(self.settings, read_only=True) as duck:
            ensure_pgcrypto(pg)
            counts = copy_schema(duck, pg, "raw")
            stripped = nul_rows(duck, "raw")
        message = f"mirrored {len(counts)} raw tables ({sum(counts.values()):,} rows) to Postgres"
        if stripped:
            where = ", ".join(f"raw.{table}: {n:,}" for table, n in sorted(stripped.items()))
            message += (
                f"; NUL bytes removed from rows loaded by an older clm: {where}"
                " (clm run --full-refresh quarantines such rows instead)"
            )
        return message

    def gate_warehouse(self):
        from expectations.checkpoint import postgres_warehouse

        return postgres_warehouse(BUILD_PREFIX)

    def read_clv_inputs(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        with connection() as pg:
            return store.read_inputs_postgres(pg, BUILD_PREFIX)

    def write_clv_results(self, frames: dict[str, pd.DataFrame]) -> None:
        with connection() as pg:
            store.write_postgres(pg, frames, BUILD_PREFIX)

    def built_marts(self) -> list[str]:
        return self._relations(BUILD_PREFIX + "marts")

    def _relations(self, schema: str) -> list[str]:
        with connection() as pg, pg.cursor() as cur:
            cur.execute(
                "select table_name from information_schema.tables where table_schema = %s order by 1",
                (schema,),
            )
            return [name for (name,) in cur.fetchall()]

    def marts_fingerprint(self, marts) -> str:
        digest = hashlib.sha256()
        with connection() as pg, pg.cursor() as cur:
            for name in sorted(marts):
                # A row's text form hashed, summed: independent of row order, exact in numeric.
                cur.execute(
                    sql.SQL(
                        "select count(*), coalesce(sum(hashtextextended(clm_row::text, 0)::numeric), 0) "
                        "from {} clm_row"
                    ).format(sql.Identifier(BUILD_PREFIX + "marts", name))
                )
                count, rows = cur.fetchone()
                digest.update(f"{name}\0{count}\0{rows}\n".encode())
        return digest.hexdigest()

    def _swap(self, pg, swaps: list[tuple[str, str, list[str]]]) -> None:
        for attempt in range(1, SWAP_ATTEMPTS + 1):
            try:
                pg_swap.swap_schemas(
                    pg,
                    [pg_swap.Swap(*swap) for swap in swaps],
                    reader_role=self.settings.reader_role,
                    lock_timeout_ms=LOCK_TIMEOUT_MS,
                )
                return
            except pg_swap.PublishLockTimeout:
                if attempt == SWAP_ATTEMPTS:
                    raise
                time.sleep(RETRY_PAUSE_S)

    def publish(self, marts, run_id: str, message: str) -> dict[str, int]:
        with (
            connect_build(self.settings, read_only=True) as duck,
            connection() as pg,
            tempfile.TemporaryDirectory() as tmp,
        ):
            with pg, pg.cursor() as cur:  # the copies, committed before the swap takes any lock
                counts = _stage_marts(cur, list(marts))
                counts |= _stage_audit(duck, cur, Path(tmp))
                # The published copy says published: it becomes visible with the marts, in one commit.
                cur.execute(
                    sql.SQL(
                        "update {} set status = 'published', finished_at = now() at time zone 'utc', "
                        "message = %s where run_id = %s"
                    ).format(sql.Identifier(STAGE_PREFIX + "audit", "runs")),
                    (message, run_id),
                )
                if cur.rowcount != 1:  # start_run writes the row before any work
                    raise RuntimeError(f"publish: run {run_id} has no row in the build's audit.runs")
            audit = [name.split(".", 1)[1] for name in counts if name.startswith("audit.")]
            self._swap(
                pg, [(STAGE_PREFIX + "marts", "marts", list(marts)), (STAGE_PREFIX + "audit", "audit", audit)]
            )
        return counts

    def publish_audit(self) -> None:
        with (
            connect_build(self.settings, read_only=True) as duck,
            connection() as pg,
            tempfile.TemporaryDirectory() as tmp,
        ):
            with pg, pg.cursor() as cur:
                counts = _stage_audit(duck, cur, Path(tmp))
            self._swap(pg, [(STAGE_PREFIX + "audit", "audit", [n.split(".", 1)[1] for n in counts])])

    def published_marts(self) -> list[tuple[str, int]]:
        with connection() as pg:
            return mart_row_counts(pg)

    def _published_audit(self, query: str) -> list[tuple]:
        """``query`` on the published audit schema; no rows before the first publish."""
        with connection() as pg, pg.cursor() as cur:
            cur.execute("select to_regclass('audit.runs')")
            if cur.fetchone()[0] is None:
                return []
            cur.execute(query)
            return cur.fetchall()

    def published_runs(self) -> set[str]:
        return {run_id for (run_id,) in self._published_audit(PUBLISHED_RUNS_SQL)}

    def published_as_of(self) -> date | None:
        rows = self._published_audit(PUBLISHED_AS_OF_SQL)
        return rows[0][0] if rows else None

    def location(self) -> str:
        return "Postgres schemas marts and audit (PG* environment)"

    def clean_leftovers(self) -> list[str]:
        with connection() as pg, pg, pg.cursor() as cur:
            cur.execute("select nspname from pg_namespace where nspname like %s", (STAGE_PREFIX + "%",))
            stages = [name for (name,) in cur.fetchall()]
            for stage in stages:
                cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(stage)))
        return [f"Postgres schema {stage}" for stage in stages]
