"""The bad-input catalogue: one case per fault of docs/bad-input.md#faults and issue 13, on
tests/fixtures/landing_small.

Every case lands its own files in the drop of ``DROP`` (the day after the fixture's newest drop) unless it
needs another place, and says exactly what must happen to each file: manifest status, records read, loaded and
quarantined, and the reason of every quarantined line. Names and values are made up; the personal data planted
in bad values (``PII``) must never reach a published table.

Unix times used below: 1704067200 = 2024-01-01T00:00:00Z, 1709251200 = 2024-03-01T00:00:00Z,
1709337600 = 2024-03-02T00:00:00Z; cus_1 was created at 1704535200 (2024-01-06T10:00:00Z, the fixture).
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DROP = "2024-03-03"
FUTURE = "2099-01-01"
MAX_RECORD_BYTES = 4096  # CLM_MAX_RECORD_BYTES for the catalogue, so an over-size record stays small on disk
PII = ("jane.secret@pii.example.com", "+44 20 7946 0958", "Jane Q. Secretperson")

DEALS = "deal_id,contact_id,deal_stage,amount,currency,created_at,closed_at"
SPEND = "spend_date,channel,amount,currency"
TICKETS = (
    "ticket_id,requester_email,created_at,updated_at,first_reply_at,solved_at,status,priority,channel,"
    "satisfaction_rating,reopens"
)
CONTACTS = (
    "contact_id,email,first_name,last_name,company,country,segment,acquisition_channel,"
    "referred_by_contact_id,created_at,updated_at,is_deleted"
)


@dataclass(frozen=True)
class FileOutcome:
    status: str
    read: int
    loaded: int
    quarantined: int
    reasons: dict[int | None, str] = field(default_factory=dict)  # line (None: the whole file) -> reason


@dataclass(frozen=True)
class Case:
    name: str
    fault: str  # the fault, in the words of docs/bad-input.md#faults or the issue
    write: Callable[[Path, Path], None]  # (raw dir, a folder outside the landing zone)
    files: dict[str, FileOutcome]  # file path relative to the raw dir -> outcome
    warning: str | None = None  # text that must appear in audit.run_warnings (subject or message)


def _path(raw: Path, entity: str, name: str, load_date: str = DROP) -> Path:
    path = raw / entity / f"load_date={load_date}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _text(entity: str, name: str, lines: list[str], ending: str = "\n", load_date: str = DROP):
    def write(raw: Path, _outside: Path) -> None:
        _path(raw, entity, name, load_date).write_bytes(ending.join(lines).encode() + ending.encode())

    return write


def _bytes(entity: str, name: str, data: bytes):
    def write(raw: Path, _outside: Path) -> None:
        _path(raw, entity, name).write_bytes(data)

    return write


def _jsonl(entity: str, name: str, records: list[dict | str]):
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    return _text(entity, name, lines)


def _rel(entity: str, name: str, load_date: str = DROP) -> str:
    return f"{entity}/load_date={load_date}/{name}"


def _charge(charge_id: str, **changes: object) -> dict:
    charge = {
        "id": charge_id,
        "customer": "cus_1",
        "invoice": None,
        "amount": 4900,
        "amount_refunded": 0,
        "currency": "usd",
        "status": "succeeded",
        "failure_code": None,
        "created": 1709251200,
    }
    return charge | changes


def _ticket(ticket_id: str, reopens: str = "0", created: str = "2024-03-02T09:00:00+00:00") -> str:
    return (
        f"{ticket_id},cara@example.net,{created},2024-03-02T10:00:00+00:00,2024-03-02T10:00:00+00:00,,open,"
        f"normal,email,offered,{reopens}"
    )


def _deal(deal_id: str, amount: str = "100.00", currency: str = "USD", created: str = "2024-03-01") -> str:
    return f"{deal_id},c1,open,{amount},{currency},{created}T10:00:00+00:00,"


def _resent(raw: Path, _outside: Path) -> None:
    original = raw / _rel("crm/marketing_spend", "spend.csv", "2024-03-01")
    _path(raw, "crm/marketing_spend", "spend_again.csv").write_bytes(original.read_bytes())


def _refused_twice(raw: Path, _outside: Path) -> None:
    no_status = f"{TICKETS.replace(',status', '')}\nt11,a@b.c,2024-03-02\n".encode()
    _path(raw, "support/tickets", "refused.csv").write_bytes(no_status)
    _path(raw, "support/tickets", "refused_again.csv").write_bytes(no_status)


def _mixed_endings(raw: Path, _outside: Path) -> None:
    text = f"{DEALS}\r\n{_deal('d53')}\n{_deal('d54')}\r\n{_deal('d55', amount='x')}\n"
    _path(raw, "crm/deals", "mixed.csv").write_bytes(text.encode())


def _symlink_outside(raw: Path, outside: Path) -> None:
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret.csv"
    secret.write_text(f"{SPEND}\n2024-03-01,paid_search,1.00,USD\n")
    os.symlink(secret, _path(raw, "crm/marketing_spend", "linked.csv"))


def _gzip_csv(raw: Path, _outside: Path) -> None:
    data = f"{SPEND}\n2024-03-02,gz_channel,7.00,USD\n2024-03-02,gz_channel,x,USD\n".encode()
    _path(raw, "crm/marketing_spend", "spend.csv.gz").write_bytes(gzip.compress(data))


def _good_rows(raw: Path, _outside: Path) -> None:
    """A realistic drop is mostly good rows: these keep every entity's quarantined share of the run under
    the gate's default 50% (expectations/gate.yml), so the catalogue tests that the faults block nothing."""
    charges = [json.dumps(_charge(f"ch_{20 + i}", created=1709337600 + i)) for i in range(5)]
    _path(raw, "billing/charges", "good.jsonl").write_text("\n".join(charges) + "\n")
    spend = [f"2024-03-02,good_channel_{i},{i + 1}.00,USD" for i in range(5)]
    _path(raw, "crm/marketing_spend", "good.csv").write_text("\n".join([SPEND, *spend]) + "\n")
    tickets = [_ticket(f"t{30 + i}") for i in range(5)]
    _path(raw, "support/tickets", "good.csv").write_text("\n".join([TICKETS, *tickets]) + "\n")
    deals = [_deal(f"d{80 + i}") for i in range(3)]
    _path(raw, "crm/deals", "good.csv").write_text("\n".join([DEALS, *deals]) + "\n")
    contact = "c72,kim@example.com,Kim,Lo,Co,US,smb,ads,,2024-03-01T00:00:00Z,2024-03-01T00:00:00Z,false"
    _path(raw, "crm/contacts", "good.csv").write_text(f"{CONTACTS}\n{contact}\n")


