"""A small hand-written raw layer for the lifecycle models (test_lifecycle.py), as of 2024-06-30.

Same interface as raw_fixture.py (raw VARCHAR tables from clm.ingest.schemas, one drop of 2024-06-30).
Stripe-like: amounts in minor units, timestamps in Unix seconds (UTC); everything is in USD, so MRR levels are
the plain amounts. Every CRM contact is ``c_<key>``, its billing customer ``cus_<key>`` (linked by
metadata.crm_contact_id, except ``reactivated``, matched by a messy copy of its email).

Eighteen customers, each designed to take one path through the stages (lead, trial, onboarding, active,
expanding, advocate, at_risk, churned). Subscription invoices are monthly, periods [start, start + 1 month),
created and paid at midnight UTC on the period start unless stated.

* lead          contact only (2024-03-01), names c_referrer as its referrer but never pays.
* trial         contact 2024-06-10; subscription trialing 2024-06-15 .. 2024-07-15 (after the as-of date), a
                $0 trial invoice (amount_paid 0: not a payment).
* trial_lapsed  contact 2024-04-01; trial 2024-04-10 .. 04-24, $0 trial invoice, subscription canceled on
                04-24 without ever paying: back to lead.
* onboarding    contact 2024-04-20 (referred by c_referrer); 30.00 a month from 2024-05-01.
* active        contact 2023-12-15; trial 2023-12-18 .. 2024-01-01 ($0 invoice), then 50.00 a month.
* expanding     contact 2023-10-01; 40.00 a month from 2023-11-01, upgraded to 100.00 from 2024-05-01.
* promoter      contact 2023-06-01; 25.00 a month from 2023-07-01; NPS 8 (passive) 2023-08-10, 10 2024-03-15.
* referrer      contact 2023-09-01; 60.00 a month from 2023-10-01; its referral c_onboarding pays 2024-05-01.
* failed        contact 2023-08-01; 45.00 a month from 2023-09-01, a succeeded charge per paid invoice;
                March 2024: charge failed 03-01 10:00, retried and paid 03-03 10:00 (recovered); June 2024:
                invoice open, charges failed 06-01 10:00 and 06-04 10:00 (unrecovered). Subscription active.
* cancel        contact 2023-11-01; 80.00 a month from 2023-12-01; set to cancel at period end on
                2024-06-20 15:00 (still active, ended_at null).
* detractor     contact 2024-01-05; 20.00 a month from 2024-01-15 (periods from the 15th); NPS 9 on
                2024-02-10, then 3 on 2024-05-20.
* voluntary     contact 2023-05-01; 30.00 a month 2023-06 .. 2024-02; cancel at period end requested
                2024-02-10 09:00, ended 2024-03-01, reason cancellation_requested.
* invol_pf      contact 2023-08-15; 35.00 a month 2023-09 .. 2024-02; the March 2024 invoice failed twice
                (03-01, 03-05) and was voided; subscription canceled 2024-03-15, reason payment_failed.
* invol_unc     contact 2023-09-10; 55.00 a month 2023-10 .. 2024-03; the April 2024 invoice failed (04-01)
                and is uncollectible (its line still counts towards MRR until 05-01); subscription canceled
                2024-05-01 with no reason.
* reactivated   contact 2023-03-01; 30.00 a month 2023-04 .. 2023-09 (canceled 2023-10-01,
                cancellation_requested), then a new subscription at 45.00 a month from 2024-02-01.
* retrial       contact 2023-02-01; 30.00 a month 2023-03 .. 2023-08; the September 2023 invoice failed
                (09-01 10:00) and was voided, subscription canceled 2023-09-10 for payment_failed; later a
                new trial 2024-04-01 .. 04-15 ($0 trial invoice) lapses without payment.
* immediate     contact 2023-12-20; 40.00 a month from 2024-01-10 (periods from the 10th); canceled
                immediately on 2024-06-20 12:00 (ended_at, cancellation_requested) inside its paid period
                [06-10, 07-10), which still pays to its end (docs/marts.md#mrr default: churn when the
                invoiced period ends).
* renewal_due   contact 2024-03-25; 25.00 a month from 2024-03-30; its last period [05-30, 06-30) ends on the
                as-of date and the renewal invoice is not in the extract yet; subscription active.
"""

