"""Cheap facts about the landing zone that need no database (for the sensor and the CLI)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_EXTENSIONS = (".csv", ".jsonl", ".parquet", ".csv.gz", ".jsonl.gz")


def landed_files(raw_dir: Path) -> list[Path]:
    if not raw_dir.is_dir():
        return []
    found = [
        Path(root) / name
        for root, _dirs, names in os.walk(raw_dir)
        for name in names
        if name.lower().endswith(_EXTENSIONS)
    ]
    return sorted(found)


def landing_fingerprint(raw_dir: Path) -> str | None:
    """A digest of every landed file's path, size and mtime; None when nothing has landed."""
    files = landed_files(raw_dir)
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        try:
            stat = path.stat()
        except OSError:  # a dangling symlink: ingestion reports it; its own metadata still counts
            stat = path.lstat()
        digest.update(f"{path.relative_to(raw_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]
