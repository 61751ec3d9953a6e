"""``audit.runs``: one row per pipeline run, written for published, blocked and failed runs alike.

The row lives in the build database and travels to the serving file with every publish, so BI sees the
history of runs up to the last published one; a blocked or failed run leaves the serving file untouched
(its row shows up there after the next publish) and is always visible in the build database and the
Dagster UI.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

RUNNING, PUBLISHED, BLOCKED, FAILED = "running", "published", "blocked", "failed"

_DDL = """
create schema if not exists audit;
create table if not exists audit.run_warnings (
    run_id varchar not null,
    origin varchar not null,
    subject varchar not null,
    message varchar not null,
    recorded_at timestamp not null
);
create table if not exists audit.runs (
    run_id varchar primary key,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,
    as_of date,
    target varchar,
    message varchar
);
"""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, as_of: date | None, target: str) -> None:
    ensure_table(con)
    con.execute(
        """
        insert into audit.runs (run_id, started_at, status, as_of, target)
        values (?, ?, ?, ?, ?)
        on conflict (run_id) do update set status = excluded.status, as_of = excluded.as_of
        """,
        [run_id, _now(), RUNNING, as_of, target],
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str) -> None:
    ensure_table(con)
    con.execute(
        """
        insert into audit.runs (run_id, started_at, finished_at, status, message)
        values ($1, $2, $2, $3, $4)
        on conflict (run_id) do update
            set finished_at = excluded.finished_at, status = excluded.status, message = excluded.message
        """,
        [run_id, _now(), status, message],
    )


def record_warnings(
    con: duckdb.DuckDBPyConnection, run_id: str, origin: str, warnings: list[tuple[str, str]]
) -> None:
    """Things that did not block the run but deserve a look: (subject, message) pairs, no personal data."""
    ensure_table(con)
    if not warnings:
        return
    now = _now()
    con.executemany(
        "insert into audit.run_warnings values (?, ?, ?, ?, ?)",
        [(run_id, origin, subject, message, now) for subject, message in warnings],
    )


def record_outcome(build_db: Path, run_id: str, status: str, message: str) -> None:
    """Write a run's final status from outside a step (failure hook, CLI)."""
    build_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(build_db)) as con:
        finish_run(con, run_id, status, message)


def read_run(build_db: Path, run_id: str) -> dict | None:
    if not build_db.exists():
        return None
    with duckdb.connect(str(build_db), read_only=True) as con:
        try:
            row = con.execute(
                "select status, message, as_of, started_at from audit.runs where run_id = ?", [run_id]
            ).fetchone()
        except duckdb.CatalogException:
            return None
    if row is None:
        return None
    return {"status": row[0], "message": row[1], "as_of": row[2], "started_at": row[3]}
