"""Find landed files: ``<raw>/<source>/<entity>/load_date=YYYY-MM-DD/<name>.csv|.jsonl|.parquet``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from clm.ingest.schemas import ENTITIES_BY_KEY

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
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

    @property
    def sort_key(self) -> tuple[str, str, date, str]:
        return (self.source or "", self.entity or "", self.load_date or date.min, self.rel_path)


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def classify(raw_dir: Path, path: Path) -> LandedFile:
    rel = path.relative_to(raw_dir).as_posix()
    parts = rel.split("/")
    source, entity = (parts[0], parts[1]) if len(parts) >= 3 else (None, None)
    fmt = FORMATS.get(path.suffix.lower())
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
        problem = f"unknown file extension {path.suffix!r} (expected .csv, .jsonl or .parquet)"
    return LandedFile(path, rel, source, entity, load_date, fmt, problem)


def _walk(raw_dir: Path) -> Iterator[Path]:
    for path in sorted(raw_dir.rglob("*")):
        if not path.is_file():
            continue
        # Top-level names starting with '_' are the landing zone's own bookkeeping (e.g. _manifest.json).
        if path.relative_to(raw_dir).parts[0].startswith("_"):
            continue
        yield path


def discover(raw_dir: Path, as_of: date | None = None) -> list[LandedFile]:
    """Every file under raw_dir in (source, entity, load_date, path) order; drops after as_of left out."""
    if not raw_dir.is_dir():
        return []
    files = [classify(raw_dir, p) for p in _walk(raw_dir)]
    if as_of is not None:
        files = [f for f in files if f.load_date is None or f.load_date <= as_of]
    return sorted(files, key=lambda f: f.sort_key)


def newest_load_date(raw_dir: Path) -> date | None:
    """The newest load_date among well-formed drops (the default as-of date)."""
    dates = [f.load_date for f in discover(raw_dir) if f.problem is None and f.load_date]
    return max(dates, default=None)


def missing_entities(raw_dir: Path, load_dates: set[date]) -> list[tuple[date, str]]:
    """(load_date, "source/entity") for every known entity with no file in those drops (CONTRACT 5)."""
    from clm.ingest.schemas import ENTITIES

    present = {(f.load_date, f"{f.source}/{f.entity}") for f in discover(raw_dir) if f.problem is None}
    return [
        (day, f"{e.source}/{e.name}")
        for day in sorted(load_dates)
        for e in ENTITIES
        if (day, f"{e.source}/{e.name}") not in present
    ]
