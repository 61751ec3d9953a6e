from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from clm.generate import MANIFEST_NAME, generate
from tests.generate.helpers import sha256_tree


@pytest.mark.parametrize("messy", [False, True])
def test_same_arguments_give_byte_identical_trees(tmp_path: Path, messy: bool) -> None:
    first = generate(tmp_path / "a", 60, 7, messy=messy)
    second = generate(tmp_path / "b", 60, 7, messy=messy)
    hashes_a, hashes_b = sha256_tree(tmp_path / "a"), sha256_tree(tmp_path / "b")
    assert hashes_a == hashes_b
    # At least: 5 CSV/Parquet entities x 15 drops (written even when empty) + 4 billing backfills + manifest.
    assert len(hashes_a) >= 5 * 15 + 4 + 1
    assert first == {**second, "manifest": first["manifest"]}  # only the output path may differ


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", 60, 7)
    generate(tmp_path / "b", 60, 8)
    hashes_a, hashes_b = sha256_tree(tmp_path / "a"), sha256_tree(tmp_path / "b")
    shared = set(hashes_a) & set(hashes_b)
    # Every record depends on the seed (customers and the daily spend noise alike), so every file that holds
    # a record differs; only the record-less files of quiet days (header-only CSV, empty JSONL) are the same.
    with_records = {p for p in shared if not _header_only(tmp_path / "a" / p)}
    assert len(with_records) >= 15 + 8  # the 15 marketing_spend files and the other 8 entities' backfills
    assert all(hashes_a[p] != hashes_b[p] for p in with_records)


def test_rerun_replaces_its_own_files_and_refuses_foreign_ones(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    generate(out, 30, 1, messy=True)
    generate(out, 30, 1)  # a clean run over a messy one: no fault file may survive
    clean = tmp_path / "clean"
    generate(clean, 30, 1)
    assert sha256_tree(out) == sha256_tree(clean)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not ours")
    with pytest.raises(FileExistsError):
        generate(foreign, 30, 1)


def test_dates_come_from_arguments_not_the_clock(tmp_path: Path) -> None:
    summary = generate(tmp_path / "raw", 20, 3, start=date(2023, 1, 1), end=date(2023, 6, 30))
    manifest = json.loads((tmp_path / "raw" / MANIFEST_NAME).read_text())
    # Backfill at end - 14 days, then 14 daily drops up to and including end.
    assert summary["load_dates"][0] == "2023-06-16"
    assert summary["load_dates"][-1] == "2023-06-30"
    assert len(manifest["load_dates"]) == 15
    assert manifest["parameters"] == {
        "customers": 20,
        "seed": 3,
        "start": "2023-01-01",
        "end": "2023-06-30",
        "messy": False,
    }


def _header_only(path: Path) -> bool:
    """A quiet day's file: a CSV with only its header, or an empty JSON Lines file."""
    data = path.read_bytes()
    return (path.suffix == ".csv" and data.count(b"\n") <= 1) or (path.suffix == ".jsonl" and not data)
