"""The gate's checkpoint: GX suites from ``suites.py`` validated in-database on the build warehouse.

The warehouse is the DuckDB build file (``duckdb_warehouse``, the default) or the Postgres build schemas of
``clm run --target postgres`` (``postgres_warehouse``: ``build_staging``, ``build_marts``, ...). Suites name
logical schemas (``staging``, ``marts``); a ``Warehouse`` maps them to physical ones, and findings keep the
logical names, so both targets give the same checks and messages.

An ephemeral context keeps the run reproducible (no ``gx/`` folder to drift); only the data docs are
written, under ``Settings.data_docs_dir``, with their CSS and JS copied in so they work offline
(``data_docs_offline``). The warehouse is opened read-only, and every engine is disposed before returning so
nothing holds the file (or a Postgres connection) afterwards.
"""

from __future__ import annotations

import getpass
import os
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import great_expectations as gx
import sqlalchemy as sa
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.datasource.fluent import SQLDatasource
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.metadata_types import FailureSeverity

from . import _gx_duckdb_patch
from .config import GateConfig
from .data_docs_offline import vendor_assets
from .suites import SUITES, TableSuite

SITE_NAME = "clm"
DATASOURCE_NAME = "build"
# Logical schemas that dbt builds; dbt_project/macros/generate_schema_name.sql prefixes var schema_prefix.
BUILD_SCHEMAS = ("staging", "intermediate", "marts", "reference")
POSTGRES_BUILD_PREFIX = "build_"  # the same as clm.targets.postgres.BUILD_PREFIX
POSTGRES_APPLICATION_NAME = "clm-quality-gate"


@dataclass(frozen=True)
class Warehouse:
    """Where the suites run: a SQLAlchemy URL (GX creates and the gate disposes the engines) and the physical
    schema of each logical one (unmapped schemas keep their name).

    ``url`` carries no password for Postgres: libpq reads ``PGPASSWORD`` (or ``~/.pgpass``) itself, so no
    secret reaches GX's datasource config, a log or the data docs.
    """

    url: sa.engine.URL
    schemas: Mapping[str, str] = field(default_factory=dict)  # logical -> physical
    connect_args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        """SQLAlchemy dialect name: ``duckdb`` or ``postgresql``; selects each SQL check's form."""
        return self.url.get_backend_name()

    def physical(self, schema: str) -> str:
        return self.schemas.get(schema, schema)

    def create_engine(self) -> sa.Engine:
        """An engine like the gate's own (the caller disposes it)."""
        return sa.create_engine(self.url, connect_args=dict(self.connect_args))

    def __str__(self) -> str:
        return self.url.render_as_string(hide_password=True)


def duckdb_warehouse(build_db: Path, config: Mapping[str, str] | None = None) -> Warehouse:
    """The DuckDB build file, opened read-only with the run's DuckDB ``config`` (memory_limit, threads);
    schemas keep their names."""
    connect_args: dict[str, Any] = {"read_only": True}
    if config:
        connect_args["config"] = dict(config)
    return Warehouse(sa.engine.URL.create("duckdb", database=str(build_db)), connect_args=connect_args)


def spark_warehouse(
    host: str, port: int, schema_prefix: str, configuration: Mapping[str, str] | None = None
) -> Warehouse:
    """The Spark build databases (``<prefix>staging``, ...) through a Thrift server, with PyHive's ``hive``
    SQLAlchemy dialect; ``configuration``: the session's Spark settings."""
    url = sa.engine.URL.create("hive", username=_os_user(), host=host, port=port, database="default")
    return Warehouse(
        url,
        schemas={schema: f"{schema_prefix}{schema}" for schema in BUILD_SCHEMAS},
        connect_args={"configuration": dict(configuration or {})},
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers): as profiles.yml
        return "postgres"


