"""Loaded first in every pytest process, xdist workers included."""

from __future__ import annotations

from clm._pyspark_main import name_main_module

# An xdist worker's __main__ has neither __spec__ nor __file__: see clm._pyspark_main.
name_main_module()
