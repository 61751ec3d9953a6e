"""The marts that the dbt project declares as published, read from dbt's ``manifest.json``.

docs/marts.md#publishing: only the marts the dbt project declares are published. The declaration is the dbt
tag ``published`` (dbt_project.yml tags every model of the marts folder), so the set lives in one place, next
to the models, and publishing never keeps its own list. dbt itself enforces the rule (macro
clm_assert_published_contracts, an on-run-start hook): every published model has an enforced contract, a
description and a description on every column (they reach BI as comments, docs/marts.md#descriptions), and
builds into custom schema ``marts``. :func:`unpublishable` applies the same rule here, for the publisher's
second line of defence against a manifest written some other way (e.g. a hook disabled by a hand-made run).

Only the standard library: the publisher and the CLI read this without importing dbt or Dagster.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

PUBLISHED_TAG = "published"
PUBLISHED_SCHEMA = "marts"


class ManifestError(RuntimeError):
    """The dbt manifest is missing or cannot be read."""


@dataclass(frozen=True)
class GroupOwner:
    """The owner of a dbt group (marts/_marts__groups.yml): dbt requires a name or an email; dbt 1.9+ also
    accepts a list of emails."""

    name: str = ""
    emails: tuple[str, ...] = ()


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
    # Declared columns whose YAML description is empty.
    undocumented_columns: tuple[str, ...] = ()
    # The YAML that documents the model, relative to the project ("" when no YAML names it) and the SQL file.
    yaml_path: str = ""
    sql_path: str = ""
    # The dbt group (config +group) and its owner: who answers for the mart ("" / None without a group).
    group: str = ""
    owner: GroupOwner | None = None


def declared_marts(manifest_path: Path) -> list[DeclaredMart]:
    """The enabled models tagged ``published`` in ``manifest_path``, sorted by name.

    Read once per version of the file (its size and modification time): a run asks four times (the
    Dagster definitions twice, the gate, the publish step), and each read parses the whole manifest."""
    path = Path(manifest_path)
    try:
        stat = path.stat()
    except OSError:
        return list(_declared(path))  # _load says why
    return list(_declared_version(str(path.resolve()), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=4)
def _declared_version(path: str, _mtime_ns: int, _size: int) -> tuple[DeclaredMart, ...]:
    return _declared(Path(path))


def _declared(path: Path) -> tuple[DeclaredMart, ...]:
    manifest = _load(path)
    owners = _group_owners(manifest)
    marts = [_mart(node, owners) for node in manifest["nodes"].values() if _is_published(node)]
    return tuple(sorted(marts, key=lambda mart: mart.name))


def unpublishable(marts: Iterable[DeclaredMart]) -> list[str]:
    """One message per mart that must not be published: no enforced contract, no description or a column
    without one, or not in schema ``marts``; each says what to add and in which file.

    The same rule as the dbt macro clm_assert_published_contracts; empty when every mart may be published.
    """
    problems = []
    for mart in marts:
        reasons = _reasons(mart)
        if reasons:
            problems.append(f"{mart.name} ({mart.unique_id}): " + "; ".join(reasons))
    return problems


def _reasons(mart: DeclaredMart) -> list[str]:
    yaml = mart.yaml_path or _conventional_yaml(mart.sql_path)
    reasons = []
    if not mart.contract_enforced:
        reasons.append(f"no enforced dbt contract (needs config: {{contract: {{enforced: true}}}} in {yaml})")
    if not mart.description:
        reasons.append(f"no description (add `description:` to the model in {yaml})")
    if not mart.columns:
        reasons.append(
            "no columns in its YAML (list every column with a data_type and a `description:` under "
            f"`columns:` in {yaml})"
        )
    elif mart.undocumented_columns:
        reasons.append(
            f"columns without a description: {', '.join(mart.undocumented_columns)} "
            f"(add `description:` to each under `columns:` in {yaml})"
        )
    if mart.schema != PUBLISHED_SCHEMA:
        reasons.append(f"custom schema is {mart.schema or 'none'!r}, not {PUBLISHED_SCHEMA!r}")
    return reasons


def _conventional_yaml(sql_path: str) -> str:
    """For a model no YAML names yet: its folder's YAML as the project names them (_<folder>__models.yml)."""
    folder = Path(sql_path).parent
    return f"a YAML beside it, e.g. {folder / f'_{folder.name}__models.yml'}" if sql_path else "its YAML"


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


def _group_owners(manifest: dict[str, Any]) -> dict[str, GroupOwner]:
    """Group unique id ("group.<package>.<name>") -> its owner."""
    owners = {}
    for unique_id, group in (manifest.get("groups") or {}).items():
        owner = (group or {}).get("owner") or {}
        email = owner.get("email") or ()
        emails = (email,) if isinstance(email, str) else tuple(email)
        owners[unique_id] = GroupOwner(name=(owner.get("name") or "").strip(), emails=emails)
    return owners


def _mart(node: dict[str, Any], owners: dict[str, GroupOwner]) -> DeclaredMart:
    config = node.get("config") or {}
    # config.contract is what the hook checks; the node-level contract is the same after parsing.
    contract = config.get("contract") or node.get("contract") or {}
    columns = node.get("columns") or {}
    group = node.get("group") or config.get("group") or ""
    return DeclaredMart(
        name=node["name"],
        unique_id=node["unique_id"],
        schema=config.get("schema") or "",
        relation_schema=node.get("schema") or "",
        contract_enforced=contract.get("enforced") is True,
        columns=tuple(columns),
        description=(node.get("description") or "").strip(),
        undocumented_columns=tuple(
            name for name, column in columns.items() if not ((column or {}).get("description") or "").strip()
        ),
        # patch_path is "<project>://<path>"
        yaml_path=(node.get("patch_path") or "").split("://")[-1],
        sql_path=node.get("original_file_path") or "",
        group=group,
        owner=owners.get(f"group.{node.get('package_name')}.{group}") if group else None,
    )
