"""clm.warehouse and the CLM_DUCKDB_MEMORY_LIMIT setting (clm.config)."""

from __future__ import annotations

import pytest

from clm.config import SettingsError, load_settings
from clm.warehouse import connect_build, connect_memory, duckdb_config
from expectations.checkpoint import duckdb_warehouse


def _memory_limit(con) -> str:
    return con.execute("select current_setting('memory_limit')").fetchone()[0]


def test_memory_limit_defaults_to_one_gigabyte():
    assert load_settings({}).duckdb_memory_limit == "1GB"
    assert load_settings({"CLM_DUCKDB_MEMORY_LIMIT": "  "}).duckdb_memory_limit == "1GB"
    assert load_settings({"CLM_DUCKDB_MEMORY_LIMIT": " 4GB "}).duckdb_memory_limit == "4GB"


def test_connect_build_applies_the_memory_limit(tmp_path):
    data_dir = str(tmp_path / "warehouse")
    # DuckDB reports limits in binary units: 512MB = 512e6 bytes = 488.2 MiB
    limited = load_settings({"CLM_DATA_DIR": data_dir, "CLM_DUCKDB_MEMORY_LIMIT": "512MB"})
    with connect_build(limited) as con:
        assert _memory_limit(con) == "488.2 MiB"
    with connect_build(load_settings({"CLM_DATA_DIR": data_dir})) as con:
        assert _memory_limit(con) == "953.6 MiB"  # the default 1GB = 1e9 bytes


def test_an_in_memory_connection_spills_under_the_build_directory(tmp_path):
    settings = load_settings({"CLM_DATA_DIR": str(tmp_path / "warehouse")})
    with connect_memory(settings) as con:
        assert _memory_limit(con) == "953.6 MiB"
        spill = con.execute("select current_setting('temp_directory')").fetchone()[0]
    assert spill == str(settings.build_dir / "memory.tmp")


def test_threads_setting_reaches_every_connection(tmp_path):
    settings = load_settings({"CLM_DATA_DIR": str(tmp_path / "wh"), "CLM_DUCKDB_THREADS": "1"})
    with connect_build(settings) as con:
        assert con.execute("select current_setting('threads')").fetchall() == [(1,)]
    # The gate's engine (GX over SQLAlchemy) gets the same limits through its connect_args.
    engine = duckdb_warehouse(settings.build_db, config=duckdb_config(settings)).create_engine()
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("select current_setting('threads')").fetchall() == [(1,)]
    finally:
        engine.dispose()


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_a_bad_threads_value_is_refused_naming_the_variable(value):
    with pytest.raises(SettingsError, match=f"CLM_DUCKDB_THREADS={value!r} is not a positive whole number"):
        load_settings({"CLM_DUCKDB_THREADS": value})
