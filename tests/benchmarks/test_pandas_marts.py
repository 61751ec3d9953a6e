"""The independent pandas revenue marts (benchmarks/pandas_marts.py): a hand-computed case for the baseline
itself, and exact agreement with clm's published fct_mrr_movements and rpt_mrr_bridge on a generated zone."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from benchmarks.compare_marts import (
    BRIDGE_MONEY,
    clm_bridge,
    clm_cohorts,
    clm_movements,
    compare,
    compare_cohorts,
    movement_totals,
)
from benchmarks.pandas_marts import compute_marts, marts_from_landing, month_index, read_landing
from tests.test_end_to_end import clm, make_env

AS_OF = date(2024, 3, 31)
JAN, FEB, MAR = month_index(date(2024, 1, 1)), month_index(date(2024, 2, 1)), month_index(date(2024, 3, 1))


def _ts(day: str) -> int:
    """Unix seconds at 08:00 UTC: service periods carry a time of day, as Stripe's do."""
    return int(datetime.fromisoformat(f"{day}T08:00:00").replace(tzinfo=UTC).timestamp())


def _line(
    line_id: str, amount: int, start: str, end: str, interval: str = "month", kind: str = "subscription"
):
    recurring = {"interval": interval, "interval_count": 1}
    return {
        "id": line_id,
        "type": kind,
        "amount": amount,
        "currency": "eur",
        "period": {"start": _ts(start), "end": _ts(end)},
        "proration": kind == "invoiceitem",
        "quantity": 1,
        "price": {"id": f"price_{line_id}", "recurring": recurring},
    }


def _invoice(invoice_id: str, customer: str, status: str, created: str, lines: list[dict]) -> dict:
    return {
        "id": invoice_id,
        "customer": customer,
        "subscription": f"sub_{customer}",
        "status": status,
        "currency": "eur",
        "created": _ts(created),
        "lines": lines,
    }


def _write_zone(raw: Path) -> None:
    customers = [
        {
            "id": "cus_a",
            "email": "a@example.com",
            "created": _ts("2024-01-10"),
            "currency": "eur",
            "metadata": {},
        },
        {
            "id": "cus_b",
            "email": "b@example.com",
            "created": _ts("2024-01-10"),
            "currency": "eur",
            "metadata": {},
        },
    ]
    invoices = [
        _invoice("in_a1", "cus_a", "paid", "2024-01-15", [_line("a1", 10000, "2024-01-15", "2024-02-15")]),
        _invoice("in_a2", "cus_a", "paid", "2024-02-15", [_line("a2", 10000, "2024-02-15", "2024-03-15")]),
        # voided renewal: pays on no day, so A churns in March
        _invoice("in_a3", "cus_a", "void", "2024-03-15", [_line("a3", 10000, "2024-03-15", "2024-04-15")]),
        _invoice("in_b1", "cus_b", "paid", "2024-01-20", [_line("b1", 5000, "2024-01-20", "2024-02-20")]),
        _invoice(
            "in_b2",
            "cus_b",
            "paid",
            "2024-02-20",
            [
                _line("b2", 100000, "2024-02-20", "2025-02-20", interval="year"),
                _line("b2p", 2500, "2024-02-20", "2025-02-20", kind="invoiceitem"),  # proration: not MRR
            ],
        ),
    ]
    _write_billing(raw, customers, invoices)