from __future__ import annotations

import datetime as dt

from tests.dbt import raw_fixture
from tests.dbt.raw_fixture import _children, _drop
from tests.dbt.revenue_fixture import ts

AS_OF = "2024-06-30"
LOAD_DATE = "2024-06-30"

KEYS = (
    "lead",
    "trial",
    "trial_lapsed",
    "onboarding",
    "active",
    "expanding",
    "promoter",
    "referrer",
    "failed",
    "cancel",
    "detractor",
    "voluntary",
    "invol_pf",
    "invol_unc",
    "reactivated",
    "retrial",
    "immediate",
    "renewal_due",
)


def month_starts(first: str, count: int) -> list[tuple[str, str]]:
    """``count`` consecutive monthly periods [start, end) from ``first`` (YYYY-MM-DD, day <= 28)."""
    start = dt.date.fromisoformat(first)
    periods = []
    for _ in range(count):
        end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
        periods.append((start.isoformat(), end.isoformat()))
        start = end
    return periods


class _Story:
    """Collects the raw rows of the story, one helper per entity."""

    def __init__(self) -> None:
        self.contacts: list[dict] = []
        self.customers: list[dict] = []
        self.subscriptions: list[tuple[dict, dict]] = []
        self.invoices: list[tuple[dict, list[dict]]] = []
        self.charges: list[dict] = []
        self.nps: list[dict] = []

    def contact(
        self,
        key: str,
        created: str,
        channel: str,
        segment: str,
        country: str,
        referred_by: str | None = None,
    ) -> None:
        self.contacts.append(
            {
                "contact_id": f"c_{key}",
                "email": f"{key}@example.com",
                "first_name": key.title(),
                "last_name": "Test",
                "company": f"{key.title()} Ltd",
                "country": country,
                "segment": segment,
                "acquisition_channel": channel,
                "referred_by_contact_id": referred_by,
                "created_at": created,
                "updated_at": created,
                "is_deleted": "false",
            }
        )

    def billing_customer(
        self, key: str, created: str, *, linked: bool = True, email: str | None = None
    ) -> None:
        self.customers.append(
            {
                "id": f"cus_{key}",
                "email": email or f"{key}@example.com",
                "created": ts(created),
                "currency": "usd",
                "metadata__crm_contact_id": f"c_{key}" if linked else None,
            }
        )

    def subscription(
        self,
        sub_id: str,
        key: str,
        status: str,
        created: str,
        amount: int,
        *,
        trial: tuple[str, str] | None = None,
        cancel_at_period_end: bool = False,
        canceled_at: str | None = None,
        ended_at: str | None = None,
        reason: str | None = None,
    ) -> None:
        parent = {
            "id": sub_id,
            "customer": f"cus_{key}",
            "status": status,
            "created": ts(created),
            "start_date": ts(created),
            "trial_start": ts(trial[0]) if trial else None,
            "trial_end": ts(trial[1]) if trial else None,
            "cancel_at_period_end": "true" if cancel_at_period_end else "false",
            "canceled_at": canceled_at,
            "ended_at": ended_at,
            "cancellation_details__reason": reason,
        }
        item = {
            "id": f"si_{sub_id}",
            "price__id": f"price_{sub_id}",
            "price__unit_amount": str(amount),
            "price__currency": "usd",
            "price__recurring__interval": "month",
            "price__recurring__interval_count": "1",
            "quantity": "1",
        }
        self.subscriptions.append((parent, item))

    def invoice(
        self,
        invoice_id: str,
        key: str,
        sub_id: str,
        status: str,
        amount: int,
        period: tuple[str, str],
        *,
        paid_at: str | None = None,
    ) -> None:
        """One subscription invoice created at the period start, with one subscription line for it."""
        created = ts(period[0])
        paid = status == "paid"
        header = {
            "id": invoice_id,
            "customer": f"cus_{key}",
            "subscription": sub_id,
            "status": status,
            "currency": "usd",
            "created": created,
            "status_transitions__paid_at": (paid_at or created) if paid else None,
            "amount_due": str(amount),
            "amount_paid": str(amount) if paid else "0",
        }
        line = {
            "id": f"il_{invoice_id[3:]}",
            "type": "subscription",
            "amount": str(amount),
            "currency": "usd",
            "period__start": ts(period[0]),
            "period__end": ts(period[1]),
            "proration": "false",
            "quantity": "1",
            "price__id": f"price_{sub_id}",
            "price__recurring__interval": "month",
            "price__recurring__interval_count": "1",
        }
        self.invoices.append((header, [line]))

    def monthly(self, key: str, sub_id: str, amount: int, first: str, count: int) -> None:
        """Paid monthly invoices in_<key>_<YYYY_MM> for ``count`` periods from ``first``."""
        for period in month_starts(first, count):
            self.invoice(f"in_{key}_{period[0][:7].replace('-', '_')}", key, sub_id, "paid", amount, period)

    def charge(
        self, charge_id: str, key: str, invoice_id: str, amount: int, status: str, created: str
    ) -> None:
        self.charges.append(
            {
                "id": charge_id,
                "customer": f"cus_{key}",
                "invoice": invoice_id,
                "amount": str(amount),
                "amount_refunded": "0",
                "currency": "usd",
                "status": status,
                "failure_code": "card_declined" if status == "failed" else None,
                "created": created,
            }
        )

    def response(self, response_id: str, key: str, score: int, responded_at: str) -> None:
        self.nps.append(
            {
                "response_id": response_id,
                "contact_id": f"c_{key}",
                "score": str(score),
                "responded_at": responded_at,
            }
        )


