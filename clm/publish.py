"""Atomic publish: copy the audited build's marts (and audit tables) into the serving file in one step.

A fresh DuckDB file is written next to the serving file, made durable, then renamed over it with
``os.replace``, which is atomic on one filesystem. Readers that already opened the serving file keep
reading the old inode; new readers see the whole new file; nobody ever sees a half-written one. On any
failure the temporary file is removed and the serving file is left byte-identical.

Every copied table keeps its description: the marts' table and column comments, which dbt wrote from their
YAML in the build (persist_docs), and the audit tables' from ``clm.audit_docs`` (docs/marts.md#descriptions).
BI tools read them from duckdb_tables() and duckdb_columns().
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from clm import audit_docs
from clm.config import Settings
from clm.runs import PUBLISHED
from clm.warehouse import connect_memory

_BUILD_ALIAS = "clm_build"
_SERVING_ALIAS = "clm_serving"
_TEMP_SUFFIX = ".publishing"


@dataclass(frozen=True)
class PublishResult:
    serving_db: Path
    tables: dict[str, int] = field(default_factory=dict)  # "schema.table" -> rows copied
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


# A description for a copied table (column None) or column that has none of its own, or None.
Describe = Callable[[str, str | None], str | None]


def _no_description(_table: str, _column: str | None) -> str | None:
    return None


def _copy_tables(
    con: duckdb.DuckDBPyConnection,
    alias: str,
    schema: str,
    names: Sequence[str],
    describe: Describe = _no_description,
) -> dict[str, int]:
    """Materialize ``alias.schema.name`` as ``schema.name`` in the new file (views too: serving reads
    nothing from the build), with the source's table and column comments, else ``describe``'s."""
    con.execute(f"create schema if not exists {_quote(schema)}")
    comments = _comments(con, alias, schema)
    copied: dict[str, int] = {}
    for name in names:
        target = f"{_quote(schema)}.{_quote(name)}"
        # CREATE TABLE AS keeps every column's type, but no comment
        con.execute(f"create table {target} as select * from {_quote(alias)}.{target}")
        _comment(con, schema, name, comments.get(name, {}), describe)
        row = con.execute(f"select count(*) from {target}").fetchall()
        copied[f"{schema}.{name}"] = int(row[0][0])
    return copied


def _comments(con: duckdb.DuckDBPyConnection, alias: str, schema: str) -> dict[str, dict[str | None, str]]:
    """The comments of ``alias.schema``'s relations: name -> {None: the relation's, column: the column's}.
    Read once per schema: each catalog query scans every attached database."""
    rows = con.execute(
        "select table_name, null, comment from duckdb_tables() where database_name = $1 and schema_name = $2 "
        "union all select view_name, null, comment from duckdb_views() "
        "where database_name = $1 and schema_name = $2 "
        "union all select table_name, column_name, comment from duckdb_columns() "
        "where database_name = $1 and schema_name = $2",
        [alias, schema],
    ).fetchall()
    found: dict[str, dict[str | None, str]] = {}
    for name, column, comment in rows:
        if comment:
            found.setdefault(name, {})[column] = comment
    return found


def _comment(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    name: str,
    own: dict[str | None, str],
    describe: Describe,
) -> None:
    """Comment the new ``schema.name`` and its columns: its source's comments, else ``describe``'s."""
    target = f"{_quote(schema)}.{_quote(name)}"
    columns = con.execute(
        "select column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ? order by column_index",
        [schema, name],
    ).fetchall()
    texts = [(f"table {target}", own.get(None) or describe(name, None))] + [
        (f"column {target}.{_quote(column)}", own.get(column) or describe(name, column))
        for (column,) in columns
    ]
    statements = [f"comment on {what} is {_literal(text)}" for what, text in texts if text]
    if statements:
        # one transaction: an autocommitted COMMENT ON costs about twice as much
        con.execute(";\n".join(["begin", *statements, "commit"]))


def relations(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    """Tables and views of ``catalog.schema``, sorted."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
        "order by table_name",
        [catalog, schema],
    ).fetchall()
    return [name for (name,) in rows]


def _mark_published(con: duckdb.DuckDBPyConnection, run_id: str, message: str) -> None:
    """The copy records its own run as published: the row is true exactly when the file is in place."""
    updated = con.execute(
        "update audit.runs set status = ?, finished_at = now()::timestamp, message = ? where run_id = ?",
        [PUBLISHED, message, run_id],
    ).fetchall()
    if updated[0][0] != 1:
        # start_run writes the row before any work: without it the file would not say which run it holds
        raise RuntimeError(f"publish: run {run_id} has no row in the build's audit.runs")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def leftovers(serving_db: Path) -> list[Path]:
    """Temporary files of publishes that were killed before their rename."""
    pattern = f".{serving_db.name}.*{_TEMP_SUFFIX}"
    found = list(serving_db.parent.glob(pattern)) + list(serving_db.parent.glob(pattern + ".wal"))
    return sorted(found) + ([_wal(serving_db)] if _wal(serving_db).exists() else [])