def _write_billing(raw: Path, customers: list[dict], invoices: list[dict]) -> None:
    drop = "load_date=2024-03-31"
    for entity, records in (("customers", customers), ("invoices", invoices)):
        folder = raw / "billing" / entity / drop
        folder.mkdir(parents=True)
        (folder / f"{entity}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    contacts = raw / "crm" / "contacts" / drop
    contacts.mkdir(parents=True)
    (contacts / "contacts.csv").write_text("contact_id,email,updated_at,is_deleted\n")


def test_hand_computed_eur_customers_with_rate_changes(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    _write_zone(raw)
    fx = tmp_path / "fx_rates.csv"
    fx.write_text(
        "month,currency,rate\n"
        + "".join(f"2024-{m:02d}-01,USD,1.000000\n" for m in (1, 2, 3, 4))
        + "2024-01-01,EUR,1.100000\n2024-02-01,EUR,1.200000\n"
        + "2024-03-01,EUR,1.250000\n2024-04-01,EUR,1.300000\n"
    )
    marts = compute_marts(raw, AS_OF, fx_path=fx)
    moves = marts.mrr_movements.set_index(["customer_key", "month"])
    cols = ["mrr", "previous_mrr", "previous_mrr_at_current_rate", "mrr_change", "fx_impact", "movement"]
    got = {key: tuple(row) for key, row in moves[cols].iterrows()}
    # Snapshots Jan 31, Feb 29, Mar 31 (as-of). A: EUR 100/month, no paying line on Mar 31 (renewal void).
    # B: EUR 50/month in January, then EUR 1,000/year = 83.333... a month from Feb 20 (proration excluded).
    assert got == {
        ("email:a@example.com", JAN): (11000, 0, 0, 11000, 0, "new"),  # 100 x 1.10
        # 100 x 1.20 = 120.00 both months at Feb's rate: retained; fx 120.00 - 110.00
        ("email:a@example.com", FEB): (12000, 11000, 12000, 0, 1000, "retained"),
        # churn loses Feb's lines at Mar's rate 100 x 1.25 = 125.00; fx 125.00 - 120.00
        ("email:a@example.com", MAR): (0, 12000, 12500, -12500, 500, "churn"),
        ("email:b@example.com", JAN): (5500, 0, 0, 5500, 0, "new"),  # 50 x 1.10
        # 1000/12 x 1.20 = 100.00 against 50 x 1.20 = 60.00: expansion 40.00; fx 60.00 - 55.00
        ("email:b@example.com", FEB): (10000, 5500, 6000, 4000, 500, "expansion"),
        # 1000/12 x 1.25 = 104.1666... -> 104.17 both months at Mar's rate: retained; fx 104.17 - 100.00
        ("email:b@example.com", MAR): (10417, 10000, 10417, 0, 417, "retained"),
    }
    bridge = marts.mrr_bridge.set_index("month")
    # starting, new, expansion, reactivation, contraction, churned, fx_impact, ending
    money = list(BRIDGE_MONEY)
    assert bridge.loc[JAN, money].tolist() == [0, 16500, 0, 0, 0, 0, 0, 16500]
    assert bridge.loc[FEB, money].tolist() == [16500, 0, 4000, 0, 0, 0, 1500, 22000]  # 165+40+15 = 220
    assert bridge.loc[MAR, money].tolist() == [22000, 0, 0, 0, 0, 12500, 917, 10417]  # 220-125+9.17 = 104.17
    cohort = marts.cohort_retention.set_index("months_since_start")
    # Jan cohort: 2 customers, starting 165.00. k=1: 220.00 / 165.00 = 4/3; GRR min(120,110)+min(100,55) = 165
    assert cohort.loc[1, "net_revenue_retention"] == Fraction(4, 3)
    assert cohort.loc[1, "gross_revenue_retention"] == 1
    # k=2: only B (104.17) is active; GRR caps it at its 55.00: 55/165 = 1/3; logo 1/2
    assert cohort.loc[2, "net_revenue_retention"] == Fraction(10417, 16500)
    assert cohort.loc[2, "gross_revenue_retention"] == Fraction(1, 3)
    assert cohort.loc[2, "logo_retention"] == Fraction(1, 2)


def test_a_half_cent_tie_rounds_away_from_zero_unless_the_monthly_amount_is_rounded_first(
    tmp_path: Path,
) -> None:
    raw = tmp_path / "raw"
    customer = {"id": "cus_c", "email": "c@example.com", "created": _ts("2024-03-01"), "metadata": {}}
    line = _line("c1", 28000, "2024-03-05", "2025-03-05", interval="year")  # EUR 280.00 a year
    _write_billing(raw, [customer], [_invoice("in_c1", "cus_c", "paid", "2024-03-05", [line])])
    fx = tmp_path / "fx_rates.csv"
    fx.write_text("month,currency,rate\n2024-03-01,USD,1.000000\n2024-03-01,EUR,1.063500\n")
    # 280 / 12 x 1.0635 = 24.815 exactly: a tie, 24.82 half away from zero
    assert compute_marts(raw, AS_OF, fx_path=fx).customer_months["mrr"].tolist() == [2482]
    # 280 / 12 rounded to 10 decimals first = 23.3333333333; x 1.0635 = 24.81499999996... -> 24.81
    assert compute_marts(raw, AS_OF, fx_path=fx, monthly_decimals=10).customer_months["mrr"].tolist() == [
        2481
    ]


@pytest.mark.slow
def test_pandas_marts_equal_clm_on_a_generated_multi_currency_zone(tmp_path: Path) -> None:
    """300 customers, seed 11: USD, EUR, GBP and JPY subscriptions (monthly, quarterly, yearly) over
    2022-03 to 2026-10 (56 FX months), as of the newest drop 2026-10-31 (the generator's default end).
    One clm run."""
    raw = tmp_path / "raw"
    env = make_env(tmp_path, raw)
    generated = clm("generate", "--out", str(raw), "--customers", "300", "--seed", "11", env=env)
    assert generated.returncode == 0, generated.stderr
    run = clm("run", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    serving = tmp_path / "warehouse" / "serving.duckdb"
    moves, bridge, cohorts = clm_movements(serving), clm_bridge(serving), clm_cohorts(serving)
    marts = marts_from_landing(read_landing(raw, date(2026, 10, 31)))
    assert marts.currencies == ("EUR", "GBP", "JPY", "USD")
    totals = movement_totals(moves, marts)
    assert (totals["clm"] == totals["pandas"]).all() and totals.loc["new", "clm"] > 0
    # Every count, sum and bridge cell to the cent, and every cohort cell. This zone has no customer-month
    # whose exact MRR is a half-cent tie (its 1,308 customer-months are the same whether monthly amounts are
    # exact or rounded to 10 decimals first, as clm's clm_exact_divide does), so it does not exercise the one
    # known difference (benchmarks/results.md, "independent pandas revenue marts"); the test above pins it.
    comparison = compare(moves, bridge, marts)
    comparison.cohorts = compare_cohorts(cohorts, marts)
    assert comparison.counts.empty, comparison.counts
    assert comparison.sums.empty, comparison.sums
    assert comparison.bridge.empty, comparison.bridge
    assert comparison.cohorts.empty, comparison.cohorts
