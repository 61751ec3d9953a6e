"""The synthetic behaviour follows the CLV models with the parameters the manifest records.

The models' inputs are computed from the landed files by the warehouse's rules (tests/generate/clv_inputs.py)
and fitted with clm.clv, whose fits carry standard errors from the observed information. Each estimate must
lie within Z standard errors of the truth: with nine parameters, Z = 3.5 leaves a false-alarm rate of about
0.4% for a correct generator (normal approximation), while at 20,000 customers a standard error is 2-9% of
its parameter, so a generator that missed a parameter by a quarter or more would fail.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from scipy.special import betainc

from clm.clv import bgnbd, gamma_gamma, sbg
from clm.generate import MANIFEST_NAME, generate
from clm.generate.model import beta_cdf
from tests.generate.clv_inputs import Purchases, Renewals, model_inputs
from tests.generate.conftest import SEED
from tests.generate.helpers import latest

RECOVERY_CUSTOMERS = 20_000  # about 7,000 subscribers and 4,000 one-off buyers; ~12 s in all
Z = 3.5
TRUTH = {
    "sbg": {"alpha": 1.2, "beta": 6.0, "time_unit": "billing_period"},
    "bg_nbd": {"r": 0.5, "alpha": 60.0, "a": 0.8, "b": 4.0, "time_unit": "day"},
    "gamma_gamma": {"p": 6.0, "q": 4.0, "gamma": 400.0},
}


@pytest.fixture(scope="module")
def recovery(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Renewals, Purchases]:
    out = tmp_path_factory.mktemp("gen_clv") / "raw"
    summary = generate(out, RECOVERY_CUSTOMERS, SEED)
    renewals, purchases = model_inputs(out, date.fromisoformat(summary["parameters"]["end"]))
    return summary["clv_ground_truth"], renewals, purchases


def _assert_recovers(fit, truth: dict, names: tuple[str, ...]) -> None:
    assert fit.converged
    for name in names:
        estimate, se, true = getattr(fit, name), fit.std_errors[name], truth[name]
        assert np.isfinite(se) and se > 0, (name, se)
        assert abs(estimate - true) <= Z * se, f"{name}: {estimate:.4g} vs true {true:g} (SE {se:.3g})"


def test_manifest_records_the_ground_truth(tree: tuple[Path, dict]) -> None:
    root, summary = tree
    manifest = json.loads((root / MANIFEST_NAME).read_text())
    assert manifest["clv_ground_truth"] == summary["clv_ground_truth"] == TRUTH


def test_sbg_parameters_are_recovered(recovery: tuple[dict, Renewals, Purchases]) -> None:
    truth, renewals, _ = recovery
    assert set(np.unique(renewals.period_months)) == {1, 3, 12}  # 'all' pools the cadences: one theta each
    fit = sbg.fit(renewals.renewals, renewals.alive)
    _assert_recovers(fit, truth["sbg"], ("alpha", "beta"))


def test_bgnbd_parameters_are_recovered(recovery: tuple[dict, Renewals, Purchases]) -> None:
    truth, _, purchases = recovery
    fit = bgnbd.fit(purchases.frequency, purchases.recency, purchases.T)
    _assert_recovers(fit, truth["bg_nbd"], ("r", "alpha", "a", "b"))


def test_gamma_gamma_parameters_are_recovered(recovery: tuple[dict, Renewals, Purchases]) -> None:
    truth, _, purchases = recovery
    repeat = purchases.frequency > 0
    fit = gamma_gamma.fit(purchases.frequency[repeat], purchases.monetary[repeat])
    _assert_recovers(fit, truth["gamma_gamma"], ("p", "q", "gamma"))


def test_demo_size_supports_every_fit(tmp_path: Path) -> None:
    """`make run` generates 2,000 customers: enough subscribers and one-off buyers for all three models."""
    summary = generate(tmp_path / "raw", 2000, SEED)
    renewals, purchases = model_inputs(tmp_path / "raw", date.fromisoformat(summary["parameters"]["end"]))
    assert renewals.renewals.size >= 500
    assert purchases.frequency.size >= 300 and (purchases.frequency > 0).sum() >= 100
    sbg.fit(renewals.renewals, renewals.alive)  # strict: raises unless converged off the bounds
    bgnbd.fit(purchases.frequency, purchases.recency, purchases.T)
    repeat = purchases.frequency > 0
    gamma_gamma.fit(purchases.frequency[repeat], purchases.monetary[repeat])


def test_each_one_off_purchase_is_one_paid_usd_invoice_on_its_own_day(tree: tuple[Path, dict]) -> None:
    root, _ = tree
    paid_days: dict[str, list[date]] = defaultdict(list)
    for inv in latest(root, "invoices", "id").values():
        if inv["subscription"] is not None:
            continue
        assert inv["currency"] == "usd", inv["id"]
        if inv["status"] == "paid":
            assert inv["amount_paid"] > 0, inv["id"]
            paid_days[inv["customer"]].append(_day(inv["status_transitions"]["paid_at"]))
        else:  # a mistaken duplicate, voided
            assert inv["status"] in ("void", "open"), inv["id"]
    assert len(paid_days) > 100
    for customer, days in paid_days.items():
        assert len(days) == len(set(days)), customer  # the warehouse would merge same-day purchases


def test_subscriptions_pay_every_period_until_they_churn(tree: tuple[Path, dict]) -> None:
    """Renewal lines are paid, except an involuntary churn's last period (uncollectible, never paid) and a
    renewal still in dunning at the horizon (open); a voluntary churn ends when its last paid period does."""
    root, _ = tree
    subs = latest(root, "subscriptions", "id")
    periods: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for inv in latest(root, "invoices", "id").values():
        for line in inv["lines"]:
            if inv["subscription"] is not None and line["type"] == "subscription":
                periods[inv["subscription"]].append(
                    (line["period"]["start"], line["period"]["end"], inv["status"])
                )
    reasons: dict[str | None, int] = defaultdict(int)
    for sid, lines in periods.items():
        lines.sort()
        statuses = [status for _, _, status in lines]
        assert all(status == "paid" for status in statuses[:-1]), (sid, statuses)
        assert all(a[1] == b[0] for a, b in zip(lines, lines[1:], strict=False)), sid  # back to back
        reason = subs[sid]["cancellation_details"]["reason"]
        reasons[reason] += 1
        if reason == "payment_failed" or subs[sid]["status"] == "unpaid":
            assert statuses[-1] == "uncollectible", (sid, statuses)
        elif reason == "cancellation_requested" and subs[sid]["cancel_at_period_end"]:
            assert statuses[-1] == "paid" and subs[sid]["cancel_at"] == lines[-1][1], sid
        elif reason == "cancellation_requested":
            # canceled at once: a renewal-day edge case (test_generate_renewal_edges.py); its last period was
            # paid, or paid and then voided (renewal_voided_after_payment)
            assert statuses[-1] in ("paid", "void"), (sid, statuses)
        else:
            assert statuses[-1] in ("paid", "open"), (sid, statuses)
    assert reasons["payment_failed"] > 0 and reasons["cancellation_requested"] > 0


def test_beta_cdf_matches_scipy() -> None:
    for a, b in ((1.2, 6.0), (0.8, 4.0), (0.5, 0.5), (6.0, 4.0), (30.0, 2.0)):
        for x in np.linspace(0.0, 1.0, 101):
            assert beta_cdf(float(x), a, b) == pytest.approx(float(betainc(a, b, x)), abs=1e-12)


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()
