"""What the published ``audit`` tables and their columns mean (docs/marts.md#audit-schema), for BI.

The marts' descriptions live in their dbt YAML and reach the build as comments (persist_docs); the audit
tables are written by clm, so their descriptions live here. Publishing applies them as table and column
comments on both targets (``clm.publish``, ``clm.targets.postgres``). tests/test_audit_docs.py checks that
every column the build's audit tables have is described here.

Only the standard library: the publisher imports it on every target.
"""

from __future__ import annotations

from dataclasses import dataclass

AUDIT_SCHEMA = "audit"

_RUN_ID = "The clm run (Dagster run id) this row belongs to; joins audit.runs."


@dataclass(frozen=True)
class TableDoc:
    description: str
    columns: dict[str, str]


AUDIT_TABLES: dict[str, TableDoc] = {
    "runs": TableDoc(
        "One row per clm run that got past ingestion: what it did and whether its marts were published "
        "(docs/marts.md#audit-schema).",
        {
            "run_id": "The clm run (Dagster run id).",
            "started_at": "When the run started (UTC).",
            "finished_at": "When the run ended (UTC); null while it runs.",
            "status": "running, published, blocked (the quality gate or a dbt test refused it), failed, "
            "skipped (another run held the data directory), unchanged (nothing new to publish) or partial "
            "(only some assets were run).",
            "as_of": "The as-of date every model measured time from (docs/marts.md#time).",
            "target": "Where the run built and published: duckdb or postgres.",
            "message": "Why the run ended as it did, in a sentence.",
        },
    ),
    "load_manifest": TableDoc(
        "One row per landed file a run processed, with its record accounting: "
        "rows_read = rows_loaded + rows_quarantined (docs/bad-input.md#record-accounting).",
        {
            "run_id": _RUN_ID,
            "source": "The source system of the file: crm, billing or support.",
            "entity": "The entity the file holds (contacts, invoices, tickets, ...).",
            "load_date": "The drop's load date, from its folder name (docs/landing-zone.md).",
            "file_path": "The file's path under the landing zone.",
            "sha256": "SHA-256 of the file's bytes: a re-sent identical file is recognised and skipped.",
            "format": "The file's format: csv, jsonl or parquet (gzip-compressed csv and jsonl too).",
            "status": "What happened to the file: loaded, skipped_already_loaded, duplicate, "
            "quarantined_file, empty or quarantined_future_drop.",
            "rows_read": "Records read from the file.",
            "rows_loaded": "Records loaded into the raw tables.",
            "rows_quarantined": "Records rejected into audit.quarantine.",
            "message": "Why the file was not loaded whole, if it was not; null otherwise.",
            "loaded_at": "When the file was processed (UTC).",
        },
    ),
    "quarantine": TableDoc(
        "One row per rejected record or file, with the rule it broke; no record text and no personal data "
        "(the text stays under CLM_DATA_DIR).",
        {
            "run_id": _RUN_ID,
            "source": "The source system of the file: crm, billing or support.",
            "entity": "The entity the file holds.",
            "file_path": "The file's path under the landing zone.",
            "line": "The rejected record's line (or record number) in the file; null for a whole file.",
            "reason": "The field and the rule it broke, never the value.",
            "quarantined_at": "When the record or file was rejected (UTC).",
        },
    ),
    "run_warnings": TableDoc(
        "What did not block a run but deserves a look: input that loaded with a fault, dbt tests that "
        "warned, CLV fits that were skipped, marts published without a quality-gate suite.",
        {
            "run_id": _RUN_ID,
            "origin": "The step that raised it: ingest, dbt, gate, clv or publish.",
            "subject": "What it is about: a file, a dbt test, a table or a CLV segment.",
            "message": "What was found and what to do about it.",
            "recorded_at": "When it was recorded (UTC).",
        },
    ),
    "gate_results": TableDoc(
        "The quality gate's verdict on a run's build; publishing refuses a run without a passing verdict "
        "over exactly the marts it copies.",
        {
            "run_id": _RUN_ID,
            "passed": "True when the gate let the run publish.",
            "marts_fingerprint": "A digest of the rows of the marts the gate validated; null when it failed.",
            "message": "The gate's verdict in a sentence: what failed, if anything.",
            "checked_at": "When the gate ran (UTC).",
        },
    ),
}


def comment(table: str, column: str | None = None) -> str | None:
    """The description of ``audit.<table>`` (or of one of its columns), None when it has none."""
    doc = AUDIT_TABLES.get(table)
    if doc is None:
        return None
    return doc.description if column is None else doc.columns.get(column)
