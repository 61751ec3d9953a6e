"""The marts that the dbt project declares as published, read from dbt's ``manifest.json``.

docs/marts.md#publishing: only the marts the dbt project declares are published. The declaration is the dbt
tag ``published`` (dbt_project.yml tags every model of the marts folder), so the set lives in one place, next
to the models, and publishing never keeps its own list. dbt itself enforces the rule (macro
clm_assert_published_contracts, an on-run-start hook): every published model has an enforced contract and
builds into custom schema ``marts``. :func:`unpublishable` applies the same rule here, for the publisher's
second line of defence against a manifest written some other way (e.g. a hook disabled by a hand-made run).

Only the standard library: the publisher and the CLI read this without importing dbt or Dagster.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PUBLISHED_TAG = "published"
PUBLISHED_SCHEMA = "marts"


class ManifestError(RuntimeError):
    """The dbt manifest is missing or cannot be read."""


@dataclass(frozen=True)
class DeclaredMart:
    name: str
    unique_id: str
    # The custom schema as configured (dbt_project.yml +schema): "marts" for a publishable mart.
    schema: str
    # The physical schema dbt builds into (macro generate_schema_name): var schema_prefix + schema, e.g.
    # "marts" on DuckDB or "build_marts" for `clm run --target postgres`; the publisher copies from here.
    relation_schema: str
    contract_enforced: bool
    # Declared (contracted) columns in YAML order.
    columns: tuple[str, ...]
    description: str


def declared_marts(manifest_path: Path) -> list[DeclaredMart]:
    """The enabled models tagged ``published`` in ``manifest_path``, sorted by name."""
    manifest = _load(Path(manifest_path))
    marts = [_mart(node) for node in manifest["nodes"].values() if _is_published(node)]
    return sorted(marts, key=lambda mart: mart.name)


def unpublishable(marts: Iterable[DeclaredMart]) -> list[str]:
    """One message per mart that must not be published: no enforced contract, or not in schema ``marts``.

    The same rule as the dbt macro clm_assert_published_contracts; empty when every mart may be published.
    """
    problems = []
    for mart in marts:
        reasons = []
        if not mart.contract_enforced:
            reasons.append("no enforced dbt contract (needs config: {contract: {enforced: true}})")
        if mart.schema != PUBLISHED_SCHEMA:
            reasons.append(f"custom schema is {mart.schema or 'none'!r}, not {PUBLISHED_SCHEMA!r}")
        if reasons:
            problems.append(f"{mart.name} ({mart.unique_id}): " + "; ".join(reasons))
    return problems


def _load(path: Path) -> dict[str, Any]:
    hint = "run `dbt parse` (or `clm run`) to write it"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"dbt manifest {path} does not exist: {hint}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"dbt manifest {path} cannot be read ({exc}): {hint}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("nodes"), dict):
        raise ManifestError(f"dbt manifest {path} has no 'nodes' mapping: {hint}")
    return manifest


def _is_published(node: dict[str, Any]) -> bool:
    config = node.get("config") or {}
    # dbt keeps disabled models in manifest["disabled"], not "nodes"; the enabled check guards other writers.
    return (
        node.get("resource_type") == "model"
        and config.get("enabled", True) is not False
        and PUBLISHED_TAG in (node.get("tags") or config.get("tags") or [])
    )


def _mart(node: dict[str, Any]) -> DeclaredMart:
    config = node.get("config") or {}
    # config.contract is what the hook checks; the node-level contract is the same after parsing.
    contract = config.get("contract") or node.get("contract") or {}
    return DeclaredMart(
        name=node["name"],
        unique_id=node["unique_id"],
        schema=config.get("schema") or "",
        relation_schema=node.get("schema") or "",
        contract_enforced=contract.get("enforced") is True,
        columns=tuple(node.get("columns") or {}),
        description=(node.get("description") or "").strip(),
    )
