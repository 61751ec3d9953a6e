"""Input that loads but deserves a look (docs/bad-input.md#faults): recorded in audit.run_warnings and
the run summary."""

from __future__ import annotations

from pathlib import Path

from clm.ingest.discover import missing_entities
from clm.ingest.results import EMPTY, FUTURE_DROP, LOADED, SKIPPED, SKIPPED_ENTRY, IngestResult


def ingest_warnings(result: IngestResult, raw_dir: Path) -> list[tuple[str, str]]:
    """(subject, message): 0-byte files, loaded files' notes (duplicate keys), entities absent from a drop,
    entries of the landing zone that were not read (docs/landing-zone.md#boundary: anything skipped is
    reported) and drops dated after today."""
    # A 0-byte CSV or Parquet file has not even a header: a broken export. A header-only CSV or an empty
    # JSON Lines file is a quiet day, not a fault.
    warnings = [
        (f.file_path, "empty file: not even a header")
        for f in result.files
        if f.status == EMPTY
        and not f.file_path.endswith(".jsonl")
        and (raw_dir / f.file_path).stat().st_size == 0
    ]
    # A loaded file's message also counts its quarantined rows, which audit.quarantine already holds.
    warnings += [
        (f.file_path, note)
        for f in result.files
        if f.status == LOADED and f.message
        for note in f.message.split("; ")
        if not note.endswith("rows quarantined")
    ]
    warnings += [(f.file_path, f.message) for f in result.files if f.status in (SKIPPED_ENTRY, FUTURE_DROP)]
    # A drop that was not read this run (already loaded, dated after today, a stray entry) is not news.
    not_read = (SKIPPED, SKIPPED_ENTRY, FUTURE_DROP)
    new_drops = {f.load_date for f in result.files if f.load_date and f.status not in not_read}
    warnings += [
        (f"{entity} load_date={day}", "no file for this entity in the drop")
        for day, entity in missing_entities(raw_dir, new_drops)
    ]
    return warnings
