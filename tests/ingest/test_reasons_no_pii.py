"""No personal data reaches the audit schema (docs/bad-input.md#reasons): reasons name the field and the rule,
never a value.

Every kind of bad field of every entity (and of its array elements) is planted with an e-mail address, a
phone number and a full name, in records whose text fields hold them too; so are malformed CSV rows, lines
that are not JSON, JSON-text columns that are not JSON and headers. Then every VARCHAR column of every table
in ``audit`` is scanned for them. The records' full text stays in the quarantine files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from clm.ingest import schemas as s
from tests.ingest.conftest import Landing

LOAD_DATE = "2026-10-20"
T = "1790000000"  # 2026-09-21T14:13:20Z
EMAIL = "Jane.Secret@pii.example.com"
PHONE = "+1 (415) 555-0199"
NAME = "Jane Quintessa Secretperson"
PLANTED = (EMAIL, PHONE, NAME)
# Searched case-insensitively: a reason quoting part of a value leaks it too.
FRAGMENTS = ("jane.secret", "pii.example", "555-0199", "quintessa", "secretperson")

# One valid record per entity and per array, as text (paths as in schemas).
VALID: dict[str, dict[str, str | None]] = {
    "contacts": {
        "contact_id": "c0",
        "email": "a@x.com",
        "first_name": "Ann",
        "last_name": "Lee",
        "company": "Co",
        "country": "US",
        "segment": "smb",
        "acquisition_channel": "ads",
        "referred_by_contact_id": None,
        "created_at": "2026-10-01T00:00:00Z",
        "updated_at": "2026-10-02T00:00:00Z",
        "is_deleted": "false",
    },
    "deals": {
        "deal_id": "d0",
        "contact_id": "c0",
        "deal_stage": "won",
        "amount": "100.50",
        "currency": "USD",
        "created_at": "2026-10-01T00:00:00Z",
        "closed_at": "2026-10-02T00:00:00Z",
    },
    "marketing_spend": {"spend_date": "2026-10-01", "channel": "ads", "amount": "10", "currency": "USD"},
    "nps_responses": {
        "response_id": "r0",
        "contact_id": "c0",
        "score": "9",
        "responded_at": "2026-10-01T00:00:00Z",
    },
    "customers": {
        "id": "cus_0",
        "email": "a@x.com",
        "created": T,
        "currency": "usd",
        "metadata.crm_contact_id": "c0",
    },
    "subscriptions": {
        "id": "sub_0",
        "customer": "cus_0",
        "status": "active",
        "created": T,
        "start_date": T,
        "trial_start": None,
        "trial_end": None,
        "cancel_at_period_end": "false",
        "canceled_at": None,
        "ended_at": None,
        "cancellation_details.reason": None,
    },
    "items": {
        "id": "si_0",
        "price.id": "price_0",
        "price.unit_amount": "4900",
        "price.currency": "usd",
        "price.recurring.interval": "month",
        "price.recurring.interval_count": "1",
        "quantity": "1",
    },
    "invoices": {
        "id": "in_0",
        "customer": "cus_0",
        "subscription": "sub_0",
        "status": "paid",
        "currency": "usd",
        "created": T,
        "status_transitions.paid_at": T,
        "amount_due": "4900",
        "amount_paid": "4900",
    },
    "lines": {
        "id": "il_0",
        "type": "subscription",
        "amount": "4900",
        "currency": "usd",
        "period.start": T,
        "period.end": "1792592000",
        "proration": "false",
        "quantity": "1",
        "price.id": "price_0",
        "price.recurring.interval": "month",
        "price.recurring.interval_count": "1",
    },
    "charges": {
        "id": "ch_0",
        "customer": "cus_0",
        "invoice": "in_0",
        "amount": "4900",
        "amount_refunded": "0",
        "currency": "usd",
        "status": "succeeded",
        "failure_code": None,
        "created": T,
    },
    "tickets": {
        "ticket_id": "t0",
        "requester_email": "a@x.com",
        "created_at": "2026-10-01T00:00:00Z",
        "updated_at": "2026-10-02T00:00:00Z",
        "first_reply_at": None,
        "solved_at": None,
        "status": "open",
        "priority": "low",
        "channel": "email",
        "satisfaction_rating": None,
        "reopens": "0",
    },
}


def _with_pii_text(record: dict[str, str | None], fields: tuple[s.Field, ...], k: int) -> dict:
    """The record with every free-text field holding personal data, as a real bad row would."""
    out = dict(record)
    for i, f in enumerate(fields):
        if f.kind == s.STRING:
            out[f.path] = PLANTED[(k + i) % len(PLANTED)]
    return out


def _bad_records(ent: s.Entity) -> list[tuple[dict, dict[str, list[dict]]]]:
    """(record, arrays) with one typed field holding personal data, once per planted value, for every
    typed field of the entity and of its arrays."""
    valid_arrays = {c.array_path: [dict(VALID[c.array_path])] for c in ent.children}
    out = []
    for k, value in enumerate(PLANTED):
        for f in ent.fields:
            if f.kind != s.STRING:
                record = _with_pii_text(VALID[ent.name], ent.fields, k) | {f.path: value}
                out.append((record, valid_arrays))
        for child in ent.children:
            for f in child.fields:
                if f.kind != s.STRING:
                    element = _with_pii_text(VALID[child.array_path], child.fields, k) | {f.path: value}
                    record = _with_pii_text(VALID[ent.name], ent.fields, k)
                    out.append((record, {child.array_path: [element]}))
    return out


def _nested(record: dict, arrays: dict[str, list[dict]]) -> dict:
    def put(target: dict, path: str, value: object) -> None:
        *parents, leaf = path.split(".")
        for p in parents:
            target = target.setdefault(p, {})
        target[leaf] = value

    out: dict = {}
    for path, value in record.items():
        put(out, path, value)
    for name, elements in arrays.items():
        out[name] = [_nested(e, {}) for e in elements]
    return out


def _csv_value(value: str | None) -> str:
    if value is None:
        return ""
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def _write_entity(landing: Landing, ent: s.Entity) -> tuple[str, int]:
    """One valid record then the bad ones; CRM and support as CSV, billing as JSON Lines."""
    bad = _bad_records(ent)
    valid = (VALID[ent.name], {c.array_path: [VALID[c.array_path]] for c in ent.children})
    records = [valid, *bad]
    if ent.source == "billing":
        name = f"{ent.name}.jsonl"
        landing.write_jsonl(ent.source, ent.name, LOAD_DATE, name, [_nested(r, a) for r, a in records])
    else:
        name = f"{ent.name}.csv"
        header = [f.path for f in ent.fields]
        lines = [",".join(header)] + [",".join(_csv_value(r.get(p)) for p in header) for r, _ in records]
        landing.write(ent.source, ent.name, LOAD_DATE, name, "\n".join(lines) + "\n")
    return name, len(bad)


def _write_unparseable(landing: Landing) -> dict[str, int]:
    """Records no reader can parse, holding personal data; returns file -> records quarantined."""
    header = "response_id,contact_id,score,responded_at"
    rows = [
        "r1,c1,9,2026-10-01T00:00:00Z",
        f"r2,{EMAIL},9,2026-10-01T00:00:00Z,{NAME}",  # more fields than the header
        f"r3,{PHONE}",  # fewer fields
        f'r4,"{NAME},9,2026-10-01T00:00:00Z',  # unterminated quote
    ]
    landing.write(
        "crm", "nps_responses", "2026-10-19", "nps_unparseable.csv", "\n".join([header, *rows]) + "\n"
    )
    lines = [
        json.dumps(_nested(VALID["customers"], {})),
        '{"id": "' + EMAIL + '", "email": ',  # not JSON
        json.dumps([NAME, PHONE]),  # JSON, not an object
    ]
    landing.write(
        "billing", "customers", "2026-10-19", "customers_unparseable.jsonl", "\n".join(lines) + "\n"
    )
    # Billing customers as CSV: `metadata` is a JSON-text column, here not JSON.
    csv_rows = ["id,email,created,currency,metadata", f'cus_9,a@x.com,{T},usd,"{NAME} <{EMAIL}>"']
    landing.write("billing", "customers", "2026-10-18", "customers_metadata.csv", "\n".join(csv_rows) + "\n")
    # Headers that are personal data, and a required column missing: quarantined whole.
    landing.write("crm", "deals", "2026-10-19", "deals_header.csv", f"deal_id,{EMAIL},{NAME}\nd1,{PHONE},x\n")
    return {
        "nps_unparseable.csv": 3,
        "customers_unparseable.jsonl": 2,
        "customers_metadata.csv": 1,
        "deals_header.csv": 1,
    }


def _audit_text_hits(landing: Landing) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    columns = landing.rows(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'audit' and data_type = 'VARCHAR' order by 1, 2"
    )
    hits = []
    for table, column in columns:
        for fragment in FRAGMENTS:
            (n,) = landing.rows(
                f'select count(*) from audit."{table}" where lower("{column}") like ?', [f"%{fragment}%"]
            )[0]
            if n:
                hits.append((table, column, fragment))
    return columns, hits


def test_no_planted_personal_data_in_any_audit_text_column(landing: Landing) -> None:
    planted = {}
    for ent in s.ENTITIES:
        name, n = _write_entity(landing, ent)
        planted[name] = n
    planted |= _write_unparseable(landing)
    result = landing.ingest()
    quarantined = {f.file_path.rsplit("/", 1)[-1]: f.rows_quarantined for f in result.files}
    assert quarantined == planted  # every planted record was caught (else this test proves nothing)
    # Contacts: 5 typed fields (country, segment, created_at, updated_at, is_deleted) x 3 values = 15;
    # subscriptions: 9 typed fields + 5 of items[] (unit_amount, currency, interval, interval_count,
    # quantity) = 14 x 3 = 42.
    assert (planted["contacts.csv"], planted["subscriptions.jsonl"]) == (15, 42)
    columns, hits = _audit_text_hits(landing)
    assert ("quarantine", "reason") in columns and ("load_manifest", "message") in columns
    assert hits == []
    # The full text stays in the quarantine files for whoever fixes the source.
    texts = "".join(p.read_text() for p in sorted((landing.quarantine / "run1").glob("*.jsonl")))
    assert EMAIL in texts and NAME in texts and PHONE in texts


def test_parquet_string_not_utf8_does_not_quote_it(landing: Landing, tmp_path: Path) -> None:
    not_utf8 = pa.array([(EMAIL + " \xff").encode("latin-1")], type=pa.binary()).view(pa.string())
    table = pa.table(
        {
            "response_id": not_utf8,
            "contact_id": ["c1"],
            "score": ["9"],
            "responded_at": ["2026-10-01T00:00:00Z"],
        }
    )
    path = landing.write("crm", "nps_responses", LOAD_DATE, "nps.parquet", b"")
    pq.write_table(table, path)
    [f] = landing.ingest().files
    assert f.status == "quarantined_file"
    assert f.message == "unreadable Parquet file: a text value is not valid UTF-8"
    _, hits = _audit_text_hits(landing)
    assert hits == []
