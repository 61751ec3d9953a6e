"""Loaded first in every pytest process, xdist workers included."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from clm._pyspark_main import name_main_module

# An xdist worker's __main__ has neither __spec__ nor __file__: see clm._pyspark_main.
name_main_module()


# ------------------------------------------------------------------------------------ dbt's partial parse
# Each test's dbt commands write to a new target directory, so each would parse the whole project (about
# 12 s of CPU). With CLM_DBT_PARSE_CACHE (clm.dbt_parse_cache), set here for the whole test run before xdist
# starts its workers (they inherit it), each starts from the parse an earlier command with the same vars
# left. Not when the caller set it already.
_PARSE_CACHE_SET_HERE = "_CLM_TEST_PARSE_CACHE_OWNER"


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or os.environ.get("CLM_DBT_PARSE_CACHE"):
        return
    os.environ["CLM_DBT_PARSE_CACHE"] = tempfile.mkdtemp(prefix="clm-test-dbt-parse-")
    os.environ[_PARSE_CACHE_SET_HERE] = str(os.getpid())


def pytest_unconfigure(config: pytest.Config) -> None:
    if os.environ.get(_PARSE_CACHE_SET_HERE) == str(os.getpid()):
        shutil.rmtree(os.environ.pop("CLM_DBT_PARSE_CACHE"), ignore_errors=True)


# ------------------------------------------------------------------------------------ xdist scheduling
# `make test` runs `pytest -n N --dist loadfile --no-loadscope-reorder`: each file is one work unit (its
# module fixtures, a whole `clm run` or a dbt build, are built once), handed out in the order collected
# here. xdist's default order is by test count, which left a 4-test, 268 s file for last. The heaviest files
# go first, so that no worker starts a 4-minute file while the other has nothing left (measured in one
# `make test` on 2026-12-07, worker seconds from 886 down to about 100; a stale entry costs balance, never
# results).
# Not done: one worker for the files sharing tests/dbt's session builds (they are built once per worker);
# xdist 3.8's loadgroup did not keep the groups set here (see the session 11 note).
HEAVIEST_FIRST = (
    "tests/dbt/test_revenue_policies.py",
    "tests/targets/test_spark_run.py",
    "tests/dashboards/test_dashboard.py",
    "tests/test_end_to_end.py",
    "tests/dbt/test_fx.py",
    "tests/test_incremental_runs.py",
    "tests/dbt/test_dbt_build.py",
    "tests/test_kill_recovery.py",
    "tests/orchestration/test_publish_refusal.py",
    "tests/dbt/test_thresholds.py",
    "tests/test_end_to_end_postgres.py",
    "tests/test_end_to_end_clv.py",
    "tests/catalogue/test_catalogue.py",
    "tests/dbt/test_lifecycle.py",
    "tests/dbt/test_cohort_retention.py",
    "tests/test_properties_pipeline.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(HEAVIEST_FIRST)}
    # A stable sort: the other files, and the tests within a file, keep their collected order.
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
