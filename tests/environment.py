"""The environment of a `clm` subprocess in a test: the caller's, without any CLM_* setting of the shell or
of an in-process test, so the test sets each one it means. CLM_DBT_PARSE_CACHE stays: tests/conftest.py set
it for the whole test run (dbt's partial parse shared between tests; it changes no result)."""

from __future__ import annotations

import os

KEPT = ("CLM_DBT_PARSE_CACHE",)


def without_clm_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CLM_") or k in KEPT}
