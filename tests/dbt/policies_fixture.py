"""A small hand-written raw layer for the revenue policies (test_revenue_policies.py), as of 2024-05-20.

Same interface as revenue_fixture.py (raw VARCHAR tables, one drop of 2024-05-20, Stripe-like: amounts in
cents, timestamps in Unix seconds, UTC). One currency (USD, rate 1), monthly plans, each invoice created and
(when paid) paid at its period's start. Billing customers without a CRM contact: each is its own customer.

Story (MRR on the last day of each month, for May on the as-of date 2024-05-20):
* P = cus_p, sub_p: 30.00 a month from 2024-01-10, five paid periods to [05-10,06-10); canceled immediately
  on 2024-05-12 10:00 (cancellation_requested, not at period end), inside the paid May period.
* Q = cus_q, sub_q: 40.00 a month from 2024-01-15, three paid periods to [03-15,04-15), then open invoices
  created 04-15 [04-15,05-15) and 05-15 [05-15,06-15): past_due, delinquent since 04-15.
* R = cus_r: sub_r1 25.00 for [01-05,02-05), set to cancel at period end on 01-20 (ended 02-05); then sub_r2
  25.00 from 04-05: [04-05,05-05), [05-05,06-05). Returns two months after its February churn.
* S = cus_s: sub_s1 15.00 for [01-20,02-20), canceled at period end (ended 02-20); then sub_s2 15.00 from
  03-25: [03-25,04-25), [04-25,05-25). Returns one month after its February churn.
Free subscriptions (revenue_free_subscriptions; "comped": a 100%-off coupon makes the line amount 0):
* F = cus_f, sub_f: 100.00 a month from 2024-01-01, paid [01-01,02-01) and [02-01,03-01); 100% off from March:
  lines of 0.00 (invoices paid, 0 due) [03-01,04-01), [04-01,05-01), [05-01,06-01). Still subscribed.
* G = cus_g, sub_g: 50.00 a month from 2024-01-01, paid [01-01,02-01) and [02-01,03-01); 0.00 lines
  [03-01,04-01), [04-01,05-01); canceled (not at period end) on 05-01, when its last line ends.
* H = cus_h, sub_h: a $0 plan from 2024-02-01, 0.00 lines [02-01,03-01) ... [05-01,06-01): never paid more
  than 0 (no invoice with money paid), a lead under every setting.
"""

from __future__ import annotations

from tests.dbt import raw_fixture
from tests.dbt.raw_fixture import _children, _drop
from tests.dbt.revenue_fixture import _invoice, _line, ts

AS_OF = "2024-05-20"
LOAD_DATE = "2024-05-20"


