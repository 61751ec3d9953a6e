"""Cheap facts about the landing zone that need no database (for the sensor and ``clm.inputs``)."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path


def landing_fingerprint(raw_dir: Path, today: date | None = None) -> str | None:
    """A digest of the landing zone as ingestion would walk it (clm.ingest.discover: the boundary rules
    included): every file's path, size and modification time, whether its drop has fallen due by ``today``
    (a future drop loads on its day although no file changed), and every skipped entry with its reason.
    None when nothing has landed. Content is not read: drops are immutable once landed
    (docs/landing-zone.md#drops-and-incremental-loads), and ingestion checks content by sha256 whenever this
    changes."""
    from clm.context import today_utc
    from clm.ingest.discover import discover

    if not raw_dir.is_dir():
        return None
    today = today or today_utc()
    digest = hashlib.sha256()
    found = sorted(discover(raw_dir), key=lambda f: f.rel_path)
    for landed in found:
        if landed.skip:
            digest.update(f"skipped\0{landed.rel_path}\0{landed.problem}\n".encode())
            continue
        try:
            stat = landed.path.stat()
        except OSError as error:  # vanished or unreadable since the walk
            digest.update(f"unreadable\0{landed.rel_path}\0{type(error).__name__}\n".encode())
            continue
        due = landed.load_date is None or landed.load_date <= today
        digest.update(f"{landed.rel_path}\0{stat.st_size}\0{stat.st_mtime_ns}\0{due}\n".encode())
    return digest.hexdigest() if found else None
