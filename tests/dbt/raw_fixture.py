"""A tiny hand-written raw layer (docs/landing-zone.md#entities as landed by ingestion) for the dbt tests.

Tables and columns come from ``clm.ingest.schemas`` (every field VARCHAR + audit columns; child tables carry
the parent key, an index and the parent row's audit columns), so the fixture follows the ingestion interface.
The rows are written by hand; test_dbt_build.py states the results computed from them by hand.

Story (as of 2024-03-31):
* CRM contacts c1 (alice), c2 (bob, a second version on 2024-02-29 changes segment to enterprise, a third one
  landing 2024-04-15 lies after the as-of date), c3 (carol), c4 (dave, soft-deleted).
* billing customers: cus_a links to c1 by metadata.crm_contact_id; cus_b has '  BOB@Example.COM ' and
  matches c2 by email; cus_c (erin) matches nothing; cus_d links to the deleted c4 and has its email, so it
  matches nothing; cus_e names a contact that does not exist (c999) and falls back to carol's email.
* invoices: in_1 JPY 4980 paid (cus_b), in_2 EUR 19.99 paid (cus_c), in_3 USD open then paid in a later drop
  (cus_a, lines replaced), in_4 paid but landing after the as-of date (cus_e).
* tickets: t1 carol (second version solved), t2 erin, t3 nobody.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from clm.ingest.schemas import ENTITIES

# Unix seconds, hand-computed from 2024-01-01T00:00:00Z = 1704067200 (+ days x 86400).
JAN_03 = 1704240000
JAN_06 = 1704499200
JAN_25 = 1706140800
FEB_01 = 1706745600
FEB_10 = 1707523200
MAR_05 = 1709596800
MAR_10 = 1710028800
APR_05 = 1712275200


def raw_tables() -> dict[str, tuple[list[str], dict[str, str]]]:
    """table name -> (columns, {column: type}) for every raw table, from schemas.py."""
    audit = {
        "_run_id": "VARCHAR",
        "_source_file": "VARCHAR",
        "_load_date": "DATE",
        "_row_number": "BIGINT",
        "_loaded_at": "TIMESTAMP",
    }
    tables: dict[str, tuple[list[str], dict[str, str]]] = {}
    for entity in ENTITIES:
        columns = {f.column: "VARCHAR" for f in entity.fields} | audit
        tables[entity.table] = (list(columns), columns)
        for child in entity.children:
            columns = {child.parent_key_column: "VARCHAR", child.index_column: "BIGINT"}
            columns |= {f.column: "VARCHAR" for f in child.fields} | audit
            tables[child.table] = (list(columns), columns)
    return tables


def _drop(table: str, load_date: str, rows: Iterable[dict], name: str = "part-0") -> list[dict]:
    """Rows of one landed file, with the audit columns ingestion adds."""
    source, entity = table.split("__", 1)
    ext = {"crm": "csv", "billing": "jsonl", "support": "csv"}[source]
    out = []
    for number, row in enumerate(rows, start=2 if ext == "csv" else 1):
        out.append(
            row
            | {
                "_run_id": "fixture",
                "_source_file": f"{source}/{entity}/load_date={load_date}/{name}.{ext}",
                "_load_date": dt.date.fromisoformat(load_date),
                "_row_number": number,
                "_loaded_at": dt.datetime.fromisoformat(load_date) + dt.timedelta(hours=6),
            }
        )
    return out


def _children(parent_rows: list[dict], key: str, children: dict[str, list[dict]], index: str) -> list[dict]:
    """Child rows carry the parent key, their index and the parent row's audit columns."""
    out = []
    for parent in parent_rows:
        for i, child in enumerate(children.get(parent["id"], [])):
            out.append(
                child
                | {key: parent["id"], index: i}
                | {
                    c: parent[c]
                    for c in ("_run_id", "_source_file", "_load_date", "_row_number", "_loaded_at")
                }
            )
    return out


