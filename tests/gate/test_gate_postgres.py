"""The quality gate on Postgres build schemas (``clm run --target postgres``): the same suites, findings and
messages as on DuckDB (test_gate.py), on hand-made tables in fresh ``gt_<random>_*`` schemas of database
`test`. Every expected count is computed by hand and equals its DuckDB twin."""

from __future__ import annotations

from pathlib import Path

import pytest

from clm.config import load_settings
from clm.gate import QUARANTINE_CHECK, run_gate
from expectations.suites import SUITES

from .builders import GOOD_CUSTOMERS, HASH_A, build_db, manifest_db
from .conftest import PgBuild

pytestmark = pytest.mark.postgres

DUPLICATE_C1 = [*GOOD_CUSTOMERS, ("c1", HASH_A, "US", "smb", "ads", "2024-01-01 00:00:00", None)]
BAD_CUSTOMERS = [
    *GOOD_CUSTOMERS,
    ("c4", "ABC", "US", "smb", "ads", "2024-01-01 00:00:00", None),  # hash not 64 lower hex
    ("c5", "A" * 64, "US", "smb", "ads", "2024-01-01 00:00:00", None),  # upper-case hex
    ("c6", HASH_A, "US", "whale", "ads", "2024-01-01 00:00:00", None),  # segment not in set
    ("c7", HASH_A, "US", None, "ads", "2024-05-01 00:00:00", "2024-04-30 23:59:59"),  # paid before seen
    (None, HASH_A, "US", "smb", "ads", "2024-01-01 00:00:00", None),  # no id
]


