"""clm.progress: the phase lines of `clm run` (written to a pipe here, as to the user's terminal)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from clm import progress


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = os.pipe()
    yield read_fd, write_fd
    os.close(read_fd)
    os.close(write_fd)


def _shown(read_fd: int) -> str:
    return os.read(read_fd, 65536).decode()


def test_a_phase_starts_its_line_and_ends_it_with_counts_and_seconds(terminal) -> None:
    read_fd, write_fd = terminal
    with progress.attached(write_fd), progress.phase("gate", "GX suites") as shown:
        assert _shown(read_fd) == "  gate: GX suites ..."  # visible while the phase runs, no newline yet
        shown.done("passed: 3 tables")
    line = _shown(read_fd)
    assert line.startswith(" passed: 3 tables (") and line.endswith(" s)\n"), line


def test_a_failing_phase_ends_with_failed_and_raises(terminal) -> None:
    read_fd, write_fd = terminal
    with pytest.raises(RuntimeError), progress.attached(write_fd), progress.phase("dbt", "build"):
        raise RuntimeError("the build failed")
    text = _shown(read_fd)
    assert text.startswith("  dbt: build ... FAILED (") and text.endswith(" s)\n"), text


def test_with_the_logs_on_the_terminal_each_line_is_whole(terminal) -> None:
    read_fd, write_fd = terminal
    with progress.attached(write_fd, whole_lines=True), progress.phase("ingest", "reading") as shown:
        shown.done("2 new files")
    first, second = _shown(read_fd).splitlines()
    assert first == "  ingest: reading ..."
    assert second.startswith("  ingest: 2 new files (")


def test_no_terminal_or_nothing_to_say_writes_nothing(terminal) -> None:
    read_fd, write_fd = terminal
    with progress.phase("gate", "GX suites") as shown:  # a run from the Dagster UI: no terminal attached
        shown.done("passed")
    with progress.attached(write_fd), progress.phase("duckdb", None) as shown:  # a target with no step
        shown.done("done")
    os.write(write_fd, b"end")
    assert _shown(read_fd) == "end"


def test_a_closed_terminal_stops_no_phase() -> None:
    read_fd, write_fd = os.pipe()
    os.close(read_fd)  # `clm run | head -1` after head exits: writes raise EPIPE
    try:
        with progress.attached(write_fd), progress.phase("publish", "swapping") as shown:
            shown.done("3 marts")
    finally:
        os.close(write_fd)


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (1, "file", "1 file"),
        (0, "file", "0 files"),
        (12345, "row", "12,345 rows"),
        (2, "entity", "2 entities"),
        (3, "day", "3 days"),
    ],
)
def test_plural(count: int, noun: str, expected: str) -> None:
    assert progress.plural(count, noun) == expected
