"""A run with nothing new: everything the published marts depend on, as one digest.

A published run is a function of the landed files, the as-of date, the project's code (Python, dbt project,
seeds, expectations, pinned versions), the settings that change results and the target. ``clm run`` records
the digest of these beside the run it published; the next run computes it again before any work, and when
nothing changed (and that published run is still the newest run and is still what BI reads) it records itself
as ``unchanged``, publishes nothing and exits 0 in about a second instead of rebuilding identical marts.

Landed files are compared by path, size and modification time (as git's index and rsync do), not by content:
reading every byte of a large landing zone is what this avoids. Drops are immutable once landed
(docs/landing-zone.md#drops-and-incremental-loads); any file that is added, removed, rewritten or touched
changes the digest, and the full run that follows checks content by sha256 as always. A drop dated in the
future counts with its state (due or not), so it is loaded on the day it falls due even when no file changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from importlib import metadata
from pathlib import Path

import duckdb

from clm import runs
from clm.config import REPO_ROOT, Settings
from clm.context import AS_OF_ENV, SINCE_ENV, today_utc
from clm.landing import landing_fingerprint
from clm.warehouse import connect_build

# The project files a build reads: a change to any of them may change the marts.
CODE_DIRS = ("clm", "orchestration", "dbt_project", "expectations", "seeds")
CODE_FILES = ("dbt_project.yml", "profiles.yml", "pyproject.toml", "constraints.txt")
CODE_SUFFIXES = (".py", ".sql", ".yml", ".yaml", ".csv", ".json", ".md", ".toml", ".txt", ".jinja")
# Installed, not written: the Data Docs' npm packages are pinned by their package-lock.json, which counts.
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})
# Installed versions that compute the marts (a pip upgrade outside constraints.txt still counts).
ENGINE_PACKAGES = ("duckdb", "dbt-core", "dbt-duckdb", "dbt-postgres", "great-expectations", "numpy", "scipy")
# Settings that do not change what is published: how much memory and how many threads a run may use.
NEUTRAL_SETTINGS = ("duckdb_memory_limit", "duckdb_threads", "max_as_of_gap_days")

RECORD_NAME = "published_inputs.json"


@dataclass(frozen=True)
class PublishedInputs:
    run_id: str
    digest: str
    as_of: str
    target: str


def _update(digest: hashlib._Hash, *parts: object) -> None:
    digest.update(json.dumps(parts, default=str, sort_keys=True).encode())
    digest.update(b"\n")


def _code(digest: hashlib._Hash) -> None:
    paths = [REPO_ROOT / name for name in CODE_FILES]
    for folder in CODE_DIRS:
        paths += [
            p
            for p in (REPO_ROOT / folder).rglob("*")
            if p.is_file() and p.suffix in CODE_SUFFIXES and not SKIPPED_DIRS.intersection(p.parts)
        ]
    for path in sorted(paths):
        if path.is_file():
            _update(digest, "code", path.relative_to(REPO_ROOT).as_posix())
            digest.update(path.read_bytes())
    for package in ENGINE_PACKAGES:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = None
        _update(digest, "package", package, version)


# What a dbt parse reads: the project, the profile, and environment variables the project or profile may read.
DBT_PARSE_DIRS = ("dbt_project", "seeds")
DBT_PARSE_FILES = ("dbt_project.yml", "profiles.yml")
DBT_ENV_PREFIXES = ("CLM_", "DBT_", "PG")


def dbt_parse_key(args: list[str], environ: Mapping[str, str]) -> str:
    """A digest of everything a ``dbt parse`` with these arguments depends on: the dbt project's files,
    the arguments (vars, target), the environment variables the profile and project may read, and the
    installed dbt versions. Equal keys give the same manifest."""
    digest = hashlib.sha256()
    paths = [REPO_ROOT / name for name in DBT_PARSE_FILES]
    for folder in DBT_PARSE_DIRS:
        paths += [p for p in (REPO_ROOT / folder).rglob("*") if p.is_file()]
    for path in sorted(paths):
        if path.is_file():
            _update(digest, "file", path.relative_to(REPO_ROOT).as_posix())
            digest.update(path.read_bytes())
    _update(digest, "args", args)
    # CLM_AS_OF and CLM_INCREMENTAL_SINCE are read only when a model is compiled for execution (macros
    # clm_as_of_date, clm_incremental_since), never by a parse
    run_env = (AS_OF_ENV, SINCE_ENV)
    env = sorted((k, v) for k, v in environ.items() if k.startswith(DBT_ENV_PREFIXES) and k not in run_env)
    _update(digest, "env", env)
    for package in ("dbt-core", "dbt-duckdb", "dbt-postgres"):
        try:
            _update(digest, "package", package, metadata.version(package))
        except metadata.PackageNotFoundError:
            _update(digest, "package", package, None)
    return digest.hexdigest()


def _settings(digest: hashlib._Hash, settings: Settings, target: str) -> None:
    fields = {k: v for k, v in asdict(settings).items() if k not in NEUTRAL_SETTINGS}
    _update(digest, "settings", fields, target)
    if settings.gate_config is not None and settings.gate_config.is_file():
        digest.update(settings.gate_config.read_bytes())
    # Where the Postgres target publishes (passwords included in the digest only, never stored as such).
    _update(digest, "libpq", {k: v for k, v in sorted(os.environ.items()) if k.startswith("PG")})


def build_digest(settings: Settings, target: str) -> str:
    """The digest of what the models read besides raw rows and the as-of date: the project's code, pinned
    engine versions, the settings that change results, and the target (clm.increments keys builds on it)."""
    digest = hashlib.sha256()
    _code(digest)
    _settings(digest, settings, target)
    return digest.hexdigest()


def inputs_digest(settings: Settings, as_of: date, target: str, today: date | None = None) -> str:
    """The digest of everything a run's published marts depend on."""
    digest = hashlib.sha256()
    _update(digest, "as_of", as_of.isoformat())
    _update(digest, "landing", landing_fingerprint(settings.raw_dir, today or today_utc()))
    _update(digest, "build", build_digest(settings, target))
    return digest.hexdigest()


