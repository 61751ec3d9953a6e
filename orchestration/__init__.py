"""Dagster code location for clm: wiring only; the logic lives in the `clm` package and dbt."""
