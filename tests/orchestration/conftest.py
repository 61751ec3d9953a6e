"""Definitions import needs a dbt manifest: parse once into a temporary CLM_DATA_DIR."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def defs(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("orchestration_data")
    os.environ["CLM_DATA_DIR"] = str(data_dir)
    target = data_dir / "dbt_target"
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [
            str(dbt),
            "parse",
            "--quiet",
            "--project-dir",
            str(ROOT),
            "--profiles-dir",
            str(ROOT),
            "--target-path",
            str(target),
        ],
        check=True,
        cwd=ROOT,
        env={**os.environ, "DBT_LOG_PATH": str(data_dir / "logs")},
    )
    from orchestration.definitions import defs as definitions

    return definitions
