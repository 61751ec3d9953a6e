"""Parquet drops: flat tickets, nested structs and lists, corrupt files."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq

from tests.ingest.conftest import Landing, only


def test_tickets_parquet_columns_in_any_order_and_case(landing: Landing) -> None:
    table = pa.table(
        {
            "Status": ["open", "solved", "weird"],
            "ticket_id": ["t1", "t2", "t3"],
            "requester_email": ["a@x.com", "b@x.com", "c@x.com"],
            "created_at": [datetime(2026, 10, 1), datetime(2026, 10, 2), datetime(2026, 10, 3)],
            "updated_at": ["2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z", "2026-10-03T00:00:00Z"],
            "first_reply_at": [None, "2026-10-02T01:00:00Z", None],
            "solved_at": [None, "2026-10-03T00:00:00Z", None],
            "priority": ["high", "low", "low"],
            "channel": ["email", "chat", "chat"],
            "satisfaction_rating": ["offered", "good", None],
            "reopens": [0, 1, 2],
            "via": ["web", "web", "web"],  # extra column
        }
    )
    path = landing.write("support", "tickets", "2026-10-20", "tickets.parquet", b"")
    pq.write_table(table, path)
    f = only(landing.ingest())
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (3, 2, 1)
    assert landing.rows(
        "select ticket_id, status, created_at, reopens, _row_number from raw.support__tickets order by 1"
    ) == [("t1", "open", "2026-10-01 00:00:00", "0", 1), ("t2", "solved", "2026-10-02 00:00:00", "1", 2)]
    assert landing.quarantine_lines("tickets.parquet") == [
        (3, "status: not one of new, open, pending, hold, solved, closed")
    ]


def test_customers_parquet_nested_struct_and_corrupt_file(landing: Landing) -> None:
    table = pa.table(
        {
            "id": ["cus_1", "cus_2"],
            "email": ["a@x.com", None],
            "created": [1_790_000_000, 1_790_000_001],
            "currency": ["usd", "gbp"],
            "metadata": [{"crm_contact_id": "c1"}, {"crm_contact_id": None}],
        }
    )
    path = landing.write("billing", "customers", "2026-10-20", "customers.parquet", b"")
    pq.write_table(table, path)
    landing.write("billing", "customers", "2026-10-21", "broken.parquet", b"PAR1 this is not parquet")
    loaded, broken = landing.ingest().files
    assert (loaded.rows_read, loaded.rows_loaded) == (2, 2)
    assert landing.rows(
        "select id, created, metadata__crm_contact_id from raw.billing__customers order by 1"
    ) == [
        ("cus_1", "1790000000", "c1"),
        ("cus_2", "1790000001", None),
    ]
    assert broken.status == "quarantined_file"
    [(line, reason)] = landing.quarantine_lines("broken.parquet")
    assert line is None and reason.startswith("unreadable Parquet file")
