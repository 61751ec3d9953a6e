"""Layout, required fields and event times of a clean tree, checked against clm/ingest/schemas.py."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from clm.generate import MANIFEST_NAME
from clm.ingest.schemas import ENTITIES, entity
from tests.generate.helpers import ENTITY_OF, data_files, has_path, instant, parts, records

# docs/landing-zone.md#layout: <source>/<entity>/load_date=YYYY-MM-DD/<any name>.csv|.jsonl|.parquet
LAYOUT = re.compile(
    r"^(crm|billing|support)/([a-z_]+)/load_date=(\d{4}-\d{2}-\d{2})/[^/]+\.(csv|jsonl|parquet)$"
)
# Formats the brief asks for: CRM CSV, billing JSONL, tickets Parquet in the backfill and CSV daily.
FORMAT = {"crm": "csv", "billing": "jsonl"}


def test_every_path_matches_the_layout(tree: tuple[Path, dict]) -> None:
    root, summary = tree
    backfill = summary["load_dates"][0]
    files = data_files(root)
    assert len(files) == summary["files"]
    for path in files:
        m = LAYOUT.match(path.relative_to(root).as_posix())
        assert m, path
        source, name, load_date, ext = m.groups()
        assert ENTITY_OF[name] == source
        assert load_date in summary["load_dates"]
        expected = FORMAT.get(source) or ("parquet" if load_date == backfill else "csv")
        assert ext == expected, path
    # Every entity lands in the backfill and in at least one daily drop.
    seen = {(parts(root, p)[1], str(parts(root, p)[2]) == backfill) for p in files}
    assert seen == {(e.name, b) for e in ENTITIES for b in (True, False)}
    assert (root / MANIFEST_NAME).is_file()


def test_every_file_has_every_required_field(tree: tuple[Path, dict]) -> None:
    root, _ = tree
    optional_seen: set[str] = set()
    for path in data_files(root):
        _, name, _ = parts(root, path)
        ent = entity(ENTITY_OF[name], name)
        if path.suffix == ".csv":
            header = path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
            assert set(ent.required_paths) <= set(header), (path, set(ent.required_paths) - set(header))
            continue
        if path.suffix == ".parquet":
            names = set(pq.read_schema(path).names)
            assert set(ent.required_paths) <= names, path
            continue
        for line, rec in records(path):
            for f in ent.fields:
                if f.required:
                    assert has_path(rec, f.path), (path, line, f.path)
                elif has_path(rec, f.path):
                    optional_seen.add(f"{name}.{f.path}")
            for child in ent.children:
                assert isinstance(rec[child.array_path], list), (path, line)
                for element in rec[child.array_path]:
                    for f in child.fields:
                        assert not f.required or has_path(element, f.path), (
                            path,
                            line,
                            child.array_path,
                            f.path,
                        )
    # metadata.crm_contact_id is optional per record (required=False) but most customers carry it.
    assert "customers.metadata.crm_contact_id" in optional_seen


def test_no_event_time_after_its_load_date_or_before_2000(tree: tuple[Path, dict]) -> None:
    root, _ = tree
    floor = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
    checked = 0
    for path in data_files(root):
        _, name, load_date = parts(root, path)
        # Schemas mark past-event fields with event_time=True; the drop's load date ends at 24:00 UTC.
        limit = datetime.combine(load_date + timedelta(days=1), datetime.min.time(), UTC).timestamp()
        event_fields = [f.path for f in entity(ENTITY_OF[name], name).fields if f.event_time]
        for line, rec in records(path):
            for field in event_fields:
                value = _get(rec, field)
                if value in (None, ""):
                    continue
                t = instant(value)
                assert floor <= t < limit, (path, line, field, value)
                checked += 1
    assert checked > 10_000  # sanity: the check really ran over the whole tree


def test_crm_timestamps_mix_offsets(tree: tuple[Path, dict]) -> None:
    root, _ = tree
    offsets = set()
    for path in data_files(root):
        if parts(root, path)[1] == "contacts":
            offsets |= {rec["created_at"][-6:] for _, rec in records(path)}
    # +00:00 plus US, European and Japanese offsets (catalog.OFFSETS_BY_COUNTRY).
    assert {"+00:00", "-05:00", "+01:00", "+09:00"} <= offsets


def test_manifest_rows_match_files(tree: tuple[Path, dict]) -> None:
    root, summary = tree
    manifest = json.loads((root / MANIFEST_NAME).read_text())
    counted: dict[str, int] = {}
    for entry in manifest["files"]:
        n = sum(1 for _ in records(root / entry["path"]))
        assert n == entry["rows"], entry
        counted[entry["entity"]] = counted.get(entry["entity"], 0) + n
    assert counted == manifest["rows"] == summary["rows"]


def _get(rec: dict, path: str) -> object:
    node: object = rec
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node
