"""What one ingest call did: one FileResult per landed file considered, and their totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from clm.progress import plural

LOADED = "loaded"
SKIPPED = "skipped_already_loaded"
DUPLICATE = "duplicate"
QUARANTINED_FILE = "quarantined_file"
EMPTY = "empty"
# A drop dated after the current UTC date: recorded (once) with no rows counted, loaded on or after its date.
FUTURE_DROP = "quarantined_future_drop"
# Not written to the manifest: the file's transaction was rolled back and the next run retries it.
FAILED = "failed"
# Not written to the manifest: an entry of the landing zone that is never opened (a symlink leading outside
# it or nowhere, a FIFO, an unreadable or empty folder); reported on every run while it is there.
SKIPPED_ENTRY = "skipped_entry"


@dataclass(frozen=True)
class FileResult:
    source: str | None
    entity: str | None
    load_date: date | None
    file_path: str  # relative to the landing-zone root, '/'-separated
    sha256: str | None
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""

    def progress_line(self) -> str:
        where = f"{self.source}/{self.entity}" if self.source else "?"
        drop = f" load_date={self.load_date.isoformat()}" if self.load_date else ""
        name = self.file_path.rsplit("/", 1)[-1]
        if self.status == LOADED:
            what = f"{self.rows_loaded:,} loaded, {self.rows_quarantined:,} quarantined"
        else:
            what = self.status.replace("_", " ")
        tail = f" ({self.message})" if self.message else ""
        return f"{where}{drop} {name}: {what}{tail}"


@dataclass
class IngestResult:
    run_id: str
    files: list[FileResult] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def files_loaded(self) -> int:
        return self._count(LOADED)

    @property
    def files_skipped(self) -> int:
        return self._count(SKIPPED)

    @property
    def files_duplicate(self) -> int:
        return self._count(DUPLICATE)

    @property
    def files_quarantined(self) -> int:
        return self._count(QUARANTINED_FILE)

    @property
    def files_empty(self) -> int:
        return self._count(EMPTY)

    @property
    def files_failed(self) -> int:
        return self._count(FAILED)

    @property
    def files_future(self) -> int:
        return self._count(FUTURE_DROP)

    @property
    def entries_skipped(self) -> int:
        return self._count(SKIPPED_ENTRY)

    @property
    def counts_line(self) -> str:
        """What ``clm run`` shows when ingestion ends (clm.progress)."""
        new = len(self.files) - self.files_skipped - self.entries_skipped
        line = (
            f"{plural(new, 'new file')}, {self.rows_read:,} rows read, {self.rows_loaded:,} loaded, "
            f"{self.rows_quarantined:,} quarantined"
        )
        return line + (f", {self.files_failed} FAILED" if self.files_failed else "")

    @property
    def summary(self) -> str:
        parts = [
            f"ingest {self.run_id}: {len(self.files)} files",
            f"{self.files_loaded} loaded",
            f"{self.files_skipped} already loaded",
            f"{self.files_duplicate} duplicate",
            f"{self.files_quarantined} quarantined whole",
            f"{self.files_empty} empty",
        ]
        if self.files_future:
            parts.append(f"{self.files_future} dated after today (not loaded yet)")
        if self.entries_skipped:
            parts.append(f"{self.entries_skipped} entries skipped (see warnings)")
        if self.files_failed:
            parts.append(f"{self.files_failed} FAILED")
        rows = (
            f"rows: {self.rows_read:,} read, {self.rows_loaded:,} loaded, "
            f"{self.rows_quarantined:,} quarantined"
        )
        return ", ".join(parts) + "; " + rows
