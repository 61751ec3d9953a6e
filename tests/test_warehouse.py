"""clm.warehouse and the CLM_DUCKDB_MEMORY_LIMIT setting (clm.config)."""

from __future__ import annotations

from clm.config import load_settings
from clm.warehouse import connect_build


def _memory_limit(con) -> str:
    return con.execute("select current_setting('memory_limit')").fetchone()[0]


def test_memory_limit_setting_is_optional():
    assert load_settings({}).duckdb_memory_limit is None
    assert load_settings({"CLM_DUCKDB_MEMORY_LIMIT": "  "}).duckdb_memory_limit is None
    assert load_settings({"CLM_DUCKDB_MEMORY_LIMIT": " 4GB "}).duckdb_memory_limit == "4GB"


def test_connect_build_applies_the_memory_limit(tmp_path):
    data_dir = str(tmp_path / "warehouse")
    # DuckDB reports limits in binary units: 512MB = 512e6 bytes = 488.2 MiB
    limited = load_settings({"CLM_DATA_DIR": data_dir, "CLM_DUCKDB_MEMORY_LIMIT": "512MB"})
    with connect_build(limited) as con:
        assert _memory_limit(con) == "488.2 MiB"
    with connect_build(load_settings({"CLM_DATA_DIR": data_dir})) as con:
        assert _memory_limit(con) != "488.2 MiB"
