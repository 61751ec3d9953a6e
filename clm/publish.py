"""Atomic publish: copy the audited build's marts (and audit tables) into the serving file in one step.

A fresh DuckDB file is written next to the serving file, made durable, then renamed over it with
``os.replace``, which is atomic on one filesystem. Readers that already opened the serving file keep
reading the old inode; new readers see the whole new file; nobody ever sees a half-written one. On any
failure the temporary file is removed and the serving file is left byte-identical.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

DEFAULT_SCHEMAS: tuple[str, ...] = ("marts", "audit")
_BUILD_ALIAS = "clm_build"


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


def _relations(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    """Tables and views of ``schemas`` in the attached build database, in a stable order."""
    placeholders = ", ".join("?" for _ in schemas)
    rows = con.execute(
        f"""
        select table_schema, table_name from information_schema.tables
        where table_catalog = ? and table_schema in ({placeholders})
        order by table_schema, table_name
        """,
        [_BUILD_ALIAS, *schemas],
    ).fetchall()
    return [(schema, name) for schema, name in rows]


def _copy_relation(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> int:
    # CREATE TABLE AS keeps every column's type; views are materialized, so serving needs no build file.
    target = f"{_quote(schema)}.{_quote(name)}"
    con.execute(f"create table {target} as select * from {_quote(_BUILD_ALIAS)}.{target}")
    row = con.execute(f"select count(*) from {target}").fetchone()
    return int(row[0]) if row else 0


def _write_copy(build_db: Path, target: Path, schemas: tuple[str, ...]) -> dict[str, int]:
    tables: dict[str, int] = {}
    with duckdb.connect(str(target)) as con:
        con.execute(f"attach {_literal(str(build_db))} as {_quote(_BUILD_ALIAS)} (read_only)")
        for schema in schemas:
            con.execute(f"create schema if not exists {_quote(schema)}")
        for schema, name in _relations(con, schemas):
            tables[f"{schema}.{name}"] = _copy_relation(con, schema, name)
        con.execute(f"detach {_quote(_BUILD_ALIAS)}")
        con.execute("checkpoint")
    if _wal(target).exists():
        raise RuntimeError(f"publish: {_wal(target)} remained after checkpoint; refusing to publish")
    return tables


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def publish(build_db: Path, serving_db: Path, schemas: tuple[str, ...] = DEFAULT_SCHEMAS) -> PublishResult:
    """Replace ``serving_db`` with a copy of ``schemas`` from ``build_db``, atomically."""
    started = time.perf_counter()
    if not build_db.exists():
        raise FileNotFoundError(f"publish: build database {build_db} does not exist")
    serving_db.parent.mkdir(parents=True, exist_ok=True)
    # Same directory as serving_db: os.replace is only atomic within one filesystem.
    temp = serving_db.with_name(f".{serving_db.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.publishing")
    try:
        tables = _write_copy(build_db, temp, schemas)
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
