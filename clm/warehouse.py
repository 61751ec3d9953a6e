"""Every DuckDB connection of a run: one place that applies CLM_DUCKDB_MEMORY_LIMIT and CLM_DUCKDB_THREADS."""

from __future__ import annotations

from pathlib import Path

import duckdb

from clm.config import Settings


def duckdb_config(settings: Settings) -> dict[str, str]:
    """The run's DuckDB settings as a config mapping (for engines that connect themselves, e.g. GX)."""
    config = {"memory_limit": settings.duckdb_memory_limit}
    if settings.duckdb_threads:
        config["threads"] = str(settings.duckdb_threads)
    return config


def connect(path: Path, settings: Settings, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open ``path`` with the run's limits. Beyond ``memory_limit`` large scans spill to a temp directory
    instead of growing the process."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    # SET, not connect(config=...): DuckDB shares one instance per file within a process and refuses a
    # second connect() to it with a different config; SET applies to that shared instance
    return _with_limits(con, settings)


def connect_memory(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the run's limits (to attach files to). It spills under the build
    directory, not into DuckDB's default ``.tmp`` of whatever directory the process runs in."""
    con = _with_limits(duckdb.connect(":memory:"), settings)
    con.execute("set temp_directory = ?", [str(settings.build_dir / "memory.tmp")])
    return con


def _with_limits(con: duckdb.DuckDBPyConnection, settings: Settings) -> duckdb.DuckDBPyConnection:
    for name, value in duckdb_config(settings).items():
        con.execute(f"set {name} = ?", [value])
    return con


def connect_build(settings: Settings, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """The build database (read-write unless ``read_only``)."""
    return connect(settings.build_db, settings, read_only=read_only)


def reset_for_full_refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Forget what was loaded so every landed file is read again; run history and quarantine stay."""
    con.execute("drop schema if exists raw cascade")
    has_manifest = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'audit' and table_name = 'load_manifest'"
    ).fetchone()[0]
    if has_manifest:
        con.execute("delete from audit.load_manifest")
