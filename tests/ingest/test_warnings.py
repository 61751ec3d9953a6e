"""Which loaded input becomes a run warning: hand-made ingest results over a hand-made landing zone."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from clm.ingest.results import EMPTY, LOADED, SKIPPED, FileResult, IngestResult
from clm.ingest.schemas import ENTITIES
from clm.ingest.warnings import ingest_warnings


def _file(raw: Path, rel: str, text: str) -> None:
    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _result(rel: str, status: str, day: date, message: str = "") -> FileResult:
    source, entity = rel.split("/")[:2]
    return FileResult(source, entity, day, rel, "sha", status, message=message)


def test_only_faults_become_warnings(tmp_path: Path) -> None:
    day, old = date(2024, 3, 2), date(2024, 3, 1)
    # The 2024-03-02 drop has a file for every entity: an empty JSONL and a header-only CSV are quiet days,
    # a 0-byte CSV is a broken export.
    drop = {f"{e.source}/{e.name}/load_date={day}/{e.name}.csv": "h\n" for e in ENTITIES}
    drop["billing/invoices/load_date=2024-03-02/invoices.csv"] = ""
    for rel, text in drop.items():
        _file(tmp_path, rel, text)
    _file(tmp_path, "billing/charges/load_date=2024-03-02/charges.jsonl", "")
    # The 2024-03-01 drop, already loaded by an earlier run, lacks most entities: not this run's news.
    _file(tmp_path, "crm/deals/load_date=2024-03-01/deals.csv", "h\nx\n")

    result = IngestResult("run")
    result.files = [
        _result("billing/invoices/load_date=2024-03-02/invoices.csv", EMPTY, day),
        _result("billing/charges/load_date=2024-03-02/charges.jsonl", EMPTY, day),
        _result(
            "crm/contacts/load_date=2024-03-02/contacts.csv",
            LOADED,
            day,
            "2 rows quarantined; warning: 1 rows share a primary key within the drop (newest wins)",
        ),
        _result("crm/deals/load_date=2024-03-01/deals.csv", SKIPPED, old),
    ]
    assert ingest_warnings(result, tmp_path) == [
        ("billing/invoices/load_date=2024-03-02/invoices.csv", "empty file: not even a header"),
        (
            "crm/contacts/load_date=2024-03-02/contacts.csv",
            "warning: 1 rows share a primary key within the drop (newest wins)",
        ),
    ]


def test_an_entity_missing_from_a_new_drop_is_a_warning(tmp_path: Path) -> None:
    day = date(2024, 3, 2)
    for e in ENTITIES:
        if e.name != "tickets":
            _file(tmp_path, f"{e.source}/{e.name}/load_date={day}/{e.name}.csv", "h\n")
    result = IngestResult("run")
    result.files = [_result(f"crm/deals/load_date={day}/deals.csv", EMPTY, day)]
    assert ingest_warnings(result, tmp_path) == [
        ("support/tickets load_date=2024-03-02", "no file for this entity in the drop")
    ]
