"""Fixtures: the hand-written raw layer of raw_fixture.py, built with `dbt build` on DuckDB and on Postgres.

dbt runs in the test's process (clm.dbt_inprocess, as in `clm run`) from the repo's project and profiles,
with --target-path and --log-path in a tmp directory, so nothing is written inside the repo.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pytest

from clm import dbt_inprocess, dbt_parse_cache
from clm.config import load_settings
from tests.dbt import raw_fixture
from tests.postgres_server import scratch_database
from tests.shared_fixture import shared_while_used

REPO = Path(__file__).resolve().parents[2]
AS_OF = "2024-03-31"
PII_KEY = "clm-dbt-test-key"
PG_SCHEMA_PREFIX = "build_"

# The second dbt phase of `clm run` (orchestration/assets/dbt.py CLV_PHASE) needs the CLV fits' tables.
WITHOUT_CLV_PHASE = ["--exclude", "source:clv+"]


def without_unit_tests(args: list[str], unit_tests: bool) -> list[str]:
    """dbt's unit tests do not read the warehouse's rows (their inputs are fixtures in YAML): they run once
    per engine, in the session builds ``duckdb_build`` and ``postgres_build``, and the other fixture builds
    leave them out, as `clm run` does (about 50 s of node time per build)."""
    if unit_tests or not args or args[0] != "build":
        return args
    return [*args, "--exclude-resource-type", "unit_test"]


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

    def to_json(self) -> dict:
        return asdict(self) | {"target_path": str(self.target_path)}

    @classmethod
    def from_json(cls, data: dict) -> DbtRun:
        return cls(**(data | {"target_path": Path(data["target_path"])}))

    def assert_ok(self) -> None:
        assert self.returncode == 0, f"{' '.join(self.command)} failed:\n{self.output[-6000:]}"

    def assert_nothing_failed(self, bad: tuple[str, ...] = ("error", "fail", "skipped")) -> None:
        """The run succeeded and no node ended in one of the ``bad`` statuses."""
        self.assert_ok()
        failed = [(r["unique_id"], r["status"]) for r in self.results if r["status"] in bad]
        assert not failed, failed

    def unit_test_statuses(self) -> dict[str, str]:
        """Status of each unit test of a model this run built, by its name (from the run's manifest, so a
        unit test that did not run at all shows as None)."""
        manifest = json.loads((self.target_path / "manifest.json").read_text())
        built = {r["unique_id"].split(".")[-1] for r in self.results if r["unique_id"].startswith("model.")}
        ran = {
            r["unique_id"].split(".")[-1]: r["status"]
            for r in self.results
            if r["unique_id"].startswith("unit_test.")
        }
        return {t["name"]: ran.get(t["name"]) for t in manifest["unit_tests"].values() if t["model"] in built}

    def data_test_statuses(self) -> dict[str, str]:
        """Status of each singular/generic data test by its name (unit tests left out)."""
        return {
            r["unique_id"].split(".")[2]: r["status"]
            for r in self.results
            if r["unique_id"].startswith("test.")
        }


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
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    # The as-of date as `clm run` gives it (CLM_AS_OF, not a var, so most builds share one parse); only when
    # the test gives it: an in-process pipeline test may have left the run's in os.environ.
    inherited = {k: v for k, v in os.environ.items() if k != "CLM_AS_OF"}
    full_env = inherited | {"CLM_PII_KEY": PII_KEY, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"} | env
    if as_of is not None:
        full_env["CLM_AS_OF"] = as_of
    # The parse of an earlier command with the same vars and target (CLM_DBT_PARSE_CACHE, set for the whole
    # test run by tests/conftest.py): about 6 s less per dbt command.
    key = [json.dumps(dbt_vars, sort_keys=True), full_env.get("CLM_TARGET", "")]
    with dbt_parse_cache.cached_parse(load_settings(full_env).dbt_parse_cache, target_path, project_dir, key):
        # In this process, as `clm run` runs dbt (clm.dbt_inprocess): no dbt process to start, about 3 s
        # less per command. The output is what dbt's console prints at its default level.
        lines: list[str] = []
        collect = _collect(lines, debug="--debug" in args)
        code, _result, error = dbt_inprocess.invoke(command[1:], full_env, callbacks=[collect])
    if error is not None:
        lines.append(f"Encountered an error:\n{error}")
    results_file = target_path / "run_results.json"
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    return DbtRun(command, code, "\n".join(lines), results, target_path)


def _collect(lines: list[str], debug: bool) -> Callable[[object], None]:
    """The messages dbt's console prints: at its default level, or every one with --debug."""

    def collect(event) -> None:
        if debug or event.info.level != "debug":
            lines.append(event.info.msg)

    return collect


def copy_project(destination: Path) -> Path:
    """A copy of the dbt project (project and profiles files, models, macros, seeds) in ``destination``, for a
    test that adds or breaks a model without touching the repo."""
    destination.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy2(REPO / name, destination / name)
    for name in ("dbt_project", "seeds"):
        shutil.copytree(REPO / name, destination / name)
    return destination


Query = Callable[[str], list[tuple]]
# A fixture module's ``load(execute, placeholder)``: creates the raw tables with a DB-API-like execute.
Loader = Callable[[Callable[..., object], str], None]


def load_duckdb_fixture(path: Path, load: Loader = raw_fixture.load) -> None:
    conn = duckdb.connect(str(path))
    try:
        load(lambda sql, params=None: conn.execute(sql, params), "?")
    finally:
        conn.close()


