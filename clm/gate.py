"""The quality gate: decides whether a built run may be published (write-audit-publish).

It validates staged and mart tables in the build warehouse with Great Expectations (in-database, read-only;
suites in ``expectations/suites.py``), and checks the share of each entity's rows that the current run
quarantined (``audit.load_manifest``) against ``expectations/gate.yml``. Every failure carries the check,
the table, the count of bad rows and one human-readable line (docs/commands.md#when-a-run-fails).

The build warehouse is the DuckDB build file by default; with ``--target postgres`` pass
``warehouse=postgres_warehouse()`` (the ``build_*`` schemas over the PG* variables). Ingestion's
``audit.load_manifest`` is always read from the DuckDB build file. Findings name logical tables
(``marts.dim_customers``) on both targets.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from clm.config import REPO_ROOT, Settings
from clm.progress import plural
from clm.warehouse import connect, duckdb_config
from expectations.checkpoint import (
    CheckpointRun,
    Warehouse,
    duckdb_warehouse,
    postgres_warehouse,
    run_checkpoint,
    unknown_config_checks,
)
from expectations.config import GateConfig, load_config

QUARANTINE_CHECK = "quarantine.max_fraction"

__all__ = [
    "QUARANTINE_CHECK",
    "GateFailure",
    "GateResult",
    "Warehouse",
    "duckdb_warehouse",
    "postgres_warehouse",
    "quarantined_fractions",
    "run_gate",
]


@dataclass(frozen=True)
class GateFailure:
    check: str  # "<table>.<columns>.<kind>" from the suites, or QUARANTINE_CHECK
    table: str  # "schema.table", or "<source>/<entity>" for quarantine checks
    unexpected_count: int | None  # bad rows; None when the check is not about rows (row count, missing table)
    message: str  # one line for humans
    blocking: bool = True


@dataclass(frozen=True)
class GateResult:
    passed: bool
    failures: tuple[GateFailure, ...]  # blocking
    warnings: tuple[GateFailure, ...]  # reported, not blocking
    data_docs_index: Path | None
    tables_validated: tuple[str, ...]
    tables_missing: tuple[str, ...]
    seconds: float
    data_docs_warning: str | None = None  # the Data Docs could not be made to work offline
    expectations: int = 0  # evaluated over the validated tables

    @property
    def counts_line(self) -> str:
        """What ``clm run`` shows when the gate ends (clm.progress)."""
        verdict = "passed" if self.passed else f"BLOCKED by {plural(len(self.failures), 'check')}"
        return (
            f"{verdict}: {plural(self.expectations, 'expectation')}, "
            f"{plural(len(self.tables_validated), 'table')}, {plural(len(self.warnings), 'warning')}"
        )

    @property
    def message(self) -> str:
        """One line for the run summary."""
        if self.passed:
            extra = f", {len(self.warnings)} warning(s)" if self.warnings else ""
            return f"quality gate passed: {len(self.tables_validated)} table(s) validated{extra}"
        first = "; ".join(f.message for f in self.failures[:3])
        more = f"; and {len(self.failures) - 3} more" if len(self.failures) > 3 else ""
        return f"quality gate blocked publishing, {len(self.failures)} check(s) failed: {first}{more}"


def _rows(count: int | None) -> str:
    return "1 bad row" if count == 1 else f"{count} bad rows"


def _exception_message(info: Any) -> str | None:
    """GX reports errors either flat or keyed by metric; return the first message, if any."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        text = str(info.get("exception_message") or "error")
        # PyHive wraps Spark's message in the whole Thrift response: keep Spark's own message
        if "errorMessage=" in text:
            text = text.split("errorMessage=", 1)[1].strip("'\"")
        return text.splitlines()[0][:300]
    for nested in info.values():
        message = _exception_message(nested)
        if message:
            return message
    return None


def _expectation_failure(table: str, outcome: Any) -> tuple[str, int | None, str]:
    """(check name, bad rows, message) for one failed GX expectation result."""
    config = outcome.expectation_config
    check = (config.meta or {}).get("check", config.type)
    result = outcome.result or {}
    error = _exception_message(outcome.exception_info)
    if error:
        return check, None, f"{check} on {table} could not be evaluated: {error}"
    count = result.get("unexpected_count")
    if count is None and config.type == "unexpected_rows_expectation":
        count = result.get("observed_value")
    if count is not None:
        total = result.get("element_count")
        of = f" of {total}" if total is not None else ""
        mostly = config.kwargs.get("mostly")
        allowed = f", at most {1 - mostly:.2%} allowed" if mostly not in (None, 1, 1.0) else ""
        return check, int(count), f"{check} failed on {table}: {_rows(int(count))}{of}{allowed}"
    observed = result.get("observed_value")
    return check, None, f"{check} failed on {table}: observed {observed!r} ({config.type})"


