"""orchestration/resources.py: the run's settings keep every CLM_* setting when clm run passes --raw."""

from __future__ import annotations

from pathlib import Path


def test_raw_dir_override_keeps_environment_settings(defs, tmp_path, monkeypatch):
    from orchestration.resources import ClmResource

    monkeypatch.setenv("CLM_DUCKDB_MEMORY_LIMIT", "3GB")
    monkeypatch.setenv("CLM_PII_KEY", "a-test-key")
    settings = ClmResource(raw_dir=str(tmp_path / "landing")).settings()
    assert settings.raw_dir == Path(tmp_path / "landing").resolve()
    # before the fix the override rebuilt Settings field by field and dropped the memory limit
    assert settings.duckdb_memory_limit == "3GB"
    assert (settings.pii_key, settings.pii_key_is_default) == ("a-test-key", False)