def duckdb_reader(database: Path) -> Query:
    """Queries on ``database``, each on its own read-only connection (dbt may write it in between)."""

    def query(sql: str) -> list[tuple]:
        conn = duckdb.connect(str(database), read_only=True)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    return query


@dataclass
class Build:
    """One `dbt build` of a fixture: the run, a query function on its warehouse, the environment dbt ran
    with (to run dbt again on the same warehouse), and the prefix of its schemas (build_ on Postgres)."""

    target: str
    run: DbtRun
    query: Query
    env: dict[str, str] = field(default_factory=dict)
    database: Path | None = None
    schema_prefix: str = ""

    @property
    def marts(self) -> str:
        return f"{self.schema_prefix}marts"

    @property
    def intermediate(self) -> str:
        return f"{self.schema_prefix}intermediate"

    def rows(self, sql: str) -> list[tuple]:
        """``sql`` with {schema} standing for the marts schema."""
        return self.query(sql.format(schema=self.marts))


def build_duckdb(
    workdir: Path,
    load: Loader,
    args: list[str],
    as_of: str | None = AS_OF,
    unit_tests: bool = False,
    **dbt_vars: object,
) -> Build:
    """A fresh DuckDB file in ``workdir`` loaded by ``load``, then `dbt <args>` on it (a build without the
    unit tests unless ``unit_tests``)."""
    database = workdir / "build.duckdb"
    load_duckdb_fixture(database, load)
    env = {"CLM_BUILD_DB": str(database), "CLM_TARGET": "duckdb"}
    run = run_dbt(without_unit_tests(args, unit_tests), workdir, env, as_of=as_of, **dbt_vars)
    return Build("duckdb", run, duckdb_reader(database), env, database)


@pytest.fixture(scope="session")
def duckdb_build(tmp_path_factory) -> Iterator[tuple[Path, DbtRun]]:
    """The fixture raw layer in a fresh DuckDB file, then `dbt build` as of 2024-03-31: everything but the CLV
    marts, which read what the Python fits write between the two dbt phases of `clm run`
    (tests/test_end_to_end_clv.py builds them). Built once for all test workers: tests open the file
    read-only, or a copy of it."""

    def build(_: ExitStack) -> dict:
        workdir = tmp_path_factory.mktemp("dbt_duckdb")
        build = build_duckdb(workdir, raw_fixture.load, ["build", *WITHOUT_CLV_PHASE], unit_tests=True)
        return {"database": str(build.database), "run": build.run.to_json()}

    with shared_while_used(tmp_path_factory, "duckdb_build", build, releases=False) as shared:
        yield Path(shared["database"]), DbtRun.from_json(shared["run"])


@pytest.fixture
def duckdb_query(duckdb_build):
    database, run = duckdb_build
    run.assert_ok()
    return duckdb_reader(database)


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


def _pg_env(params: dict) -> dict[str, str]:
    return {
        "CLM_TARGET": "postgres",
        "PGHOST": params["host"],
        "PGPORT": str(params["port"]),
        "PGUSER": params["user"],
        "PGPASSWORD": params["password"],
        "PGDATABASE": params["dbname"],
        # the key reaches pgcrypto's hmac() as a session setting, never through compiled SQL
        "PGOPTIONS": f"-c clm.pii_key={PII_KEY}",
    }


def _pg_query(conn) -> Query:
    def query(sql: str) -> list[tuple]:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    return query


@contextmanager
def build_postgres(
    name: str,
    workdir: Path,
    load: Loader,
    args: list[str],
    as_of: str | None = AS_OF,
    unit_tests: bool = False,
    **dbt_vars: object,
) -> Iterator[Build]:
    """A fresh Postgres database ``name`` loaded by ``load``, then `dbt <args> --target postgres` on it; the
    database is dropped on exit. Like `clm run --target postgres`, the build goes to build_* schemas (var
    schema_prefix)."""
    import psycopg2

    with scratch_database(name) as dbname:
        params = _pg_params(dbname)
        conn = psycopg2.connect(**params)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("create extension if not exists pgcrypto")
                load(lambda sql, values=None: cur.execute(sql, values), "%s")
            env = _pg_env(params)
            args = without_unit_tests(args, unit_tests)
            run = run_dbt(args, workdir, env, as_of=as_of, schema_prefix=PG_SCHEMA_PREFIX, **dbt_vars)
            yield Build("postgres", run, _pg_query(conn), env, schema_prefix=PG_SCHEMA_PREFIX)
        finally:
            conn.close()


@pytest.fixture(scope="session")
def postgres_build(tmp_path_factory) -> Iterator[tuple[DbtRun, Query]]:
    """The same raw rows in a fresh Postgres database, `dbt build --target postgres`, built once for all test
    workers; dropped when the last of them is done."""
    import psycopg2

    def build(stack: ExitStack) -> dict:
        workdir = tmp_path_factory.mktemp("dbt_postgres")
        args = ["build", *WITHOUT_CLV_PHASE]
        build = stack.enter_context(
            build_postgres("clm_dbt_test", workdir, raw_fixture.load, args, unit_tests=True)
        )
        return {"database": build.env["PGDATABASE"], "run": build.run.to_json()}

    with (
        shared_while_used(tmp_path_factory, "postgres_build", build) as shared,
        closing(psycopg2.connect(**_pg_params(shared["database"]))) as conn,
    ):
        conn.autocommit = True
        yield DbtRun.from_json(shared["run"]), _pg_query(conn)