def _blocking(config: GateConfig, severity: str | None) -> bool:
    return severity != "warning" or config.warnings_block


def _expectation_findings(run: CheckpointRun, config: GateConfig) -> list[GateFailure]:
    findings: list[GateFailure] = []
    for table, suite_result in run.results.items():
        for outcome in suite_result.results:
            if outcome.success:
                continue
            check, count, message = _expectation_failure(table, outcome)
            severity = getattr(outcome.expectation_config, "severity", None)
            severity_value = getattr(severity, "value", severity)
            findings.append(GateFailure(check, table, count, message, _blocking(config, severity_value)))
    # GX's result order is not the suite's order; sort so the run message is stable.
    return sorted(findings, key=lambda f: (f.table, f.check))


def _missing_findings(run: CheckpointRun, config: GateConfig) -> list[GateFailure]:
    findings = [
        GateFailure(
            f"{suite.table}.table_exists",
            suite.qualified_name,
            None,
            f"{suite.qualified_name} is missing from the build database: "
            f"its {len(suite.checks)} check(s) did not run",
            config.missing_table == "fail",
        )
        for suite in run.missing_tables
    ]
    findings += [
        GateFailure(
            missing.check,
            missing.suite.qualified_name,
            None,
            f"{missing.check} did not run: {missing.suite.qualified_name} has no column "
            + ", ".join(missing.columns),
            config.missing_column == "fail",
        )
        for missing in run.missing_columns
    ]
    return findings


def quarantined_fractions(build_db: Path, run_id: str, settings: Settings) -> list[tuple[str, int, int]]:
    """(``source/entity``, rows_read, rows_quarantined) for the run's landed files, per entity."""
    with connect(build_db, settings, read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'audit' and table_name = 'load_manifest'"
        ).fetchone()
        if not exists or not exists[0]:
            return []
        rows = con.execute(
            """
            select source || '/' || entity, sum(rows_read)::bigint, sum(rows_quarantined)::bigint
            from audit.load_manifest where run_id = ? group by all order by 1
            """,
            [run_id],
        ).fetchall()
    return [(entity, int(read or 0), int(quarantined or 0)) for entity, read, quarantined in rows]


def _quarantine_findings(
    build_db: Path, run_id: str, config: GateConfig, settings: Settings
) -> list[GateFailure]:
    findings = []
    for entity, read, quarantined in quarantined_fractions(build_db, run_id, settings):
        limit = config.quarantine_limit(entity)
        if read <= 0 or quarantined / read <= limit:
            continue
        findings.append(
            GateFailure(
                QUARANTINE_CHECK,
                entity,
                quarantined,
                f"{QUARANTINE_CHECK} failed on {entity}: {quarantined} of {read} rows read were quarantined "
                f"in run {run_id} ({quarantined / read:.1%} > {limit:.1%} allowed)",
            )
        )
    return findings


def run_gate(
    build_db: Path,
    data_docs_dir: Path,
    run_id: str,
    config_path: Path | None = None,
    *,
    settings: Settings,
    warehouse: Warehouse | None = None,
) -> GateResult:
    """Validate the build for ``run_id``; ``passed`` says whether it may be published.

    ``build_db`` is the DuckDB build file: its ``audit.load_manifest`` feeds the quarantine check, and its
    staged and mart tables are validated unless ``warehouse`` names another place for them, e.g.
    ``postgres_warehouse()`` for the Postgres ``build_*`` schemas. ``settings`` gives the DuckDB limits.
    """
    started = time.perf_counter()
    config = load_config(config_path)
    unknown = unknown_config_checks(config)
    if unknown:
        raise ValueError(f"gate config names checks that no suite defines: {', '.join(sorted(unknown))}")
    if not build_db.exists():
        raise FileNotFoundError(f"quality gate: build database {build_db} does not exist")
    findings = _quarantine_findings(build_db, run_id, config, settings)
    warehouse = warehouse or duckdb_warehouse(build_db, config=duckdb_config(settings))
    run = run_checkpoint(build_db, data_docs_dir, config, run_name=run_id, warehouse=warehouse)
    findings += _missing_findings(run, config) + _expectation_findings(run, config)
    failures = tuple(f for f in findings if f.blocking)
    return GateResult(
        passed=not failures,
        failures=failures,
        warnings=tuple(f for f in findings if not f.blocking),
        data_docs_index=run.data_docs_index,
        tables_validated=tuple(run.results),
        tables_missing=tuple(s.qualified_name for s in run.missing_tables),
        seconds=time.perf_counter() - started,
        data_docs_warning=run.data_docs_warning,
        expectations=sum(len(result.results) for result in run.results.values()),
    )


