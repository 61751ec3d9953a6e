"""clm: a customer-lifecycle warehouse (ingest -> dbt -> quality gate -> publish)."""

from clm._pyspark_main import name_main_module

__version__ = "0.1.0"

# Before anything imports Great Expectations (and through it pyspark): see clm._pyspark_main.
name_main_module()
