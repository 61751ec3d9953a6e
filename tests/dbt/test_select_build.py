"""make test-dbt's dbt arguments (tests/dbt/select_build.py): the selection, plus its edited ancestors."""

from __future__ import annotations

from tests.dbt.select_build import SCRATCH, build_args


def test_each_selector_brings_its_edited_ancestors() -> None:
    # two selectors, as `make test-dbt SELECT="a+ +b"` passes them: each gets `+<selector>,state:modified`,
    # except that one already starting with a graph operator keeps it (a second `+` would not parse)
    assert build_args("a+ +b", None, defer=False) == [
        "build",
        "--select",
        "a+",
        "+b",
        "+a+,state:modified",
        "+b,state:modified",
        "--exclude",
        "source:clv+",
        "--state",
        str(SCRATCH / "state"),
    ]


def test_ci_compares_with_main_and_defers() -> None:
    assert build_args("state:modified+", "/main-state", defer=True) == [
        "build",
        "--select",
        "state:modified+",
        "--exclude",
        "source:clv+",
        "--state",
        "/main-state",
        "--defer",
    ]
