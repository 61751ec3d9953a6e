"""Loaded first in every pytest process, xdist workers included."""

from __future__ import annotations

import sys

# pyspark (the spark extra) takes a __main__ module with neither __spec__ nor __file__ for its doctest runner:
# importing pyspark.sql.connect then calls sys.exit(0) unless Spark Connect's gRPC packages are installed
# (pyspark/sql/connect/utils.py, check_dependencies). An xdist worker's __main__ is such a module, and Great
# Expectations imports pyspark.sql.connect whenever pyspark is installed, so collecting any test that imports
# GX ended the worker. A file name tells pyspark this is not its doctest runner.
_main = sys.modules.get("__main__")
if _main is not None and getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "<pytest worker>"
