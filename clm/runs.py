"""The run records of the ``audit`` schema, kept in the build database and copied to the serving side.

- ``audit.runs``: one row per run: running, published, blocked, failed, skipped (another run held the lock),
  unchanged (nothing new since the last published run: nothing published).
- ``audit.run_warnings``: what did not block a run but deserves a look.
- ``audit.gate_results``: the quality gate's verdict on a run's build, with the fingerprint of the marts it
  validated; publishing refuses a run without a passing verdict over exactly the marts it is about to copy.

Every published, blocked or failed run also updates the serving ``audit`` schema (``clm.targets``), so BI
reads the history of every run, not only of published ones.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import duckdb

from clm.config import Settings
from clm.warehouse import connect_build

RUNNING, PUBLISHED, BLOCKED, FAILED, SKIPPED = "running", "published", "blocked", "failed", "skipped"
# A run that found nothing new since the last published one (clm.inputs): it published nothing.
UNCHANGED = "unchanged"
# A run that materialized only some assets (selected in the Dagster UI) and ended without publishing.
PARTIAL = "partial"
INTERRUPTED = "interrupted: the process stopped before the run finished (killed, or the machine restarted)"

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
create table if not exists audit.gate_results (
    run_id varchar primary key,
    passed boolean not null,
    marts_fingerprint varchar,
    message varchar not null,
    checked_at timestamp not null
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


def record_gate(
    con: duckdb.DuckDBPyConnection, run_id: str, passed: bool, fingerprint: str | None, message: str
) -> None:
    ensure_table(con)
    con.execute(
        "insert or replace into audit.gate_results values (?, ?, ?, ?, ?)",
        [run_id, passed, fingerprint, message, _now()],
    )


def read_gate(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[bool, str | None] | None:
    """(passed, fingerprint of the validated marts) of ``run_id``'s gate, or None if it never ran."""
    try:
        rows = con.execute(
            "select passed, marts_fingerprint from audit.gate_results where run_id = ?", [run_id]
        ).fetchall()
    except duckdb.CatalogException:  # no gate has ever run here
        return None
    return (bool(rows[0][0]), rows[0][1]) if rows else None


def record_outcome(settings: Settings, run_id: str, status: str, message: str) -> None:
    """Write a run's final status from outside a step (failure hook, CLI)."""
    with connect_build(settings) as con:
        finish_run(con, run_id, status, message)


def read_run(settings: Settings, run_id: str) -> dict | None:
    if not settings.build_db.exists():
        return None
    with connect_build(settings, read_only=True) as con:
        try:
            rows = con.execute(
                "select status, message, as_of, started_at, target from audit.runs where run_id = ?", [run_id]
            ).fetchall()
        except duckdb.CatalogException:
            return None
    if not rows:
        return None
    status, message, as_of, started_at, target = rows[0]
    return {"status": status, "message": message, "as_of": as_of, "started_at": started_at, "target": target}


def last_published_as_of(settings: Settings) -> date | None:
    """The as-of date of the newest published run, from the build's audit (None before the first publish)."""
    if not settings.build_db.exists():
        return None
    with connect_build(settings, read_only=True) as con:
        try:
            rows = con.execute("select max(as_of) from audit.runs where status = ?", [PUBLISHED]).fetchall()
        except duckdb.CatalogException:
            return None
    return rows[0][0]


def interrupted_runs(con: duckdb.DuckDBPyConnection, current_run_id: str) -> list[str]:
    """Runs still ``running`` although this run holds the lock: their process died."""
    ensure_table(con)
    rows = con.execute(
        "select run_id from audit.runs where status = ? and run_id <> ? order by started_at",
        [RUNNING, current_run_id],
    ).fetchall()
    return [run_id for (run_id,) in rows]


# A run turned away by the lock cannot write the build database (the holder has it open): it leaves a small
# file, and the next lock holder moves it into audit.runs.
def _skipped_dir(settings: Settings):
    return settings.data_dir / "skipped_runs"


def record_skipped(settings: Settings, run_id: str, target: str, message: str) -> None:
    folder = _skipped_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    now = _now().isoformat(sep=" ")
    record = {"run_id": run_id, "at": now, "target": target, "message": message}
    temp = folder / f".{run_id}.tmp"
    temp.write_text(json.dumps(record))
    temp.replace(folder / f"{run_id}.json")  # whole or nothing


def absorb_skipped(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """Move the records of skipped runs into audit.runs; the number moved."""
    ensure_table(con)
    folder = _skipped_dir(settings)
    moved = 0
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = json.loads(path.read_text())
        con.execute(
            "insert or ignore into audit.runs values (?, ?, ?, ?, null, ?, ?)",
            [record["run_id"], record["at"], record["at"], SKIPPED, record["target"], record["message"]],
        )
        path.unlink()
        moved += 1
    return moved
