"""Fixtures: the hand-written raw layer of raw_fixture.py, built with `dbt build` on DuckDB and on Postgres.

dbt runs as a subprocess from the repo's project and profiles, with --target-path and --log-path in a tmp
directory, so nothing is written inside the repo.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.dbt import raw_fixture
from tests.postgres_server import scratch_database

REPO = Path(__file__).resolve().parents[2]
AS_OF = "2024-03-31"
PII_KEY = "clm-dbt-test-key"
PG_SCHEMA_PREFIX = "build_"

# The second dbt phase of `clm run` (orchestration/assets/dbt.py CLV_PHASE) needs the CLV fits' tables.
WITHOUT_CLV_PHASE = ["--exclude", "source:clv+"]


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    assert found, "dbt is not installed in the test environment"
    return found


@dataclass
class DbtRun:
    command: list[str]
    returncode: int
    output: str
    results: list[dict]
    target_path: Path

    def assert_ok(self) -> None:
        assert self.returncode == 0, f"{' '.join(self.command)} failed:\n{self.output[-6000:]}"


def run_dbt(
    args: list[str],
    workdir: Path,
    env: dict[str, str],
    as_of: str | None = AS_OF,
    project_dir: Path = REPO,
    **dbt_vars: object,
) -> DbtRun:
    """`dbt <args>` on the repo's project (or a copy of it in ``project_dir``) and its profiles.yml."""
    target_path = workdir / "target"
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(workdir / "logs"),
    ]
    if as_of is not None:
        dbt_vars = {"as_of": as_of} | dbt_vars
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    full_env = os.environ | {"CLM_PII_KEY": PII_KEY, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"} | env
    proc = subprocess.run(command, cwd=workdir, env=full_env, capture_output=True, text=True, timeout=600)
    results_file = target_path / "run_results.json"
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    return DbtRun(command, proc.returncode, proc.stdout + proc.stderr, results, target_path)


def load_duckdb_fixture(path: Path) -> None:
    conn = duckdb.connect(str(path))
    try:
        raw_fixture.load(lambda sql, params=None: conn.execute(sql, params), "?")
    finally:
        conn.close()


@pytest.fixture(scope="session")
def duckdb_build(tmp_path_factory) -> tuple[Path, DbtRun]:
    """The fixture raw layer in a fresh DuckDB file, then `dbt build` as of 2024-03-31: everything but the CLV
    marts, which read what the Python fits write between the two dbt phases of `clm run`
    (tests/test_end_to_end_clv.py builds them)."""
    workdir = tmp_path_factory.mktemp("dbt_duckdb")
    database = workdir / "build.duckdb"
    load_duckdb_fixture(database)
    run = run_dbt(
        ["build", *WITHOUT_CLV_PHASE], workdir, {"CLM_BUILD_DB": str(database), "CLM_TARGET": "duckdb"}
    )
    return database, run


@pytest.fixture
def duckdb_query(duckdb_build):
    database, run = duckdb_build
    run.assert_ok()

    def query(sql: str) -> list[tuple]:
        conn = duckdb.connect(str(database), read_only=True)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    return query


# ---------------------------------------------------------------------------------------------- Postgres


def _pg_params(dbname: str) -> dict:
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": int(os.environ.get("PGPORT", "5432")),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
        "dbname": dbname,
        "connect_timeout": 5,
    }


@pytest.fixture(scope="session")
def postgres_build(tmp_path_factory):
    """The same raw rows in a fresh Postgres database, `dbt build --target postgres`; dropped afterwards.

    Like `clm run --target postgres`, the build goes to build_* schemas (var schema_prefix).
    """
    import psycopg2

    with scratch_database("clm_dbt_test") as dbname:
        conn = psycopg2.connect(**_pg_params(dbname))
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("create extension if not exists pgcrypto")
            raw_fixture.load(lambda sql, params=None: cur.execute(sql, params), "%s")
        workdir = tmp_path_factory.mktemp("dbt_postgres")
        params = _pg_params(dbname)
        env = {
            "CLM_TARGET": "postgres",
            "PGHOST": params["host"],
            "PGPORT": str(params["port"]),
            "PGUSER": params["user"],
            "PGPASSWORD": params["password"],
            "PGDATABASE": dbname,
            # the key reaches pgcrypto's hmac() as a session setting, never through compiled SQL
            "PGOPTIONS": f"-c clm.pii_key={PII_KEY}",
        }
        run = run_dbt(["build", *WITHOUT_CLV_PHASE], workdir, env, schema_prefix=PG_SCHEMA_PREFIX)

        def query(sql: str) -> list[tuple]:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()

        yield run, query
        conn.close()
