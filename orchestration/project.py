"""The dbt project as Dagster sees it. Its manifest goes under CLM_DATA_DIR, never into the repo."""

from __future__ import annotations

import os

from dagster_dbt import DbtProject

from clm.config import REPO_ROOT, load_settings

_settings = load_settings()
# dbt artifacts (manifest, run results, logs) for every invocation live under CLM_DATA_DIR.
os.environ.setdefault("DBT_TARGET_PATH", str(_settings.dbt_target_dir))
os.environ.setdefault("DBT_LOG_PATH", str(_settings.dbt_target_dir / "logs"))
# profiles.yml reads the build file from here; forced so dbt and clm always agree on the file.
os.environ["CLM_BUILD_DB"] = str(_settings.build_db)

dbt_project = DbtProject(
    project_dir=REPO_ROOT,
    profiles_dir=REPO_ROOT,
    target_path=_settings.dbt_target_dir,
)
# Under `dagster dev` this runs `dbt parse`; `clm run` parses before importing the definitions.
dbt_project.prepare_if_dev()