# ----------------------------------------------------------------------------------------- dbt data tests
# The thresholds of dbt's data tests are applied inside dbt (macro clm_data_test_thresholds); this side merges
# the gate config into dbt var clm_data_tests and words dbt's verdicts for the run summary and audit.


def project_data_tests(project_file: Path = REPO_ROOT / "dbt_project.yml") -> dict[str, dict[str, str]]:
    """The defaults of dbt var clm_data_tests, as dbt_project.yml ships them."""
    project = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    configured = (project.get("vars") or {}).get("clm_data_tests") or {}
    return {str(name): dict(settings or {}) for name, settings in configured.items()}


def data_tests_var(config: GateConfig, project_file: Path = REPO_ROOT / "dbt_project.yml") -> dict:
    """dbt var clm_data_tests for a run: the gate config's ``dbt_tests`` over dbt_project.yml's, key by
    key."""
    merged = project_data_tests(project_file)
    for name, settings in config.dbt_tests.items():
        merged[name] = {**merged.get(name, {}), **settings}
    return merged


@dataclass(frozen=True)
class DataTestThreshold:
    severity: str  # warn or error
    warn_if: str
    error_if: str
    rows_of: str | None  # the model a percentage counts the rows of
    never_relaxed: bool

    def describe(self, key: str) -> str:
        """``error_if >1% of the rows of dim_customers`` (never relaxed: said so)."""
        value = self.error_if if key == "error_if" else self.warn_if
        of = f" of the rows of {self.rows_of}" if value.rstrip().endswith("%") and self.rows_of else ""
        return f"{key} {value}{of}" + (", never relaxed" if self.never_relaxed else "")


def _never_relaxed(node: dict, nodes: dict) -> bool:
    """The same rule as macro clm_data_test_never_relaxed."""
    if (node.get("config", {}).get("meta") or {}).get("clm_never_relax"):
        return True
    kind = (node.get("test_metadata") or {}).get("name")
    attached = nodes.get(node.get("attached_node") or "")
    if kind is None or attached is None or "published" not in attached.get("tags", []):
        return False
    if kind in ("unique", "unique_combination_of_columns"):
        return True
    column_name = (node["test_metadata"].get("kwargs") or {}).get("column_name")
    column = attached.get("columns", {}).get(column_name) or {}
    return kind == "not_null" and any(c.get("type") == "not_null" for c in column.get("constraints", []))


def _rows_of(node: dict, nodes: dict, sources: dict) -> str | None:
    """The same rule as macro clm_data_test_rows_of: the attached model, else the one (named) parent."""
    if node.get("attached_node") in nodes:
        return nodes[node["attached_node"]]["name"]
    named = (node.get("config", {}).get("meta") or {}).get("clm_rows_of")
    parents = [
        parent["name"]
        for unique_id in node.get("depends_on", {}).get("nodes", [])
        if (parent := nodes.get(unique_id) or sources.get(unique_id)) and named in (None, parent["name"])
    ]
    return parents[0] if len(parents) == 1 else None


def data_test_threshold(node: dict, manifest: dict, data_tests: dict) -> DataTestThreshold:
    """The thresholds in effect for a test node of target/manifest.json under dbt var clm_data_tests."""
    nodes, sources = manifest.get("nodes", {}), manifest.get("sources", {})
    never = _never_relaxed(node, nodes)
    settings = {"severity": "error", "warn_if": "!= 0", "error_if": "!= 0"}
    if never:
        settings = {"severity": "error", "warn_if": ">0", "error_if": ">0"}
    else:
        settings |= data_tests.get("default") or {}
        settings |= data_tests.get(node["name"]) or {}
    return DataTestThreshold(
        severity=str(settings["severity"]).lower(),
        warn_if=str(settings["warn_if"]),
        error_if=str(settings["error_if"]),
        rows_of=_rows_of(node, nodes, sources),
        never_relaxed=never,
    )


