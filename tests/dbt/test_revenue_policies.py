"""The revenue policies (dbt vars, README "Revenue policies") on the hand-written raw layer of
policies_fixture.py, as of 2024-05-20: a real `dbt build` (every model, unit and data test but the CLV phase)
with the default policies and with each non-default setting, on DuckDB (and on Postgres with the postgres
mark), asserting the exact MRR movements, the published stage and churn type, and the lifecycle spells.

USD only (rate 1). MRR is the month's snapshot: the last day of the month, for May the as-of date 05-20.
Every build must pass every test, assert_lifecycle_stage_agrees_with_mrr (never relaxed) included: a policy
moves MRR and lifecycle together, because both read int_invoice_lines__paying_periods.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal

import pytest

from tests.dbt import policies_fixture
from tests.dbt.conftest import WITHOUT_CLV_PHASE, build_duckdb, build_postgres, run_dbt


def customer_id(anchor: str) -> str:
    return hashlib.md5(anchor.encode()).hexdigest()


P, Q, R, S = (customer_id(f"billing:cus_{c}") for c in "pqrs")
JAN, FEB, MAR, APR, MAY = (date(2024, m, 1) for m in range(1, 6))

DEFAULT = "default"
CANCELLATION = "cancellation"
DELINQUENT_10 = "delinquent_10"
DELINQUENT_0 = "delinquent_0"
REACTIVATION_1 = "reactivation_1"
SETTINGS: dict[str, dict] = {
    DEFAULT: {},
    CANCELLATION: {"revenue_churn_recognition": "cancellation"},
    DELINQUENT_10: {"revenue_delinquent_churn_days": 10},
    DELINQUENT_0: {"revenue_delinquent_churn_days": 0},
    REACTIVATION_1: {"revenue_reactivation_window_months": 1},
}


def rows(*movements: tuple) -> list[tuple]:
    return [(c, m, Decimal(mrr), Decimal(prev), Decimal(chg), mv) for c, m, mrr, prev, chg, mv in movements]


# ----------------------------------------------------------------------------------------------------------
# Default policies (as before the vars existed)
# ----------------------------------------------------------------------------------------------------------
# P: periods from the 10th at 30.00 cover every month end (01-31 in [01-10,02-10), ..., 04-30 in
# [04-10,05-10)) and the as-of date 05-20 in [05-10,06-10): the cancellation on 05-12 changes nothing, the
# paid period runs to 06-10. Q: 40.00 from the 15th; the open invoices [04-15,05-15) and [05-15,06-15)
# still count.
# R: [01-05,02-05) covers 01-31, nothing covers 02-29 or 03-31, [04-05,05-05) 04-30, [05-05,06-05) 05-20.
# S: [01-20,02-20) covers 01-31, nothing 02-29, [03-25,04-25) 03-31, [04-25,05-25) 04-30 and 05-20.
P_DEFAULT = [(P, m, "30.00", "30.00", "0.00", "retained") for m in (FEB, MAR, APR, MAY)]
Q_DEFAULT = [(Q, m, "40.00", "40.00", "0.00", "retained") for m in (FEB, MAR, APR, MAY)]
R_DEFAULT = [
    (R, JAN, "25.00", "0.00", "25.00", "new"),
    (R, FEB, "0.00", "25.00", "-25.00", "churn"),
    # March 0 -> 0: left out; April: paid before, so reactivation
    (R, APR, "25.00", "0.00", "25.00", "reactivation"),
    (R, MAY, "25.00", "25.00", "0.00", "retained"),
]
S_MOVEMENTS = [
    (S, JAN, "15.00", "0.00", "15.00", "new"),
    (S, FEB, "0.00", "15.00", "-15.00", "churn"),
    (S, MAR, "15.00", "0.00", "15.00", "reactivation"),
    (S, APR, "15.00", "15.00", "0.00", "retained"),
    (S, MAY, "15.00", "15.00", "0.00", "retained"),
]
P_NEW = [(P, JAN, "30.00", "0.00", "30.00", "new")]
Q_NEW = [(Q, JAN, "40.00", "0.00", "40.00", "new")]

# Stage spells (valid_from, valid_to). Onboarding = paying within 90 days of the first payment.
# P: first paid 01-10, onboarding to 01-10 + 90 = 04-09 (21 + 29 + 31 + 9 days), then active.
# Q: first paid 01-15, onboarding to 04-14; active; at_risk from 04-15, past_due since its open invoice.
# R: onboarding from 01-05; at_risk from 01-20 (cancel at period end set that day) to its end 02-05; churned
#    02-05 to the return on 04-05, after the onboarding window (01-05 + 90 = 04-04): active.
# S: onboarding from 01-20; at_risk 02-01 (cancel at period end) to 02-20; churned 02-20 to 03-25; back inside
#    the onboarding window (01-20 + 90 = 04-19): onboarding, active from 04-19.
P_SPELLS = [(P, "onboarding", date(2024, 1, 10), date(2024, 4, 9)), (P, "active", date(2024, 4, 9), None)]
Q_SPELLS = [
    (Q, "onboarding", date(2024, 1, 15), date(2024, 4, 14)),
    (Q, "active", date(2024, 4, 14), date(2024, 4, 15)),
    (Q, "at_risk", date(2024, 4, 15), None),
]
R_SPELLS = [
    (R, "onboarding", date(2024, 1, 5), date(2024, 1, 20)),
    (R, "at_risk", date(2024, 1, 20), date(2024, 2, 5)),
    (R, "churned", date(2024, 2, 5), date(2024, 4, 5)),
    (R, "active", date(2024, 4, 5), None),
]
S_SPELLS = [
    (S, "onboarding", date(2024, 1, 20), date(2024, 2, 1)),
    (S, "at_risk", date(2024, 2, 1), date(2024, 2, 20)),
    (S, "churned", date(2024, 2, 20), date(2024, 3, 25)),
    (S, "onboarding", date(2024, 3, 25), date(2024, 4, 19)),
    (S, "active", date(2024, 4, 19), None),
]
# customer: current_stage, churn_type, current_mrr
CUSTOMERS_DEFAULT = {
    # the known gap of the default: canceled immediately on 05-12, still active with MRR and no at_risk signal
    P: ("active", None, Decimal("30.00")),
    Q: ("at_risk", None, Decimal("40.00")),
    R: ("active", None, Decimal("25.00")),
    S: ("active", None, Decimal("15.00")),
}

EXPECTED: dict[str, dict] = {
    DEFAULT: {
        "movements": rows(*P_NEW, *P_DEFAULT, *Q_NEW, *Q_DEFAULT, *R_DEFAULT, *S_MOVEMENTS),
        "customers": CUSTOMERS_DEFAULT,
        "spells": P_SPELLS + Q_SPELLS + R_SPELLS + S_SPELLS,
    },
    # revenue_churn_recognition = cancellation: sub_p's paid period [05-10,06-10) pays only to its ended_at
    # date 05-12, so 05-20 is not covered: May MRR 0, churn of 30.00 - 0 = 30.00; P churned from 05-12
    # (voluntary: cancellation_requested). R's and S's first subscriptions ended at their period end (02-05,
    # 02-20): cut at the same date, nothing changes. Q never ended: unchanged.
    CANCELLATION: {
        "movements": rows(
            *P_NEW,
            *P_DEFAULT[:3],
            (P, MAY, "0.00", "30.00", "-30.00", "churn"),
            *Q_NEW,
            *Q_DEFAULT,
            *R_DEFAULT,
            *S_MOVEMENTS,
        ),
        "customers": CUSTOMERS_DEFAULT | {P: ("churned", "voluntary", Decimal("0.00"))},
        "spells": [P_SPELLS[0], (P, "active", date(2024, 4, 9), date(2024, 5, 12))]
        + [(P, "churned", date(2024, 5, 12), None)]
        + Q_SPELLS
        + R_SPELLS
        + S_SPELLS,
    },
    # revenue_delinquent_churn_days = 10: sub_q delinquent since its first open invoice after the last paid
    # one, created 04-15: it pays until 04-15 + 10 = 04-25. 04-30 not covered: April MRR 0, churn of 40.00
    # (May 0 -> 0 left out); Q at_risk 04-15 to 04-25, then churned, involuntary (churn_reason delinquent).
    DELINQUENT_10: {
        "movements": rows(
            *P_NEW,
            *P_DEFAULT,
            *Q_NEW,
            *Q_DEFAULT[:2],
            (Q, APR, "0.00", "40.00", "-40.00", "churn"),
            *R_DEFAULT,
            *S_MOVEMENTS,
        ),
        "customers": CUSTOMERS_DEFAULT | {Q: ("churned", "involuntary", Decimal("0.00"))},
        "spells": P_SPELLS
        + Q_SPELLS[:2]
        + [(Q, "at_risk", date(2024, 4, 15), date(2024, 4, 25)), (Q, "churned", date(2024, 4, 25), None)]
        + R_SPELLS
        + S_SPELLS,
    },
    # revenue_delinquent_churn_days = 0: sub_q pays until 04-15 + 0 = 04-15: the open invoice's line
    # [04-15,05-15) has no paying day left (left out), the paid [03-15,04-15) ends there anyway. April MRR 0,
    # churn of 40.00; Q churned from 04-15 (the past_due signal starts the same day: churned takes precedence,
    # no at_risk spell), still involuntary: its paying ended on its delinquent churn date.
    DELINQUENT_0: {
        "movements": rows(
            *P_NEW,
            *P_DEFAULT,
            *Q_NEW,
            *Q_DEFAULT[:2],
            (Q, APR, "0.00", "40.00", "-40.00", "churn"),
            *R_DEFAULT,
            *S_MOVEMENTS,
        ),
        "customers": CUSTOMERS_DEFAULT | {Q: ("churned", "involuntary", Decimal("0.00"))},
        "spells": P_SPELLS + Q_SPELLS[:2] + [(Q, "churned", date(2024, 4, 15), None)] + R_SPELLS + S_SPELLS,
    },
    # revenue_reactivation_window_months = 1: months after churn = months from the last paying month to the
    # return - 1. R: January -> April = 3 - 1 = 2 > 1: new again. S: January -> March = 2 - 1 = 1, not > 1:
    # still reactivation. MRR and the lifecycle are unchanged (the policy only names the movement).
    REACTIVATION_1: {
        "movements": rows(
            *P_NEW,
            *P_DEFAULT,
            *Q_NEW,
            *Q_DEFAULT,
            *R_DEFAULT[:2],
            (R, APR, "25.00", "0.00", "25.00", "new"),
            R_DEFAULT[3],
            *S_MOVEMENTS,
        ),
        "customers": CUSTOMERS_DEFAULT,
        "spells": P_SPELLS + Q_SPELLS + R_SPELLS + S_SPELLS,
    },
}

MOVEMENTS_SQL = (
    "select customer_id, month, mrr, previous_mrr, mrr_change, movement from {schema}.fct_mrr_movements "
    "order by customer_id, month"
)
CUSTOMERS_SQL = "select customer_id, current_stage, churn_type, current_mrr from {schema}.dim_customers"
SPELLS_SQL = "select customer_id, stage, valid_from, valid_to from {schema}.fct_lifecycle_stages"
NEVER_RELAXED = (
    "assert_lifecycle_stage_agrees_with_mrr",
    "assert_lifecycle_one_current_spell_per_customer",
    "assert_mrr_bridge_reconciles",
)


def assert_build_ok(run) -> None:
    run.assert_ok()
    bad = [(r["unique_id"], r["status"]) for r in run.results if r["status"] not in ("success", "pass")]
    assert not bad, bad
    tests = {
        r["unique_id"].split(".")[2]: r["status"] for r in run.results if r["unique_id"].startswith("test.")
    }
    assert {name: tests.get(name) for name in NEVER_RELAXED} == dict.fromkeys(NEVER_RELAXED, "pass")


def assert_expected(setting: str, query, schema: str) -> None:
    expected = EXPECTED[setting]
    assert query(MOVEMENTS_SQL.format(schema=schema)) == sorted(expected["movements"])
    customers = {c: tuple(rest) for c, *rest in query(CUSTOMERS_SQL.format(schema=schema))}
    assert customers == expected["customers"]
    assert sorted(query(SPELLS_SQL.format(schema=schema)), key=str) == sorted(expected["spells"], key=str)


_duckdb_builds: dict[str, tuple] = {}


@pytest.fixture(scope="module")
def duckdb_build(tmp_path_factory):
    """`dbt build` of the fixture with one setting, once per setting for the module."""

    def build(setting: str):
        if setting not in _duckdb_builds:
            workdir = tmp_path_factory.mktemp(f"dbt_policies_{setting}")
            args, policy = ["build", *WITHOUT_CLV_PHASE], SETTINGS[setting]
            build = build_duckdb(workdir, policies_fixture.load, args, policies_fixture.AS_OF, **policy)
            _duckdb_builds[setting] = (build.run, build.query)
        return _duckdb_builds[setting]

    return build


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_policy_duckdb(duckdb_build, setting):
    run, query = duckdb_build(setting)
    assert_build_ok(run)
    assert json.loads(run.command[run.command.index("--vars") + 1]) == {
        "as_of": policies_fixture.AS_OF,
        **SETTINGS[setting],
    }
    assert_expected(setting, query, "marts")


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"revenue_churn_recognition": "invoice"}, "var revenue_churn_recognition must be 'period_end' or"),
        ({"revenue_delinquent_churn_days": -1}, "revenue_delinquent_churn_days must be null (never) or an"),
        ({"revenue_delinquent_churn_days": "10"}, 'integer >= 0, got "10"'),
        ({"revenue_reactivation_window_months": True}, "revenue_reactivation_window_months must be null"),
        ({"revenue_reactivation_window_months": 1.5}, "integer >= 0, got 1.5"),
    ],
)
def test_invalid_policy_refused(tmp_path, variables, message):
    # refused while dbt parses the project, whatever the command selects
    run = run_dbt(["ls", "--select", "stg_crm__contacts"], tmp_path, {}, as_of=None, **variables)
    assert run.returncode != 0
    assert message in run.output, run.output[-2000:]


@pytest.mark.postgres
@pytest.mark.parametrize("setting", [CANCELLATION, DELINQUENT_10, DELINQUENT_0, REACTIVATION_1])
def test_policy_postgres(tmp_path_factory, setting):
    workdir = tmp_path_factory.mktemp(f"dbt_policies_pg_{setting}")
    args = ["build", *WITHOUT_CLV_PHASE]
    with build_postgres(
        "clm_policies_test", workdir, policies_fixture.load, args, policies_fixture.AS_OF, **SETTINGS[setting]
    ) as pg:
        assert_build_ok(pg.run)
        assert_expected(setting, pg.query, pg.marts)
