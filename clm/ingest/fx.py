"""Which FX rates ingestion checks amounts against: the ones dbt will convert them with (README "FX rates").

dbt converts with the seed fx_rates (``seeds/fx_rates.csv``) unless the dbt var ``fx_rates_relation`` names a
table or view of the user's own (macro clm_fx_rates_usd). ``fx_coverage`` is the one place that decides the
same for ingestion: the var as a run's dbt sees it (CLM_DBT_VARS over dbt_project.yml's vars), then the seed
file or that relation, read where dbt builds. A relation that is not there stops the run with a message that
says so, before any file is read: dbt would fail on it anyway, and checking against the seed instead would
quarantine rows the user's rates cover (or load rows they do not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import yaml

from clm.config import REPO_ROOT
from clm.ingest.validate import FxCoverage, fx_coverage_of, load_fx_coverage

PROJECT_FILE = REPO_ROOT / "dbt_project.yml"
VAR = "fx_rates_relation"
# What macro clm_fx_rates_usd reads as "no relation: the seed" (after trim and lower)
_UNSET = ("", "none", "null")

# relation name -> its (month, currency) pairs that have a rate; None when the relation does not exist
RateMonths = Callable[[str], "list[tuple[date, str]] | None"]


class FxRatesError(RuntimeError):
    """The FX relation dbt is told to read is not in the warehouse."""


def fx_rates_relation(dbt_vars: Mapping[str, Any], project_file: Path | None = None) -> str | None:
    """The relation var fx_rates_relation names for a run (CLM_DBT_VARS first, as dbt gets them on top of
    dbt_project.yml's vars), or None for the seed."""
    if VAR in dbt_vars:
        value = dbt_vars[VAR]
    else:
        text = (project_file or PROJECT_FILE).read_text(encoding="utf-8")
        value = ((yaml.safe_load(text) or {}).get("vars") or {}).get(VAR)
    text = "" if value is None else str(value).strip()
    return None if text.lower() in _UNSET else text


def _rates_sql(relation: str) -> str:
    # the relation's name is the user's configuration, put into SQL as dbt puts it (macro clm_fx_rates_usd)
    return (
        f"select distinct cast(month as date), upper(trim(currency)) from {relation} where rate is not null"
    )


def duckdb_rate_months(con: duckdb.DuckDBPyConnection) -> RateMonths:
    """Reads the relation through ``con`` (the DuckDB build file, where dbt builds on the duckdb target)."""

    def read(relation: str) -> list[tuple[date, str]] | None:
        try:
            return con.execute(_rates_sql(relation)).fetchall()
        except duckdb.CatalogException:
            return None

    return read


def postgres_rate_months(connect: Callable[[], Any]) -> RateMonths:
    """Reads the relation in the Postgres database dbt builds in; ``connect`` gives a psycopg2 connection
    context manager."""

    def read(relation: str) -> list[tuple[date, str]] | None:
        import psycopg2.errors

        with connect() as pg, pg.cursor() as cur:
            try:
                cur.execute(_rates_sql(relation))
            except (psycopg2.errors.UndefinedTable, psycopg2.errors.InvalidSchemaName):
                return None
            return cur.fetchall()

    return read


def fx_coverage(
    dbt_vars: Mapping[str, Any], read_relation: RateMonths, project_file: Path | None = None
) -> FxCoverage:
    """The coverage of the rates dbt will use: the seed, or the relation of var fx_rates_relation."""
    relation = fx_rates_relation(dbt_vars, project_file)
    if relation is None:
        return load_fx_coverage()
    rates = read_relation(relation)
    if rates is None:
        raise FxRatesError(
            f"dbt var {VAR} names {relation!r}, which is not in the warehouse dbt builds in: create that "
            "table or view (columns month, currency, rate = US dollars per unit) before the run, or unset "
            'the var (CLM_DBT_VARS, dbt_project.yml) to use seeds/fx_rates.csv. README "FX rates".'
        )
    return fx_coverage_of(rates, f"{VAR} {relation}")
