"""`clm run --target postgres` end to end: the same landing zone gives identical marts on both targets
(CONTRACT 6), published to Postgres schema `marts` with the audit tables beside it."""

from __future__ import annotations

import shutil

import pytest

from tests.postgres_server import admin_connection, scratch_database
from tests.test_end_to_end import FIXTURE, clm, make_env, query

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
