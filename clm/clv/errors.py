"""The one exception a CLV fit raises when a segment's data cannot support an estimate."""

from __future__ import annotations


class ClvFitError(Exception):
    """A model could not be fitted to this data (too few customers, degenerate likelihood, no convergence).

    Callers fit one segment at a time: they catch this, log ``str(error)`` (written for a person) and go on
    publishing the other segments. Malformed input (negative counts, recency > age) is a ``ValueError``
    instead, because that is a bug upstream, not a property of the segment.
    """