def postgres_warehouse(
    schema_prefix: str = POSTGRES_BUILD_PREFIX,
    *,
    database: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Warehouse:
    """The Postgres build schemas (``<prefix>staging``, ...) over libpq's PG* variables.

    Defaults as ``clm.targets.postgres.connection()`` and profiles.yml: an unset PGHOST means 127.0.0.1,
    PGPORT 5432,
    PGUSER the OS user, PGDATABASE the user name. ``database`` overrides PGDATABASE. The password is not put
    in the URL (libpq reads PGPASSWORD); sessions are read-only.
    """
    env = os.environ if environ is None else environ
    user = env.get("PGUSER") or _os_user()
    host = env.get("PGHOST") or "127.0.0.1"
    query: dict[str, str] = {}
    if host.startswith("/"):  # a Unix socket directory: libpq takes it as the host keyword
        query["host"], host = host, ""
    url = sa.engine.URL.create(
        "postgresql+psycopg2",
        username=user,
        host=host or None,
        port=int(env.get("PGPORT") or 5432),
        database=database or env.get("PGDATABASE") or user,
        query=query,
    )
    return Warehouse(
        url,
        schemas={schema: f"{schema_prefix}{schema}" for schema in BUILD_SCHEMAS},
        connect_args={
            "application_name": env.get("PGAPPNAME") or POSTGRES_APPLICATION_NAME,
            # The gate only reads; overrides PGOPTIONS, which the gate does not need.
            "options": "-c default_transaction_read_only=on",
        },
    )


@dataclass(frozen=True)
class MissingColumns:
    suite: TableSuite
    check: str  # full check name
    columns: tuple[str, ...]


@dataclass(frozen=True)
class CheckpointRun:
    results: Mapping[str, ExpectationSuiteValidationResult]  # by qualified table name
    missing_tables: tuple[TableSuite, ...]
    missing_columns: tuple[MissingColumns, ...]
    data_docs_index: Path | None
    suites: tuple[TableSuite, ...] = field(default=())
    data_docs_warning: str | None = None  # why the Data Docs still load assets from CDNs


def unknown_config_checks(config: GateConfig, suites: Iterable[TableSuite] = SUITES) -> set[str]:
    """Check names in the config that no suite defines (typos would otherwise be silently ignored)."""
    known = {suite.check_name(check) for suite in suites for check in suite.checks}
    return (set(config.mostly) | set(config.warn_only)) - known


def _context(data_docs_dir: Path) -> gx.data_context.AbstractDataContext:
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(
        site_name=SITE_NAME,
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(data_docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            # A page per validation result (each lists its suite's expectations with their outcome) and the
            # index. No separate page per suite: it would repeat the validation page's expectations, and
            # every page costs GX a fresh Jinja compile (~0.3 s); profiling is not used.
            "site_section_builders": {"expectations": "0", "profiling": "0"},
        },
    )
    return context


def _datasource(context: gx.data_context.AbstractDataContext, warehouse: Warehouse) -> SQLDatasource:
    with warnings.catch_warnings():
        # One generic SQL datasource for every dialect on purpose (GX suggests PostgresDatasource).
        warnings.filterwarnings("ignore", "You are using a generic SQLDatasource")
        return context.data_sources.add_sql(
            name=DATASOURCE_NAME,
            connection_string=warehouse.url.render_as_string(hide_password=False),
            kwargs={"connect_args": dict(warehouse.connect_args)},
        )


def _present_columns(engine: sa.Engine, schemas: Iterable[str]) -> dict[tuple[str, str], set[str]]:
    """Columns of every table and view in the given (physical) schemas, by (schema, table)."""
    if engine.dialect.name == "hive":
        return _spark_columns(engine, schemas)
    query = sa.text(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema in :schemas"
    ).bindparams(sa.bindparam("schemas", expanding=True))
    columns: dict[tuple[str, str], set[str]] = {}
    with engine.connect() as connection:
        for schema, table, column in connection.execute(query, {"schemas": sorted(set(schemas))}):
            columns.setdefault((schema, table), set()).add(column)
    return columns


def _spark_columns(engine: sa.Engine, schemas: Iterable[str]) -> dict[tuple[str, str], set[str]]:
    """Spark has no information_schema for its Hive catalog: SHOW TABLES and DESCRIBE instead (PyHive's
    inspector takes SHOW TABLES' first column, which on Spark is the database)."""
    columns: dict[tuple[str, str], set[str]] = {}
    with engine.connect() as connection:
        databases = {row[0] for row in connection.exec_driver_sql("show databases")}
        for schema in sorted(set(schemas) & databases):
            for _db, table, temporary in connection.exec_driver_sql(f"show tables in `{schema}`").fetchall():
                if temporary:
                    continue
                found = columns.setdefault((schema, table), set())
                for name, *_ in connection.exec_driver_sql(f"describe `{schema}`.`{table}`").fetchall():
                    if not name or name.startswith("#"):
                        break
                    found.add(name)
    return columns


def _dispose(datasource: SQLDatasource) -> None:
    # The datasource and its execution engine each own a pooled SQLAlchemy engine; pooled DuckDB
    # connections keep the file open, and pooled Postgres sessions would block a later
    # `drop schema ... cascade`, until disposed.
    execution_engine = getattr(datasource, "_execution_engine", None)
    if execution_engine is not None:
        execution_engine.engine.dispose()
    if getattr(datasource, "_engine", None) is not None:
        datasource.get_engine().dispose()


def _suite(
    context: gx.data_context.AbstractDataContext,
    table: TableSuite,
    present: set[str],
    config: GateConfig,
    dialect: str,
) -> tuple[gx.ExpectationSuite, list[MissingColumns]]:
    expectations: list[Expectation] = []
    missing: list[MissingColumns] = []
    for check in table.checks:
        name = table.check_name(check)
        absent = tuple(column for column in check.columns if column not in present)
        if absent:
            missing.append(MissingColumns(table, name, absent))
            continue
        severity = FailureSeverity.WARNING if config.is_warning(name) else FailureSeverity.CRITICAL
        expectation = check.make(config.mostly_for(name), severity, dialect)
        expectation.meta = {"check": name}  # how the gate names the check in messages and gate.yml
        expectations.append(expectation)
    # The whole suite at once: a suite already in the context saves itself on every add_expectation, and
    # compares the new expectation with each one before it.
    suite = context.suites.add(gx.ExpectationSuite(name=table.qualified_name, expectations=expectations))
    return suite, missing


def run_checkpoint(
    build_db: Path | None,
    data_docs_dir: Path,
    config: GateConfig,
    run_name: str,
    suites: tuple[TableSuite, ...] = SUITES,
    *,
    warehouse: Warehouse | None = None,
) -> CheckpointRun:
    """Validate ``suites`` in ``warehouse`` (default: the DuckDB file ``build_db``)."""
    if warehouse is None:
        if build_db is None:
            raise ValueError("run_checkpoint needs a build_db or a warehouse")
        warehouse = duckdb_warehouse(build_db)
    _gx_duckdb_patch.apply()  # a no-op for other dialects
    data_docs_dir.mkdir(parents=True, exist_ok=True)
    context = _context(data_docs_dir)
    datasource = _datasource(context, warehouse)
    try:
        present = _present_columns(datasource.get_engine(), (warehouse.physical(t.schema) for t in suites))
        definitions: list[gx.ValidationDefinition] = []
        missing_tables: list[TableSuite] = []
        missing_columns: list[MissingColumns] = []
        for table in suites:
            schema = warehouse.physical(table.schema)
            columns = present.get((schema, table.table))
            if columns is None:
                missing_tables.append(table)
                continue
            suite, missing = _suite(context, table, columns, config, warehouse.dialect)
            missing_columns.extend(missing)
            with warnings.catch_warnings():
                # GX would rather take the schema from the connection, but one connection serves
                # several schemas here (staging, marts).
                warnings.filterwarnings("ignore", "`schema_name` is deprecated", DeprecationWarning)
                asset = datasource.add_table_asset(
                    name=table.qualified_name, table_name=table.table, schema_name=schema
                )
            definitions.append(
                context.validation_definitions.add(
                    gx.ValidationDefinition(
                        name=table.qualified_name,
                        data=asset.add_batch_definition_whole_table("whole_table"),
                        suite=suite,
                    )
                )
            )
        results: dict[str, ExpectationSuiteValidationResult] = {}
        docs_warning: str | None = None
        if definitions:
            checkpoint = context.checkpoints.add(
                gx.Checkpoint(
                    name="clm_quality_gate",
                    validation_definitions=definitions,
                    result_format="SUMMARY",
                )
            )
            started = time.time()
            outcome = checkpoint.run(run_id=RunIdentifier(run_name=run_name))
            results = {result.suite_name: result for result in outcome.run_results.values()}
            # Once for the run: GX's UpdateDataDocsAction rebuilds the index after every suite.
            context.build_data_docs(site_names=[SITE_NAME])
            # GX's pages load CDN assets: make this run's pages use local copies
            docs_warning = vendor_assets(data_docs_dir, since=started)
    finally:
        _dispose(datasource)
    index = data_docs_dir / "index.html"
    return CheckpointRun(
        results=results,
        missing_tables=tuple(missing_tables),
        missing_columns=tuple(missing_columns),
        data_docs_index=index if index.exists() else None,
        suites=suites,
        data_docs_warning=docs_warning,
    )
