"""The gate's thresholds, read from ``expectations/gate.yml``: configuration, not code
(docs/bad-input.md#thresholds)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG_PATH = Path(__file__).with_name("gate.yml")
_MODES = ("warn", "fail")
# dbt's own test config keys (https://docs.getdbt.com/reference/resource-configs/severity)
DBT_TEST_KEYS = ("severity", "warn_if", "error_if")
DBT_SEVERITIES = ("warn", "error")
# A comparison of a test's failing rows with a count (dbt's ">10") or a percentage of the tested model's rows
# (">1%", macro clm_data_test_thresholds); the macro and the on-run-start hook use the same pattern.
DBT_THRESHOLD = re.compile(r"^\s*(>=|<=|!=|<>|==|=|>|<)\s*([0-9]+(\.[0-9]+)?)\s*(%?)\s*$")


@dataclass(frozen=True)
class GateConfig:
    default_mostly: float = 1.0
    mostly: Mapping[str, float] = field(default_factory=dict)
    warn_only: frozenset[str] = frozenset()
    warnings_block: bool = False
    missing_table: str = "warn"
    missing_column: str = "fail"
    default_max_quarantined_fraction: float = 0.5
    max_quarantined_fraction: Mapping[str, float] = field(default_factory=dict)
    # dbt data tests: test name (or "default") -> {severity, warn_if, error_if}, merged over dbt var
    # clm_data_tests of dbt_project.yml; names and never-relaxed tests are checked by dbt's on-run-start hook.
    dbt_tests: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def mostly_for(self, check: str) -> float:
        return float(self.mostly.get(check, self.default_mostly))

    def is_warning(self, check: str) -> bool:
        return check in self.warn_only

    def quarantine_limit(self, entity: str) -> float:
        """Limit for ``"<source>/<entity>"``."""
        return float(self.max_quarantined_fraction.get(entity, self.default_max_quarantined_fraction))


def _fraction(name: str, value: Any) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"gate config: {name} must be a fraction between 0 and 1, got {value!r}")
    return number


def _mode(name: str, value: Any) -> str:
    if value not in _MODES:
        raise ValueError(f"gate config: {name} must be one of {', '.join(_MODES)}, got {value!r}")
    return str(value)


def _dbt_test_settings(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"gate config: dbt_tests.{name} must be a mapping of {', '.join(DBT_TEST_KEYS)}")
    settings: dict[str, str] = {}
    for key, setting in value.items():
        text = str(setting).strip()
        if key not in DBT_TEST_KEYS:
            expected = ", ".join(DBT_TEST_KEYS)
            raise ValueError(f"gate config: dbt_tests.{name}: unknown key {key!r} (expected {expected})")
        if key == "severity" and text.lower() not in DBT_SEVERITIES:
            raise ValueError(f"gate config: dbt_tests.{name}.severity must be warn or error, got {setting!r}")
        if key != "severity" and not DBT_THRESHOLD.match(text):
            raise ValueError(
                f"gate config: dbt_tests.{name}.{key} must compare with a count or a percentage, "
                f"e.g. '>0', '>=10' or '>1%', got {setting!r}"
            )
        settings[key] = text.lower() if key == "severity" else text
    return settings


def _dbt_tests(raw: Any) -> dict[str, dict[str, str]]:
    if not raw:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("gate config: dbt_tests must map test names (or default) to settings")
    return {str(name): _dbt_test_settings(str(name), value) for name, value in raw.items()}


def parse_config(raw: Mapping[str, Any]) -> GateConfig:
    quarantine = raw.get("quarantine") or {}
    return GateConfig(
        default_mostly=_fraction("default_mostly", raw.get("default_mostly", 1.0)),
        mostly={k: _fraction(f"mostly.{k}", v) for k, v in (raw.get("mostly") or {}).items()},
        warn_only=frozenset(raw.get("warn_only") or ()),
        warnings_block=bool(raw.get("warnings_block", False)),
        missing_table=_mode("missing_table", raw.get("missing_table", "warn")),
        missing_column=_mode("missing_column", raw.get("missing_column", "fail")),
        default_max_quarantined_fraction=_fraction(
            "quarantine.default_max_fraction", quarantine.get("default_max_fraction", 0.5)
        ),
        max_quarantined_fraction={
            k: _fraction(f"quarantine.max_fraction.{k}", v)
            for k, v in (quarantine.get("max_fraction") or {}).items()
        },
        dbt_tests=_dbt_tests(raw.get("dbt_tests")),
    )


def load_config(path: Path | None = None) -> GateConfig:
    path = path or DEFAULT_CONFIG_PATH
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"gate config {path}: expected a mapping at the top level")
    return parse_config(raw)