def raw_rows() -> dict[str, list[dict]]:
    customers = _drop(
        "billing__customers",
        LOAD_DATE,
        [
            {"id": f"cus_{c}", "email": f"{c}@example.com", "created": ts(day), "currency": "usd"}
            for c, day in [
                ("p", "2024-01-10"),
                ("q", "2024-01-15"),
                ("r", "2024-01-05"),
                ("s", "2024-01-20"),
                ("f", "2024-01-01"),
                ("g", "2024-01-01"),
                ("h", "2024-02-01"),
            ]
        ],
    )

    def sub(sub_id: str, customer: str, status: str, start: str, amount: int, **extra: str | None) -> tuple:
        parent = {
            "id": sub_id,
            "customer": customer,
            "status": status,
            "created": ts(start),
            "start_date": ts(start),
            "cancel_at_period_end": "false",
        } | extra
        item = {
            "id": f"si_{sub_id}",
            "price__id": f"price_{sub_id}",
            "price__unit_amount": str(amount),
            "price__currency": "usd",
            "price__recurring__interval": "month",
            "price__recurring__interval_count": "1",
            "quantity": "1",
        }
        return parent, item

    canceled_p = ts("2024-05-12", "10:00:00")
    subs = [
        sub(
            "sub_p",
            "cus_p",
            "canceled",
            "2024-01-10",
            3000,
            canceled_at=canceled_p,
            ended_at=canceled_p,
            cancellation_details__reason="cancellation_requested",
        ),
        sub("sub_q", "cus_q", "past_due", "2024-01-15", 4000),
        sub(
            "sub_r1",
            "cus_r",
            "canceled",
            "2024-01-05",
            2500,
            cancel_at_period_end="true",
            canceled_at=ts("2024-01-20"),
            ended_at=ts("2024-02-05"),
            cancellation_details__reason="cancellation_requested",
        ),
        sub("sub_r2", "cus_r", "active", "2024-04-05", 2500),
        sub(
            "sub_s1",
            "cus_s",
            "canceled",
            "2024-01-20",
            1500,
            cancel_at_period_end="true",
            canceled_at=ts("2024-02-01"),
            ended_at=ts("2024-02-20"),
            cancellation_details__reason="cancellation_requested",
        ),
        sub("sub_s2", "cus_s", "active", "2024-03-25", 1500),
        sub("sub_f", "cus_f", "active", "2024-01-01", 10000),
        sub(
            "sub_g",
            "cus_g",
            "canceled",
            "2024-01-01",
            5000,
            canceled_at=ts("2024-05-01"),
            ended_at=ts("2024-05-01"),
            cancellation_details__reason="cancellation_requested",
        ),
        sub("sub_h", "cus_h", "active", "2024-02-01", 0),
    ]
    subscriptions = _drop("billing__subscriptions", LOAD_DATE, [p for p, _ in subs])
    subscription_items = _children(
        subscriptions, "subscription_id", {p["id"]: [i] for p, i in subs}, "item_index"
    )

    periods = {
        "sub_p": ("cus_p", 3000, ["01-10", "02-10", "03-10", "04-10", "05-10", "06-10"], 5 * ["paid"]),
        "sub_q": (
            "cus_q",
            4000,
            ["01-15", "02-15", "03-15", "04-15", "05-15", "06-15"],
            3 * ["paid"] + 2 * ["open"],
        ),
        "sub_r1": ("cus_r", 2500, ["01-05", "02-05"], ["paid"]),
        "sub_r2": ("cus_r", 2500, ["04-05", "05-05", "06-05"], 2 * ["paid"]),
        "sub_s1": ("cus_s", 1500, ["01-20", "02-20"], ["paid"]),
        "sub_s2": ("cus_s", 1500, ["03-25", "04-25", "05-25"], 2 * ["paid"]),
        # 100% off from the third period: the line amount after the discount is 0
        "sub_f": (
            "cus_f",
            [10000, 10000, 0, 0, 0],
            ["01-01", "02-01", "03-01", "04-01", "05-01", "06-01"],
            5 * ["paid"],
        ),
        "sub_g": ("cus_g", [5000, 5000, 0, 0], ["01-01", "02-01", "03-01", "04-01", "05-01"], 4 * ["paid"]),
        "sub_h": ("cus_h", 0, ["02-01", "03-01", "04-01", "05-01", "06-01"], 4 * ["paid"]),
    }
    invoices_and_lines: list[tuple[dict, list[dict]]] = []
    for sub_id, (customer, amounts, bounds, statuses) in periods.items():
        for n, status in enumerate(statuses, start=1):
            amount = amounts[n - 1] if isinstance(amounts, list) else amounts
            start, end = f"2024-{bounds[n - 1]}", f"2024-{bounds[n]}"
            line = _line(f"il_{sub_id}_{n}", amount, "usd", start, end)
            invoice = _invoice(f"in_{sub_id}_{n}", customer, sub_id, status, "usd", ts(start), amount)
            invoices_and_lines.append((invoice, [line]))

    invoices = _drop("billing__invoices", LOAD_DATE, [inv for inv, _ in invoices_and_lines])
    invoice_lines = _children(
        invoices, "invoice_id", {inv["id"]: lines for inv, lines in invoices_and_lines}, "line_index"
    )
    return {
        "billing__customers": customers,
        "billing__subscriptions": subscriptions,
        "billing__subscription_items": subscription_items,
        "billing__invoices": invoices,
        "billing__invoice_lines": invoice_lines,
    }


def load(execute, placeholder: str) -> None:
    """Create schema raw with every raw table (empty where the story has no rows) and load the rows."""
    raw_fixture.load(execute, placeholder, raw_rows())
