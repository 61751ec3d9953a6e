"""The gate's checkpoint: GX suites from ``suites.py`` validated in-database on the build file.

An ephemeral context keeps the run reproducible (no ``gx/`` folder to drift); only the data docs are
written, under ``Settings.data_docs_dir``. The build file is opened read-only, and every engine is
disposed before returning so nothing holds the file afterwards.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import great_expectations as gx
import sqlalchemy as sa
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.datasource.fluent import SQLDatasource
from great_expectations.expectations.metadata_types import FailureSeverity

from . import _gx_duckdb_patch
from .config import GateConfig
from .suites import SUITES, TableSuite

SITE_NAME = "clm"
DATASOURCE_NAME = "build"


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
        },
    )
    return context


def _read_only_datasource(context: gx.data_context.AbstractDataContext, build_db: Path) -> SQLDatasource:
    url = sa.engine.URL.create("duckdb", database=str(build_db))
    return context.data_sources.add_sql(
        name=DATASOURCE_NAME,
        connection_string=url.render_as_string(hide_password=False),
        kwargs={"connect_args": {"read_only": True}},
    )


def _present_columns(engine: sa.Engine) -> dict[tuple[str, str], set[str]]:
    """Columns of every table and view in the build database, by (schema, table)."""
    query = sa.text(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = current_database()"
    )
    columns: dict[tuple[str, str], set[str]] = {}
    with engine.connect() as connection:
        for schema, table, column in connection.execute(query):
            columns.setdefault((schema, table), set()).add(column)
    return columns


def _dispose(datasource: SQLDatasource) -> None:
    # The datasource and its execution engine each own a pooled SQLAlchemy engine; pooled DuckDB
    # connections keep the file open until disposed.
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
) -> tuple[gx.ExpectationSuite, list[MissingColumns]]:
    suite = context.suites.add(gx.ExpectationSuite(name=table.qualified_name))
    missing: list[MissingColumns] = []
    for check in table.checks:
        name = table.check_name(check)
        absent = tuple(column for column in check.columns if column not in present)
        if absent:
            missing.append(MissingColumns(table, name, absent))
            continue
        severity = FailureSeverity.WARNING if config.is_warning(name) else FailureSeverity.CRITICAL
        expectation = check.make(config.mostly_for(name), severity)
        expectation.meta = {"check": name}  # how the gate names the check in messages and gate.yml
        suite.add_expectation(expectation)
    return suite, missing


def run_checkpoint(
    build_db: Path,
    data_docs_dir: Path,
    config: GateConfig,
    run_name: str,
    suites: tuple[TableSuite, ...] = SUITES,
) -> CheckpointRun:
    _gx_duckdb_patch.apply()
    data_docs_dir.mkdir(parents=True, exist_ok=True)
    context = _context(data_docs_dir)
    datasource = _read_only_datasource(context, build_db)
    try:
        present = _present_columns(datasource.get_engine())
        definitions: list[gx.ValidationDefinition] = []
        missing_tables: list[TableSuite] = []
        missing_columns: list[MissingColumns] = []
        for table in suites:
            columns = present.get((table.schema, table.table))
            if columns is None:
                missing_tables.append(table)
                continue
            suite, missing = _suite(context, table, columns, config)
            missing_columns.extend(missing)
            with warnings.catch_warnings():
                # GX would rather take the schema from the connection, but one DuckDB connection serves
                # several schemas here (staging, marts).
                warnings.filterwarnings("ignore", "`schema_name` is deprecated", DeprecationWarning)
                asset = datasource.add_table_asset(
                    name=table.qualified_name, table_name=table.table, schema_name=table.schema
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
        if definitions:
            checkpoint = context.checkpoints.add(
                gx.Checkpoint(
                    name="clm_quality_gate",
                    validation_definitions=definitions,
                    actions=[UpdateDataDocsAction(name="update_data_docs", site_names=[SITE_NAME])],
                    result_format="SUMMARY",
                )
            )
            outcome = checkpoint.run(run_id=RunIdentifier(run_name=run_name))
            results = {result.suite_name: result for result in outcome.run_results.values()}
    finally:
        _dispose(datasource)
    index = data_docs_dir / "index.html"
    return CheckpointRun(
        results=results,
        missing_tables=tuple(missing_tables),
        missing_columns=tuple(missing_columns),
        data_docs_index=index if index.exists() else None,
        suites=suites,
    )
