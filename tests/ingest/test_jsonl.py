"""JSON Lines drops: malformed lines, nested fields, child arrays, zero-decimal currencies, time bounds."""

from __future__ import annotations

import json

from tests.ingest.conftest import Landing, only

LOAD_DATE = "2026-10-20"
T = 1_790_000_000  # 2026-09-21, before the load date
FUTURE = 1_950_000_000  # 2031-10-17


def _line(line_id: str, amount: int | str, currency: str = "usd", end: int = T + 2_592_000) -> dict:
    return {
        "id": line_id,
        "object": "line_item",
        "type": "subscription",
        "amount": amount,
        "currency": currency,
        "period": {"start": T, "end": end},
        "proration": False,
        "quantity": 1,
        "price": {"id": "price_1", "recurring": {"interval": "month", "interval_count": 1}},
    }


def _invoice(invoice_id: str, lines: list | dict, currency: str = "usd", **extra) -> dict:
    record = {
        "id": invoice_id,
        "object": "invoice",
        "customer": "cus_1",
        "subscription": "sub_1",
        "status": "paid",
        "currency": currency,
        "created": T,
        "status_transitions": {"paid_at": T + 60},
        "amount_due": 1000,
        "amount_paid": 1000,
        "total": 1000,
        "lines": lines,
    }
    return record | extra


def test_invoices_jsonl(landing: Landing) -> None:
    records = [
        _invoice("in_1", [_line("il_1", 1000), _line("il_2", -250)]),  # 1 ok: proration credit negative
        _invoice("in_2", [_line("il_3", 1000), _line("il_4", "12.5")]),  # 2 bad element -> whole invoice
        '{"id": "in_3", "customer": ',  # 3 malformed JSON
        _invoice(
            "in_4", {"object": "list", "data": [_line("il_5", 150000, "jpy")]}, "JPY", amount_due=150000
        ),
        "",  # 5 blank
        _invoice("in_5", [], created=FUTURE),  # 6 created after the load date
        _invoice("in_6", [_line("il_6", 1000, end=4_200_000_000)]),  # 7 period end after 2100
        "[1, 2]",  # 8 valid JSON, not an object
        _invoice("in_7", [_line("il_7", 2_000_000_000)], amount_due=None),  # 9 absurd line: 20M USD
        _invoice("in_8", [_line("il_8", 20_000_000, "jpy")], "jpy"),  # 10: 20M yen (as cents: 200k, fine)
        "",
        "",
    ]
    landing.write_jsonl("billing", "invoices", LOAD_DATE, "invoices.jsonl", records)
    f = only(landing.ingest())
    # 9 records (lines 1-4, 6-10); blank lines 5, 11, 12 are not records. Loaded: in_1, in_4.
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (9, 2, 7)
    assert landing.rows(
        "select id, _row_number, amount_due, status_transitions__paid_at "
        "from raw.billing__invoices order by 2"
    ) == [
        ("in_1", 1, "1000", str(T + 60)),
        ("in_4", 4, "150000", str(T + 60)),  # JPY kept as landed: 150000 yen
    ]
    assert landing.rows(
        "select invoice_id, line_index, id, amount, currency, price__recurring__interval, _row_number "
        "from raw.billing__invoice_lines order by 1, 2"
    ) == [
        ("in_1", 0, "il_1", "1000", "usd", "month", 1),
        ("in_1", 1, "il_2", "-250", "usd", "month", 1),
        ("in_4", 0, "il_5", "150000", "jpy", "month", 4),
    ]
    reasons = dict(landing.quarantine_lines("invoices.jsonl"))
    assert reasons == {
        2: "lines[1].amount: not an integer",
        3: "not valid JSON",
        # created lies after the load date, and after its own paid_at (T + 60).
        6: f"created: after the drop's load date {LOAD_DATE}; status_transitions.paid_at: before created",
        7: "lines[0].period.end: after 2100-01-01",
        8: "not a JSON object (array)",
        9: "lines[0].amount: absurd (more than 10,000,000 in major units)",
        10: "lines[0].amount: absurd (more than 10,000,000 in major units)",
    }


def test_subscriptions_forward_trial_end_and_case_insensitive_keys(landing: Landing) -> None:
    item = {
        "price": {
            "id": "p",
            "unit_amount": 4900,
            "currency": "eur",
            "recurring": {"interval": "year", "interval_count": 1},
        },
        "quantity": 2,
    }
    base = {
        "Customer": "cus_1",
        "status": "trialing",
        "created": T,
        "start_date": T,
        "trial_start": T,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "cancellation_details": {"reason": None},
        "items": {"object": "list", "data": [item]},
    }
    records = [
        {"ID": "sub_1", **base, "trial_end": FUTURE},  # trial_end may lie ahead
        {"ID": "sub_2", **base, "trial_end": T, "trial_start": 946684799},  # 1999-12-31T23:59:59Z
        {"ID": "sub_3", **base, "trial_end": T, "status": "Active", "unknown_field": {"x": 1}},
    ]
    landing.write_jsonl("billing", "subscriptions", LOAD_DATE, "subs.jsonl", records)
    f = only(landing.ingest())
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (3, 2, 1)
    assert landing.rows(
        "select id, customer, trial_end, status, cancel_at_period_end, canceled_at "
        "from raw.billing__subscriptions order by 1"
    ) == [
        ("sub_1", "cus_1", str(FUTURE), "trialing", "false", None),
        ("sub_3", "cus_1", str(T), "Active", "false", None),
    ]
    assert landing.rows(
        "select subscription_id, item_index, price__unit_amount, quantity "
        "from raw.billing__subscription_items order by 1"
    ) == [
        ("sub_1", 0, "4900", "2"),
        ("sub_3", 0, "4900", "2"),
    ]
    assert landing.quarantine_lines("subs.jsonl") == [(2, "trial_start: before 2000-01-01")]


def test_jsonl_non_utf8_and_missing_required_field(landing: Landing) -> None:
    good = json.dumps(
        {
            "id": "ch_1",
            "customer": "c",
            "invoice": None,
            "amount": 100,
            "amount_refunded": 0,
            "currency": "usd",
            "status": "succeeded",
            "failure_code": None,
            "created": T,
        }
    )
    bad = good.replace('"c"', '"c\xe9"').encode("latin-1")
    landing.write(
        "billing",
        "charges",
        LOAD_DATE,
        "charges.jsonl",
        good.encode() + b"\n" + bad + b"\n" + good.replace("ch_1", "ch_2").encode() + b"\n",
    )
    # `created` is absent from every record of this file.
    customers = [{"id": "cus_1", "email": "a@x.com", "currency": "usd"}, {"id": "cus_2", "email": "b@x.com"}]
    landing.write_jsonl("billing", "customers", LOAD_DATE, "customers.jsonl", customers)
    cust, charges = landing.ingest().files  # billing customers load first (parents first)
    assert (charges.rows_read, charges.rows_loaded, charges.rows_quarantined) == (3, 2, 1)
    assert landing.quarantine_lines("charges.jsonl") == [(2, "unreadable line: invalid UTF-8 bytes")]
    assert (cust.status, cust.rows_read, cust.rows_quarantined) == ("quarantined_file", 2, 2)
    assert landing.quarantine_lines("customers.jsonl") == [(None, "missing required columns: created")]
