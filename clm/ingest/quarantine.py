"""Rejected rows and files: ``audit.quarantine`` (no record text) and the full text under quarantine_dir.

The database table tells BI what was rejected and why; it is published, so it holds no personal data: a
reason names the field and the rule, never a value (``validate`` builds the row reasons that way, the
readers word their own). The text of a rejected row can hold personal data, so it only goes to
``<quarantine_dir>/<run_id>/<source>__<entity>.jsonl`` (file, line, reason, raw), under ``CLM_DATA_DIR``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

QUARANTINE_TABLE = "audit.quarantine"

# Temp table the per-file pipeline fills with (line, reason, raw) before it is published here.
REJECTED_ROWS = "_clm_rejected"

_DDL = f"""
create table if not exists {QUARANTINE_TABLE} (
    run_id varchar not null,
    source varchar,
    entity varchar,
    file_path varchar not null,
    line bigint,
    reason varchar not null,
    quarantined_at timestamp not null
)
"""


def ensure_quarantine(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists audit")
    con.execute(_DDL)


@dataclass(frozen=True)
class QuarantineTarget:
    run_id: str
    source: str | None
    entity: str | None
    file_path: str
    quarantined_at: datetime


def text_file(quarantine_dir: Path, run_id: str, source: str | None, entity: str | None) -> Path:
    name = f"{source}__{entity}" if source and entity else "_unrecognised_files"
    return quarantine_dir / run_id / f"{name}.jsonl"


def insert_whole_file(con: duckdb.DuckDBPyConnection, target: QuarantineTarget, reason: str) -> None:
    con.execute(
        f"insert into {QUARANTINE_TABLE} values (?, ?, ?, ?, null, ?, ?)",
        [target.run_id, target.source, target.entity, target.file_path, reason, target.quarantined_at],
    )


def insert_rejected_rows(con: duckdb.DuckDBPyConnection, target: QuarantineTarget) -> int:
    """Publish the per-file temp table of rejected rows; returns how many there were."""
    con.execute(
        f"""insert into {QUARANTINE_TABLE}
            select ?, ?, ?, ?, line, reason, ? from {REJECTED_ROWS} order by line""",
        [target.run_id, target.source, target.entity, target.file_path, target.quarantined_at],
    )
    return con.execute(f"select count(*) from {REJECTED_ROWS}").fetchone()[0]


def export_rejected_text(con: duckdb.DuckDBPyConnection, file_path: str, scratch: Path) -> Path:
    """Write the rejected rows' text to a scratch JSONL file, inside the file's transaction."""
    literal = str(scratch).replace("'", "''")
    con.execute(
        f"""copy (select ? as file, line, reason, raw from {REJECTED_ROWS} order by line nulls first)
            to '{literal}' (format json)""",
        [file_path],
    )
    return scratch


def whole_file_text(scratch: Path, file_path: str, reason: str) -> Path:
    # The file itself stays in the (immutable) landing zone; this line points at it.
    entry = {"file": file_path, "line": None, "reason": reason, "raw": None}
    scratch.write_text(json.dumps(entry) + "\n", encoding="utf-8")
    return scratch


def append_text(scratch: Path, target: Path) -> None:
    """Append the scratch file to the run's quarantine file (after the database commit)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with scratch.open("rb") as src, target.open("ab") as dst:
        shutil.copyfileobj(src, dst)
    scratch.unlink(missing_ok=True)
