"""One line per phase of ``clm run`` on the user's terminal; dbt's and Dagster's logs go to the run's log.

``clm run`` attaches the terminal (:func:`attached`); a step wraps its work in :func:`phase`. Without a
terminal attached (a run launched from the Dagster UI or the schedule) a phase writes nothing: its counts are
in the step's own log lines and asset metadata.

A phase writes its start (``  gate: 24 tables ...``) when it starts, so a long step is never silent, and
finishes the same line with its counts and seconds. Only when the terminal is shared with the logs
(``clm run -v``) does it write the start and the end as two whole lines.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

_sink: _Sink | None = None


@dataclass
class _Sink:
    fd: int
    whole_lines: bool  # the logs share the terminal: no line is left open for them to land in


@dataclass
class Phase:
    """What a step reports when it ends: ``done`` replaces the default "done"."""

    name: str
    started: float = field(default_factory=time.monotonic)
    result: str = "done"

    def done(self, text: str) -> None:
        self.result = text


@contextlib.contextmanager
def attached(fd: int, *, whole_lines: bool = False) -> Iterator[None]:
    """Phases write to ``fd`` while the block runs (clm run's terminal)."""
    global _sink
    previous, _sink = _sink, _Sink(fd, whole_lines)
    try:
        yield
    finally:
        _sink = previous


def _write(text: str) -> None:
    if _sink is None:
        return
    with contextlib.suppress(OSError):  # a reader that went away (`clm run | head -1`) stops no run
        os.write(_sink.fd, text.encode())


@contextlib.contextmanager
def phase(name: str, starting: str | None) -> Iterator[Phase]:
    """``  <name>: <starting> ...`` now, then ``<result> (<seconds> s)`` on the same line when the block
    ends; ``FAILED`` when it raises (the run's report says why). Silent when ``starting`` is None."""
    current = Phase(name)
    if starting is None:
        yield current
        return
    whole = _sink is not None and _sink.whole_lines
    _write(f"  {name}: {starting} ..." + ("\n" if whole else ""))
    try:
        yield current
    except BaseException:
        _end(current, "FAILED", whole)
        raise
    _end(current, current.result, whole)


def _end(current: Phase, result: str, whole: bool) -> None:
    seconds = time.monotonic() - current.started
    prefix = f"  {current.name}: " if whole else " "
    _write(f"{prefix}{result} ({seconds:.1f} s)\n")


def plural(count: int, noun: str) -> str:
    """``1 file``, ``2,345 files``; nouns ending in y take ies (``2 entities``)."""
    if count == 1:
        return f"1 {noun}"
    many = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
    return f"{count:,} {many}"
