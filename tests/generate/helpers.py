"""Readers for a generated landing tree, shared by the generator tests."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pyarrow.parquet as pq

ENTITY_OF = {
    "contacts": "crm",
    "deals": "crm",
    "marketing_spend": "crm",
    "nps_responses": "crm",
    "customers": "billing",
    "subscriptions": "billing",
    "invoices": "billing",
    "charges": "billing",
    "tickets": "support",
}


def data_files(root: Path) -> list[Path]:
    """Every landed file (the root manifest excluded), sorted."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.parent != root)


def sha256_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def parts(root: Path, path: Path) -> tuple[str, str, date]:
    """(source, entity, load date) from <source>/<entity>/load_date=YYYY-MM-DD/<file>."""
    source, entity, folder, _ = path.relative_to(root).parts
    return source, entity, date.fromisoformat(folder.removeprefix("load_date="))


def records(path: Path) -> Iterator[tuple[int, dict]]:
    """(physical line or 1-based Parquet row, record) for each record of a clean file."""
    if path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                yield n, json.loads(line)
    elif path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                yield reader.line_num, row
    else:
        for n, row in enumerate(pq.read_table(path).to_pylist(), start=1):
            yield n, row


def entity_records(root: Path, entity: str) -> Iterator[tuple[date, dict]]:
    for path in data_files(root):
        if path.parts[-3] == entity and path.stat().st_size:
            load_date = parts(root, path)[2]
            for _, rec in records(path):
                yield load_date, rec


def latest(root: Path, entity: str, key: str) -> dict[str, dict]:
    """Newest version of every record: later load dates win (files are read in date order)."""
    out: dict[str, dict] = {}
    for _, rec in sorted(entity_records(root, entity), key=lambda x: x[0]):
        out[rec[key]] = rec
    return out


def has_path(rec: dict, path: str) -> bool:
    """True when the dotted path exists (its value may be null); a null parent counts as present."""
    node: object = rec
    for part in path.split("."):
        if node is None:
            return True
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def instant(value: object) -> float:
    """Seconds since the epoch of a landed timestamp: Unix int, ISO-8601 with offset or Z, or a date."""
    if isinstance(value, int):
        return float(value)
    text = str(value)
    if len(text) == 10:
        return datetime.fromisoformat(text + "T00:00:00+00:00").timestamp()
    return datetime.fromisoformat(text).timestamp()