# ------------------------------------------------------------------- folded column checks (issue 15)
# A model's not_null, unique, accepted_values and unique-combination checks run as one test node, generic test
# clm_column_checks (named column_checks_<model>); each check keeps the name dbt gave its former single test
# (not_null_<model>_<column>, unique_<model>_<column>, ...) for its threshold and for the messages. The same
# rules as the macros of dbt_project/macros/generic_tests/clm_column_checks.sql.
FOLDED_CHECKS = "clm_column_checks"


@dataclass(frozen=True)
class FoldedCheck:
    kind: str  # not_null, unique, accepted_values, unique_combination
    test_name: str  # e.g. not_null_<model>_<column>: its entry in var clm_data_tests and its name in messages
    never_relaxed: bool


def is_folded(node: dict | None) -> bool:
    return bool(node) and (node.get("test_metadata") or {}).get("name") == FOLDED_CHECKS


def _name_part(value: object) -> str:
    """dbt's rendering of an argument value in a test name (macro _clm_name_part)."""
    return re.sub(r"[^0-9a-zA-Z_]+", "_", str(value))


def folded_checks(node: dict, manifest: dict, all_targets: bool = False) -> list[FoldedCheck]:
    """The checks of a clm_column_checks test node: on DuckDB and Postgres (the manifest's adapter type) not
    the not-nulls whose contract constraint the build enforces, unless ``all_targets``."""
    attached = manifest.get("nodes", {}).get(node.get("attached_node") or "")
    model = attached["name"] if attached else node["name"].removeprefix("column_checks_")
    enforced = manifest.get("metadata", {}).get("adapter_type") != "spark"
    published = attached is not None and "published" in attached.get("tags", [])
    contract = attached is not None and ((attached.get("config") or {}).get("contract") or {}).get("enforced")
    kwargs = node["test_metadata"].get("kwargs") or {}
    found = []
    for column in kwargs.get("not_null") or []:
        name = column["name"] if isinstance(column, dict) else column
        spec = (attached or {}).get("columns", {}).get(name) or {}
        constrained = bool(contract) and any(c.get("type") == "not_null" for c in spec.get("constraints", []))
        if all_targets or not (constrained and enforced):
            found.append(FoldedCheck("not_null", f"not_null_{model}_{name}", published and constrained))
    for column in kwargs.get("unique") or []:
        found.append(FoldedCheck("unique", f"unique_{model}_{column}", published))
    for spec in kwargs.get("accepted_values") or []:
        quote = spec.get("quote", True)
        parts = [spec["column"], *([] if quote else ["False"]), *spec["values"]]
        name = f"accepted_values_{model}_" + "__".join(_name_part(p) for p in parts)
        found.append(FoldedCheck("accepted_values", name, False))
    for columns in kwargs.get("unique_combinations") or []:
        name = f"unique_combination_of_columns_{model}_" + "__".join(columns)
        found.append(FoldedCheck("unique_combination", name, published))
    return found


def folded_check_threshold(
    node: dict, check: FoldedCheck, manifest: dict, data_tests: dict
) -> DataTestThreshold:
    """A check's thresholds: `default`, then the folded test's entry, then the check's own, key by key."""
    if check.never_relaxed:
        settings = {"severity": "error", "warn_if": ">0", "error_if": ">0"}
    else:
        settings = {"severity": "error", "warn_if": "!= 0", "error_if": "!= 0"}
        settings |= data_tests.get("default") or {}
        settings |= data_tests.get(node["name"]) or {}
        settings |= data_tests.get(check.test_name) or {}
    return DataTestThreshold(
        severity=str(settings["severity"]).lower(),
        warn_if=str(settings["warn_if"]),
        error_if=str(settings["error_if"]),
        rows_of=_rows_of(node, manifest.get("nodes", {}), manifest.get("sources", {})),
        never_relaxed=check.never_relaxed,
    )


_THRESHOLD = re.compile(r"^\s*(>=|<=|!=|<>|==|=|>|<)\s*([0-9]+(\.[0-9]+)?)\s*(%?)\s*$")


def threshold_holds(count: int, threshold: str, model_rows: int) -> bool:
    """``count <op> n`` as macro clm_threshold_sql has it; ``n%`` is n percent of ``model_rows``."""
    match = _THRESHOLD.match(threshold)
    if match is None:
        raise ValueError(f"not a threshold: {threshold}")
    op, value = match.group(1), float(match.group(2))
    if match.group(4):
        value = value / 100.0 * model_rows
    return {
        ">": count > value,
        ">=": count >= value,
        "<": count < value,
        "<=": count <= value,
        "=": count == value,
        "==": count == value,
        "!=": count != value,
        "<>": count != value,
    }[op]


