"""Streaming writers: one open file per (entity, drop), written record by record.

Memory stays flat whatever the number of customers: CSV and JSONL rows go straight to buffered files, and
Parquet rows are buffered in bounded row groups. Output bytes depend only on the records written, in order.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from clm.generate.layout import DropLayout, iso, iso_z

PARQUET_ROW_GROUP = 16_384
_BUFFER = 1 << 16


@dataclass(frozen=True)
class EntitySpec:
    source: str
    name: str
    # Formats: by drop index, "csv", "jsonl" or "parquet".
    backfill_format: str
    daily_format: str
    columns: tuple[str, ...] = ()  # CSV/Parquet column order (JSONL writes the record as is)
    timestamps: tuple[str, ...] = ()  # columns holding Unix seconds to render as ISO-8601
    utc_z: bool = False  # render timestamps in UTC with "Z" (Zendesk) instead of the record's "_tz" offset
    integers: tuple[str, ...] = ()  # Parquet int64 columns (the rest are strings)

    def format_of(self, drop: int) -> str:
        return self.backfill_format if drop == 0 else self.daily_format

    def folder(self, load_date: str) -> str:
        return f"{self.source}/{self.name}/load_date={load_date}"


SPECS: dict[str, EntitySpec] = {
    s.name: s
    for s in (
        EntitySpec(
            "crm",
            "contacts",
            "csv",
            "csv",
            columns=(
                "contact_id",
                "email",
                "first_name",
                "last_name",
                "company",
                "country",
                "segment",
                "acquisition_channel",
                "referred_by_contact_id",
                "lifecycle_stage",
                "created_at",
                "updated_at",
                "is_deleted",
            ),
            timestamps=("created_at", "updated_at"),
        ),
        EntitySpec(
            "crm",
            "deals",
            "csv",
            "csv",
            columns=(
                "deal_id",
                "contact_id",
                "deal_name",
                "pipeline",
                "deal_stage",
                "amount",
                "currency",
                "created_at",
                "closed_at",
            ),
            timestamps=("created_at", "closed_at"),
        ),
        EntitySpec(
            "crm", "marketing_spend", "csv", "csv", columns=("spend_date", "channel", "amount", "currency")
        ),
        EntitySpec(
            "crm",
            "nps_responses",
            "csv",
            "csv",
            columns=("response_id", "contact_id", "score", "survey", "responded_at"),
            timestamps=("responded_at",),
        ),
        EntitySpec("billing", "customers", "jsonl", "jsonl"),
        EntitySpec("billing", "subscriptions", "jsonl", "jsonl"),
        EntitySpec("billing", "invoices", "jsonl", "jsonl"),
        EntitySpec("billing", "charges", "jsonl", "jsonl"),
        EntitySpec(
            "support",
            "tickets",
            "parquet",
            "csv",
            columns=(
                "ticket_id",
                "requester_email",
                "subject",
                "type",
                "status",
                "priority",
                "channel",
                "created_at",
                "updated_at",
                "first_reply_at",
                "solved_at",
                "satisfaction_rating",
                "reopens",
            ),
            timestamps=("created_at", "updated_at", "first_reply_at", "solved_at"),
            utc_z=True,
            integers=("reopens",),
        ),
    )
}


def _render(spec: EntitySpec, rec: dict) -> list:
    """Column values as text-ready scalars: ISO timestamps, lower-case booleans, None for nulls."""
    row = [rec[c] for c in spec.columns]
    for k, c in enumerate(spec.columns):
        v = row[k]
        if v is None:
            continue
        if c in spec.timestamps:
            row[k] = iso_z(v) if spec.utc_z else iso(v, rec["_tz"])
        elif v is True or v is False:
            row[k] = "true" if v else "false"
    return row


class _CsvFile:
    def __init__(self, path: Path, spec: EntitySpec) -> None:
        self.spec = spec
        self.fh: IO[str] = open(path, "w", encoding="utf-8", newline="", buffering=_BUFFER)  # noqa: SIM115
        self.writer = csv.writer(self.fh, lineterminator="\n")
        self.writer.writerow(spec.columns)

    def write(self, rec: dict) -> None:
        self.writer.writerow(_render(self.spec, rec))

    def close(self) -> None:
        self.fh.close()


class _JsonlFile:
    def __init__(self, path: Path, spec: EntitySpec) -> None:
        self.fh: IO[str] = open(path, "w", encoding="utf-8", newline="\n", buffering=_BUFFER)  # noqa: SIM115
        self.dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

    def write(self, rec: dict) -> None:
        self.fh.write(self.dumps(rec))
        self.fh.write("\n")

    def close(self) -> None:
        self.fh.close()


class _ParquetFile:
    """Bounded row groups: at most PARQUET_ROW_GROUP rows are held before they are flushed."""

    def __init__(self, path: Path, spec: EntitySpec) -> None:
        # pyarrow (0.3 s to import) only when a Parquet file is written: `clm` imports this package for
        # every command, `clm run` included.
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.spec = spec
        self.table_from_arrays = pa.Table.from_arrays
        self.schema = pa.schema(
            [pa.field(c, pa.int64() if c in spec.integers else pa.string()) for c in spec.columns]
        )
        # Fixed options: same rows, same bytes (no timestamps or host data in Parquet metadata).
        self.writer = pq.ParquetWriter(
            path, self.schema, compression="zstd", compression_level=3, use_dictionary=True, version="2.6"
        )
        self.buffer: list[list] = [[] for _ in spec.columns]

    def write(self, rec: dict) -> None:
        for col, v in zip(self.buffer, _render(self.spec, rec), strict=True):
            col.append(v)
        if len(self.buffer[0]) >= PARQUET_ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self.buffer[0]:
            self.writer.write_table(self.table_from_arrays(self.buffer, schema=self.schema))
            self.buffer = [[] for _ in self.spec.columns]

    def close(self) -> None:
        self._flush()
        self.writer.close()


_FORMATS = {"csv": _CsvFile, "jsonl": _JsonlFile, "parquet": _ParquetFile}


class DropWriters:
    """Opens a file the first time a record arrives for its (entity, drop); counts rows per file.

    ``drops``, when given, are the only drops written (``--append-day`` writes the newest one); records for
    other drops are dropped silently.
    """

    def __init__(self, out_dir: Path, layout: DropLayout, drops: range | None = None) -> None:
        self.out_dir = out_dir
        self.load_dates = [d.isoformat() for d in layout.load_dates]
        self.drops = drops if drops is not None else range(len(self.load_dates))
        self.files: dict[tuple[str, int], _CsvFile | _JsonlFile | _ParquetFile] = {}
        self.rows: dict[tuple[str, int], int] = {}

    def path(self, entity: str, drop: int) -> str:
        """Relative path, e.g. crm/contacts/load_date=2026-10-17/contacts-2026-10-17.csv."""
        spec, load_date = SPECS[entity], self.load_dates[drop]
        return f"{spec.folder(load_date)}/{entity}-{load_date}.{spec.format_of(drop)}"

    def _open(self, entity: str, drop: int):
        path = self.out_dir / self.path(entity, drop)
        path.parent.mkdir(parents=True, exist_ok=True)
        spec = SPECS[entity]
        f = _FORMATS[spec.format_of(drop)](path, spec)
        self.files[(entity, drop)] = f
        self.rows[(entity, drop)] = 0
        return f

    def write(self, entity: str, drop: int, rec: dict) -> None:
        f = self.files.get((entity, drop))
        if f is None:
            if drop not in self.drops:
                return
            f = self._open(entity, drop)
        f.write(rec)
        self.rows[(entity, drop)] += 1

    def close(self) -> list[tuple[str, str, int]]:
        """Close everything; every entity gets a file in every drop, as scheduled exports do (header-only
        CSV, 0-byte JSONL), so a missing entity in a drop stands out as the fault it is.

        Returns (entity, relative path, rows) for every file, in a fixed order.
        """
        for entity, spec in SPECS.items():
            for drop in self.drops:
                if (entity, drop) not in self.files and spec.format_of(drop) in ("csv", "jsonl"):
                    self._open(entity, drop)
        for f in self.files.values():
            f.close()
        return [
            (e, self.path(e, d), self.rows[(e, d)]) for e in SPECS for d in self.drops if (e, d) in self.files
        ]
