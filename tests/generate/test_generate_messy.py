"""--messy: every fault kind of docs/bad-input.md#faults is injected, listed in the manifest, and really where
it says."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from clm.generate import MANIFEST_NAME
from clm.ingest.schemas import DEFAULT_ABSURD_AMOUNT, entity
from tests.generate.helpers import ENTITY_OF, data_files, entity_records, instant

# The fault list of the brief / docs/bad-input.md#faults, one name per fault.
KINDS = {
    "malformed_csv_row",
    "wrong_type",
    "missing_required_column",
    "extra_columns",
    "empty_file",
    "duplicate_file",
    "duplicate_key",
    "non_utf8",
    "negative_amount",
    "absurd_amount",
    "future_timestamp",
    "timestamp_before_2000",
    "unknown_currency",
    "orphan_foreign_key",
    "missing_entity",
    "malformed_json",
}
# Outcomes the brief assigns: extra columns, orphan FKs, duplicate keys and a missing entity only warn;
# so does an empty file (clm.ingest records it as empty with a message; there is nothing to quarantine).
WARN = {"extra_columns", "orphan_foreign_key", "duplicate_key", "missing_entity", "empty_file"}
WHOLE_FILE = {
    "missing_required_column": "file_quarantined",
    "empty_file": "loaded_with_warning",
    "duplicate_file": "duplicate_file",
    "extra_columns": "loaded_with_warning",
    "missing_entity": "loaded_with_warning",
}
CURRENCIES = {"usd", "eur", "gbp", "jpy", "cad", "aud", "chf"}  # seeds/currencies.csv
MINOR = {"usd": 100, "eur": 100, "gbp": 100, "jpy": 1}


def test_manifest_lists_every_fault_kind_with_its_outcome(messy_tree: tuple[Path, dict]) -> None:
    root, summary = messy_tree
    manifest = json.loads((root / MANIFEST_NAME).read_text())
    faults = manifest["faults"]
    assert faults == summary["faults"]
    assert {f["kind"] for f in faults} == KINDS
    for f in faults:
        if f["kind"] in WHOLE_FILE:
            assert f["line"] is None and f["expected"] == WHOLE_FILE[f["kind"]], f
        else:
            assert isinstance(f["line"], int) and f["line"] >= 1, f
            assert f["expected"] == ("loaded_with_warning" if f["kind"] in WARN else "row_quarantined"), f
    # Still mostly clean: a few dozen bad rows against thousands of good ones.
    assert len(faults) < 40 < sum(manifest["rows"].values()) / 10


def test_each_listed_line_is_the_faulty_one(messy_tree: tuple[Path, dict]) -> None:
    root, _ = messy_tree
    faults = json.loads((root / MANIFEST_NAME).read_text())["faults"]
    customer_ids = {rec["id"] for _, rec in entity_records(root, "customers")}
    listed: dict[str, set[int]] = {}
    for f in faults:
        path = root / f["file"]
        name = path.parts[-3] if f["kind"] != "missing_entity" else path.parts[-2]
        if f["kind"] == "missing_entity":
            assert not path.exists()
            siblings = [p for p in (root / path.parent).iterdir() if p.name != path.name]
            assert len(siblings) >= 10  # the entity lands in the other daily drops
            continue
        data = path.read_bytes()
        if f["line"] is None:
            _check_whole_file(root, f["kind"], path, data, name)
            continue
        listed.setdefault(f["file"], set()).add(f["line"])
        raw = data.split(b"\n")[f["line"] - 1]
        load_date = date.fromisoformat(path.parts[-2].removeprefix("load_date="))
        _check_line(f["kind"], path, data, raw, name, load_date, customer_ids)
    # Lines not listed in those files are well-formed (UTF-8, parseable, right width).
    for rel, lines in listed.items():
        path = root / rel
        physical = path.read_bytes().split(b"\n")[:-1]
        for n, raw in enumerate(physical, start=1):
            if n not in lines and not (path.suffix == ".csv" and n == 1):
                text = raw.decode("utf-8")
                if path.suffix == ".jsonl":
                    json.loads(text)
                else:
                    header = physical[0].decode().split(",")
                    assert len(next(csv.reader([text]))) == len(header), (rel, n)


def _check_whole_file(root: Path, kind: str, path: Path, data: bytes, name: str) -> None:
    header = set(data.split(b"\n", 1)[0].decode().split(","))
    fields = {f.path for f in entity(ENTITY_OF[name], name).fields}
    required = set(entity(ENTITY_OF[name], name).required_paths)
    if kind == "empty_file":
        assert data == b""
    elif kind == "missing_required_column":
        assert required - header
    elif kind == "extra_columns":
        assert required <= header and header - fields - {"deal_name", "pipeline"}
    elif kind == "duplicate_file":
        digest = hashlib.sha256(data).hexdigest()
        twins = [
            p
            for p in data_files(root)
            if p.parts[-3] == name
            and p.parent != path.parent
            and hashlib.sha256(p.read_bytes()).hexdigest() == digest
        ]
        assert twins, path
    else:
        raise AssertionError(kind)


def _check_line(
    kind: str, path: Path, data: bytes, raw: bytes, name: str, load_date: date, customer_ids: set[str]
) -> None:
    end_of_load_date = datetime.combine(load_date + timedelta(days=1), datetime.min.time(), UTC).timestamp()
    ent = entity(ENTITY_OF[name], name)
    if kind == "non_utf8":
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return
        raise AssertionError("line decodes as UTF-8")
    if kind == "malformed_json":
        try:
            json.loads(raw)
        except json.JSONDecodeError:
            return
        raise AssertionError("line is valid JSON")
    text = raw.decode("utf-8")
    if kind == "malformed_csv_row":
        header = data.split(b"\n", 1)[0].decode().split(",")
        assert text.count('"') % 2 == 1 or len(next(csv.reader([text]))) != len(header), text
        return
    rec = _record(path, data, text)
    events = [rec.get(f.path) for f in ent.fields if f.event_time and rec.get(f.path) not in (None, "")]
    if kind == "wrong_type":
        assert any(
            not _well_typed(rec.get(f.path), f.kind) for f in ent.fields if rec.get(f.path) is not None
        )
    elif kind == "future_timestamp":
        assert any(instant(v) >= end_of_load_date for v in events), rec
    elif kind == "timestamp_before_2000":
        assert any(instant(v) < datetime(2000, 1, 1, tzinfo=UTC).timestamp() for v in events), rec
    elif kind == "negative_amount":
        assert rec["amount"] < 0
    elif kind == "absurd_amount":
        amount = rec.get("amount", rec.get("amount_due"))
        assert amount / MINOR[rec["currency"]] > DEFAULT_ABSURD_AMOUNT
    elif kind == "unknown_currency":
        assert rec["currency"].lower() not in CURRENCIES
    elif kind == "orphan_foreign_key":
        assert rec["customer"] not in customer_ids
    elif kind == "duplicate_key":
        key = rec[ent.primary_key[0]]
        others = [r for p in path.parent.iterdir() if p != path for _, r in _csv_records(p)]
        assert any(r[ent.primary_key[0]] == key for r in others)
    else:
        raise AssertionError(kind)


def _record(path: Path, data: bytes, text: str) -> dict:
    if path.suffix == ".jsonl":
        return json.loads(text)
    header = data.split(b"\n", 1)[0].decode().split(",")
    return dict(zip(header, next(csv.reader([text])), strict=True))


def _csv_records(path: Path):
    with open(path, encoding="utf-8", newline="") as fh:
        yield from enumerate(csv.DictReader(fh))


def _well_typed(value: object, kind: str) -> bool:
    try:
        if kind in ("integer", "minor_amount", "unix_timestamp"):
            int(str(value))
        elif kind == "iso_timestamp":
            datetime.fromisoformat(str(value))
        return True
    except ValueError:
        return False