def _folded_results(
    node: dict, result: dict, manifest: dict, data_tests: dict, check_counts
) -> list[DataTestResult]:
    """A warned or failed clm_column_checks test as one result per check that failed or warned, named as the
    check's former single test, with its count and threshold: the test's rows (check_name, failing_rows,
    model_rows) are read again by ``check_counts(sql)``. Without it, or when that fails, one result for the
    node, naming the model's checks."""
    checks = folded_checks(node, manifest)
    counts = None
    if check_counts is not None and result.get("compiled_code"):
        try:
            counts = {str(c): (int(n), int(rows)) for c, n, rows in check_counts(result["compiled_code"])}
        except Exception:  # noqa: BLE001 - the node-level result below still names the test and count
            counts = None
    if counts is None:
        threshold = data_test_threshold(node, manifest, data_tests)
        return [
            DataTestResult(
                node["name"],
                result["status"],
                int(result.get("failures") or 0),
                threshold,
                "failing rows of " + ", ".join(c.test_name for c in checks),
                result["unique_id"],
            )
        ]
    found = []
    for check in checks:
        failing, model_rows = counts.get(check.test_name, (0, 0))
        if not failing:
            continue
        threshold = folded_check_threshold(node, check, manifest, data_tests)
        if threshold.severity == "error" and threshold_holds(failing, threshold.error_if, model_rows):
            status = "fail"
        elif threshold_holds(failing, threshold.warn_if, model_rows):
            status = "warn"
        else:
            continue
        what = "null" if check.kind == "not_null" else ""
        found.append(DataTestResult(check.test_name, status, failing, threshold, what, result["unique_id"]))
    return found


def _row_count(count: int) -> str:
    return "1 row" if count == 1 else f"{count} rows"


@dataclass(frozen=True)
class DataTestResult:
    name: str  # dbt's test name
    status: str  # warn, fail, error (run_results.json)
    failures: int
    threshold: DataTestThreshold | None  # None when the manifest does not know the test
    what: str = ""  # what the rows are: "null" for a folded not-null check, or which checks they fail
    unique_id: str = ""  # the dbt node (for a check of a folded test: the folded test)

    @property
    def warning(self) -> str:
        """``3 rows (warn_if >0; error_if >1% of the rows of dim_customers)`` for audit.run_warnings."""
        if self.threshold is None:
            return f"{self._rows()} failed a warn-severity dbt test"
        then = (
            "severity warn, never fails the build"
            if self.threshold.severity == "warn"
            else f"fails the build at {self.threshold.describe('error_if')}"
        )
        return f"{self._rows()} ({self.threshold.describe('warn_if')}; {then})"

    @property
    def failure(self) -> str:
        """``assert_x (fail: 2 rows, error_if >1% of the rows of dim_customers)`` for the run's message."""
        if self.threshold is None or self.status != "fail":
            return f"{self.name} ({self.status}, {self._rows()})"
        return f"{self.name} (fail: {self._rows()}, {self.threshold.describe('error_if')})"

    def _rows(self) -> str:
        """``2 rows``; ``2 null rows`` for a not-null check of a folded test."""
        if not self.what:
            return _row_count(self.failures)
        if self.what == "null":
            return f"{self.failures} null row" + ("" if self.failures == 1 else "s")
        return f"{_row_count(self.failures)} ({self.what})"


def data_test_results(
    run_results_path: Path, data_tests: dict, manifest_path: Path | None = None, column_counts=None
) -> list[DataTestResult]:
    """The data tests of a dbt invocation that warned or failed, with the thresholds they were held to.

    ``manifest_path`` defaults to the manifest.json beside run_results.json (dbt writes both). A folded
    test of a model's column checks (clm_column_checks) that warned or failed counts as its checks that did,
    each under its former test name (e.g. not_null_<model>_<column>), when ``column_counts`` (a function of
    its compiled SQL to the rows it returns, e.g. ``warehouse_query(target.gate_warehouse())``) reads their
    counts."""
    if not run_results_path.exists():
        return []
    manifest_path = manifest_path or run_results_path.with_name("manifest.json")
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    nodes = manifest.get("nodes", {})
    found = []
    for result in json.loads(run_results_path.read_text())["results"]:
        unique_id = result["unique_id"]
        if not unique_id.startswith("test.") or result["status"] not in ("warn", "fail", "error"):
            continue
        node = nodes.get(unique_id)
        if is_folded(node) and result["status"] in ("warn", "fail"):
            found += _folded_results(node, result, manifest, data_tests, column_counts)
            continue
        name = node["name"] if node else unique_id.split(".")[2]
        threshold = data_test_threshold(node, manifest, data_tests) if node else None
        found.append(
            DataTestResult(name, result["status"], int(result.get("failures") or 0), threshold, "", unique_id)
        )
    return found


