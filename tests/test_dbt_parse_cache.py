"""clm.dbt_parse_cache: dbt's partial parse kept between target directories (CLM_DBT_PARSE_CACHE)."""

from __future__ import annotations

from pathlib import Path

from clm import dbt_parse_cache
from clm.config import load_settings
from tests.dbt.conftest import REPO, run_dbt


def test_the_cache_file_follows_project_and_command_line(tmp_path: Path) -> None:
    key = ['{"as_of": "2024-03-31"}', "duckdb"]
    kept = dbt_parse_cache.cache_file(tmp_path, REPO, key)
    assert dbt_parse_cache.cache_file(tmp_path, REPO, list(key)) == kept
    # dbt does not check where a kept parse was made: another project directory never shares one
    assert dbt_parse_cache.cache_file(tmp_path, tmp_path / "copy", key) != kept
    assert dbt_parse_cache.cache_file(tmp_path, REPO, [key[0], "postgres"]) != kept
    assert dbt_parse_cache.cache_file(tmp_path, REPO, ["{}", "duckdb"]) != kept


def test_seed_fills_only_an_empty_target_and_keep_replaces_the_kept_file(tmp_path: Path) -> None:
    cached = tmp_path / "cache" / "k.msgpack"
    target = tmp_path / "target"
    assert not dbt_parse_cache.seed(target, cached)  # nothing kept yet
    dbt_parse_cache.keep(target, cached)  # nothing to keep
    assert not cached.exists()
    target.mkdir()
    (target / dbt_parse_cache.PARTIAL_PARSE_FILE).write_bytes(b"first")
    dbt_parse_cache.keep(target, cached)
    assert cached.read_bytes() == b"first"
    other = tmp_path / "other"
    assert dbt_parse_cache.seed(other, cached)
    assert (other / dbt_parse_cache.PARTIAL_PARSE_FILE).read_bytes() == b"first"
    (other / dbt_parse_cache.PARTIAL_PARSE_FILE).write_bytes(b"second")
    assert not dbt_parse_cache.seed(other, cached)  # a target's own parse is never overwritten
    dbt_parse_cache.keep(other, cached)
    assert cached.read_bytes() == b"second"
    assert [p.name for p in cached.parent.iterdir()] == ["k.msgpack"]  # no temporary file left


def test_the_setting_reads_the_environment(tmp_path: Path) -> None:
    assert load_settings({}).dbt_parse_cache is None
    assert load_settings({"CLM_DBT_PARSE_CACHE": str(tmp_path)}).dbt_parse_cache == tmp_path


def test_a_new_target_directory_starts_from_the_kept_parse(tmp_path: Path) -> None:
    """Two dbt commands in two target directories: the second one's parse is partial and finds nothing to
    re-parse (dbt's own debug line), where without the cache it parses the whole project."""
    env = {"CLM_DBT_PARSE_CACHE": str(tmp_path / "cache"), "CLM_BUILD_DB": str(tmp_path / "b.duckdb")}
    for name in ("first", "second", "third"):
        (tmp_path / name).mkdir()
    first = run_dbt(["--debug", "parse"], tmp_path / "first", env, as_of=None)
    first.assert_ok()
    assert "saved manifest not found. Starting full parse." in first.output
    assert len(list((tmp_path / "cache").glob("*.msgpack"))) == 1
    second = run_dbt(["--debug", "ls", "--select", "dim_customers"], tmp_path / "second", env, as_of=None)
    second.assert_ok()
    assert "0 files deleted, 0 files added, 0 files changed" in second.output
    assert "Starting full parse" not in second.output
    # other vars: another kept parse, and a full parse for the first command that has them
    other = run_dbt(
        ["--debug", "parse"], tmp_path / "third", env, as_of=None, revenue_reactivation_window_months=1
    )
    other.assert_ok()
    assert "saved manifest not found. Starting full parse." in other.output
    assert len(list((tmp_path / "cache").glob("*.msgpack"))) == 2
