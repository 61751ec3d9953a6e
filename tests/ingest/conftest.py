"""Small hand-written landing zones: helpers to write drops and read back what ingest did."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from clm.ingest import IngestResult, ingest


class Landing:
    def __init__(self, root: Path) -> None:
        self.raw = root / "raw"
        self.quarantine = root / "quarantine"
        self.con = duckdb.connect()
        self.runs = 0

    def write(self, source: str, entity: str, load_date: str, name: str, content: str | bytes) -> Path:
        path = self.raw / source / entity / f"load_date={load_date}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode()
        path.write_bytes(data)
        return path

    def write_jsonl(self, source: str, entity: str, load_date: str, name: str, records: list) -> Path:
        lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
        return self.write(source, entity, load_date, name, "\n".join(lines) + "\n")

    def ingest(
        self, as_of: date | None = None, progress: Callable[[str], None] | None = None, **options: Any
    ) -> IngestResult:
        """One ingest run; options (max_record_bytes, today, ...) go to clm.ingest.ingest as they are."""
        self.runs += 1
        return ingest(
            self.con, self.raw, self.quarantine, f"run{self.runs}", as_of=as_of, progress=progress, **options
        )

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def quarantine_lines(self, file_name: str) -> list[tuple[int | None, str]]:
        return self.rows(
            "select line, reason from audit.quarantine where file_path like ? order by line nulls first",
            [f"%/{file_name}"],
        )


@pytest.fixture
def landing(tmp_path: Path) -> Landing:
    return Landing(tmp_path)


def only(result: IngestResult):
    assert len(result.files) == 1, result.files
    return result.files[0]


def assert_balanced(result: IngestResult) -> None:
    for f in result.files:
        assert f.rows_read == f.rows_loaded + f.rows_quarantined, f
