"""The build database: the one file the pipeline writes before anything is published."""

from __future__ import annotations

from pathlib import Path

import duckdb


def connect_build(build_db: Path, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open the build database read-write. ``memory_limit`` (CLM_DUCKDB_MEMORY_LIMIT, e.g. '4GB' or '50%')
    caps DuckDB's buffer manager; beyond it large scans spill to ``<build db>.tmp`` instead of growing."""
    build_db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(build_db))
    if memory_limit:
        # SET, not connect(config=...): DuckDB shares one instance per file within a process and refuses a
        # second connect() to it with a different config; SET applies to that shared instance
        con.execute("set memory_limit = ?", [memory_limit])
    return con


def reset_for_full_refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Forget what was loaded so every landed file is read again; run history and quarantine stay."""
    con.execute("drop schema if exists raw cascade")
    has_manifest = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'audit' and table_name = 'load_manifest'"
    ).fetchone()[0]
    if has_manifest:
        con.execute("delete from audit.load_manifest")
