"""A small hand-written raw layer for the MRR models (test_revenue.py), as of 2024-05-20.

Same interface as raw_fixture.py (raw VARCHAR tables from clm.ingest.schemas, one drop of 2024-05-20).
Stripe-like: amounts in minor units (JPY whole yen), timestamps in Unix seconds (UTC).

Story (MRR on the last day of each month, for May on the as-of date 2024-05-20):
* customer A = CRM contact c1 with two billing customers linked by metadata.crm_contact_id:
  cus_a1 pays 50.00 USD a month (periods from the 15th); an invoiceitem one-off (onboarding, 500.00 USD) and a
  void duplicate of the February invoice are ignored; cus_a2 buys an annual plan of 1200.00 EUR on 2024-03-01
  (100.00 EUR a month, converted at each month's rate).
* customer B = cus_b: 4980 JPY a month from 2024-02-10, two periods, then nothing (churn in April).
* customer C = cus_c: a quarterly plan (month x 3) of 270.00 USD = 90.00 a month, January to March paid,
  April to June uncollectible (still counts).
* customer D = cus_d: 20.00 USD a month in January and February, nothing on 03-31 (churn), a new
  subscription at 40.00 from 04-20 (reactivation), upgraded on 05-10 14:30 UTC to 60.00 with a new
  subscription line [05-10, 06-10) plus proration invoiceitems (ignored): on 05-20 only the new line covers.
* customer E = cus_e: only a one-off invoiceitem purchase: never any MRR, no rows.
"""

from __future__ import annotations

import calendar
import datetime as dt

from tests.dbt import raw_fixture
from tests.dbt.raw_fixture import _children, _drop

AS_OF = "2024-05-20"
LOAD_DATE = "2024-05-20"


def ts(day: str, time: str = "00:00:00") -> str:
    """Unix seconds of a UTC date (and time), as landed text."""
    moment = dt.datetime.fromisoformat(f"{day}T{time}")
    return str(calendar.timegm(moment.timetuple()))


def _line(line_id: str, amount: int, currency: str, start: str, end: str, **extra: str | None) -> dict:
    """A subscription line of a monthly price; start/end as YYYY-MM-DD (midnight UTC) or Unix seconds."""
    row = {
        "id": line_id,
        "type": "subscription",
        "amount": str(amount),
        "currency": currency,
        "period__start": ts(start) if "-" in start else start,
        "period__end": ts(end) if "-" in end else end,
        "proration": "false",
        "quantity": "1",
        "price__recurring__interval": "month",
        "price__recurring__interval_count": "1",
    }
    return row | extra


def _invoice(
    invoice_id: str,
    customer: str,
    subscription: str | None,
    status: str,
    currency: str,
    created: str,
    amount: int,
) -> dict:
    return {
        "id": invoice_id,
        "customer": customer,
        "subscription": subscription,
        "status": status,
        "currency": currency,
        "created": created,
        "status_transitions__paid_at": created if status == "paid" else None,
        "amount_due": str(amount),
        "amount_paid": str(amount) if status == "paid" else "0",
    }


