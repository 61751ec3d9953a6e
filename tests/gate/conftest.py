from __future__ import annotations

from pathlib import Path

import pytest
import yaml


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a gate config (defaults plus overrides) and return its path."""

    def write(**overrides: object) -> Path:
        path = tmp_path / "gate.yml"
        path.write_text(yaml.safe_dump(overrides), encoding="utf-8")
        return path

    return write
