"""Faults one record shows by itself are quarantined at ingestion with the reason; the rest of its file loads.

Each of these passed ingestion before and then failed a dbt test or a quality-gate check, blocking the whole
run (docs/bad-input.md#one-faulty-row-never-blocks-a-publish). Reasons name the field and the rule, never a
value. Hand-made drops; times in comments are UTC.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from clm.ingest import ingest
from clm.ingest import validate as v
from tests.ingest.conftest import Landing, assert_balanced, only

LOAD_DATE = "2026-10-20"
T = 1_790_000_000  # 2026-09-21T14:13:20Z, before the load date
DEC_2014 = 1_420_070_399  # 2014-12-31T23:59:59Z: the month before seeds/fx_rates.csv starts (2015-01)
JAN_2015 = 1_420_070_400  # 2015-01-01T00:00:00Z: the seed's first month, every currency
NO_RATE = "no FX rate for the currency in that month (seeds/fx_rates.csv)"

TICKETS_HEADER = (
    "ticket_id,requester_email,created_at,updated_at,first_reply_at,solved_at,status,priority,channel,"
    "satisfaction_rating,reopens"
)


def _charge(charge_id: str, amount: int = 1000, refunded: int = 0, **extra: object) -> dict:
    record = {
        "id": charge_id,
        "customer": "cus_1",
        "invoice": None,
        "amount": amount,
        "amount_refunded": refunded,
        "currency": "usd",
        "status": "succeeded",
        "failure_code": None,
        "created": T,
    }
    return record | extra


def _item(quantity: int = 1, interval_count: int = 1) -> dict:
    recurring = {"interval": "month", "interval_count": interval_count}
    price = {"id": "price_1", "unit_amount": 4900, "currency": "usd", "recurring": recurring}
    return {"id": "si_1", "price": price, "quantity": quantity}


def _subscription(sub_id: str, **extra: object) -> dict:
    record = {
        "id": sub_id,
        "customer": "cus_1",
        "status": "active",
        "created": T,
        "start_date": T,
        "trial_start": None,
        "trial_end": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "cancellation_details": {"reason": None},
        "items": {"object": "list", "data": [_item()]},
    }
    return record | extra


def _line(start: int = T, end: int = T + 2_592_000, quantity: int = 1, currency: str = "usd") -> dict:
    return {
        "id": "il_1",
        "type": "subscription",
        "amount": 4900,
        "currency": currency,
        "period": {"start": start, "end": end},
        "proration": False,
        "quantity": quantity,
    }


def _invoice(invoice_id: str, lines: list, created: int = T, paid_at: int | None = T + 60, **extra) -> dict:
    record = {
        "id": invoice_id,
        "customer": "cus_1",
        "subscription": "sub_1",
        "status": "paid",
        "currency": "usd",
        "created": created,
        "status_transitions": {"paid_at": paid_at},
        "amount_due": 4900,
        "amount_paid": 4900,
        "lines": lines,
    }
    return record | extra


def _customer(customer_id: str, created: int) -> dict:
    return {"id": customer_id, "email": f"{customer_id}@x.com", "created": created, "currency": "usd"}


def _loaded(landing: Landing, table: str, key: str = "id") -> list[str]:
    return [k for (k,) in landing.rows(f"select {key} from raw.{table} order by _row_number")]


def test_refund_above_its_charge_and_negative_amounts(landing: Landing) -> None:
    records = [
        _charge("ch_ok", 1000, 200),  # 1
        _charge("ch_over", 1000, 1001),  # 2: refund one cent above the charge
        _charge("ch_neg", -500, 0),  # 3: the refund rule leaves a negative charge to its own reason
        _charge("ch_negref", 1000, -1),  # 4
    ]
    landing.write_jsonl("billing", "charges", LOAD_DATE, "charges.jsonl", records)
    f = only(landing.ingest())
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (4, 1, 3)
    assert _loaded(landing, "billing__charges") == ["ch_ok"]
    assert landing.quarantine_lines("charges.jsonl") == [
        (2, "amount_refunded: more than amount"),
        (3, "amount: negative"),
        (4, "amount_refunded: negative"),
    ]


def test_negative_ticket_reopens(landing: Landing) -> None:
    content = "\n".join(
        [
            TICKETS_HEADER,
            "t1,a@x.com,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,,,open,low,email,,2",  # 2 ok
            "t2,b@x.com,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,,,open,low,email,,-3",  # 3
        ]
    )
    landing.write("support", "tickets", LOAD_DATE, "tickets.csv", content + "\n")
    f = only(landing.ingest())
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (2, 1, 1)
    assert _loaded(landing, "support__tickets", "ticket_id") == ["t1"]
    assert landing.quarantine_lines("tickets.csv") == [(3, "reopens: negative")]


def test_negative_quantities_and_zero_billing_intervals_in_arrays(landing: Landing) -> None:
    subs = [
        _subscription("sub_ok"),  # 1
        _subscription("sub_negq", items=[_item(quantity=-1)]),  # 2
        # 3: an interval of 0 months would divide MRR by zero
        _subscription("sub_zero", items={"object": "list", "data": [_item(), _item(interval_count=0)]}),
    ]
    landing.write_jsonl("billing", "subscriptions", LOAD_DATE, "subs.jsonl", subs)
    invoices = [_invoice("in_ok", [_line()]), _invoice("in_negq", [_line(), _line(quantity=-2)])]
    landing.write_jsonl("billing", "invoices", LOAD_DATE, "invoices.jsonl", invoices)
    assert_balanced(landing.ingest())
    assert _loaded(landing, "billing__subscriptions") == ["sub_ok"]
    assert landing.rows("select subscription_id from raw.billing__subscription_items") == [("sub_ok",)]
    assert landing.quarantine_lines("subs.jsonl") == [
        (2, "items[0].quantity: negative"),
        (3, "items[1].price.recurring.interval_count: less than 1"),
    ]
    assert _loaded(landing, "billing__invoices") == ["in_ok"]
    assert landing.quarantine_lines("invoices.jsonl") == [(2, "lines[1].quantity: negative")]


def test_ticket_times_before_the_ticket_was_created(landing: Landing) -> None:
    created = "2026-10-01T10:00:00+02:00"  # 08:00:00Z
    content = "\n".join(
        [
            TICKETS_HEADER,
            f"t1,a@x.com,{created},2026-10-02T00:00:00Z,2026-10-01T08:30:00Z,2026-10-01T09:00:00Z,solved,,,,0",
            f"t2,a@x.com,{created},2026-10-02T00:00:00Z,,2026-10-01T07:59:59Z,solved,,,,0",  # 3: 1 s early
            f"t3,a@x.com,{created},2026-10-02T00:00:00Z,2026-10-01T09:59:59+02:00,,open,,,,0",  # 4: 07:59:59Z
            f"t4,a@x.com,{created},2026-10-01T07:00:00Z,,,new,,,,0",  # 5: updated before created
        ]
    )
    landing.write("support", "tickets", LOAD_DATE, "tickets.csv", content + "\n")
    f = only(landing.ingest())
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (4, 1, 3)
    assert _loaded(landing, "support__tickets", "ticket_id") == ["t1"]
    assert landing.quarantine_lines("tickets.csv") == [
        (3, "solved_at: before created_at"),
        (4, "first_reply_at: before created_at"),
        (5, "updated_at: before created_at"),
    ]


def test_subscription_cancelled_or_ended_before_it_began(landing: Landing) -> None:
    records = [
        # 1 ok: backdated (start_date a day before created), ended between the two: it had begun
        _subscription("sub_ok", start_date=T - 86_400, ended_at=T - 3_600, canceled_at=T, status="canceled"),
        _subscription("sub_cancel", canceled_at=T - 1, status="canceled"),  # 2
        _subscription("sub_end", start_date=T - 86_400, ended_at=T - 86_401, status="canceled"),  # 3
        _subscription("sub_trial", trial_start=T, trial_end=T - 60, status="trialing"),  # 4
    ]
    landing.write_jsonl("billing", "subscriptions", LOAD_DATE, "subs.jsonl", records)
    f = only(landing.ingest())
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (4, 1, 3)
    assert _loaded(landing, "billing__subscriptions") == ["sub_ok"]
    began = "the subscription began (created, start_date)"
    assert landing.quarantine_lines("subs.jsonl") == [
        (2, f"canceled_at: before {began}"),
        (3, f"ended_at: before {began}"),
        (4, "trial_end: before trial_start"),
    ]


def test_invoice_paid_before_created_and_service_period_ending_before_it_starts(landing: Landing) -> None:
    records = [
        _invoice("in_ok", [_line()]),  # 1
        _invoice("in_paid", [_line()], paid_at=T - 1),  # 2
        _invoice("in_period", [_line(start=T, end=T - 86_400)]),  # 3
    ]
    landing.write_jsonl("billing", "invoices", LOAD_DATE, "invoices.jsonl", records)
    f = only(landing.ingest())
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (3, 1, 2)
    assert _loaded(landing, "billing__invoices") == ["in_ok"]
    assert landing.quarantine_lines("invoices.jsonl") == [
        (2, "status_transitions.paid_at: before created"),
        (3, "lines[0].period.end: before period.start"),
    ]


def test_deal_closed_and_contact_updated_before_created(landing: Landing) -> None:
    deals = "\n".join(
        [
            "deal_id,contact_id,deal_stage,amount,currency,created_at,closed_at",
            "d1,c1,won,100,USD,2026-03-01T00:00:00Z,2026-03-05T00:00:00Z",  # 2 ok
            "d2,c1,lost,100,USD,2026-03-01T00:00:00Z,2026-02-28T23:59:59Z",  # 3
        ]
    )
    landing.write("crm", "deals", LOAD_DATE, "deals.csv", deals + "\n")
    contacts = "\n".join(
        [
            "contact_id,email,first_name,last_name,company,country,segment,acquisition_channel,"
            "referred_by_contact_id,created_at,updated_at,is_deleted",
            "c1,a@x.com,Ann,Lee,Co,US,smb,ads,,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,false",  # 2 ok
            "c2,b@x.com,Bo,Yu,Co,US,smb,ads,,2026-03-01T00:00:00Z,2026-02-01T00:00:00Z,false",  # 3
        ]
    )
    landing.write("crm", "contacts", LOAD_DATE, "contacts.csv", contacts + "\n")
    assert_balanced(landing.ingest())
    assert _loaded(landing, "crm__deals", "deal_id") == ["d1"]
    assert landing.quarantine_lines("deals.csv") == [(3, "closed_at: before created_at")]
    assert _loaded(landing, "crm__contacts", "contact_id") == ["c1"]
    assert landing.quarantine_lines("contacts.csv") == [(3, "updated_at: before created_at")]


def test_billing_records_created_before_their_loaded_customer(landing: Landing) -> None:
    # Run 1 loads the customers. cus_2 has two versions: the newest (by created, docs/landing-zone.md#upserts)
    # says T + 100.
    landing.write_jsonl(
        "billing", "customers", "2026-10-19", "a.jsonl", [_customer("cus_1", T), _customer("cus_2", T - 1000)]
    )
    landing.write_jsonl("billing", "customers", "2026-10-19", "b.jsonl", [_customer("cus_2", T + 100)])
    assert_balanced(landing.ingest())
    charges = [
        _charge("ch_early", created=T - 1),  # 1: a second before cus_1
        _charge("ch_same", created=T),  # 2 ok: the same second
        _charge("ch_v2", customer="cus_2", created=T + 50),  # 3: before the newest version of cus_2
        _charge("ch_orphan", customer="cus_9", created=T - 10**6),  # 4 ok: cus_9 is not loaded
    ]
    landing.write_jsonl("billing", "charges", LOAD_DATE, "charges.jsonl", charges)
    landing.write_jsonl(
        "billing", "invoices", LOAD_DATE, "invoices.jsonl", [_invoice("in_early", [], created=T - 60)]
    )
    landing.write_jsonl(
        "billing", "subscriptions", LOAD_DATE, "subs.jsonl", [_subscription("sub_early", created=T - 60)]
    )
    assert_balanced(landing.ingest())
    assert _loaded(landing, "billing__charges") == ["ch_same", "ch_orphan"]
    before = "created: before its customer was created"
    assert landing.quarantine_lines("charges.jsonl") == [(1, before), (3, before)]
    assert landing.quarantine_lines("invoices.jsonl") == [(1, before)]
    assert landing.quarantine_lines("subs.jsonl") == [(1, before)]


def test_a_customer_and_its_early_charge_in_the_same_drop_of_a_first_run(landing: Landing) -> None:
    # Billing customers load before charges (discover: parents first), so even a first run that lands both
    # at once checks the charge: created a second before cus_1 -> quarantined.
    landing.write_jsonl("billing", "charges", LOAD_DATE, "charges.jsonl", [_charge("ch_1", created=T - 1)])
    landing.write_jsonl("billing", "customers", LOAD_DATE, "customers.jsonl", [_customer("cus_1", T)])
    files = landing.ingest().files
    assert [(f.entity, f.rows_loaded, f.rows_quarantined) for f in files] == [
        ("customers", 1, 0),
        ("charges", 0, 1),
    ]
    assert landing.quarantine_lines("charges.jsonl") == [(1, "created: before its customer was created")]


def test_customer_not_loaded_yet_is_no_reason(landing: Landing) -> None:
    # The charge lands before its customer: nothing to compare with, so it loads (an orphan until the customer
    # arrives; orphans are the dbt relationships tests' concern). Loaded data is not re-checked later.
    landing.write_jsonl("billing", "charges", LOAD_DATE, "charges.jsonl", [_charge("ch_1", created=T - 1)])
    assert [(f.rows_loaded, f.rows_quarantined) for f in landing.ingest().files] == [(1, 0)]
    landing.write_jsonl("billing", "customers", LOAD_DATE, "customers.jsonl", [_customer("cus_1", T)])
    second = landing.ingest().files
    assert {f.entity: (f.status, f.rows_loaded) for f in second} == {
        "charges": ("skipped_already_loaded", 0),
        "customers": ("loaded", 1),
    }
    assert landing.rows("select count(*) from audit.quarantine") == [(0,)]


def test_amounts_in_a_month_before_the_fx_seed(landing: Landing) -> None:
    charges = [
        _charge("ch_dec", created=DEC_2014),  # 1
        _charge("ch_jan", created=JAN_2015),  # 2 ok: the first month with rates
    ]
    landing.write_jsonl("billing", "charges", LOAD_DATE, "charges.jsonl", charges)
    deals = "\n".join(
        [
            "deal_id,contact_id,deal_stage,amount,currency,created_at,closed_at",
            "d1,c1,open,100,EUR,2014-12-15T00:00:00Z,",  # 2: open, converted at its creation month
            "d2,c1,won,100,EUR,2014-12-15T00:00:00Z,2015-01-05T00:00:00Z",  # 3 ok: at the month it closed
            "d3,c1,open,,EUR,2014-12-15T00:00:00Z,",  # 4 ok: no amount to convert
            "d4,c1,won,100,GBP,2014-11-15T00:00:00Z,2014-12-05T00:00:00Z",  # 5
        ]
    )
    landing.write("crm", "deals", LOAD_DATE, "deals.csv", deals + "\n")
    spend = "spend_date,channel,amount,currency\n2014-12-31,ads,10,USD\n2015-01-01,ads,10,USD\n"
    landing.write("crm", "marketing_spend", LOAD_DATE, "spend.csv", spend)
    invoices = [
        # 1: billed in arrears on 2015-01-02 for a period from 2014-12-15: MRR needs December's rate
        _invoice("in_arrears", [_line(start=1_418_601_600, end=1_420_156_800)], created=1_420_156_800),
        # 2: a USD invoice of 2014-12-15 with a GBP line (its period in 2026): the invoice and the line's
        # conversion at the invoice's month both lack a rate
        _invoice("in_gbp", [_line(currency="gbp")], created=1_418_601_600, paid_at=None),
    ]
    landing.write_jsonl("billing", "invoices", LOAD_DATE, "invoices.jsonl", invoices)
    assert_balanced(landing.ingest())
    assert _loaded(landing, "billing__charges") == ["ch_jan"]
    assert landing.quarantine_lines("charges.jsonl") == [(1, f"created: {NO_RATE}")]
    assert _loaded(landing, "crm__deals", "deal_id") == ["d2", "d3"]
    assert landing.quarantine_lines("deals.csv") == [
        (2, f"created_at: {NO_RATE}"),
        (5, f"closed_at: {NO_RATE}"),
    ]
    assert landing.rows("select spend_date from raw.crm__marketing_spend") == [("2015-01-01",)]
    assert landing.quarantine_lines("spend.csv") == [(2, f"spend_date: {NO_RATE}")]
    assert _loaded(landing, "billing__invoices") == []
    assert landing.quarantine_lines("invoices.jsonl") == [
        (1, f"lines[0].period.start: {NO_RATE}"),
        (
            2,
            f"created: {NO_RATE}; "
            "lines[0].currency: no FX rate in the month the invoice was created (seeds/fx_rates.csv)",
        ),
    ]


def test_currency_without_fx_rates(landing: Landing) -> None:
    # SEK added to currencies.csv but not to fx_rates.csv: a SEK charge would be worth 0 in the marts.
    currencies = v.load_currencies() | {"SEK": 2}
    landing.write_jsonl(
        "billing",
        "charges",
        LOAD_DATE,
        "charges.jsonl",
        [_charge("ch_usd"), _charge("ch_sek", currency="sek")],
    )
    # A customer's currency is only a default, not an amount to convert: it loads.
    customer = _customer("cus_sek", T) | {"currency": "SEK"}
    landing.write_jsonl("billing", "customers", LOAD_DATE, "customers.jsonl", [customer])
    result = ingest(landing.con, landing.raw, landing.quarantine, "run1", currencies=currencies)
    assert {f.entity: (f.rows_loaded, f.rows_quarantined) for f in result.files} == {
        "charges": (1, 1),
        "customers": (1, 0),
    }
    assert landing.quarantine_lines("charges.jsonl") == [
        (2, "currency: no FX rate for this currency (seeds/fx_rates.csv)")
    ]


def test_month_missing_inside_the_fx_seed(landing: Landing, tmp_path: Path, monkeypatch) -> None:
    seed = tmp_path / "fx_rates.csv"
    seed.write_text("month,currency,rate\n2015-01-01,USD,1\n2015-03-01,USD,1\n")  # no February
    monkeypatch.setattr(v, "FX_RATES_CSV", seed)
    feb, mar = 1_423_526_400, 1_425_945_600  # 2015-02-10, 2015-03-10
    charges = [_charge("ch_feb", created=feb), _charge("ch_mar", created=mar)]
    landing.write_jsonl("billing", "charges", LOAD_DATE, "charges.jsonl", charges)
    only(landing.ingest())
    assert _loaded(landing, "billing__charges") == ["ch_mar"]
    assert landing.quarantine_lines("charges.jsonl") == [(1, f"created: {NO_RATE}")]


def test_fx_seed_is_read_once_until_it_changes(tmp_path: Path) -> None:
    seed = tmp_path / "fx_rates.csv"
    seed.write_text("month,currency,rate\n2015-01-01,USD,1\n")
    first = v.load_fx_coverage(seed)
    assert v.load_fx_coverage(seed) is first  # cached
    seed.write_text("month,currency,rate\n2016-01-01,USD,1\n2016-02-01,EUR,1.1\n")
    assert v.load_fx_coverage(seed).first_month == {"USD": date(2016, 1, 1), "EUR": date(2016, 2, 1)}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_valid_edge_cases_are_not_quarantined(landing: Landing, fmt: str) -> None:
    landing.write_jsonl("billing", "customers", "2026-10-19", "customers.jsonl", [_customer("cus_1", T)])
    assert_balanced(landing.ingest())
    # The same instant with two offsets: created 10:00+02:00 = solved 08:00Z; reopens 0.
    ticket = {
        "ticket_id": "t1",
        "requester_email": "a@x.com",
        "created_at": "2026-10-01T10:00:00+02:00",
        "updated_at": "2026-10-01T08:00:00Z",
        "first_reply_at": "2026-10-01T08:00:00Z",
        "solved_at": "2026-10-01T08:00:00Z",
        "status": "solved",
        "priority": "low",
        "channel": "email",
        "satisfaction_rating": "good",
        "reopens": "0",
    }
    if fmt == "csv":
        content = ",".join(ticket) + "\n" + ",".join(ticket.values()) + "\n"
        landing.write("support", "tickets", LOAD_DATE, "tickets.csv", content)
    else:
        landing.write_jsonl("support", "tickets", LOAD_DATE, "tickets.jsonl", [ticket])
    charges = [
        _charge("ch_full_refund", 1000, 1000, created=T),  # refund == amount, the customer's own second
        _charge("ch_zero", 0, 0, created=T + 1),  # a zero charge
    ]
    landing.write_jsonl("billing", "charges", LOAD_DATE, "charges.jsonl", charges)
    subs = [_subscription("sub_1", trial_start=T, trial_end=T, canceled_at=T, ended_at=T, status="canceled")]
    landing.write_jsonl("billing", "subscriptions", LOAD_DATE, "subs.jsonl", subs)
    invoices = [_invoice("in_1", [_line(start=T, end=T, quantity=0)], paid_at=T)]
    landing.write_jsonl("billing", "invoices", LOAD_DATE, "invoices.jsonl", invoices)
    deal = "deal_id,contact_id,deal_stage,amount,currency,created_at,closed_at\nd1,c1,won,5,JPY,{t},{t}\n"
    landing.write("crm", "deals", LOAD_DATE, "deals.csv", deal.format(t="2015-01-01T00:00:00Z"))
    result = landing.ingest()
    assert {f.entity: (f.rows_loaded, f.rows_quarantined) for f in result.files} == {
        "charges": (2, 0),
        "customers": (0, 0),  # loaded by the first run: skipped
        "invoices": (1, 0),
        "subscriptions": (1, 0),
        "deals": (1, 0),
        "tickets": (1, 0),
    }
    assert landing.rows("select count(*) from audit.quarantine") == [(0,)]


def test_record_checks_do_not_fail_on_bad_values(landing: Landing) -> None:
    # Values that fail their own check give that reason only; the record checks that read them stay silent.
    records = [_charge("ch_1", "abc", 5, created="yesterday"), _charge("ch_2", 10, "x")]
    landing.write_jsonl("billing", "charges", LOAD_DATE, "charges.jsonl", records)
    f = only(landing.ingest())
    assert (f.rows_loaded, f.rows_quarantined) == (0, 2)
    assert landing.quarantine_lines("charges.jsonl") == [
        (1, "amount: not an integer; created: not a Unix timestamp"),
        (2, "amount_refunded: not an integer"),
    ]


def test_a_nul_byte_in_any_field_quarantines_its_row_in_csv_and_jsonl(landing: Landing) -> None:
    # docs/bad-input.md#one-faulty-row-never-blocks-a-publish: a NUL byte is quarantined row by row on every
    # target, because the Postgres mirror could not copy it (COPY rejects 0x00) and DuckDB must publish the
    # same marts.
    spend = b"spend_date,channel,amount,currency\n2026-10-01,ads,10,USD\n2026-10-01,a\x00ds,11,USD\n"
    landing.write("crm", "marketing_spend", LOAD_DATE, "spend.csv", spend)
    nps = [
        {"response_id": "n1", "contact_id": "c\u00001", "score": 9, "responded_at": "2026-10-01T00:00:00Z"},
        {"response_id": "n2", "contact_id": "c2", "score": 9, "responded_at": "2026-10-01T00:00:00Z"},
    ]
    landing.write_jsonl("crm", "nps_responses", LOAD_DATE, "nps.jsonl", nps)
    files = {f.entity: (f.rows_read, f.rows_loaded, f.rows_quarantined) for f in landing.ingest().files}
    assert files == {"marketing_spend": (2, 1, 1), "nps_responses": (2, 1, 1)}
    assert landing.quarantine_lines("spend.csv") == [(3, "channel: contains a NUL byte (0x00)")]
    assert landing.quarantine_lines("nps.jsonl") == [(1, "contact_id: contains a NUL byte (0x00)")]