def raw_rows() -> dict[str, list[dict]]:
    contacts = _drop(
        "crm__contacts",
        LOAD_DATE,
        [
            {
                "contact_id": "c1",
                "email": "alice@example.com",
                "first_name": "Alice",
                "country": "US",
                "segment": "smb",
                "acquisition_channel": "organic",
                "created_at": "2024-01-02T00:00:00Z",
                "updated_at": "2024-01-02T00:00:00Z",
                "is_deleted": "false",
            }
        ],
    )
    customers = _drop(
        "billing__customers",
        LOAD_DATE,
        [
            {
                "id": "cus_a1",
                "email": "alice@example.com",
                "created": ts("2024-01-15"),
                "currency": "usd",
                "metadata__crm_contact_id": "c1",
            },
            {
                "id": "cus_a2",
                "email": "alice-eu@example.com",
                "created": ts("2024-03-01"),
                "currency": "eur",
                "metadata__crm_contact_id": "c1",
            },
            {"id": "cus_b", "email": "bob@example.com", "created": ts("2024-02-10"), "currency": "jpy"},
            {"id": "cus_c", "email": "carol@example.com", "created": ts("2024-01-01"), "currency": "usd"},
            {"id": "cus_d", "email": "dave@example.com", "created": ts("2024-01-05"), "currency": "usd"},
            {"id": "cus_e", "email": "erin@example.com", "created": ts("2024-02-01"), "currency": "usd"},
        ],
    )

    def sub(
        sub_id: str,
        customer: str,
        status: str,
        start: str,
        interval: str,
        count: int,
        amount: int,
        currency: str,
    ) -> tuple[dict, dict]:
        parent = {
            "id": sub_id,
            "customer": customer,
            "status": status,
            "created": ts(start),
            "start_date": ts(start),
            "cancel_at_period_end": "false",
        }
        item = {
            "id": f"si_{sub_id}",
            "price__id": f"price_{sub_id}",
            "price__unit_amount": str(amount),
            "price__currency": currency,
            "price__recurring__interval": interval,
            "price__recurring__interval_count": str(count),
            "quantity": "1",
        }
        return parent, item

    subs = [
        sub("sub_a1", "cus_a1", "active", "2024-01-15", "month", 1, 5000, "usd"),
        sub("sub_a2", "cus_a2", "active", "2024-03-01", "year", 1, 120000, "eur"),
        sub("sub_b", "cus_b", "canceled", "2024-02-10", "month", 1, 4980, "jpy"),
        sub("sub_c", "cus_c", "past_due", "2024-01-01", "month", 3, 27000, "usd"),
        sub("sub_d1", "cus_d", "canceled", "2024-01-05", "month", 1, 2000, "usd"),
        sub("sub_d2", "cus_d", "active", "2024-04-20", "month", 1, 6000, "usd"),
    ]
    subscriptions = _drop("billing__subscriptions", LOAD_DATE, [p for p, _ in subs])
    subscription_items = _children(
        subscriptions, "subscription_id", {p["id"]: [i] for p, i in subs}, "item_index"
    )

    invoices_and_lines: list[tuple[dict, list[dict]]] = []

    def invoice(
        invoice_id: str,
        customer: str,
        subscription: str | None,
        status: str,
        currency: str,
        created: str,
        lines: list[dict],
    ) -> None:
        total = sum(int(line["amount"]) for line in lines)
        invoices_and_lines.append(
            (_invoice(invoice_id, customer, subscription, status, currency, created, total), lines)
        )

    # A / cus_a1: 50.00 USD a month, periods from the 15th
    for n, (start, end) in enumerate(
        [
            ("2024-01-15", "2024-02-15"),
            ("2024-02-15", "2024-03-15"),
            ("2024-03-15", "2024-04-15"),
            ("2024-04-15", "2024-05-15"),
            ("2024-05-15", "2024-06-15"),
        ],
        start=1,
    ):
        lines = [_line(f"il_a1_{n}", 5000, "usd", start, end)]
        if n == 1:  # a one-off onboarding fee on the first invoice: invoiceitem, no recurring price
            lines.append(
                _line(
                    "il_a1_onboarding",
                    50000,
                    "usd",
                    start,
                    start,
                    type="invoiceitem",
                    price__recurring__interval=None,
                    price__recurring__interval_count=None,
                )
            )
        invoice(f"in_a1_{n}", "cus_a1", "sub_a1", "paid", "usd", ts(start), lines)
    # a void duplicate of the February invoice: ignored
    invoice(
        "in_a1_void",
        "cus_a1",
        "sub_a1",
        "void",
        "usd",
        ts("2024-02-15"),
        [_line("il_a1_void", 5000, "usd", "2024-02-15", "2024-03-15")],
    )
    # A / cus_a2: annual plan 1200.00 EUR
    invoice(
        "in_a2_1",
        "cus_a2",
        "sub_a2",
        "paid",
        "eur",
        ts("2024-03-01"),
        [_line("il_a2_1", 120000, "eur", "2024-03-01", "2025-03-01", price__recurring__interval="year")],
    )
    # B: 4980 JPY a month, two periods
    invoice(
        "in_b_1",
        "cus_b",
        "sub_b",
        "paid",
        "jpy",
        ts("2024-02-10"),
        [_line("il_b_1", 4980, "jpy", "2024-02-10", "2024-03-10")],
    )
    invoice(
        "in_b_2",
        "cus_b",
        "sub_b",
        "paid",
        "jpy",
        ts("2024-03-10"),
        [_line("il_b_2", 4980, "jpy", "2024-03-10", "2024-04-10")],
    )
    # C: quarterly 270.00 USD; the second quarter is uncollectible
    invoice(
        "in_c_1",
        "cus_c",
        "sub_c",
        "paid",
        "usd",
        ts("2024-01-01"),
        [_line("il_c_1", 27000, "usd", "2024-01-01", "2024-04-01", price__recurring__interval_count="3")],
    )
    invoice(
        "in_c_2",
        "cus_c",
        "sub_c",
        "uncollectible",
        "usd",
        ts("2024-04-01"),
        [_line("il_c_2", 27000, "usd", "2024-04-01", "2024-07-01", price__recurring__interval_count="3")],
    )
    # D: 20.00 USD in January and February, then a new subscription at 40.00, upgraded to 60.00 on 05-10
    invoice(
        "in_d_1",
        "cus_d",
        "sub_d1",
        "paid",
        "usd",
        ts("2024-01-05"),
        [_line("il_d_1", 2000, "usd", "2024-01-05", "2024-02-05")],
    )
    invoice(
        "in_d_2",
        "cus_d",
        "sub_d1",
        "paid",
        "usd",
        ts("2024-02-05"),
        [_line("il_d_2", 2000, "usd", "2024-02-05", "2024-03-05")],
    )
    invoice(
        "in_d_3",
        "cus_d",
        "sub_d2",
        "paid",
        "usd",
        ts("2024-04-20"),
        [_line("il_d_3", 4000, "usd", "2024-04-20", "2024-05-20")],
    )
    upgrade = ts("2024-05-10", "14:30:00")
    invoice(
        "in_d_4",
        "cus_d",
        "sub_d2",
        "paid",
        "usd",
        upgrade,
        [
            # proration items (invoiceitem): credit for the unused 40.00 time, charge for the rest at 60.00
            _line(
                "il_d_4_credit", -1333, "usd", upgrade, ts("2024-05-20"), type="invoiceitem", proration="true"
            ),
            _line(
                "il_d_4_debit", 2000, "usd", upgrade, ts("2024-05-20"), type="invoiceitem", proration="true"
            ),
            # the new subscription line from the upgrade (billing cycle reset) covers 05-10 .. 06-10
            _line("il_d_4", 6000, "usd", upgrade, ts("2024-06-10", "14:30:00")),
        ],
    )
    # E: a one-off purchase only
    invoice(
        "in_e_1",
        "cus_e",
        None,
        "paid",
        "usd",
        ts("2024-02-01"),
        [
            _line(
                "il_e_1",
                9900,
                "usd",
                "2024-02-01",
                "2024-02-01",
                type="invoiceitem",
                price__recurring__interval=None,
                price__recurring__interval_count=None,
            )
        ],
    )

    invoices = _drop("billing__invoices", LOAD_DATE, [inv for inv, _ in invoices_and_lines])
    invoice_lines = _children(
        invoices, "invoice_id", {inv["id"]: lines for inv, lines in invoices_and_lines}, "line_index"
    )
    return {
        "crm__contacts": contacts,
        "billing__customers": customers,
        "billing__subscriptions": subscriptions,
        "billing__subscription_items": subscription_items,
        "billing__invoices": invoices,
        "billing__invoice_lines": invoice_lines,
    }


def load(execute, placeholder: str) -> None:
    """Create schema raw with every raw table (empty where the story has no rows) and load the rows."""
    raw_fixture.load(execute, placeholder, raw_rows())