def _replace_serving(
    serving_db: Path, settings: Settings, fill: Callable[[duckdb.DuckDBPyConnection], dict[str, int]]
) -> PublishResult:
    """Write a new file with ``fill``, make it durable, rename it over ``serving_db``."""
    started = time.perf_counter()
    serving_db.parent.mkdir(parents=True, exist_ok=True)
    # Same directory as serving_db: os.replace is only atomic within one filesystem.
    temp = serving_db.with_name(f".{serving_db.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{_TEMP_SUFFIX}")
    try:
        with _serving_writer(temp, settings) as con:
            tables = fill(con)
        if _wal(temp).exists():
            raise RuntimeError(f"publish: {_wal(temp)} remained after checkpoint; refusing to publish")
        _fsync(temp)
        # Only publish writes the serving file, so a WAL beside it is a crashed writer's leftover that
        # DuckDB would try to replay onto the new file.
        _remove(_wal(serving_db))
        os.replace(temp, serving_db)
        _fsync(serving_db.parent)  # make the rename itself durable
    except BaseException:
        _remove(temp, _wal(temp))
        raise
    return PublishResult(serving_db=serving_db, tables=tables, seconds=time.perf_counter() - started)


# The storage format of the served file: the one duckdb 1.4 introduced, which the 1.x clients BI tools ship
# (JDBC/ODBC drivers, the Node client, the PyPI CLI 1.5.6) read; duckdb 2.0's own default (version 69) they
# refuse. The build database keeps 2.0's format: only clm opens it.
SERVING_STORAGE_VERSION = "v1.4.0"
_NEW_SERVING_ALIAS = "clm_new_serving"


@contextlib.contextmanager
def _serving_writer(path: Path, settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection whose default database is a new file at ``path`` in SERVING_STORAGE_VERSION, checkpointed
    and detached (closed) when the block ends without an error."""
    with connect_memory(settings) as con:
        con.execute(
            f"attach {_literal(str(path))} as {_quote(_NEW_SERVING_ALIAS)} "
            f"(storage_version {_literal(SERVING_STORAGE_VERSION)})"
        )
        con.execute(f"use {_quote(_NEW_SERVING_ALIAS)}")
        yield con
        con.execute(f"checkpoint {_quote(_NEW_SERVING_ALIAS)}")
        con.execute("use memory")
        con.execute(f"detach {_quote(_NEW_SERVING_ALIAS)}")


def _copy_audit(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The build's whole audit schema (attached as the build alias), described by clm.audit_docs."""
    names = relations(con, _BUILD_ALIAS, audit_docs.AUDIT_SCHEMA)
    return _copy_tables(con, _BUILD_ALIAS, audit_docs.AUDIT_SCHEMA, names, audit_docs.comment)


def _attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    con.execute(f"attach {_literal(str(path))} as {_quote(alias)} (read_only)")


def publish(
    build_db: Path,
    serving_db: Path,
    settings: Settings,
    *,
    marts: Sequence[str],
    published_run: tuple[str, str] | None = None,
) -> PublishResult:
    """Replace ``serving_db`` with ``marts`` (table names of the build's ``marts`` schema) and the whole build
    ``audit`` schema, atomically. ``published_run`` = (run_id, message) marks that run published in the copy.
    """
    if not build_db.exists():
        raise FileNotFoundError(f"publish: build database {build_db} does not exist")

    def fill(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        _attach(con, build_db, _BUILD_ALIAS)
        tables = _copy_tables(con, _BUILD_ALIAS, "marts", marts)
        tables |= _copy_audit(con)
        con.execute(f"detach {_quote(_BUILD_ALIAS)}")
        if published_run:
            _mark_published(con, *published_run)
        return tables

    return _replace_serving(serving_db, settings, fill)


def publish_audit(build_db: Path, serving_db: Path, settings: Settings) -> PublishResult:
    """Replace only the serving file's ``audit`` schema (a blocked or failed run): its marts are copied from
    the serving file itself, so BI reads why the run did not publish beside exactly the marts it had. Before
    the first publish this creates the serving file with an empty ``marts`` schema."""
    if not build_db.exists():
        raise FileNotFoundError(f"publish: build database {build_db} does not exist")

    def fill(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        tables: dict[str, int] = {}
        if serving_db.exists():
            # a WAL beside the serving file is a killed writer's leftover that would not replay onto it
            _remove(_wal(serving_db))
            _attach(con, serving_db, _SERVING_ALIAS)
            tables |= _copy_tables(con, _SERVING_ALIAS, "marts", relations(con, _SERVING_ALIAS, "marts"))
            con.execute(f"detach {_quote(_SERVING_ALIAS)}")
        con.execute("create schema if not exists marts")
        _attach(con, build_db, _BUILD_ALIAS)
        tables |= _copy_audit(con)
        con.execute(f"detach {_quote(_BUILD_ALIAS)}")
        return tables

    return _replace_serving(serving_db, settings, fill)