def pg_gate(tmp_path: Path, pg: PgBuild, run_id: str = "run-1", config: Path | None = None, manifest=()):
    """The gate on pg's build schemas; the DuckDB build file holds only audit.load_manifest."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    db = tmp_path / "build.duckdb"
    if not db.exists():
        manifest_db(db, manifest)
    return run_gate(db, tmp_path / "docs", run_id, config, settings=load_settings({}), warehouse=pg.warehouse)


def failures_by_check(result) -> dict[str, int | None]:
    return {f.check: f.unexpected_count for f in result.failures}


def test_valid_build_passes_and_releases_every_session(tmp_path: Path, pg_build: PgBuild):
    result = pg_gate(tmp_path, pg_build.dim_customers())

    assert result.passed, result.message
    # Logical names, as on DuckDB: the physical schema is gt_<random>_marts.
    assert result.tables_validated == ("marts.dim_customers",)
    assert len(result.tables_missing) == len(SUITES) - 1
    assert "staging.stg_crm__contacts" in {w.table for w in result.warnings}
    assert result.data_docs_index == tmp_path / "docs" / "index.html"
    assert result.data_docs_index.exists()
    # Every engine is disposed: no session is left, and dropping the validated schema does not wait.
    assert pg_build.sessions() == 0
    pg_build.execute("set lock_timeout = '2s'")
    pg_build.execute(f"drop schema {pg_build.schema('marts')} cascade")


def test_negative_mrr_names_check_table_and_bad_rows(tmp_path: Path, pg_build: PgBuild):
    # Was a duplicate customer_id (dim_customers.customer_id.unique): dbt's test
    # unique_dim_customers_customer_id proves the grain now (never relaxed; expectations/proven_by_dbt.py).
    customers = [*GOOD_CUSTOMERS, ("c4", HASH_A, "US", "smb", "ads", "2024-01-01 00:00:00", None)]
    pg_build.dim_customers(customers)
    marts = pg_build.schema("marts")
    pg_build.execute(f"update {marts}.dim_customers set current_mrr = -10 where customer_id in ('c1', 'c4')")
    result = pg_gate(tmp_path, pg_build)

    assert not result.passed
    # c1 and c4 have current_mrr -10 (as test_gate.py on DuckDB).
    assert failures_by_check(result) == {"dim_customers.current_mrr.non_negative": 2}
    failure = result.failures[0]
    assert failure.table == "marts.dim_customers"
    assert failure.message == (
        "dim_customers.current_mrr.non_negative failed on marts.dim_customers: 2 bad rows of 4"
    )
    assert "dim_customers.current_mrr.non_negative" in result.message
    assert pg_build.sessions() == 0


def test_dim_customers_rules_count_bad_rows(tmp_path: Path, pg_build: PgBuild):
    # The sha256_hex check is a regex: Postgres `~` here, regexp_full_match on DuckDB.
    result = pg_gate(tmp_path, pg_build.dim_customers(BAD_CUSTOMERS))

    # The segment, first_paid_at and customer_id rows are dbt's to catch (expectations/proven_by_dbt.py:
    # accepted_values_dim_customers_segment__smb__mid_market__enterprise,
    # assert_dim_customers_first_paid_not_before_first_seen, not_null_dim_customers_customer_id).
    assert failures_by_check(result) == {"dim_customers.email_hash.sha256_hex": 2}


@pytest.mark.parametrize("customers", [GOOD_CUSTOMERS, DUPLICATE_C1, BAD_CUSTOMERS, []])
def test_same_findings_and_messages_as_duckdb(tmp_path: Path, pg_build: PgBuild, customers):
    pg = pg_gate(tmp_path / "pg", pg_build.dim_customers(customers))
    duck = run_gate(
        build_db(tmp_path / "build.duckdb", customers), tmp_path / "docs", "run-1", settings=load_settings({})
    )

    assert pg.passed is duck.passed
    assert pg.failures == duck.failures
    assert pg.warnings == duck.warnings
    assert pg.message == duck.message
    assert (pg.tables_validated, pg.tables_missing) == (duck.tables_validated, duck.tables_missing)


def test_sql_check_applies_mostly(tmp_path: Path, pg_build: PgBuild, write_config):
    customers = [*GOOD_CUSTOMERS, ("c4", "ABC", "US", "smb", "ads", "2024-01-01 00:00:00", None)]
    pg_build.dim_customers(customers)
    assert failures_by_check(pg_gate(tmp_path, pg_build)) == {"dim_customers.email_hash.sha256_hex": 1}
    tolerant = write_config(mostly={"dim_customers.email_hash.sha256_hex": 0.75})
    assert pg_gate(tmp_path, pg_build, config=tolerant).passed


def test_staged_table_checks(tmp_path: Path, pg_build: PgBuild):
    pg_build.dim_customers()
    pg_build.execute(
        f"""
        create view {pg_build.schema("staging")}.stg_crm__deals as select * from (values
            ('d1', 'won', 100.00::numeric(18, 2), 'USD'),
            ('d2', 'open', -5.00, 'USD'),
            ('d2', 'stalled', 10.00, 'XXX'),
            ('d4', 'lost', null, 'EUR')
        ) t(deal_id, deal_stage, amount, currency)
        """
    )
    result = pg_gate(tmp_path, pg_build)

    # d2 twice and deal stage 'stalled' are dbt's (unique_stg_crm__deals_deal_id,
    # accepted_values_stg_crm__deals_deal_stage__open__won__lost; expectations/proven_by_dbt.py).
    assert failures_by_check(result) == {
        "stg_crm__deals.amount.non_negative": 1,
        "stg_crm__deals.currency.currency": 1,
    }
    assert {f.table for f in result.failures} == {"staging.stg_crm__deals"}


def test_tables_outside_the_build_schemas_are_not_validated(tmp_path: Path, pg_build: PgBuild):
    # A published marts.dim_customers or another run's schemas must not stand in for the build's.
    pg_build.execute(f"create schema {pg_build.prefix}other_marts")
    pg_build.execute(f"create table {pg_build.prefix}other_marts.dim_customers (customer_id text)")
    result = pg_gate(tmp_path, pg_build)

    assert result.passed
    assert result.tables_validated == ()
    assert "marts.dim_customers" in result.tables_missing


def test_missing_column_is_reported_not_crashed_on(tmp_path: Path, pg_build: PgBuild):
    pg_build.dim_customers()
    pg_build.execute(f"alter table {pg_build.schema('marts')}.dim_customers drop column email_hash")

    result = pg_gate(tmp_path, pg_build)

    assert not result.passed
    assert failures_by_check(result) == {"dim_customers.email_hash.sha256_hex": None}
    assert "has no column email_hash" in result.failures[0].message


def test_quarantine_is_read_from_the_duckdb_build_file(tmp_path: Path, pg_build: PgBuild):
    manifest = [
        ("run-1", "billing", "invoices", 4, 5),  # 6 of 10 quarantined in run-1: above the 50% default
        ("run-1", "billing", "invoices", 6, 1),
        ("run-0", "crm", "contacts", 10, 10),  # another run: ignored
    ]
    result = pg_gate(tmp_path, pg_build.dim_customers(), manifest=manifest)

    assert not result.passed
    assert failures_by_check(result) == {QUARANTINE_CHECK: 6}
    assert result.failures[0].table == "billing/invoices"
    assert "6 of 10 rows read were quarantined" in result.failures[0].message


def test_password_reaches_neither_docs_nor_result(tmp_path: Path, pg_build: PgBuild, monkeypatch):
    # Trust auth ignores the password; libpq still reads it from the environment.
    monkeypatch.setenv("PGPASSWORD", "s3cret-Pa55")
    result = pg_gate(tmp_path, pg_build.dim_customers(DUPLICATE_C1))

    assert "s3cret" not in repr(result)
    for path in (tmp_path / "docs").rglob("*"):
        if path.is_file():
            assert b"s3cret" not in path.read_bytes(), path
