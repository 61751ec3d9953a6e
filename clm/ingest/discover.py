"""Find landed files: ``<raw>/<source>/<entity>/load_date=YYYY-MM-DD/<name>.csv|.jsonl|.parquet`` (and .gz).

The landing zone is a boundary (docs/landing-zone.md#boundary): a symlink is followed only when it resolves
inside the zone, and every entry that is not read (a link leading outside or nowhere, a FIFO or device, an
unreadable or empty folder) comes back as a ``LandedFile`` with ``skip`` set and a reason, so that it is
reported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from clm.ingest.schemas import ENTITIES_BY_KEY

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
# Text formats may also land gzip-compressed (how most exporters deliver them).
COMPRESSED_FORMATS = {".csv.gz": "csv", ".jsonl.gz": "jsonl"}
EXPECTED_EXTENSIONS = ".csv, .jsonl, .parquet, .csv.gz or .jsonl.gz"
_PARTITION = re.compile(r"load_date=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class LandedFile:
    path: Path
    rel_path: str  # relative to the landing root, '/'-separated (stable across machines)
    source: str | None
    entity: str | None
    load_date: date | None
    format: str | None
    problem: str | None = None  # set when the file does not fit the layout: quarantined whole
    compressed: bool = False  # gzip: read through a decompressed copy, checksummed as landed
    skip: bool = False  # never opened (outside the boundary, not a regular file): only reported

    @property
    def sort_key(self) -> tuple[str, int, str, date, str]:
        # Parents first: the checks of a charge, invoice or subscription read its billing customer's raw row.
        parent_rank = 0 if (self.source, self.entity) in PARENTS_FIRST else 1
        return (self.source or "", parent_rank, self.entity or "", self.load_date or date.min, self.rel_path)


PARENTS_FIRST = {("billing", "customers"), ("crm", "contacts")}


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def file_format(name: str) -> tuple[str | None, bool]:
    """(format, compressed) from a file name's extension; (None, False) when it is not one we read."""
    lower = name.lower()
    for suffix, fmt in COMPRESSED_FORMATS.items():
        if lower.endswith(suffix):
            return fmt, True
    return FORMATS.get(Path(lower).suffix), False


def classify(raw_dir: Path, path: Path) -> LandedFile:
    rel = path.relative_to(raw_dir).as_posix()
    parts = rel.split("/")
    source, entity = (parts[0], parts[1]) if len(parts) >= 3 else (None, None)
    fmt, compressed = file_format(path.name)
    match = _PARTITION.fullmatch(parts[2]) if len(parts) == 4 else None
    load_date = _parse_date(match.group(1)) if match else None

    problem = None
    if len(parts) != 4:
        problem = "not in the <source>/<entity>/load_date=YYYY-MM-DD/<file> layout"
    elif (source, entity) not in ENTITIES_BY_KEY:
        problem = f"unknown entity {source}/{entity}"
    elif load_date is None:
        problem = f"bad partition folder {parts[2]!r} (expected load_date=YYYY-MM-DD)"
    elif fmt is None:
        problem = f"unknown file extension {path.suffix!r} (expected {EXPECTED_EXTENSIONS})"
    return LandedFile(path, rel, source, entity, load_date, fmt, problem, compressed)


def _skipped(raw_dir: Path, path: Path, reason: str) -> LandedFile:
    """An entry that is reported and never opened; classified like a file so the report names its drop."""
    return replace(classify(raw_dir, path), problem=reason, compressed=False, skip=True)


@dataclass
class _Walk:
    raw_dir: Path
    root: Path  # raw_dir with every symlink resolved: the boundary

    def inside(self, real: Path) -> bool:
        return real == self.root or self.root in real.parents

    def walk(self, folder: Path, real_chain: tuple[Path, ...]) -> Iterator[Path | LandedFile]:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield _skipped(self.raw_dir, folder, f"folder cannot be read ({exc.strerror}): skipped")
            return
        if not entries and folder != self.raw_dir:
            yield _skipped(self.raw_dir, folder, "empty folder: nothing landed here")
        for entry in entries:
            # Top-level names starting with '_' are the landing zone's own bookkeeping (e.g. _manifest.json).
            if folder == self.raw_dir and entry.name.startswith("_"):
                continue
            yield from self._entry(entry, Path(entry.path), real_chain)

    def _entry(
        self, entry: os.DirEntry, path: Path, real_chain: tuple[Path, ...]
    ) -> Iterator[Path | LandedFile]:
        if entry.is_symlink():
            if not os.path.exists(path):
                yield _skipped(self.raw_dir, path, f"dangling symlink (to {os.readlink(path)}): skipped")
                return
            target = Path(os.path.realpath(path))
            if not self.inside(target):
                reason = f"symlink to {target}, outside the landing zone {self.root}: not followed"
                yield _skipped(self.raw_dir, path, reason)
                return
        if entry.is_dir():  # follows a link, which is known to stay inside by now
            real = Path(os.path.realpath(path))
            if real in real_chain:
                reason = "symlink to a folder that contains it (a loop): not followed"
                yield _skipped(self.raw_dir, path, reason)
                return
            yield from self.walk(path, (*real_chain, real))
        elif entry.is_file():
            yield path
        else:
            # A FIFO would block the reader forever, a device is no extract.
            yield _skipped(self.raw_dir, path, "not a regular file (FIFO, socket or device): skipped")


def _walk(raw_dir: Path) -> Iterator[Path | LandedFile]:
    root = Path(os.path.realpath(raw_dir))
    yield from _Walk(raw_dir, root).walk(raw_dir, (root,))


def discover(raw_dir: Path, as_of: date | None = None) -> list[LandedFile]:
    """Every entry under raw_dir in (source, parents first, entity, load_date, path) order; drops after as_of
    left out.

    Skipped entries (``skip``) are always kept, whatever their date: they are reported on every run.
    """
    if not raw_dir.is_dir():
        return []
    files = [p if isinstance(p, LandedFile) else classify(raw_dir, p) for p in _walk(raw_dir)]
    if as_of is not None:
        files = [f for f in files if f.skip or f.load_date is None or f.load_date <= as_of]
    return sorted(files, key=lambda f: f.sort_key)


def newest_load_date(raw_dir: Path) -> date | None:
    """The newest load_date among well-formed drops (the default as-of date)."""
    dates = [f.load_date for f in discover(raw_dir) if f.problem is None and f.load_date]
    return max(dates, default=None)


def missing_entities(raw_dir: Path, load_dates: set[date]) -> list[tuple[date, str]]:
    """(load_date, "source/entity") for every known entity with no file in those drops
    (docs/bad-input.md#faults)."""
    from clm.ingest.schemas import ENTITIES

    present = {(f.load_date, f"{f.source}/{f.entity}") for f in discover(raw_dir) if f.problem is None}
    return [
        (day, f"{e.source}/{e.name}")
        for day in sorted(load_dates)
        for e in ENTITIES
        if (day, f"{e.source}/{e.name}") not in present
    ]
