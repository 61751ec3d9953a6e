"""`clm run --target postgres` end to end: the same landing zone gives identical marts on both targets
(docs/marts.md#where-the-marts-are), published to Postgres schema `marts` with the audit tables beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

from tests.postgres_server import admin_connection, scratch_database
from tests.test_end_to_end import FIXTURE, clm, make_env, published_comments, query

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def both_targets(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("e2e_pg")
    raw = tmp / "raw"
    shutil.copytree(FIXTURE, raw, ignore=shutil.ignore_patterns("README.md"))
    admin_connection().close()  # skip (or fail in CI) before doing any work when there is no server
    with scratch_database("clm_e2e") as database:
        pg_env = {**make_env(tmp / "pg", raw), "PGDATABASE": database}
        pg_run = clm("run", "--target", "postgres", env=pg_env)
        duck_run = clm("run", env=make_env(tmp / "duck", raw))
        conn = admin_connection(database)
        yield {
            "pg_env": pg_env,
            "pg": pg_run,
            "duck": duck_run,
            "conn": conn,
            "serving": tmp / "duck" / "warehouse" / "serving.duckdb",
        }
        conn.close()


def pg_rows(conn, sql: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_postgres_run_publishes(both_targets) -> None:
    run = both_targets["pg"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "published to Postgres schemas marts and audit" in run.stdout
    assert "dim_customers (5 rows)" in run.stdout  # 4 CRM contacts + 1 billing-only customer


def test_dim_customers_identical_on_both_targets(both_targets) -> None:
    assert both_targets["duck"].returncode == 0, both_targets["duck"].stdout
    sql = "select * from marts.dim_customers order by customer_id"
    pg = pg_rows(both_targets["conn"], sql)
    duck = query(both_targets["serving"], sql)
    assert len(pg) == 5
    assert pg == duck


def test_postgres_holds_only_published_schemas_and_audit(both_targets) -> None:
    conn = both_targets["conn"]
    assert pg_rows(conn, "select status from audit.runs") == [("published",)]
    assert pg_rows(conn, "select sum(rows_loaded) from audit.load_manifest") == [(27,)]  # as in DuckDB
    schemas = {r[0] for r in pg_rows(conn, "select schema_name from information_schema.schemata")}
    assert {"marts", "audit", "raw", "build_staging", "build_marts"} <= schemas


def test_bi_role_and_views_survive_a_second_publish(both_targets) -> None:
    """CLM_READER_ROLE (docs/configuration.md#postgres-target): a read-only role reads marts and audit, and
    nothing else, across publishes; a view a BI user built on the marts keeps working and shows the new run's
    data."""
    conn = both_targets["conn"]
    database = conn.info.dbname
    role = "clm_reader"  # the default of CLM_READER_ROLE, created by the first publish
    with conn.cursor() as cur:
        cur.execute("create schema if not exists bi")
        cur.execute(
            "create or replace view bi.customers_by_country as "
            "select country, count(*) as customers from marts.dim_customers group by country"
        )
        cur.execute(f"grant usage on schema bi to {role}")
        cur.execute(f"grant select on bi.customers_by_country to {role}")
    reader = psycopg2.connect(host="127.0.0.1", dbname=database, user=role)
    reader.autocommit = True  # an idle BI session must not hold locks between queries
    try:
        before = pg_rows(reader, "select sum(customers) from bi.customers_by_country")
        assert before == [(5,)]
        # A new lead lands: the second publish has one more customer.
        drop = Path(both_targets["pg_env"]["CLM_RAW_DIR"]) / "crm" / "contacts" / "load_date=2024-03-03"
        drop.mkdir(parents=True)
        header = (FIXTURE / "crm/contacts/load_date=2024-03-02/contacts.csv").read_text().splitlines()[0]
        (drop / "contacts.csv").write_text(
            header + "\nc9,nina@example.org,Nina,Novak,,SI,smb,organic,,"
            "2024-03-03T08:00:00+00:00,2024-03-03T08:00:00+00:00,false\n"
        )
        again = clm("run", "--target", "postgres", env=both_targets["pg_env"])
        assert again.returncode == 0, again.stdout + again.stderr
        # The same open connection, after the swap: the view was recreated and reads the new tables.
        assert pg_rows(reader, "select sum(customers) from bi.customers_by_country") == [(6,)]
        assert pg_rows(reader, "select status, count(*) from audit.runs group by 1") == [("published", 2)]
        forbidden = ("raw.crm__contacts", "build_marts.dim_customers", "build_staging.stg_crm__contacts")
        for table in forbidden:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                pg_rows(reader, f"select count(*) from {table}")
    finally:
        reader.close()
        with conn.cursor() as cur:
            cur.execute("drop schema bi cascade")


def test_published_tables_carry_the_same_descriptions_as_the_served_file(both_targets) -> None:
    """docs/marts.md#descriptions: every published mart and audit table, and every column, has its description
    as a Postgres comment (pg_description), the same text as in the DuckDB served file; after the second
    publish above too, which swapped new tables over the commented ones."""
    rows = pg_rows(
        both_targets["conn"],
        "select n.nspname || '.' || c.relname, a.attname, obj_description(c.oid, 'pg_class'), "
        "       col_description(c.oid, a.attnum) "
        "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped "
        "where n.nspname in ('marts', 'audit') and c.relkind = 'r'",
    )
    tables = {table: comment for table, _column, comment, _ in rows}
    columns = {(table, column): comment for table, column, _, comment in rows}
    assert [t for t, comment in tables.items() if not (comment or "").strip()] == []
    assert [c for c, comment in columns.items() if not (comment or "").strip()] == []
    # Verbatim from dbt_project/models/marts/revenue/_revenue__models.yml.
    assert columns[("marts.fct_mrr_movements", "month")] == "The month, as the DATE of its first day."
    duck_tables, duck_columns = published_comments(both_targets["serving"])
    assert tables == duck_tables
    assert columns == duck_columns
