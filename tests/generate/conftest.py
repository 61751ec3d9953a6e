from __future__ import annotations

from pathlib import Path

import pytest

from clm.generate import generate

# About 1000 customers is the scale at which the brief asks every realism feature to appear.
REALISM_CUSTOMERS = 1000
SEED = 42


@pytest.fixture(scope="session")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A clean tree at 1000 customers (about 1.5 s), shared by the read-only tests."""
    out = tmp_path_factory.mktemp("gen") / "raw"
    return out, generate(out, REALISM_CUSTOMERS, SEED)


@pytest.fixture(scope="session")
def messy_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("gen_messy") / "raw"
    return out, generate(out, 300, SEED, messy=True)
