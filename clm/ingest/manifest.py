"""The load manifest ``audit.load_manifest``: one row per landed file processed
(docs/marts.md#audit-schema)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from clm.ingest.results import FUTURE_DROP, LOADED, QUARANTINED_FILE, FileResult

MANIFEST_TABLE = "audit.load_manifest"

_DDL = f"""
create table if not exists {MANIFEST_TABLE} (
    run_id varchar not null,
    source varchar,
    entity varchar,
    load_date date,
    file_path varchar not null,
    sha256 varchar,
    format varchar,
    status varchar not null,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    message varchar,
    loaded_at timestamp not null
)
"""


def ensure_manifest(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists audit")
    con.execute(_DDL)


@dataclass
class ManifestIndex:
    """What earlier runs (and this one, as it goes) recorded, for skip / duplicate / modified decisions."""

    by_path: dict[str, set[str]] = field(default_factory=dict)  # path -> sha256s recorded
    original_by_sha: dict[str, str] = field(default_factory=dict)  # sha256 -> first path processed
    future: set[tuple[str, str]] = field(default_factory=set)  # (path, sha256) recorded as a future drop
    # sha256 -> (first path, reason) of a file quarantined whole: a copy that would be quarantined for the
    # same reason is a re-sent file (a no-op), not more quarantined rows.
    quarantined_whole: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> ManifestIndex:
        index = cls()
        rows = con.execute(
            f"select file_path, sha256, status, message from {MANIFEST_TABLE} order by loaded_at, file_path"
        ).fetchall()
        for path, sha, status, message in rows:
            index.note(path, sha, status, message)
        return index

    def note(self, path: str, sha: str | None, status: str, message: str | None = None) -> None:
        if sha is None:
            return
        if status == FUTURE_DROP:
            # Not processed: the file must load once its date has come, so it is not in by_path.
            self.future.add((path, sha))
            return
        self.by_path.setdefault(path, set()).add(sha)
        # Only a loaded file is "the original" a copy is reported against (a copy of a quarantined
        # file, e.g. one landed under a wrong folder, must still load).
        if status == LOADED:
            self.original_by_sha.setdefault(sha, path)
        elif status == QUARANTINED_FILE and message:
            self.quarantined_whole.setdefault(sha, (path, message))


def insert_manifest_row(
    con: duckdb.DuckDBPyConnection, run_id: str, fmt: str | None, result: FileResult, loaded_at: datetime
) -> None:
    con.execute(
        f"insert into {MANIFEST_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            result.source,
            result.entity,
            result.load_date,
            result.file_path,
            result.sha256,
            fmt,
            result.status,
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            result.message or None,
            loaded_at,
        ],
    )