def warehouse_query(warehouse: Warehouse):
    """``column_counts`` of data_test_results: runs a test's compiled SQL on the build warehouse (only a
    folded test that warned or failed is read again)."""

    def run(sql: str) -> list[tuple]:
        engine = warehouse.create_engine()
        try:
            with engine.connect() as con:
                return [tuple(row) for row in con.exec_driver_sql(sql).fetchall()]
        finally:
            engine.dispose()

    return run


def dbt_build_counts(run_results_path: Path) -> str:
    """What a dbt build did, for clm run's progress line: "52 models, 3 seeds; 230 tests: 228 pass, 2 warn".
    Nodes are counted by resource type, tests also by status (a folded test of a model's column checks is
    one test here)."""
    if not run_results_path.exists():
        return "no run_results.json"
    built: dict[str, int] = {}
    tests: dict[str, int] = {}
    for result in json.loads(run_results_path.read_text())["results"]:
        kind = result["unique_id"].split(".", 1)[0]
        if kind == "test":
            tests[result["status"]] = tests.get(result["status"], 0) + 1
        elif kind not in ("operation", "unit_test", "exposure"):
            built[kind] = built.get(kind, 0) + 1
    parts = [plural(count, kind) for kind, count in sorted(built.items())] or ["no models"]
    line = ", ".join(parts)
    if tests:
        statuses = ", ".join(f"{count:,} {status}" for status, count in sorted(tests.items()))
        line += f"; {plural(sum(tests.values()), 'test')}: {statuses}"
    return line


def dbt_failure_summary(
    run_results_path: Path,
    errors: list[str] | None = None,
    limit: int = 5,
    data_tests: dict | None = None,
    column_counts=None,
) -> str:
    """One line naming what failed in a dbt build: node, status and failing-row count, and for a data test
    that failed its threshold (``data_tests``: var clm_data_tests of the build) the threshold; when dbt
    stopped before running any node (a compile error, an on-run-start hook), dbt's own first error."""
    if not run_results_path.exists():
        detail = _dbt_error(errors or [])
        return f"dbt build failed before running any model{': ' + detail if detail else ' (see the run log)'}"
    results = json.loads(run_results_path.read_text())["results"]
    bad = [r for r in results if r["status"] in ("error", "fail", "runtime error")]
    failed_tests: dict[str, list[DataTestResult]] = {}
    for test in data_test_results(run_results_path, data_tests or {}, column_counts=column_counts):
        if test.status == "fail":
            failed_tests.setdefault(test.unique_id, []).append(test)
    parts = []
    for r in bad[:limit]:
        name = r["unique_id"].split(".", 2)[-1]
        tests = failed_tests.get(r["unique_id"]) if data_tests is not None else None
        if tests and r["status"] == "fail":
            # a folded test of column checks: each check that failed, under its own test name
            parts.append("; ".join(test.failure for test in tests))
            continue
        rows = f", {r['failures']} bad rows" if r.get("failures") else ""
        message = _node_error(r.get("message") or "")
        parts.append(f"{name} ({r['status']}{rows}{': ' + message if message else ''})")
    more = f" and {len(bad) - limit} more" if len(bad) > limit else ""
    return f"dbt build failed: {len(bad)} node(s): " + "; ".join(parts) + more


def _node_error(message: str) -> str:
    """A node's error on one line: dbt's first line, with the database's reason when dbt's first line only
    frames it ("Runtime Error in model dim_customers (...)", then "Constraint Error: NOT NULL constraint
    failed: dim_customers__dbt_tmp.customer_id" when a contract's constraint refuses a row)."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    if len(lines) > 1 and lines[0].startswith(("Runtime Error in ", "Database Error in ")):
        return f"{lines[0]}: {lines[1]}"
    return lines[0]


# dbt's framing of an error, which says nothing about its cause
_BOILERPLATE = ("Encountered an error", "Compilation Error in operation", ">")


def _dbt_error(errors: list[str]) -> str:
    """dbt's error text on one line, without its framing (e.g. the published-contracts hook's message)."""
    lines = [line.strip() for error in errors for line in error.splitlines()]
    return " ".join(line for line in lines if line and not line.startswith(_BOILERPLATE))
