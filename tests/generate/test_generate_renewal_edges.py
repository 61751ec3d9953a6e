"""The renewal-day edge cases of the default mode (catalog.RENEWAL_EDGE_CASES, issue 13), found again in the
landed files by their definitions and counted: the counts must equal the manifest's renewal_edge_cases, and at
1000 customers every case appears at least once (seed 42 makes 2, 1, 1, 5, 2 and 3 of them)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

from clm.generate import generate
from clm.generate.catalog import DAY, HOUR, RENEWAL_EDGE_CASE_NAMES
from tests.generate.helpers import instant, latest


def _day(ts: int) -> int:
    return ts // DAY


def _subscription_lines(invoices: dict[str, dict]) -> dict[str, list[tuple[int, int, dict]]]:
    """subscription id -> its subscription-type lines (start, end, invoice), by start."""
    out: dict[str, list[tuple[int, int, dict]]] = defaultdict(list)
    for inv in invoices.values():
        for line in inv["lines"]:
            if inv["subscription"] is not None and line["type"] == "subscription":
                out[inv["subscription"]].append((line["period"]["start"], line["period"]["end"], inv))
    for lines in out.values():
        lines.sort(key=lambda x: x[0])
    return out


def _edge_cases(root: Path, end: str) -> Counter[str]:
    subs = latest(root, "subscriptions", "id")
    invoices = latest(root, "invoices", "id")
    charges = latest(root, "charges", "id")
    lines = _subscription_lines(invoices)
    as_of_instant = int(instant(end))  # midnight UTC starting the end date (the default as-of)
    found: Counter[str] = Counter()

    def fully_refunded(inv: dict) -> bool:
        charge = charges.get(inv["charge"] or "")
        return charge is not None and charge["amount_refunded"] == charge["amount"] > 0

    for sid, sub in subs.items():
        own = lines.get(sid, [])
        if any(e == as_of_instant for _, e, _ in own):
            # a period ends exactly at the as-of instant: its anchor is a midnight
            assert all(s % DAY == 0 for s, _, _ in own), sid
            found["period_end_at_as_of"] += 1
        cycle_days = {_day(s) for s, _, inv in own if inv["billing_reason"] == "subscription_cycle"}
        if any(
            inv["subscription"] == sid
            and inv["billing_reason"] == "subscription_update"
            and _day(inv["lines"][0]["period"]["start"]) in cycle_days
            for inv in invoices.values()
        ):
            found["plan_change_on_renewal_day"] += 1
        reason = sub["cancellation_details"]["reason"]
        if sub["status"] != "canceled" or reason != "cancellation_requested" or sub["cancel_at_period_end"]:
            continue  # not canceled at once on request: no cancellation edge case
        start, end_, inv = own[-1]
        ended = sub["ended_at"]
        paid_at = inv["status_transitions"]["paid_at"]
        if inv["status"] == "void":
            assert paid_at is not None and ended > paid_at and fully_refunded(inv), sid
            found["renewal_voided_after_payment"] += 1
        elif _day(ended) == _day(start):
            assert inv["status"] == "paid" and ended > paid_at, sid
            found["cancel_after_renewal_invoice"] += 1
        elif fully_refunded(inv) and ended < end_ - HOUR:
            assert inv["status"] == "paid", sid
            found["refund_last_period"] += 1
        else:
            assert _day(ended) == _day(end_) and ended <= end_ and inv["status"] == "paid", sid
            found["cancel_before_renewal_invoice"] += 1
    return found


def test_edge_cases_in_the_files_match_the_manifest(tree: tuple[Path, dict]) -> None:
    root, summary = tree
    found = _edge_cases(root, summary["parameters"]["end"])
    assert {case: found[case] for case in RENEWAL_EDGE_CASE_NAMES} == summary["renewal_edge_cases"]
    assert set(summary["renewal_edge_cases"]) == set(RENEWAL_EDGE_CASE_NAMES)
    assert all(n >= 1 for n in summary["renewal_edge_cases"].values()), summary["renewal_edge_cases"]


def test_period_end_at_as_of_follows_the_end_argument(tmp_path: Path) -> None:
    """Another end date moves the as-of instant and the snapped anchors follow it: with 600 customers, seed 42
    and end 2023-06-30, two subscriptions have a period ending exactly at 2023-06-30 00:00:00 UTC (the
    generator's count, found again in the files like every other case)."""
    summary = generate(tmp_path / "raw", 600, 42, end=datetime(2023, 6, 30, tzinfo=UTC).date())
    found = _edge_cases(tmp_path / "raw", "2023-06-30")
    assert {case: found[case] for case in RENEWAL_EDGE_CASE_NAMES} == summary["renewal_edge_cases"]
    assert found["period_end_at_as_of"] == 2