def raw_rows() -> dict[str, list[dict]]:
    contacts = (
        _drop(
            "crm__contacts",
            "2024-01-31",
            [
                {
                    "contact_id": "c1",
                    "email": " Alice@Example.com ",
                    "first_name": "Alice",
                    "last_name": "A",
                    "company": "Acme",
                    "country": "us",
                    "segment": "smb",
                    "acquisition_channel": "Paid_Search",
                    "created_at": "2024-01-05T10:00:00+02:00",
                    "updated_at": "2024-01-05T10:00:00+02:00",
                    "is_deleted": "false",
                },
                {
                    "contact_id": "c2",
                    "email": "bob@example.com",
                    "first_name": "Bob",
                    "country": "DE",
                    "segment": "Mid_Market",
                    "acquisition_channel": "organic",
                    "created_at": "2024-01-10T09:00:00-05:00",
                    "updated_at": "2024-01-10T09:00:00-05:00",
                    "is_deleted": "f",
                },
                {
                    "contact_id": "c3",
                    "email": "carol@example.com",
                    "first_name": "Carol",
                    "country": "gb",
                    "segment": "enterprise",
                    "acquisition_channel": "referral",
                    "referred_by_contact_id": "c1",
                    "created_at": "2024-01-20T12:00:00Z",
                    "updated_at": "2024-01-20T12:00:00Z",
                    "is_deleted": "0",
                },
                {
                    "contact_id": "c4",
                    "email": "dave@example.com",
                    "first_name": "Dave",
                    "country": "FR",
                    "segment": "smb",
                    "acquisition_channel": "organic",
                    "created_at": "2024-01-21T12:00:00Z",
                    "updated_at": "2024-01-22T12:00:00Z",
                    "is_deleted": "TRUE",
                },
            ],
        )
        + _drop(
            "crm__contacts",
            "2024-02-29",
            [
                {
                    "contact_id": "c2",
                    "email": "bob@example.com",
                    "first_name": "Bob",
                    "country": "de",
                    "segment": "enterprise",
                    "acquisition_channel": "organic",
                    "created_at": "2024-01-10T09:00:00-05:00",
                    "updated_at": "2024-02-15T00:00:00Z",
                    "is_deleted": "no",
                },
            ],
        )
        + _drop(
            "crm__contacts",
            "2024-04-15",
            [
                {
                    "contact_id": "c2",
                    "email": "bob@example.com",
                    "first_name": "Bob",
                    "country": "DE",
                    "segment": "smb",
                    "acquisition_channel": "organic",
                    "created_at": "2024-01-10T09:00:00-05:00",
                    "updated_at": "2024-04-10T00:00:00Z",
                    "is_deleted": "false",
                },
            ],
        )
    )
    deals = _drop(
        "crm__deals",
        "2024-02-29",
        [
            {
                "deal_id": "d1",
                "contact_id": "c1",
                "deal_stage": "won",
                "amount": "1000.00",
                "currency": "eur",
                "created_at": "2024-01-15T00:00:00Z",
                "closed_at": "2024-02-20T00:00:00Z",
            },
        ],
    )
    spend = _drop(
        "crm__marketing_spend",
        "2024-02-29",
        [
            {"spend_date": "2024-02-15", "channel": "paid_search", "amount": "100.50", "currency": "GBP"},
        ],
    )
    nps = _drop(
        "crm__nps_responses",
        "2024-02-29",
        [
            {
                "response_id": "r1",
                "contact_id": "c1",
                "score": "9",
                "responded_at": "2024-02-20T10:00:00+01:00",
            },
        ],
    )
    customers = _drop(
        "billing__customers",
        "2024-01-31",
        [
            {
                "id": "cus_a",
                "email": "alice-billing@example.com",
                "created": str(JAN_06),
                "currency": "usd",
                "metadata__crm_contact_id": "c1",
            },
            {"id": "cus_b", "email": "  BOB@Example.COM ", "created": str(JAN_03), "currency": "jpy"},
            {
                "id": "cus_d",
                "email": "dave@example.com",
                "created": str(JAN_25),
                "currency": "usd",
                "metadata__crm_contact_id": "c4",
            },
        ],
    ) + _drop(
        "billing__customers",
        "2024-02-29",
        [
            {"id": "cus_c", "email": "Erin@Example.com", "created": str(FEB_01), "currency": "eur"},
            {
                "id": "cus_e",
                "email": "carol@example.com",
                "created": str(FEB_10),
                "currency": "usd",
                "metadata__crm_contact_id": "c999",
            },
        ],
    )
    subscriptions = _drop(
        "billing__subscriptions",
        "2024-02-29",
        [
            {
                "id": "sub_1",
                "customer": "cus_b",
                "status": "active",
                "created": str(FEB_10),
                "start_date": str(FEB_10),
                "cancel_at_period_end": "false",
            },
        ],
    )
    subscription_items = _children(
        subscriptions,
        "subscription_id",
        {
            "sub_1": [
                {
                    "id": "si_1",
                    "price__id": "price_jpy",
                    "price__unit_amount": "4980",
                    "price__currency": "jpy",
                    "price__recurring__interval": "month",
                    "price__recurring__interval_count": "1",
                    "quantity": "1",
                },
            ]
        },
        "item_index",
    )
    invoices_jan_feb = _drop(
        "billing__invoices",
        "2024-02-29",
        [
            {
                "id": "in_1",
                "customer": "cus_b",
                "subscription": "sub_1",
                "status": "paid",
                "currency": "jpy",
                "created": str(FEB_10),
                "status_transitions__paid_at": str(FEB_10 + 3600),
                "amount_due": "4980",
                "amount_paid": "4980",
            },
            {
                "id": "in_3",
                "customer": "cus_a",
                "status": "open",
                "currency": "usd",
                "created": str(FEB_01),
                "amount_due": "2500",
                "amount_paid": "0",
            },
        ],
    )
    invoices_mar = _drop(
        "billing__invoices",
        "2024-03-15",
        [
            {
                "id": "in_2",
                "customer": "cus_c",
                "status": "paid",
                "currency": "EUR",
                "created": str(MAR_05),
                "status_transitions__paid_at": str(MAR_05 + 3600),
                "amount_due": "1999",
                "amount_paid": "1999",
            },
            {
                "id": "in_3",
                "customer": "cus_a",
                "status": "paid",
                "currency": "usd",
                "created": str(FEB_01),
                "status_transitions__paid_at": str(MAR_10),
                "amount_due": "2500",
                "amount_paid": "2500",
            },
        ],
    )
    invoices_apr = _drop(
        "billing__invoices",
        "2024-04-10",
        [
            {
                "id": "in_4",
                "customer": "cus_e",
                "status": "paid",
                "currency": "usd",
                "created": str(APR_05),
                "status_transitions__paid_at": str(APR_05),
                "amount_due": "900",
                "amount_paid": "900",
            },
        ],
    )
    line = {"type": "subscription", "proration": "false", "quantity": "1"}
    invoice_lines = (
        _children(
            invoices_jan_feb,
            "invoice_id",
            {
                "in_1": [
                    line
                    | {
                        "id": "il_1",
                        "amount": "4980",
                        "currency": "jpy",
                        "period__start": str(FEB_10),
                        "period__end": str(FEB_10 + 29 * 86400),
                    }
                ],
                "in_3": [line | {"id": "il_3_old", "amount": "2500", "currency": "usd"}],
            },
            "line_index",
        )
        + _children(
            invoices_mar,
            "invoice_id",
            {
                "in_2": [line | {"id": "il_2", "amount": "1999", "currency": "eur"}],
                "in_3": [
                    line | {"id": "il_3_a", "amount": "2000", "currency": "usd"},
                    line | {"id": "il_3_b", "amount": "500", "type": "invoiceitem"},
                ],
            },
            "line_index",
        )
        + _children(
            invoices_apr,
            "invoice_id",
            {
                "in_4": [line | {"id": "il_4", "amount": "900", "currency": "usd"}],
            },
            "line_index",
        )
    )
    charges = _drop(
        "billing__charges",
        "2024-02-29",
        [
            {
                "id": "ch_0",
                "customer": "cus_a",
                "invoice": "in_3",
                "amount": "2500",
                "amount_refunded": "0",
                "currency": "usd",
                "status": "failed",
                "failure_code": "card_declined",
                "created": str(FEB_01),
            },
        ],
    ) + _drop(
        "billing__charges",
        "2024-03-15",
        [
            {
                "id": "ch_1",
                "customer": "cus_a",
                "invoice": "in_3",
                "amount": "2500",
                "amount_refunded": "0",
                "currency": "usd",
                "status": "succeeded",
                "created": str(MAR_10),
            },
        ],
    )
    tickets = _drop(
        "support__tickets",
        "2024-01-31",
        [
            {
                "ticket_id": "t1",
                "requester_email": " carol@EXAMPLE.com",
                "created_at": "2024-01-15T08:00:00+01:00",
                "updated_at": "2024-01-15T08:00:00+01:00",
                "status": "open",
                "priority": "high",
                "channel": "email",
                "satisfaction_rating": "unoffered",
                "reopens": "0",
            },
        ],
    ) + _drop(
        "support__tickets",
        "2024-02-29",
        [
            {
                "ticket_id": "t1",
                "requester_email": " carol@EXAMPLE.com",
                "created_at": "2024-01-15T08:00:00+01:00",
                "updated_at": "2024-01-16T09:00:00+01:00",
                "first_reply_at": "2024-01-15T09:00:00+01:00",
                "solved_at": "2024-01-16T09:00:00+01:00",
                "status": "Solved",
                "priority": "high",
                "channel": "email",
                "satisfaction_rating": "good",
                "reopens": "0",
            },
            {
                "ticket_id": "t2",
                "requester_email": "erin@example.com",
                "created_at": "2024-02-02T00:00:00Z",
                "updated_at": "2024-02-02T00:00:00Z",
                "status": "new",
                "priority": "low",
                "channel": "web",
                "reopens": "0",
            },
            {
                "ticket_id": "t3",
                "requester_email": "nobody@example.com",
                "created_at": "2024-02-03T00:00:00Z",
                "updated_at": "2024-02-03T00:00:00Z",
                "status": "new",
                "priority": "low",
                "channel": "web",
                "reopens": "0",
            },
        ],
    )
    return {
        "crm__contacts": contacts,
        "crm__deals": deals,
        "crm__marketing_spend": spend,
        "crm__nps_responses": nps,
        "billing__customers": customers,
        "billing__subscriptions": subscriptions,
        "billing__subscription_items": subscription_items,
        "billing__invoices": invoices_jan_feb + invoices_mar + invoices_apr,
        "billing__invoice_lines": invoice_lines,
        "billing__charges": charges,
        "support__tickets": tickets,
    }


def load(execute, placeholder: str, rows: dict[str, list[dict]] | None = None) -> None:
    """Create schema raw with every raw table and load ``rows`` (default: this fixture's) with a DB-API-like
    ``execute(sql, params=None)``."""
    execute("create schema if not exists raw")
    rows = raw_rows() if rows is None else rows
    for table, (columns, types) in raw_tables().items():
        ddl = ", ".join(f"{c} {types[c]}" for c in columns)
        execute(f"create table raw.{table} ({ddl})")
        insert = (
            f"insert into raw.{table} ({', '.join(columns)}) "
            f"values ({', '.join([placeholder] * len(columns))})"
        )
        for row in rows.get(table, []):
            unknown = set(row) - set(columns)
            assert not unknown, f"{table}: fixture columns {unknown} are not in schemas.py"
            execute(insert, [row.get(c) for c in columns])
