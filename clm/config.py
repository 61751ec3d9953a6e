"""Runtime configuration, read only from the environment (docs/configuration.md).

Every path the pipeline writes derives from ``CLM_DATA_DIR``; secrets are read here and never logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent

# Development key only: production deployments set CLM_PII_KEY. Never printed or stored.
_DEV_PII_KEY = "clm-development-pii-key-not-secret"

# A landed record (a physical line of CSV or JSON Lines) larger than this is quarantined with its line number:
# DuckDB's reader loses a record of about 40 MB without a trace, so no record reaches it that large.
DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024

# DuckDB's memory_limit for every connection of a run unless CLM_DUCKDB_MEMORY_LIMIT says otherwise. DuckDB's
# own default (80 % of RAM) let a 1M-customer build grow to 16 GiB; with this one it spills to disk instead,
# and the whole process tree (Python, Dagster, GX and dbt around it) stays under 2 GB (README, Benchmarks).
DEFAULT_DUCKDB_MEMORY_LIMIT = "1GB"

# dbt vars that clm decides itself, each through its own option: CLM_DBT_VARS may not set them.
_RESERVED_DBT_VARS = {
    "as_of": "clm run --as-of",
    "clm_data_tests": "the dbt_tests: section of the gate config (CLM_GATE_CONFIG)",
    "schema_prefix": "the target (clm run --target)",
    # the CLV fit (clm.clv.pipeline.load_settings) reads these from dbt_project.yml, not from dbt
    "clv_annual_discount_rate": "dbt_project.yml",
    "clv_min_customers": "dbt_project.yml",
}


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    data_dir: Path
    serving_db: Path
    pii_key: str
    pii_key_is_default: bool
    # DuckDB memory_limit of every connection of a run (ingest, dbt, gate, publish), e.g. "1GB" or "50%"
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    # DuckDB threads for every connection of a run (CLM_DUCKDB_THREADS); None = one per core
    duckdb_threads: int | None = None
    # The read-only role BI tools use on Postgres (CLM_READER_ROLE)
    reader_role: str = "clm_reader"
    # How far past the last published as-of the default as-of may move by itself (CLM_MAX_AS_OF_GAP_DAYS)
    max_as_of_gap_days: int = 45
    # The quality gate's thresholds (CLM_GATE_CONFIG); None = expectations/gate.yml
    gate_config: Path | None = None
    # Largest landed record ingestion reads, in bytes (CLM_MAX_RECORD_BYTES); larger ones are quarantined
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    # dbt vars every dbt command of a run gets on top of dbt_project.yml's (CLM_DBT_VARS), e.g. the revenue
    # policies and lifecycle windows; the dbt project validates the values (an invalid one fails the build)
    dbt_vars: Mapping[str, Any] = field(default_factory=dict)
    # Where dbt's partial parse is kept between dbt target directories (CLM_DBT_PARSE_CACHE,
    # clm.dbt_parse_cache): a new CLM_DATA_DIR then starts from a partial parse; None = not kept
    dbt_parse_cache: Path | None = None
    # The Spark target (clm run --target spark): the user's Thrift server (CLM_SPARK_HOST; None = clm run
    # starts a local one) and its port (CLM_SPARK_PORT; for a local server, the port it prefers)
    spark_host: str | None = None
    spark_port: int = 10000

    @property
    def build_dir(self) -> Path:
        return self.data_dir / "build"

    @property
    def build_db(self) -> Path:
        # Same basename as the served file: dbt-duckdb names the catalog after the file.
        return self.build_dir / self.serving_db.name

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def data_docs_dir(self) -> Path:
        return self.data_dir / "data_docs"

    @property
    def spark_dir(self) -> Path:
        """The Spark target's files: the local Thrift server's catalog and tables, the raw and CLV Parquet."""
        return self.data_dir / "spark"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    @property
    def dbt_target_dir(self) -> Path:
        return self.data_dir / "dbt_target"

    @property
    def logs_dir(self) -> Path:
        """One log file per run: everything Dagster and dbt print, with stack traces."""
        return self.data_dir / "logs"

    @property
    def lock_path(self) -> Path:
        """Held (flock) by the one run that may write under ``data_dir``."""
        return self.data_dir / ".clm-run.lock"

    def ensure_dirs(self) -> None:
        for path in (self.data_dir, self.build_dir, self.quarantine_dir, self.dagster_home, self.logs_dir):
            path.mkdir(parents=True, exist_ok=True)
        self.serving_db.parent.mkdir(parents=True, exist_ok=True)


def _path(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (Path.cwd() / path)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = _path(env.get("CLM_DATA_DIR") or "data/warehouse")
    serving = env.get("CLM_SERVING_DB")
    key = env.get("CLM_PII_KEY")
    return Settings(
        raw_dir=_path(env.get("CLM_RAW_DIR") or "data/raw"),
        data_dir=data_dir,
        serving_db=_path(serving) if serving else data_dir / "serving.duckdb",
        pii_key=key or _DEV_PII_KEY,
        pii_key_is_default=not key,
        duckdb_memory_limit=(env.get("CLM_DUCKDB_MEMORY_LIMIT") or "").strip() or DEFAULT_DUCKDB_MEMORY_LIMIT,
        duckdb_threads=_positive_int(env, "CLM_DUCKDB_THREADS"),
        reader_role=(env.get("CLM_READER_ROLE") or "").strip() or "clm_reader",
        gate_config=_path(env["CLM_GATE_CONFIG"]) if env.get("CLM_GATE_CONFIG") else None,
        max_as_of_gap_days=_positive_int(env, "CLM_MAX_AS_OF_GAP_DAYS") or 45,
        max_record_bytes=_positive_int(env, "CLM_MAX_RECORD_BYTES") or DEFAULT_MAX_RECORD_BYTES,
        dbt_vars=_dbt_vars(env),
        dbt_parse_cache=_path(env["CLM_DBT_PARSE_CACHE"]) if env.get("CLM_DBT_PARSE_CACHE") else None,
        spark_host=(env.get("CLM_SPARK_HOST") or "").strip() or None,
        spark_port=_positive_int(env, "CLM_SPARK_PORT") or 10000,
    )


class SettingsError(ValueError):
    """A CLM_* variable that cannot be used; the message names it."""


def _positive_int(env: dict[str, str], name: str) -> int | None:
    text = (env.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise SettingsError(f"{name}={text!r} is not a positive whole number")
    return int(text)


def _dbt_vars(env: dict[str, str]) -> dict[str, Any]:
    """CLM_DBT_VARS: a YAML (or JSON) mapping of dbt var names to values, given inline or as the path of a
    file holding one, e.g. ``CLM_DBT_VARS='{revenue_churn_recognition: cancellation}'``."""
    text = (env.get("CLM_DBT_VARS") or "").strip()
    if not text:
        return {}
    origin = "CLM_DBT_VARS"
    path = _path(text) if "\n" not in text and len(text) < 4096 else None
    if path is not None and path.is_file():
        text, origin = path.read_text(encoding="utf-8"), f"CLM_DBT_VARS file {path}"
    elif path is not None and path.suffix.lower() in (".yml", ".yaml", ".json"):
        raise SettingsError(f"CLM_DBT_VARS names a file that does not exist: {path}")
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SettingsError(f"{origin} is not YAML or JSON: {exc}") from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict) or not all(isinstance(name, str) for name in parsed):
        shown = text.strip()[:200]
        raise SettingsError(f"{origin} must be a mapping of dbt var names to values, got {shown!r}")
    reserved = sorted(set(parsed) & set(_RESERVED_DBT_VARS))
    if reserved:
        where = "; ".join(f"{name}: {_RESERVED_DBT_VARS[name]}" for name in reserved)
        raise SettingsError(f"{origin} may not set {', '.join(reserved)} (set through {where})")
    return parsed


def show(path: Path) -> str:
    """A path as the user typed it: relative to the working directory when it lies below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
