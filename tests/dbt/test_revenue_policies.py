"""The revenue policies (dbt vars, README "Revenue policies") on the hand-written raw layer of
policies_fixture.py, as of 2024-05-20: a real `dbt build` (every model and data test but the CLV phase)
with the default policies and with each non-default setting (what reads a policy and its children), on
DuckDB (and on Postgres with the postgres mark), asserting the exact MRR movements, the published stage
and churn type, and the lifecycle spells.

USD only (rate 1). MRR is the month's snapshot: the last day of the month, for May the as-of date 05-20.
Every build must pass every test, assert_lifecycle_stage_agrees_with_mrr (never relaxed) included: a policy
moves MRR and lifecycle together, because both read int_invoice_lines__paying_periods.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.dbt import policies_fixture
from tests.dbt.conftest import (
    WITHOUT_CLV_PHASE,
    build_duckdb,
    build_postgres,
    duckdb_reader,
    run_dbt,
    without_unit_tests,
)


def customer_id(anchor: str) -> str:
    return hashlib.md5(anchor.encode()).hexdigest()


P, Q, R, S, F, G, H = (customer_id(f"billing:cus_{c}") for c in "pqrsfgh")
JAN, FEB, MAR, APR, MAY = (date(2024, m, 1) for m in range(1, 6))

DEFAULT = "default"
CANCELLATION = "cancellation"
DELINQUENT_10 = "delinquent_10"
DELINQUENT_0 = "delinquent_0"
REACTIVATION_1 = "reactivation_1"
FREE_ACTIVE = "free_active"
SETTINGS: dict[str, dict] = {
    DEFAULT: {},
    CANCELLATION: {"revenue_churn_recognition": "cancellation"},
    DELINQUENT_10: {"revenue_delinquent_churn_days": 10},
    DELINQUENT_0: {"revenue_delinquent_churn_days": 0},
    REACTIVATION_1: {"revenue_reactivation_window_months": 1},
    FREE_ACTIVE: {"revenue_free_subscriptions": "active"},
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
# F and G (revenue_free_subscriptions = churned, the default, and every other setting): paid lines cover 01-31
# and 02-29; from March only 0.00 lines cover them: MRR 0, churn of the whole 100.00 / 50.00 (0 - 100.00 =
# -100.00); April and May 0 -> 0 left out. H never has MRR > 0: no row.
F_G_CHURNED = [
    (F, JAN, "100.00", "0.00", "100.00", "new"),
    (F, FEB, "100.00", "100.00", "0.00", "retained"),
    (F, MAR, "0.00", "100.00", "-100.00", "churn"),
    (G, JAN, "50.00", "0.00", "50.00", "new"),
    (G, FEB, "50.00", "50.00", "0.00", "retained"),
    (G, MAR, "0.00", "50.00", "-50.00", "churn"),
]
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
# F, G: first paid 01-01, paying (level > 0) until their last paid line ends 03-01, inside the onboarding
# window: onboarding 01-01 to 03-01, then churned (voluntary: sub_f active, sub_g canceled by request).
# H: seen 02-01 (billing customer created), never paid (its invoices paid 0): lead.
F_G_H_SPELLS_CHURNED = [
    (F, "onboarding", date(2024, 1, 1), date(2024, 3, 1)),
    (F, "churned", date(2024, 3, 1), None),
    (G, "onboarding", date(2024, 1, 1), date(2024, 3, 1)),
    (G, "churned", date(2024, 3, 1), None),
    (H, "lead", date(2024, 2, 1), None),
]
# customer: current_stage, churn_type, current_mrr
CUSTOMERS_DEFAULT = {
    # the known gap of the default: canceled immediately on 05-12, still active with MRR and no at_risk signal
    P: ("active", None, Decimal("30.00")),
    Q: ("at_risk", None, Decimal("40.00")),
    R: ("active", None, Decimal("25.00")),
    S: ("active", None, Decimal("15.00")),
    F: ("churned", "voluntary", Decimal("0.00")),
    G: ("churned", "voluntary", Decimal("0.00")),
    H: ("lead", None, Decimal("0.00")),
}

EXPECTED: dict[str, dict] = {
    DEFAULT: {
        "movements": rows(*P_NEW, *P_DEFAULT, *Q_NEW, *Q_DEFAULT, *R_DEFAULT, *S_MOVEMENTS, *F_G_CHURNED),
        "customers": CUSTOMERS_DEFAULT,
        "spells": P_SPELLS + Q_SPELLS + R_SPELLS + S_SPELLS + F_G_H_SPELLS_CHURNED,
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
            *F_G_CHURNED,
        ),
        "customers": CUSTOMERS_DEFAULT | {P: ("churned", "voluntary", Decimal("0.00"))},
        "spells": [P_SPELLS[0], (P, "active", date(2024, 4, 9), date(2024, 5, 12))]
        + [(P, "churned", date(2024, 5, 12), None)]
        + Q_SPELLS
        + R_SPELLS
        + S_SPELLS
        + F_G_H_SPELLS_CHURNED,
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
            *F_G_CHURNED,
        ),
        "customers": CUSTOMERS_DEFAULT | {Q: ("churned", "involuntary", Decimal("0.00"))},
        "spells": P_SPELLS
        + Q_SPELLS[:2]
        + [(Q, "at_risk", date(2024, 4, 15), date(2024, 4, 25)), (Q, "churned", date(2024, 4, 25), None)]
        + R_SPELLS
        + S_SPELLS
        + F_G_H_SPELLS_CHURNED,
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
            *F_G_CHURNED,
        ),
        "customers": CUSTOMERS_DEFAULT | {Q: ("churned", "involuntary", Decimal("0.00"))},
        "spells": P_SPELLS
        + Q_SPELLS[:2]
        + [(Q, "churned", date(2024, 4, 15), None)]
        + R_SPELLS
        + S_SPELLS
        + F_G_H_SPELLS_CHURNED,
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
            *F_G_CHURNED,
        ),
        "customers": CUSTOMERS_DEFAULT,
        "spells": P_SPELLS + Q_SPELLS + R_SPELLS + S_SPELLS + F_G_H_SPELLS_CHURNED,
    },
    # revenue_free_subscriptions = active: F and G paid, then only 0.00 lines cover them, continuously since
    # their paid lines (each line starts the day the previous one ends): active customers at MRR 0.
    # F: March 0.00 vs 100.00: contraction, 0 - 100.00 = -100.00; April, May 0.00 vs 0.00: retained (kept: an
    # active customer). G: March contraction -50.00, April retained at 0; its last line ends 05-01, nothing
    # covers 05-20: May not active, churn of 0 - 0 = 0.00 (the MRR was lost at March's contraction).
    # Lifecycle: paying from 01-01 through the 0.00 lines; onboarding to 01-01 + 90 days = 03-31
    # (31 + 29 + 30), then active; G churned when its last line ends on 05-01 (voluntary). H: no paying line
    # in its coverage, a lead as under the default. P, Q, R, S are unchanged.
    FREE_ACTIVE: {
        "movements": rows(
            *P_NEW,
            *P_DEFAULT,
            *Q_NEW,
            *Q_DEFAULT,
            *R_DEFAULT,
            *S_MOVEMENTS,
            *F_G_CHURNED[:2],
            (F, MAR, "0.00", "100.00", "-100.00", "contraction"),
            (F, APR, "0.00", "0.00", "0.00", "retained"),
            (F, MAY, "0.00", "0.00", "0.00", "retained"),
            *F_G_CHURNED[3:5],
            (G, MAR, "0.00", "50.00", "-50.00", "contraction"),
            (G, APR, "0.00", "0.00", "0.00", "retained"),
            (G, MAY, "0.00", "0.00", "0.00", "churn"),
        ),
        "customers": CUSTOMERS_DEFAULT | {F: ("active", None, Decimal("0.00"))},
        "spells": P_SPELLS
        + Q_SPELLS
        + R_SPELLS
        + S_SPELLS
        + [
            (F, "onboarding", date(2024, 1, 1), date(2024, 3, 31)),
            (F, "active", date(2024, 3, 31), None),
            (G, "onboarding", date(2024, 1, 1), date(2024, 3, 31)),
            (G, "active", date(2024, 3, 31), date(2024, 5, 1)),
            (G, "churned", date(2024, 5, 1), None),
            (H, "lead", date(2024, 2, 1), None),
        ],
    },
}

MOVEMENTS_SQL = (
    "select customer_id, month, mrr, previous_mrr, mrr_change, movement from {schema}.fct_mrr_movements "
    "order by customer_id, month"
)
CUSTOMERS_SQL = "select customer_id, current_stage, churn_type, current_mrr from {schema}.dim_customers"
SPELLS_SQL = "select customer_id, stage, valid_from, valid_to from {schema}.fct_lifecycle_stages"
# What assert_expected reads, and the model of the never-relaxed bridge test.
POSTGRES_MODELS = ("fct_mrr_movements", "dim_customers", "fct_lifecycle_stages", "rpt_mrr_bridge")
NEVER_RELAXED = (
    "assert_lifecycle_stage_agrees_with_mrr",
    "assert_lifecycle_one_current_spell_per_customer",
    "assert_mrr_bridge_reconciles",
)


def assert_build_ok(run) -> None:
    run.assert_ok()
    # Exposures (the served file, the notebooks) are listed by `dbt build` with status no-op: nothing to run.
    executed = [r for r in run.results if not r["unique_id"].startswith("exposure.")]
    bad = [(r["unique_id"], r["status"]) for r in executed if r["status"] not in ("success", "pass")]
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


def policy_models(manifest: dict) -> list[str]:
    """The models that read a revenue policy var, in their own SQL or through macros (transitively): these
    and their children are all that a policy can change."""
    policy_vars = {name for setting in SETTINGS.values() for name in setting}
    reading = {uid for uid, m in manifest["macros"].items() if any(v in m["macro_sql"] for v in policy_vars)}
    grown = True
    while grown:
        callers = {uid for uid, m in manifest["macros"].items() if set(m["depends_on"]["macros"]) & reading}
        grown = not callers <= reading
        reading |= callers
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and (set(node["depends_on"]["macros"]) & reading or any(v in node["raw_code"] for v in policy_vars))
    )


@pytest.fixture(scope="module")
def duckdb_build(tmp_path_factory):
    """`dbt build` of the fixture with one setting, once per setting for the module: the whole project with
    the default policies; for another setting, the models that read a policy and their children, rebuilt
    (--full-refresh) on a copy of the default build, with every data test of theirs. What is not rebuilt
    cannot depend on a policy, so every mart is what a whole build under that setting gives."""

    def build(setting: str):
        if setting not in _duckdb_builds:
            workdir = tmp_path_factory.mktemp(f"dbt_policies_{setting}")
            args, policy = ["build", *WITHOUT_CLV_PHASE], SETTINGS[setting]
            if setting == DEFAULT:
                built = build_duckdb(workdir, policies_fixture.load, args, policies_fixture.AS_OF, **policy)
                _duckdb_builds[setting] = (built.run, built.query, built.database)
            else:
                default_run, _, default_database = build(DEFAULT)
                manifest = json.loads((default_run.target_path / "manifest.json").read_text())
                database = Path(shutil.copy(default_database, workdir / "build.duckdb"))
                selected = [f"{model}+" for model in policy_models(manifest)]
                args = [*args, "--select", *selected, "--full-refresh"]
                env = {"CLM_BUILD_DB": str(database), "CLM_TARGET": "duckdb"}
                run = run_dbt(without_unit_tests(args, False), workdir, env, policies_fixture.AS_OF, **policy)
                _duckdb_builds[setting] = (run, duckdb_reader(database), database)
        return _duckdb_builds[setting]

    return build


def test_the_policy_builds_rebuild_what_reads_a_policy(duckdb_build):
    """The models the partial builds start from (a missing one would leave a default-policy mart behind):
    those calling clm_revenue_policy (grep), and the ones naming a policy var in comments, a superset."""
    run, _, _ = duckdb_build(DEFAULT)
    models = policy_models(json.loads((run.target_path / "manifest.json").read_text()))
    assert {"fct_mrr_movements", "int_invoice_lines__paying_periods", "int_lifecycle__signals"} <= set(models)


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_policy_duckdb(duckdb_build, setting):
    run, query, _ = duckdb_build(setting)
    assert_build_ok(run)
    # the policy is the only var (the as-of date is CLM_AS_OF, as in `clm run`)
    shown = run.command[run.command.index("--vars") + 1] if "--vars" in run.command else "{}"
    assert json.loads(shown) == SETTINGS[setting]
    assert_expected(setting, query, "marts")


# The free-subscription policy's customer counts, over the whole fixture. Active customers at each month end
# (05-20 in May), with their MRR: January P 30, Q 40, R 25, S 15, F 100, G 50: 6, all new. February P, Q, F,
# G (R, S churned): 4.
# Default (churned): March P, Q, S (back: reactivation); F, G churned: starting 4 + reactivation 1 - churned
# 2 = ending 3; churned MRR 100.00 + 50.00 = 150.00. April: 3 + R's reactivation = 4; May: 4 retained.
# KPI customer_churn_rate of March = churned 2 / active at the end of February 4 = 0.5000.
# Active: March F, G contraction (customers stay): starting 4 + reactivation 1 - churned 0 = ending 5; the
# same 150.00 lost as contraction_mrr, churned_mrr 0. April: 5 + R = 6. May: G churns: 6 - 1 = 5, retained 5
# (P, Q, R, S, F). customer_churn_rate of March = 0 / 4 = 0.0000, of May = 1 / 6 = 0.1667.
# Month: (starting, reactivation, contraction, churned, retained, ending customers; contraction_mrr,
# churned_mrr)
BRIDGE_SQL = (
    "select month, starting_customers, reactivation_customers, contraction_customers, churned_customers, "
    "retained_customers, ending_customers, contraction_mrr, churned_mrr from {schema}.rpt_mrr_bridge "
    "where month >= '2024-03-01' order by month"
)
KPI_SQL = (
    "select month, churned_customers, paying_customers_previous_month, customer_churn_rate "
    "from {schema}.rpt_kpis_monthly where month >= '2024-03-01' order by month"
)
# logo retention of the January cohort (P, Q, R, S, F, G), by months since start: active customers / 6
COHORT_SQL = (
    "select months_since_start, active_customers from {schema}.rpt_cohort_retention "
    "where cohort_month = '2024-01-01' order by months_since_start"
)
ACTIVE_CUSTOMERS_SQL = "select customer_id from {schema}.dim_customers where is_active_customer order by 1"
FREE_EXPECTED = {
    DEFAULT: {
        "bridge": [
            (MAR, 4, 1, 0, 2, 2, 3, Decimal("0.00"), Decimal("150.00")),
            (APR, 3, 1, 0, 0, 3, 4, Decimal("0.00"), Decimal("0.00")),
            (MAY, 4, 0, 0, 0, 4, 4, Decimal("0.00"), Decimal("0.00")),
        ],
        "kpis": [
            (MAR, 2, 4, Decimal("0.5000")),
            (APR, 0, 3, Decimal("0.0000")),
            (MAY, 0, 4, Decimal("0.0000")),
        ],
        # January 6; February P, Q, F, G; March P, Q, S; April and May P, Q, R, S
        "cohort": [(0, 6), (1, 4), (2, 3), (3, 4), (4, 4)],
        "active": sorted([P, Q, R, S]),
    },
    FREE_ACTIVE: {
        "bridge": [
            (MAR, 4, 1, 2, 0, 2, 5, Decimal("150.00"), Decimal("0.00")),
            (APR, 5, 1, 0, 0, 5, 6, Decimal("0.00"), Decimal("0.00")),
            (MAY, 6, 0, 0, 1, 5, 5, Decimal("0.00"), Decimal("0.00")),
        ],
        "kpis": [
            (MAR, 0, 4, Decimal("0.0000")),
            (APR, 0, 5, Decimal("0.0000")),
            (MAY, 1, 6, Decimal("0.1667")),
        ],
        # March P, Q, S, F, G; April all six; May all but G
        "cohort": [(0, 6), (1, 4), (2, 5), (3, 6), (4, 5)],
        "active": sorted([P, Q, R, S, F]),
    },
}


@pytest.mark.parametrize("setting", [DEFAULT, FREE_ACTIVE])
def test_free_subscriptions_counts_duckdb(duckdb_build, setting):
    run, query, _ = duckdb_build(setting)
    assert_build_ok(run)
    expected = FREE_EXPECTED[setting]
    assert query(BRIDGE_SQL.format(schema="marts")) == expected["bridge"]
    assert query(KPI_SQL.format(schema="marts")) == expected["kpis"]
    assert query(COHORT_SQL.format(schema="marts")) == expected["cohort"]
    assert [c for (c,) in query(ACTIVE_CUSTOMERS_SQL.format(schema="marts"))] == expected["active"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"revenue_churn_recognition": "invoice"}, "var revenue_churn_recognition must be 'period_end' or"),
        ({"revenue_delinquent_churn_days": -1}, "revenue_delinquent_churn_days must be null (never) or an"),
        ({"revenue_delinquent_churn_days": "10"}, 'integer >= 0, got "10"'),
        ({"revenue_reactivation_window_months": True}, "revenue_reactivation_window_months must be null"),
        ({"revenue_reactivation_window_months": 1.5}, "integer >= 0, got 1.5"),
        (
            {"revenue_free_subscriptions": "paying"},
            "var revenue_free_subscriptions must be 'churned' or 'active', got",
        ),
        (
            {"revenue_free_subscriptions": True},
            "revenue_free_subscriptions must be 'churned' or 'active', got true",
        ),
    ],
)
def test_invalid_policy_refused(tmp_path, variables, message):
    # refused while dbt parses the project, whatever the command selects
    run = run_dbt(["ls", "--select", "stg_crm__contacts"], tmp_path, {}, as_of=None, **variables)
    assert run.returncode != 0
    assert message in run.output, run.output[-2000:]


@pytest.mark.postgres
@pytest.mark.parametrize("setting", [CANCELLATION, DELINQUENT_10, DELINQUENT_0, REACTIVATION_1, FREE_ACTIVE])
def test_policy_postgres(tmp_path_factory, setting):
    """The same rows on Postgres. Only what the assertions read is built (30 of the 42 models, 204 of the 287
    data tests, the never-relaxed ones included), in a fresh database each."""
    workdir = tmp_path_factory.mktemp(f"dbt_policies_pg_{setting}")
    selected = ["--select", *(f"+{model}" for model in POSTGRES_MODELS), "--indirect-selection", "cautious"]
    args = ["build", *selected, *WITHOUT_CLV_PHASE]
    with build_postgres(
        "clm_policies_test", workdir, policies_fixture.load, args, policies_fixture.AS_OF, **SETTINGS[setting]
    ) as pg:
        assert_build_ok(pg.run)
        assert_expected(setting, pg.query, pg.marts)
