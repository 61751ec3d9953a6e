"""Ingestion checks amounts against the FX rates dbt will convert them with (clm.ingest.fx): the seed
seeds/fx_rates.csv by default, the user's relation when dbt var fx_rates_relation names one (README, "FX
rates").

Hand-made drops; times in comments are UTC. The user's relation has rates for 2026-09 only, SEK among them:
the seed has no SEK at all (seeds/currencies.csv lists it only in these tests).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from clm.config import load_settings
from clm.ingest import validate as v
from clm.ingest.fx import FxRatesError, duckdb_rate_months, fx_coverage, fx_rates_relation
from tests.ingest.conftest import Landing, assert_balanced
from tests.postgres_server import admin_connection, scratch_database

LOAD_DATE = "2026-10-20"
T = 1_790_000_000  # 2026-09-21T14:13:20Z
AUG = T - 42 * 86_400  # 2026-08-10T14:13:20Z: a month the user's relation has no rate for
RELATION = "fx_user.monthly_rates"
CURRENCIES = v.load_currencies() | {"SEK": 2}


def _charge(charge_id: str, currency: str, created: int = T) -> dict:
    return {
        "id": charge_id,
        "customer": "cus_1",
        "invoice": None,
        "amount": 1000,
        "amount_refunded": 0,
        "currency": currency,
        "status": "succeeded",
        "failure_code": None,
        "created": created,
    }


def _user_rates(landing: Landing) -> None:
    landing.con.execute("create schema fx_user")
    landing.con.execute(f"create table {RELATION} (month date, currency varchar, rate decimal(20, 10))")
    landing.con.execute(
        f"insert into {RELATION} values "
        "(date '2026-09-01', 'USD', 1), (date '2026-09-01', 'sek ', 0.095), (date '2026-08-01', 'SEK', null)"
    )


def _write_charges(landing: Landing) -> None:
    charges = [_charge("ch_usd", "usd"), _charge("ch_sek", "sek"), _charge("ch_sek_aug", "sek", AUG)]
    landing.write_jsonl("billing", "charges", LOAD_DATE, "charges.jsonl", charges)


def _loaded(landing: Landing) -> list[str]:
    return [k for (k,) in landing.rows("select id from raw.billing__charges order by _row_number")]


def test_the_seed_by_default(landing: Landing) -> None:
    _user_rates(landing)  # there, but no var names it: dbt converts with the seed, so does ingestion
    _write_charges(landing)
    fx = fx_coverage({}, duckdb_rate_months(landing.con))
    assert fx.source == "seeds/fx_rates.csv"
    assert_balanced(landing.ingest(currencies=CURRENCIES, fx=fx))
    assert _loaded(landing) == ["ch_usd"]
    assert landing.quarantine_lines("charges.jsonl") == [
        (2, "currency: no FX rate for this currency (seeds/fx_rates.csv)"),
        (3, "currency: no FX rate for this currency (seeds/fx_rates.csv)"),
    ]


def test_the_users_relation_when_the_var_names_it(landing: Landing) -> None:
    """CLM_DBT_VARS sets fx_rates_relation: the SEK charge of September loads (the seed has no SEK); August's
    is quarantined, its rate being null in the relation, and the reason names the relation."""
    _user_rates(landing)
    _write_charges(landing)
    settings = load_settings({"CLM_DBT_VARS": f"{{fx_rates_relation: {RELATION}}}"})
    fx = fx_coverage(settings.dbt_vars, duckdb_rate_months(landing.con))
    assert_balanced(landing.ingest(currencies=CURRENCIES, fx=fx))
    assert _loaded(landing) == ["ch_usd", "ch_sek"]
    assert landing.quarantine_lines("charges.jsonl") == [
        (3, f"created: no FX rate for the currency in that month (fx_rates_relation {RELATION})")
    ]


def test_a_missing_relation_stops_ingestion_with_a_clear_message(
    landing: Landing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dbt_project.yml names a relation that is not in the warehouse: ingestion (its default decision reads
    dbt_project.yml) refuses before it writes anything, naming the var, the relation and the way out."""
    project = tmp_path / "dbt_project.yml"
    project.write_text(f"name: clm\nvars:\n  fx_rates_relation: {RELATION}\n")
    monkeypatch.setattr("clm.ingest.fx.PROJECT_FILE", project)
    _write_charges(landing)
    with pytest.raises(FxRatesError) as raised:
        landing.ingest(currencies=CURRENCIES)
    message = str(raised.value)
    assert f"dbt var fx_rates_relation names '{RELATION}', which is not in the warehouse" in message
    assert "unset the var (CLM_DBT_VARS, dbt_project.yml) to use seeds/fx_rates.csv" in message
    # nothing written: not even the raw schema
    assert landing.rows("select schema_name from information_schema.schemata where schema_name = 'raw'") == []


@pytest.mark.parametrize(
    ("dbt_vars", "project_var", "expected"),
    [
        ({}, "null", None),
        ({}, RELATION, RELATION),
        ({"fx_rates_relation": " finance.fx_monthly "}, RELATION, "finance.fx_monthly"),
        # CLM_DBT_VARS comes on top of dbt_project.yml: its null (or '', 'none') means the seed, as in dbt
        ({"fx_rates_relation": None}, RELATION, None),
        ({"fx_rates_relation": "None"}, RELATION, None),
        ({"fx_rates_relation": ""}, RELATION, None),
    ],
)
def test_which_relation_the_var_names(tmp_path: Path, dbt_vars: dict, project_var: str, expected):
    project = tmp_path / "dbt_project.yml"
    project.write_text(f"name: clm\nvars:\n  fx_rates_relation: {project_var}\n")
    assert fx_rates_relation(dbt_vars, project) == expected


def test_the_shipped_project_uses_the_seed() -> None:
    assert fx_rates_relation({}) is None


@pytest.mark.postgres
def test_on_postgres_the_relation_is_read_in_the_postgres_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt on the postgres target reads var fx_rates_relation in Postgres: so does the target's reader (the
    DuckDB build file it is given is not where that relation lives)."""
    from clm.targets.postgres import PostgresTarget

    with scratch_database("clm_fx_ingest") as dbname:
        monkeypatch.setenv("PGDATABASE", dbname)
        read = PostgresTarget(load_settings({})).fx_rate_months(duckdb.connect())
        with pytest.raises(FxRatesError):
            fx_coverage({"fx_rates_relation": RELATION}, read)
        admin = admin_connection(dbname)
        with admin.cursor() as cur:
            cur.execute("create schema fx_user")
            cur.execute(f"create table {RELATION} (month date, currency varchar(3), rate numeric(20, 10))")
            rates = "('2026-09-01', 'USD', 1), ('2026-09-01', 'SEK', 0.095)"
            cur.execute(f"insert into {RELATION} values {rates}")
        admin.close()
        fx = fx_coverage({"fx_rates_relation": RELATION}, read)
        assert fx.first_month == {"USD": date(2026, 9, 1), "SEK": date(2026, 9, 1)}
        assert fx.source == f"fx_rates_relation {RELATION}"
