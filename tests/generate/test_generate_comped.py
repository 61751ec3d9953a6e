"""Comped subscriptions (catalog.COMP_*): 100% off some months after a subscription started paying, the
real-world case of revenue policy revenue_free_subscriptions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from random import Random

import pytest

from clm.generate import catalog as cat
from clm.generate import generate
from clm.generate.model import _comp_periods
from tests.generate.conftest import SEED
from tests.generate.helpers import latest


def test_comp_draw_rate_and_windows() -> None:
    # 200,000 subscriptions' own comp draws: the comped share is COMP_RATE = 0.5 %, i.e. 1,000 expected, with
    # a binomial standard deviation of sqrt(200,000 x 0.005 x 0.995) = 31.5; 5 sd either side is 842..1,158.
    draws = [_comp_periods(Random(f"{SEED}:{i}:1:comp"), 1) for i in range(200_000)]
    comped = [d for d in draws if d is not None]
    assert 842 <= len(comped) <= 1158
    # monthly plans (1 month a period): first comped period = months of paying before, 2..9 (never the
    # first period); ends after 1..6 months, or never (35 %: 350 of 1,000 expected, sd
    # sqrt(1,000 x 0.35 x 0.65) = 15)
    assert all(2 <= first <= 9 for first, _ in comped)
    assert all(end is None or 1 <= end - first <= 6 for first, end in comped)
    forever = sum(end is None for _, end in comped)
    assert 0.35 * len(comped) - 5 * 15 <= forever <= 0.35 * len(comped) + 5 * 15
    # a yearly plan (12 months a period) is comped from its second period on, for at least one period
    yearly = [_comp_periods(Random(f"{SEED}:{i}:1:comp"), 12) for i in range(200_000)]
    assert all(d is None or (d[0] == 1 and (d[1] is None or d[1] == 2)) for d in yearly)


@pytest.fixture(scope="module")
def comped_tree(tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch) -> Path:
    """Every subscription comped (COMP_RATE 1.0): 60 customers."""
    monkeypatch_module.setattr(cat, "COMP_RATE", 1.0)
    out = tmp_path_factory.mktemp("gen_comped") / "raw"
    generate(out, 60, SEED)
    return out


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_comped_periods_are_free_after_paid_ones(comped_tree: Path) -> None:
    invoices = latest(comped_tree, "invoices", "id")
    charges = latest(comped_tree, "charges", "id")
    subs = latest(comped_tree, "subscriptions", "id")
    by_sub: dict[str, list[dict]] = defaultdict(list)
    for inv in invoices.values():
        renewal = inv["billing_reason"] in ("subscription_create", "subscription_cycle")
        if renewal and inv["status"] != "draft":
            by_sub[inv["subscription"]].append(inv)
    free_subs = 0
    for sid, invs in by_sub.items():
        invs.sort(key=lambda inv: inv["lines"][0]["period"]["start"])
        amounts = [inv["lines"][0]["amount"] for inv in invs]
        if 0 not in amounts:
            continue  # churned (or the horizon came) before its comped periods
        free_subs += 1
        first_free = amounts.index(0)
        # paid before: at least one period at full (or partly discounted) price, never comped from the start
        assert first_free >= 1 and all(a > 0 for a in amounts[:first_free]), sid
        for inv in invs[first_free:]:
            line = inv["lines"][0]
            if line["amount"] == 0:
                # 100% off: the discount is the whole gross amount; paid with nothing due and no charge
                gross = line["price"]["unit_amount"] * line["quantity"]
                assert line["discount_amounts"][0]["amount"] == gross, inv["id"]
                assert inv["amount_due"] == 0 and inv["charge"] is None and inv["status"] == "paid", inv["id"]
        if amounts[-1] == 0 and subs[sid]["status"] == "active":
            assert subs[sid]["discount"]["coupon"]["id"] == "COMPED100", sid
    assert free_subs >= 10
    assert all(c["invoice"] in invoices for c in charges.values())
