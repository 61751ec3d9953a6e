"""Dagster code location for clm: wiring only; the logic lives in the `clm` package and dbt."""

from clm._pyspark_main import name_main_module

# Before the assets import Great Expectations (and through it pyspark): see clm._pyspark_main.
name_main_module()
