"""Loaded first in every pytest process, xdist workers included."""

from __future__ import annotations

import pytest

from clm._pyspark_main import name_main_module

# An xdist worker's __main__ has neither __spec__ nor __file__: see clm._pyspark_main.
name_main_module()


# ------------------------------------------------------------------------------------ xdist scheduling
# `make test` runs `pytest -n N --dist loadgroup --no-loadscope-reorder`: each work unit is one group below,
# handed out in the order the items are collected.
#
# A file is one group, so its module fixtures (a whole `clm run`, a dbt build) are built once. Files that use
# a session fixture of a sub-folder's conftest (tests/dbt's duckdb_build and postgres_build: a dbt build with
# every unit test, about 90 s each) form one group per conftest, so that fixture is built once, not once per
# worker.
#
# The heaviest groups go first, so that no worker starts a 4-minute file while the other has nothing left
# (measured in one `make test` on 2026-12-07, worker seconds; a stale entry costs balance, never results).
HEAVIEST_FIRST = (
    "tests/dbt/test_revenue_policies.py",
    "session:tests/dbt",
    "tests/targets/test_spark_build.py",
    "tests/test_end_to_end.py",
    "tests/test_incremental_runs.py",
    "tests/dbt/test_fx.py",
    "tests/test_kill_recovery.py",
    "session:tests/orchestration",
    "tests/dbt/test_thresholds.py",
    "tests/test_end_to_end_postgres.py",
    "tests/test_end_to_end_clv.py",
    "tests/catalogue/test_catalogue.py",
    "tests/dbt/test_lifecycle.py",
    "tests/test_properties_pipeline.py",
)


def _session_conftest(item: pytest.Item) -> str | None:
    """The folder of a sub-folder conftest whose session-scoped fixture the test uses, if any."""
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info else ()):
        fixturedef = defs[-1]
        if fixturedef.scope == "session" and fixturedef.baseid not in ("", "tests"):
            return f"session:{fixturedef.baseid}"
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    group_of_file: dict[str, str] = {}
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        shared = _session_conftest(item)
        if shared or path not in group_of_file:
            group_of_file[path] = shared or group_of_file.get(path, path)
    rank = {name: i for i, name in enumerate(HEAVIEST_FIRST)}
    order = {id(item): i for i, item in enumerate(items)}

    def key(item: pytest.Item) -> tuple[int, int]:
        group = group_of_file[item.nodeid.split("::", 1)[0]]
        return (rank.get(group, len(rank)), order[id(item)])

    for item in items:
        item.add_marker(pytest.mark.xdist_group(group_of_file[item.nodeid.split("::", 1)[0]]))
    items.sort(key=key)
