"""clm.audit_docs describes exactly the audit tables clm creates, every column of each: publishing applies
these texts as comments (docs/marts.md#descriptions), and a column missing here would reach BI unexplained."""

from __future__ import annotations

from datetime import date

import duckdb

from clm import audit_docs, increments, runs
from clm.ingest.manifest import ensure_manifest
from clm.ingest.quarantine import ensure_quarantine


def _audit_columns() -> dict[str, list[str]]:
    """The audit tables as each module that writes one creates it, in a fresh database."""
    with duckdb.connect() as con:
        runs.ensure_table(con)
        ensure_manifest(con)
        ensure_quarantine(con)
        increments.record_build(con, increments.BuildState("k", date(2024, 3, 2), None))
        found: dict[str, list[str]] = {}
        for table, column in con.execute(
            "select table_name, column_name from duckdb_columns() where schema_name = 'audit' "
            "order by table_name, column_index"
        ).fetchall():
            found.setdefault(table, []).append(column)
    return found


def test_every_audit_table_and_column_is_described():
    created = _audit_columns()
    assert {"runs", "load_manifest", "quarantine", "run_warnings", "gate_results"} <= set(created)
    assert sorted(audit_docs.AUDIT_TABLES) == sorted(created)
    for table, columns in created.items():
        doc = audit_docs.AUDIT_TABLES[table]
        assert doc.description.strip(), table
        assert sorted(doc.columns) == sorted(columns), table
        assert all(text.strip() for text in doc.columns.values()), table


def test_comment_returns_none_for_what_it_does_not_describe():
    assert audit_docs.comment("runs") == audit_docs.AUDIT_TABLES["runs"].description
    assert audit_docs.comment("runs", "status").startswith("running, published, blocked")
    assert audit_docs.comment("runs", "no_such_column") is None
    assert audit_docs.comment("no_such_table") is None
