"""What the synthetic business must contain at about 1000 customers (the brief's realism list)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from statistics import median

from clm.generate.model import BILLING_ONLY_RATE, is_billing_only
from tests.generate.conftest import REALISM_CUSTOMERS, SEED
from tests.generate.helpers import entity_records, instant, latest

# Per-seat monthly JPY list prices in whole yen (catalog.PLAN_MONTHLY): JPY is zero-decimal in Stripe,
# so the landed unit_amount must be these numbers, not x100.
JPY_MONTHLY = {"starter": 2200, "growth": 5800, "pro": 13000, "enterprise": 22000}


def test_jpy_amounts_are_whole_yen(tree: tuple[Path, dict]) -> None:
    root, _ = tree
    seen_prices: dict[str, int] = {}
    for _, sub in entity_records(root, "subscriptions"):
        for item in sub["items"]:
            price = item["price"]
            if price["currency"] == "jpy":
                seen_prices[price["id"]] = price["unit_amount"]
    monthly = {pid: amount for pid, amount in seen_prices.items() if pid.endswith("_monthly_jpy")}
    assert monthly, "expected at least one monthly JPY subscription at 1000 customers"
    for pid, amount in monthly.items():
        assert amount == JPY_MONTHLY[pid.split("_")[1]], pid
    jpy_lines = 0
    for _, inv in entity_records(root, "invoices"):
        if inv["currency"] == "jpy":
            for line in inv["lines"]:
                assert isinstance(line["amount"], int)
                jpy_lines += 1
            assert isinstance(inv["amount_due"], int)
    assert jpy_lines > 0


def test_unlinked_billing_customers_match_crm_emails_only_after_normalizing(tree: tuple[Path, dict]) -> None:
    root, _ = tree
    crm_emails = {rec["email"] for _, rec in entity_records(root, "contacts")}
    normalized = {e.strip().lower() for e in crm_emails}
    customers = latest(root, "customers", "id")
    unlinked = [c for c in customers.values() if "crm_contact_id" not in c["metadata"]]
    matched = [c for c in unlinked if c["email"].strip().lower() in normalized]
    assert matched, "customers without crm_contact_id must exist (model.UNLINKED_RATE = 12%)"
    for c in matched:
        assert c["email"] not in crm_emails, c["email"]  # differs before normalizing (case or whitespace)
    # The rest have no CRM contact at all: customers whose first RNG draw is below BILLING_ONLY_RATE.
    billing_only = sum(is_billing_only(SEED, i) for i in range(REALISM_CUSTOMERS))
    assert 0 < len(unlinked) - len(matched) <= billing_only
    assert billing_only < 3 * BILLING_ONLY_RATE * REALISM_CUSTOMERS
    linked_contacts = {c["metadata"]["crm_contact_id"] for c in customers.values() if c["metadata"]}
    contact_ids = {rec["contact_id"] for _, rec in entity_records(root, "contacts")}
    assert linked_contacts <= contact_ids


def test_invoices_are_consistent_and_charges_link_to_them(tree: tuple[Path, dict]) -> None:
    root, _ = tree
    invoices = latest(root, "invoices", "id")
    for inv in invoices.values():
        assert inv["amount_due"] == sum(line["amount"] for line in inv["lines"]), inv["id"]
        # paid, or paid and then voided (the renewal_voided_after_payment edge case keeps amount_paid)
        paid = inv["status_transitions"]["paid_at"] is not None
        assert paid == (inv["status"] == "paid" or inv["status"] == "void" and inv["amount_paid"] > 0), inv[
            "id"
        ]
        assert inv["amount_paid"] == (inv["amount_due"] if paid else 0), inv["id"]
        if paid and inv["status"] == "void":
            assert inv["status_transitions"]["voided_at"] > inv["status_transitions"]["paid_at"], inv["id"]
        for line in inv["lines"]:
            assert line["period"]["start"] <= line["period"]["end"]
            assert line["currency"] == inv["currency"]
    charges = latest(root, "charges", "id")
    # A charge created in a drop whose invoice is new the same day always lands with it: no dangling link.
    assert {c["invoice"] for c in charges.values()} <= set(invoices)
    for c in charges.values():
        assert 0 <= c["amount_refunded"] <= c["amount"]


def test_realism_features_all_appear(tree: tuple[Path, dict]) -> None:
    root, summary = tree
    contacts = latest(root, "contacts", "contact_id")
    customers = latest(root, "customers", "id")
    subs = latest(root, "subscriptions", "id")
    invoices = latest(root, "invoices", "id")
    charges = latest(root, "charges", "id")
    deals = latest(root, "deals", "deal_id")
    tickets = latest(root, "tickets", "ticket_id")
    nps = [rec for _, rec in entity_records(root, "nps_responses")]

    # Channels and daily spend: one row per day per paid channel over the whole history.
    assert {c["acquisition_channel"] for c in contacts.values()} >= {
        "organic",
        "paid_search",
        "paid_social",
        "referral",
        "partner",
        "outbound",
    }
    spend = Counter(rec["channel"] for _, rec in entity_records(root, "marketing_spend"))
    params = summary["parameters"]
    days = (date.fromisoformat(params["end"]) - date.fromisoformat(params["start"])).days + 1
    assert spend == {c: days for c in ("outbound", "paid_search", "paid_social", "partner")}

    # Leads that never buy; referrals point to an earlier contact.
    linked = {c["metadata"].get("crm_contact_id") for c in customers.values()}
    assert sum(cid not in linked for cid in contacts) > 100
    referred = [c for c in contacts.values() if c["referred_by_contact_id"]]
    assert referred and all(c["acquisition_channel"] == "referral" for c in referred)
    for c in referred:
        referrer = contacts[c["referred_by_contact_id"]]
        assert instant(referrer["created_at"]) <= instant(c["created_at"])

    # Trials that convert or lapse; cadences; currencies; segments drive seats.
    trials = [s for s in subs.values() if s["trial_start"] is not None]
    assert any(s["status"] == "canceled" and s["ended_at"] == s["trial_end"] for s in trials)
    assert any(
        s["status"] in ("active", "past_due", "canceled") and s["ended_at"] != s["trial_end"] for s in trials
    )
    recurrings = {
        (i["price"]["recurring"]["interval"], i["price"]["recurring"]["interval_count"])
        for s in subs.values()
        for i in s["items"]
    }
    assert recurrings == {("month", 1), ("month", 3), ("year", 1)}
    assert {s["currency"] for s in subs.values()} == {"usd", "eur", "gbp", "jpy"}
    segment_of = {
        c["id"]: contacts[c["metadata"]["crm_contact_id"]]["segment"]
        for c in customers.values()
        if c["metadata"]
    }
    seats: dict[str, list[int]] = {}
    for s in subs.values():
        if s["customer"] in segment_of:
            seats.setdefault(segment_of[s["customer"]], []).append(s["items"][0]["quantity"])
    # catalog.SEATS_BY_SEGMENT: smb 1-5, mid_market 5-40, enterprise 25-300 seats.
    assert max(seats["smb"]) < median(seats["mid_market"]) < median(seats["enterprise"])

    # Prorations: a negative credit line with a positive line for the same period, both proration=true.
    prorated = [inv for inv in invoices.values() if any(line["proration"] for line in inv["lines"])]
    assert prorated
    for inv in prorated:
        pro = [line for line in inv["lines"] if line["proration"]]
        assert any(line["amount"] < 0 for line in pro) and any(line["amount"] > 0 for line in pro)
    # Discounts: line amount is after the discount.
    discounted = [line for inv in invoices.values() for line in inv["lines"] if line["discount_amounts"]]
    assert discounted
    for line in discounted:
        gross = line["price"]["unit_amount"] * line["quantity"]
        assert line["amount"] == gross - sum(d["amount"] for d in line["discount_amounts"])

    # Voluntary churn, dunning recovered, involuntary churn, reactivation.
    reasons = Counter(s["cancellation_details"]["reason"] for s in subs.values())
    assert reasons["cancellation_requested"] > 0 and reasons["payment_failed"] > 0
    assert any(s["cancel_at_period_end"] and s["status"] == "canceled" for s in subs.values())
    assert {"unpaid", "canceled", "active", "trialing", "past_due"} <= {s["status"] for s in subs.values()}
    failed = [c for c in charges.values() if c["status"] == "failed"]
    assert failed and all(c["failure_code"] for c in failed)
    recovered = {c["invoice"] for c in failed} & {
        c["invoice"] for c in charges.values() if c["status"] == "succeeded"
    }
    assert any(invoices[i]["status"] == "paid" for i in recovered)
    assert any(inv["status"] == "uncollectible" for inv in invoices.values())
    by_customer: dict[str, list[dict]] = {}
    for s in subs.values():
        by_customer.setdefault(s["customer"], []).append(s)
    churned = ("cancellation_requested", "payment_failed")  # a paying subscription ended, not a lapsed trial
    assert any(
        a["cancellation_details"]["reason"] in churned and a["ended_at"] and b["created"] > a["ended_at"]
        for group in by_customer.values()
        for a in group
        for b in group
    )

    # One-off purchases and refunds.
    one_off = [inv for inv in invoices.values() if inv["subscription"] is None]
    assert one_off
    for inv in one_off:
        assert all(
            line["type"] == "invoiceitem" and line["price"]["recurring"] is None for line in inv["lines"]
        )
    assert any(c["amount_refunded"] > 0 for c in charges.values())

    # Support and NPS.
    assert {t["satisfaction_rating"] for t in tickets.values()} == {"good", "bad", "offered", "unoffered"}
    assert any(t["reopens"] not in (0, "0") for t in tickets.values())
    requester = {t["requester_email"] for t in tickets.values()}
    assert any(e != e.strip().lower() for e in requester)
    scores = {int(r["score"]) for r in nps}
    assert scores <= set(range(11)) and len(scores) >= 9
    assert {d["deal_stage"] for d in deals.values()} == {"open", "won", "lost"}