def _record_path(settings: Settings) -> Path:
    return settings.data_dir / RECORD_NAME


def record_published(settings: Settings, inputs: PublishedInputs) -> None:
    """Remember what ``inputs.run_id`` published from (written whole or not at all)."""
    path = _record_path(settings)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(asdict(inputs)))
    temp.replace(path)


def last_published(settings: Settings) -> PublishedInputs | None:
    try:
        return PublishedInputs(**json.loads(_record_path(settings).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _newest_run(settings: Settings) -> tuple[str, str] | None:
    """(run_id, status) of the newest run that did something: skipped and unchanged runs left no trace."""
    if not settings.build_db.exists():
        return None
    with connect_build(settings, read_only=True) as con:
        try:
            rows = con.execute(
                "select run_id, status from audit.runs where status not in (?, ?) "
                "order by started_at desc limit 1",
                [runs.SKIPPED, runs.UNCHANGED],
            ).fetchall()
        except duckdb.CatalogException:
            return None
    return (rows[0][0], rows[0][1]) if rows else None


def unchanged_since(settings: Settings, digest: str, target: str, published_runs: set[str]) -> str | None:
    """The id of the published run whose marts this run would rebuild identically, or None.

    ``published_runs``: the runs BI reads as published (the target's audit). The recorded run must still be
    the newest run that did anything (no failed, blocked or UI run since) and still be what BI reads."""
    previous = last_published(settings)
    if previous is None or previous.digest != digest or previous.target != target:
        return None
    if _newest_run(settings) != (previous.run_id, runs.PUBLISHED):
        return None
    return previous.run_id if previous.run_id in published_runs else None
