"""A hand-written multi-currency raw layer for constant-currency MRR movements (test_fx.py), as of 2024-03-31,
with the user's own FX table `fx_user.monthly_rates` (read through var fx_rates_relation instead of the seed).

Same interface as revenue_fixture.py. Every customer is billing-only and pays monthly, periods [1st, next
1st), so each month's MRR is that month's line (snapshot: the month's last day; March's is the as-of date).

US dollars for one unit (fx_user.monthly_rates; every currency of seeds/currencies.csv, as the coverage test
requires):
            USD    EUR    GBP    JPY      AUD   CAD   CHF
    2024-01 1      1.10   1.25   0.0070   0.66  0.74  1.14
    2024-02 1      1.20   1.30   0.0069   0.65  0.74  1.13
    2024-03 1      1.15   1.30   0.00685  0.65  0.73  1.12
    2024-04 1      1.25   1.30   0.0068   0.65  0.73  1.12

Story (own-currency monthly amounts, Jan / Feb / Mar):
* cus_f: EUR 100 / 100 / 100 (constant: retained while EUR moves)
* cus_g: EUR 100 / 150 / 150 (upgrades in February)
* cus_h: EUR 80 / 80 / - (churns in March)
* cus_i: USD 50 / 50 / 50
* cus_j: EUR 100 / 95 / 95 (downgrades in February: more dollars, 114.00 > 110.00, but a contraction)
* cus_k: JPY 4980 / 4980 / 4980 (cent rounding)
* cus_m: - / GBP 200 / GBP 200 (new in February; GBP flat from February to March)
cus_f and cus_i are also CRM contacts (metadata.crm_contact_id), of segment enterprise and smb, for the
per-dimension cohort cut; the others are billing-only (segment unknown).
"""

from __future__ import annotations

from tests.dbt import raw_fixture
from tests.dbt.raw_fixture import _children, _drop
from tests.dbt.revenue_fixture import _invoice, _line, ts

AS_OF = "2024-03-31"
LOAD_DATE = "2024-03-31"
FX_RATES_RELATION = "fx_user.monthly_rates"

RATES = {
    "2024-01-01": {"USD": "1", "EUR": "1.10", "GBP": "1.25", "JPY": "0.0070", "AUD": "0.66", "CAD": "0.74",
                   "CHF": "1.14"},
    "2024-02-01": {"USD": "1", "EUR": "1.20", "GBP": "1.30", "JPY": "0.0069", "AUD": "0.65", "CAD": "0.74",
                   "CHF": "1.13"},
    "2024-03-01": {"USD": "1", "EUR": "1.15", "GBP": "1.30", "JPY": "0.00685", "AUD": "0.65", "CAD": "0.73",
                   "CHF": "1.12"},
    "2024-04-01": {"USD": "1", "EUR": "1.25", "GBP": "1.30", "JPY": "0.0068", "AUD": "0.65", "CAD": "0.73",
                   "CHF": "1.12"},
}  # fmt: skip

# customer -> (currency, minor units billed in January, February, March; None = no line)
PLANS: dict[str, tuple[str, tuple[int | None, int | None, int | None]]] = {
    "cus_f": ("eur", (10000, 10000, 10000)),
    "cus_g": ("eur", (10000, 15000, 15000)),
    "cus_h": ("eur", (8000, 8000, None)),
    "cus_i": ("usd", (5000, 5000, 5000)),
    "cus_j": ("eur", (10000, 9500, 9500)),
    "cus_k": ("jpy", (4980, 4980, 4980)),
    "cus_m": ("gbp", (None, 20000, 20000)),
}
# billing customer -> its CRM contact's segment
SEGMENTS = {"cus_f": "enterprise", "cus_i": "smb"}
PERIODS = (("2024-01-01", "2024-02-01"), ("2024-02-01", "2024-03-01"), ("2024-03-01", "2024-04-01"))


def raw_rows() -> dict[str, list[dict]]:
    customers, subscriptions, items, invoices, lines = [], [], {}, [], {}
    for customer, (currency, amounts) in PLANS.items():
        first = next(n for n, amount in enumerate(amounts) if amount is not None)
        start = PERIODS[first][0]
        customers.append(
            {"id": customer, "email": f"{customer}@example.com", "created": ts(start), "currency": currency}
        )
        if customer in SEGMENTS:
            customers[-1]["metadata__crm_contact_id"] = f"c_{customer}"
        sub_id = f"sub_{customer}"
        subscriptions.append(
            {
                "id": sub_id,
                "customer": customer,
                "status": "active" if amounts[-1] is not None else "canceled",
                "created": ts(start),
                "start_date": ts(start),
                "cancel_at_period_end": "false",
            }
        )
        items[sub_id] = [
            {
                "id": f"si_{sub_id}",
                "price__id": f"price_{sub_id}",
                "price__unit_amount": str(amounts[first]),
                "price__currency": currency,
                "price__recurring__interval": "month",
                "price__recurring__interval_count": "1",
                "quantity": "1",
            }
        ]
        for n, amount in enumerate(amounts):
            if amount is None:
                continue
            period_start, period_end = PERIODS[n]
            invoice_id = f"in_{customer}_{n + 1}"
            invoices.append(
                _invoice(invoice_id, customer, sub_id, "paid", currency, ts(period_start), amount)
            )
            lines[invoice_id] = [_line(f"il_{customer}_{n + 1}", amount, currency, period_start, period_end)]
    subscription_rows = _drop("billing__subscriptions", LOAD_DATE, subscriptions)
    invoice_rows = _drop("billing__invoices", LOAD_DATE, invoices)
    contacts = [
        {
            "contact_id": f"c_{customer}",
            "email": f"{customer}@example.com",
            "segment": segment,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "is_deleted": "false",
        }
        for customer, segment in SEGMENTS.items()
    ]
    return {
        "crm__contacts": _drop("crm__contacts", LOAD_DATE, contacts),
        "billing__customers": _drop("billing__customers", LOAD_DATE, customers),
        "billing__subscriptions": subscription_rows,
        "billing__subscription_items": _children(subscription_rows, "subscription_id", items, "item_index"),
        "billing__invoices": invoice_rows,
        "billing__invoice_lines": _children(invoice_rows, "invoice_id", lines, "line_index"),
    }


def load(execute, placeholder: str) -> None:
    """Schema raw with every raw table, and the user's FX table fx_user.monthly_rates."""
    raw_fixture.load(execute, placeholder, raw_rows())
    execute("create schema if not exists fx_user")
    execute("create table fx_user.monthly_rates (month date, currency varchar(3), rate decimal(20, 10))")
    for month, rates in RATES.items():
        for currency, rate in rates.items():
            execute(
                f"insert into fx_user.monthly_rates values ({placeholder}, {placeholder}, {placeholder})",
                [month, currency, rate],
            )