NO_RATE = "no FX rate for the currency in that month (seeds/fx_rates.csv)"
OVERSIZE_NOTE = "n" * MAX_RECORD_BYTES  # one value that makes its record larger than the limit

CASES: list[Case] = [
    Case(
        "malformed_csv_row",
        "malformed CSV rows",
        _text("crm/deals", "malformed.csv", [DEALS, _deal("d10"), "d11,c1,open"]),
        {
            _rel("crm/deals", "malformed.csv"): FileOutcome(
                "loaded", 2, 1, 1, {3: "malformed CSV record: fewer fields than the header"}
            )
        },
    ),
    Case(
        "wrong_type",
        "wrong types",
        _text(
            "crm/marketing_spend",
            "types.csv",
            [SPEND, "2024-03-02,ads,12.50,USD", f"2024-03-02,ads,{PII[0]},USD"],
        ),
        {
            _rel("crm/marketing_spend", "types.csv"): FileOutcome(
                "loaded", 2, 1, 1, {3: "amount: not a number"}
            )
        },
    ),
    Case(
        "missing_required_column",
        "missing required columns (the whole file is quarantined)",
        _text("support/tickets", "no_status.csv", [TICKETS.replace(",status", ""), "t9,a@b.c,2024-03-02"]),
        {
            _rel("support/tickets", "no_status.csv"): FileOutcome(
                "quarantined_file", 1, 0, 1, {None: "missing required columns: status"}
            )
        },
    ),
    Case(
        "unknown_extra_columns",
        "unknown extra columns",
        _text("support/tickets", "extra.csv", [TICKETS + ",mood", _ticket("t10") + ",cheerful"]),
        {_rel("support/tickets", "extra.csv"): FileOutcome("loaded", 1, 1, 0)},
    ),
    Case(
        "empty_file",
        "empty files",
        _bytes("billing/charges", "empty.jsonl", b""),
        {_rel("billing/charges", "empty.jsonl"): FileOutcome("empty", 0, 0, 0)},
    ),
    Case(
        "duplicate_file",
        "duplicate files (the same content landed twice: a no-op)",
        _resent,
        {_rel("crm/marketing_spend", "spend_again.csv"): FileOutcome("duplicate", 0, 0, 0)},
    ),
    Case(
        "duplicate_of_a_refused_file",
        "a re-sent copy of a file quarantined whole (a no-op, not more quarantined rows)",
        _refused_twice,
        {
            _rel("support/tickets", "refused.csv"): FileOutcome(
                "quarantined_file", 1, 0, 1, {None: "missing required columns: status"}
            ),
            _rel("support/tickets", "refused_again.csv"): FileOutcome("duplicate", 0, 0, 0),
        },
    ),
    Case(
        "duplicate_keys_in_one_drop",
        "duplicate keys in one drop",
        _text("crm/deals", "dup_keys.csv", [DEALS, _deal("d20", "10.00"), _deal("d20", "20.00")]),
        {_rel("crm/deals", "dup_keys.csv"): FileOutcome("loaded", 2, 2, 0)},
    ),
    Case(
        "non_utf8",
        "non-UTF-8 bytes",
        _bytes(
            "crm/deals",
            "latin1.csv",
            (DEALS + "\n" + _deal("d30") + "\n").encode()
            + b"d31,c\xe91,open,5.00,USD,2024-03-01T10:00:00Z,\n",
        ),
        {
            _rel("crm/deals", "latin1.csv"): FileOutcome(
                "loaded", 2, 1, 1, {3: "malformed CSV record: invalid UTF-8 bytes"}
            )
        },
    ),
    Case(
        "negative_amount",
        "negative amounts",
        _text("crm/deals", "negative.csv", [DEALS, _deal("d40", "-5.00")]),
        {_rel("crm/deals", "negative.csv"): FileOutcome("loaded", 1, 0, 1, {2: "amount: negative"})},
    ),
    Case(
        "absurd_amount",
        "absurd amounts",
        _text("crm/deals", "absurd.csv", [DEALS, _deal("d41", "999999999999.00")]),
        {
            _rel("crm/deals", "absurd.csv"): FileOutcome(
                "loaded", 1, 0, 1, {2: "amount: absurd (more than 10,000,000 in major units)"}
            )
        },
    ),
    Case(
        "timestamp_after_load_date",
        "timestamps in the future (an event's time later than its drop's load date)",
        _text(
            "support/tickets",
            "future_time.csv",
            [TICKETS, _ticket("t11", created="2024-03-04T09:00:00+00:00")],
        ),
        {
            _rel("support/tickets", "future_time.csv"): FileOutcome(
                "loaded",
                1,
                0,
                1,
                # its other times, on the load date, are then before its creation too
                {
                    2: "created_at: after the drop's load date 2024-03-03; updated_at: before created_at; "
                    "first_reply_at: before created_at"
                },
            )
        },
    ),
    Case(
        "timestamp_before_2000",
        "timestamps before 2000",
        _text("crm/deals", "old.csv", [DEALS, _deal("d42", created="1999-12-31")]),
        {
            _rel("crm/deals", "old.csv"): FileOutcome(
                "loaded",
                1,
                0,
                1,
                {2: "created_at: before 2000-01-01; created_at: " + NO_RATE},
            )
        },
    ),
    Case(
        "forward_looking_fields_are_valid",
        "forward-looking fields (a service period's end, trial_end, a scheduled cancellation) may lie ahead",
        _jsonl(
            "billing/subscriptions",
            "trial.jsonl",
            [
                {
                    "id": "sub_9",
                    "customer": "cus_1",
                    "status": "trialing",
                    "created": 1709337600,
                    "start_date": 1709337600,
                    "trial_start": 1709337600,
                    "trial_end": 1711929600,  # 2024-04-01: after the load date, valid
                    "cancel_at_period_end": True,
                    "canceled_at": None,
                    "ended_at": None,
                    "cancellation_details": {"reason": None},
                    "items": [],
                }
            ],
        ),
        {_rel("billing/subscriptions", "trial.jsonl"): FileOutcome("loaded", 1, 1, 0)},
    ),
    Case(
        "unknown_currency",
        "unknown currencies",
        _text("crm/marketing_spend", "currency.csv", [SPEND, "2024-03-02,ads,3.00,XYZ"]),
        {
            _rel("crm/marketing_spend", "currency.csv"): FileOutcome(
                "loaded", 1, 0, 1, {2: "currency: not a known currency"}
            )
        },
    ),
    Case(
        "orphan_foreign_key",
        "orphan foreign keys (loaded; reported by the dbt relationships tests)",
        _jsonl(
            "crm/nps_responses",
            "orphan.jsonl",
            [
                {
                    "response_id": "n9",
                    "contact_id": "c999",
                    "score": 7,
                    "responded_at": "2024-03-02T10:00:00+00:00",
                }
            ],
        ),
        {_rel("crm/nps_responses", "orphan.jsonl"): FileOutcome("loaded", 1, 1, 0)},
    ),
    Case(
        "truncated_json",
        "truncated JSON",
        _jsonl("billing/charges", "truncated.jsonl", [_charge("ch_10"), json.dumps(_charge("ch_11"))[:60]]),
        {_rel("billing/charges", "truncated.jsonl"): FileOutcome("loaded", 2, 1, 1, {2: "not valid JSON"})},
    ),
    Case(
        "oversize_record",
        "a record over CLM_MAX_RECORD_BYTES (quarantined with its line number; the rest loads)",
        _text(
            "support/tickets",
            "huge.csv",
            [TICKETS, _ticket("t12"), _ticket("t13").replace("email", OVERSIZE_NOTE)],
        ),
        {
            _rel("support/tickets", "huge.csv"): FileOutcome(
                "loaded",
                2,
                1,
                1,
                {3: "record of 4,218 bytes is over the 4,096-byte limit (CLM_MAX_RECORD_BYTES): not read"},
            )
        },
    ),
    Case(
        "cr_only_line_endings",
        "a CSV with CR-only line endings (read whole, not as empty)",
        _text("crm/deals", "cr.csv", [DEALS, _deal("d50"), _deal("d51"), _deal("d52")], ending="\r"),
        {_rel("crm/deals", "cr.csv"): FileOutcome("loaded", 3, 3, 0)},
    ),
    Case(
        "mixed_line_endings",
        "a CSV mixing CRLF and LF line endings (two exporters' files concatenated: read whole)",
        _mixed_endings,
        {_rel("crm/deals", "mixed.csv"): FileOutcome("loaded", 3, 2, 1, {4: "amount: not a number"})},
    ),
    Case(
        "symlink_outside_the_zone",
        "a symlink to a file outside CLM_RAW_DIR (never followed, reported)",
        _symlink_outside,
        {},
        warning="linked.csv",
    ),
    Case(
        "gzip",
        "compressed files (.csv.gz)",
        _gzip_csv,
        {
            _rel("crm/marketing_spend", "spend.csv.gz"): FileOutcome(
                "loaded", 2, 1, 1, {3: "amount: not a number"}
            )
        },
    ),
    Case(
        "drop_from_the_future",
        "a drop whose load date is after the current UTC date (quarantined whole, never moves the as-of)",
        _text(
            "crm/nps_responses",
            "nps.csv",
            ["response_id,contact_id,score,responded_at", "n8,c1,9,2024-03-02T10:00:00Z"],
            load_date=FUTURE,
        ),
        {
            _rel("crm/nps_responses", "nps.csv", FUTURE): FileOutcome(
                "quarantined_future_drop",
                0,
                0,
                0,
                {None: "load date 2099-01-01 is after today's UTC date 2026-12-05: not loaded"},
            )
        },
    ),
    Case(
        "refund_larger_than_charge",
        "a refund larger than its charge",
        _jsonl("billing/charges", "refund.jsonl", [_charge("ch_12", amount_refunded=5000)]),
        {
            _rel("billing/charges", "refund.jsonl"): FileOutcome(
                "loaded", 1, 0, 1, {1: "amount_refunded: more than amount"}
            )
        },
    ),
    Case(
        "negative_count",
        "a ticket with reopens = -3",
        _text("support/tickets", "reopens.csv", [TICKETS, _ticket("t14", reopens="-3")]),
        {_rel("support/tickets", "reopens.csv"): FileOutcome("loaded", 1, 0, 1, {2: "reopens: negative"})},
    ),
    Case(
        "charge_before_its_customer",
        "a charge dated before the customer was created",
        _jsonl("billing/charges", "early.jsonl", [_charge("ch_13", created=1704067200)]),
        {
            _rel("billing/charges", "early.jsonl"): FileOutcome(
                "loaded", 1, 0, 1, {1: "created: before its customer was created"}
            )
        },
    ),
    Case(
        "month_without_fx_rate",
        "an amount in a month the FX seed does not cover",
        _text("crm/deals", "fx.csv", [DEALS, _deal("d60", currency="EUR", created="2001-06-01")]),
        {_rel("crm/deals", "fx.csv"): FileOutcome("loaded", 1, 0, 1, {2: "created_at: " + NO_RATE})},
    ),
    Case(
        "nul_byte",
        "a NUL byte in a value (Postgres cannot store it)",
        _bytes("crm/marketing_spend", "nul.csv", f"{SPEND}\n2024-03-02,a\x00ds,4.00,USD\n".encode()),
        {
            _rel("crm/marketing_spend", "nul.csv"): FileOutcome(
                "loaded", 1, 0, 1, {2: "channel: contains a NUL byte (0x00)"}
            )
        },
    ),
    Case(
        "personal_data_in_bad_values",
        "personal data in values that fail validation (never quoted in audit)",
        _text(
            "crm/contacts",
            "pii.csv",
            [
                CONTACTS,
                f"c70,{PII[0]},Jane,Doe,Co,{PII[1]},{PII[2]},ads,,2024-03-01T00:00:00Z,2024-03-01T00:00:00Z,false",
            ],
        ),
        {
            _rel("crm/contacts", "pii.csv"): FileOutcome(
                "loaded",
                1,
                0,
                1,
                {2: "country: not a 2-letter country code; segment: not one of smb, mid_market, enterprise"},
            )
        },
    ),
    Case(
        "sql_in_values",
        "SQL in values (loaded as text)",
        _text(
            "crm/contacts",
            "sql.csv",
            [
                CONTACTS,
                'c71,x@y.z,Bob,"O\'Brien","Robert\'); drop table raw.crm__contacts;--",US,smb,ads,,'
                "2024-03-01T00:00:00Z,2024-03-01T00:00:00Z,false",
            ],
        ),
        {_rel("crm/contacts", "sql.csv"): FileOutcome("loaded", 1, 1, 0)},
    ),
    Case(
        "good_rows_beside_the_faults",
        "a drop is mostly good rows (none of the faults above blocks them)",
        _good_rows,
        {
            _rel("billing/charges", "good.jsonl"): FileOutcome("loaded", 5, 5, 0),
            _rel("crm/marketing_spend", "good.csv"): FileOutcome("loaded", 5, 5, 0),
            _rel("support/tickets", "good.csv"): FileOutcome("loaded", 5, 5, 0),
            _rel("crm/deals", "good.csv"): FileOutcome("loaded", 3, 3, 0),
            _rel("crm/contacts", "good.csv"): FileOutcome("loaded", 1, 1, 0),
        },
    ),
]