def _story() -> _Story:
    s = _Story()

    # lead: a contact that never did anything (its referrer gets nothing: it never pays)
    s.contact("lead", "2024-03-01T09:00:00Z", "paid_search", "smb", "US", referred_by="c_referrer")

    # trial: in a trial at the as-of date, never paid ($0 trial invoice)
    s.contact("trial", "2024-06-10T12:00:00Z", "organic", "smb", "DE")
    s.billing_customer("trial", "2024-06-15")
    s.subscription("sub_trial", "trial", "trialing", "2024-06-15", 3000, trial=("2024-06-15", "2024-07-15"))
    s.invoice("in_trial_0", "trial", "sub_trial", "paid", 0, ("2024-06-15", "2024-07-15"))

    # trial_lapsed: a trial that ended without payment, subscription canceled
    s.contact("trial_lapsed", "2024-04-01T08:00:00Z", "organic", "mid_market", "GB")
    s.billing_customer("trial_lapsed", "2024-04-10")
    s.subscription(
        "sub_trial_lapsed",
        "trial_lapsed",
        "canceled",
        "2024-04-10",
        3000,
        trial=("2024-04-10", "2024-04-24"),
        canceled_at=ts("2024-04-24"),
        ended_at=ts("2024-04-24"),
    )
    s.invoice(
        "in_trial_lapsed_0", "trial_lapsed", "sub_trial_lapsed", "paid", 0, ("2024-04-10", "2024-04-24")
    )

    # onboarding: first payment 2024-05-01, referred by c_referrer
    s.contact("onboarding", "2024-04-20T10:00:00Z", "referral", "smb", "US", referred_by="c_referrer")
    s.billing_customer("onboarding", "2024-05-01")
    s.subscription("sub_onboarding", "onboarding", "active", "2024-05-01", 3000)
    s.monthly("onboarding", "sub_onboarding", 3000, "2024-05-01", 2)

    # active: a two-week trial, then 50.00 a month from 2024-01-01
    s.contact("active", "2023-12-15T10:00:00Z", "paid_search", "mid_market", "US")
    s.billing_customer("active", "2023-12-18")
    s.subscription("sub_active", "active", "active", "2023-12-18", 5000, trial=("2023-12-18", "2024-01-01"))
    s.invoice("in_active_0", "active", "sub_active", "paid", 0, ("2023-12-18", "2024-01-01"))
    s.monthly("active", "sub_active", 5000, "2024-01-01", 6)

    # expanding: 40.00 a month, upgraded to 100.00 from 2024-05-01 (same subscription)
    s.contact("expanding", "2023-10-01T10:00:00Z", "organic", "enterprise", "FR")
    s.billing_customer("expanding", "2023-11-01")
    s.subscription("sub_expanding", "expanding", "active", "2023-11-01", 10000)
    s.monthly("expanding", "sub_expanding", 4000, "2023-11-01", 6)
    s.monthly("expanding", "sub_expanding", 10000, "2024-05-01", 2)

    # promoter: 25.00 a month; NPS 8 (passive: no signal), then 10 (promoter)
    s.contact("promoter", "2023-06-01T10:00:00Z", "organic", "smb", "US")
    s.billing_customer("promoter", "2023-07-01")
    s.subscription("sub_promoter", "promoter", "active", "2023-07-01", 2500)
    s.monthly("promoter", "sub_promoter", 2500, "2023-07-01", 12)
    s.response("r_promoter_1", "promoter", 8, "2023-08-10T15:00:00Z")
    s.response("r_promoter_2", "promoter", 10, "2024-03-15T11:00:00+01:00")

    # referrer: 60.00 a month; its referral c_onboarding first pays on 2024-05-01
    s.contact("referrer", "2023-09-01T10:00:00Z", "organic", "mid_market", "NL")
    s.billing_customer("referrer", "2023-10-01")
    s.subscription("sub_referrer", "referrer", "active", "2023-10-01", 6000)
    s.monthly("referrer", "sub_referrer", 6000, "2023-10-01", 9)

    # failed: 45.00 a month; March 2024 failed then recovered, June 2024 failed twice, still open
    s.contact("failed", "2023-08-01T10:00:00Z", "paid_search", "smb", "US")
    s.billing_customer("failed", "2023-09-01")
    s.subscription("sub_failed", "failed", "active", "2023-09-01", 4500)
    for start, end in month_starts("2023-09-01", 10):
        invoice_id = f"in_failed_{start[:7].replace('-', '_')}"
        if start == "2024-03-01":
            s.invoice(
                invoice_id,
                "failed",
                "sub_failed",
                "paid",
                4500,
                (start, end),
                paid_at=ts("2024-03-03", "10:00:00"),
            )
            s.charge(
                "ch_failed_2024_03_a", "failed", invoice_id, 4500, "failed", ts("2024-03-01", "10:00:00")
            )
            s.charge(
                "ch_failed_2024_03_b", "failed", invoice_id, 4500, "succeeded", ts("2024-03-03", "10:00:00")
            )
        elif start == "2024-06-01":
            s.invoice(invoice_id, "failed", "sub_failed", "open", 4500, (start, end))
            s.charge(
                "ch_failed_2024_06_a", "failed", invoice_id, 4500, "failed", ts("2024-06-01", "10:00:00")
            )
            s.charge(
                "ch_failed_2024_06_b", "failed", invoice_id, 4500, "failed", ts("2024-06-04", "10:00:00")
            )
        else:
            s.invoice(invoice_id, "failed", "sub_failed", "paid", 4500, (start, end))
            s.charge(
                f"ch_failed_{start[:7].replace('-', '_')}", "failed", invoice_id, 4500, "succeeded", ts(start)
            )

    # cancel: 80.00 a month, set to cancel at period end on 2024-06-20 (still active)
    s.contact("cancel", "2023-11-01T10:00:00Z", "organic", "enterprise", "US")
    s.billing_customer("cancel", "2023-12-01")
    s.subscription(
        "sub_cancel",
        "cancel",
        "active",
        "2023-12-01",
        8000,
        cancel_at_period_end=True,
        canceled_at=ts("2024-06-20", "15:00:00"),
    )
    s.monthly("cancel", "sub_cancel", 8000, "2023-12-01", 7)

    # detractor: 20.00 a month from the 15th; promoter (9) on 02-10, detractor (3) on 05-20
    s.contact("detractor", "2024-01-05T10:00:00Z", "paid_search", "smb", "CA")
    s.billing_customer("detractor", "2024-01-15")
    s.subscription("sub_detractor", "detractor", "active", "2024-01-15", 2000)
    s.monthly("detractor", "sub_detractor", 2000, "2024-01-15", 6)
    s.response("r_detractor_1", "detractor", 9, "2024-02-10T12:00:00Z")
    s.response("r_detractor_2", "detractor", 3, "2024-05-20T09:00:00Z")

    # voluntary: 30.00 a month 2023-06 .. 2024-02, cancel at period end requested 2024-02-10, ended 03-01
    s.contact("voluntary", "2023-05-01T10:00:00Z", "organic", "smb", "US")
    s.billing_customer("voluntary", "2023-06-01")
    s.subscription(
        "sub_voluntary",
        "voluntary",
        "canceled",
        "2023-06-01",
        3000,
        cancel_at_period_end=True,
        canceled_at=ts("2024-02-10", "09:00:00"),
        ended_at=ts("2024-03-01"),
        reason="cancellation_requested",
    )
    s.monthly("voluntary", "sub_voluntary", 3000, "2023-06-01", 9)

    # invol_pf: 35.00 a month 2023-09 .. 2024-02; March 2024 failed twice, voided; canceled for payment_failed
    s.contact("invol_pf", "2023-08-15T10:00:00Z", "paid_search", "mid_market", "US")
    s.billing_customer("invol_pf", "2023-09-01")
    s.subscription(
        "sub_invol_pf",
        "invol_pf",
        "canceled",
        "2023-09-01",
        3500,
        canceled_at=ts("2024-03-15"),
        ended_at=ts("2024-03-15"),
        reason="payment_failed",
    )
    s.monthly("invol_pf", "sub_invol_pf", 3500, "2023-09-01", 6)
    s.invoice("in_invol_pf_2024_03", "invol_pf", "sub_invol_pf", "void", 3500, ("2024-03-01", "2024-04-01"))
    s.charge("ch_invol_pf_a", "invol_pf", "in_invol_pf_2024_03", 3500, "failed", ts("2024-03-01", "10:00:00"))
    s.charge("ch_invol_pf_b", "invol_pf", "in_invol_pf_2024_03", 3500, "failed", ts("2024-03-05", "10:00:00"))

    # invol_unc: 55.00 a month 2023-10 .. 2024-03; April 2024 failed and uncollectible; canceled 05-01
    s.contact("invol_unc", "2023-09-10T10:00:00Z", "organic", "smb", "US")
    s.billing_customer("invol_unc", "2023-10-01")
    s.subscription(
        "sub_invol_unc",
        "invol_unc",
        "canceled",
        "2023-10-01",
        5500,
        canceled_at=ts("2024-05-01"),
        ended_at=ts("2024-05-01"),
    )
    s.monthly("invol_unc", "sub_invol_unc", 5500, "2023-10-01", 6)
    s.invoice(
        "in_invol_unc_2024_04",
        "invol_unc",
        "sub_invol_unc",
        "uncollectible",
        5500,
        ("2024-04-01", "2024-05-01"),
    )
    s.charge(
        "ch_invol_unc_a", "invol_unc", "in_invol_unc_2024_04", 5500, "failed", ts("2024-04-01", "10:00:00")
    )

    # reactivated: matched by email; 30.00 a month 2023-04 .. 2023-09, then 45.00 a month from 2024-02-01
    s.contact("reactivated", "2023-03-01T10:00:00Z", "organic", "smb", "US")
    s.billing_customer("reactivated", "2023-04-01", linked=False, email=" Reactivated@Example.COM ")
    s.subscription(
        "sub_reactivated_1",
        "reactivated",
        "canceled",
        "2023-04-01",
        3000,
        canceled_at=ts("2023-10-01"),
        ended_at=ts("2023-10-01"),
        reason="cancellation_requested",
    )
    s.monthly("reactivated", "sub_reactivated_1", 3000, "2023-04-01", 6)
    s.subscription("sub_reactivated_2", "reactivated", "active", "2024-02-01", 4500)
    s.monthly("reactivated", "sub_reactivated_2", 4500, "2024-02-01", 5)

    # retrial: involuntary churn (payment_failed) in 2023, then a lapsed trial with a $0 invoice in 2024
    s.contact("retrial", "2023-02-01T10:00:00Z", "paid_search", "smb", "US")
    s.billing_customer("retrial", "2023-03-01")
    s.subscription(
        "sub_retrial_1",
        "retrial",
        "canceled",
        "2023-03-01",
        3000,
        canceled_at=ts("2023-09-10"),
        ended_at=ts("2023-09-10"),
        reason="payment_failed",
    )
    s.monthly("retrial", "sub_retrial_1", 3000, "2023-03-01", 6)
    s.invoice("in_retrial_2023_09", "retrial", "sub_retrial_1", "void", 3000, ("2023-09-01", "2023-10-01"))
    s.charge("ch_retrial_a", "retrial", "in_retrial_2023_09", 3000, "failed", ts("2023-09-01", "10:00:00"))
    s.subscription(
        "sub_retrial_2",
        "retrial",
        "canceled",
        "2024-04-01",
        3000,
        trial=("2024-04-01", "2024-04-15"),
        canceled_at=ts("2024-04-15"),
        ended_at=ts("2024-04-15"),
    )
    s.invoice("in_retrial_0", "retrial", "sub_retrial_2", "paid", 0, ("2024-04-01", "2024-04-15"))

    # immediate: 40.00 a month from the 10th, canceled immediately on 2024-06-20 inside a paid period
    s.contact("immediate", "2023-12-20T10:00:00Z", "organic", "smb", "US")
    s.billing_customer("immediate", "2024-01-10")
    s.subscription(
        "sub_immediate",
        "immediate",
        "canceled",
        "2024-01-10",
        4000,
        canceled_at=ts("2024-06-20", "12:00:00"),
        ended_at=ts("2024-06-20", "12:00:00"),
        reason="cancellation_requested",
    )
    s.monthly("immediate", "sub_immediate", 4000, "2024-01-10", 6)

    # renewal_due: 25.00 a month from the 30th; the period ending on the as-of date is the last one landed
    s.contact("renewal_due", "2024-03-25T10:00:00Z", "paid_search", "mid_market", "DE")
    s.billing_customer("renewal_due", "2024-03-30")
    s.subscription("sub_renewal_due", "renewal_due", "active", "2024-03-30", 2500)
    s.monthly("renewal_due", "sub_renewal_due", 2500, "2024-03-30", 3)
    return s


def raw_rows() -> dict[str, list[dict]]:
    s = _story()
    subscriptions = _drop("billing__subscriptions", LOAD_DATE, [p for p, _ in s.subscriptions])
    invoices = _drop("billing__invoices", LOAD_DATE, [inv for inv, _ in s.invoices])
    return {
        "crm__contacts": _drop("crm__contacts", LOAD_DATE, s.contacts),
        "crm__nps_responses": _drop("crm__nps_responses", LOAD_DATE, s.nps),
        "billing__customers": _drop("billing__customers", LOAD_DATE, s.customers),
        "billing__subscriptions": subscriptions,
        "billing__subscription_items": _children(
            subscriptions, "subscription_id", {p["id"]: [i] for p, i in s.subscriptions}, "item_index"
        ),
        "billing__invoices": invoices,
        "billing__invoice_lines": _children(
            invoices, "invoice_id", {inv["id"]: lines for inv, lines in s.invoices}, "line_index"
        ),
        "billing__charges": _drop("billing__charges", LOAD_DATE, s.charges),
    }


def load(execute, placeholder: str) -> None:
    """Create schema raw with every raw table (empty where the story has no rows) and load the rows."""
    raw_fixture.load(execute, placeholder, raw_rows())
