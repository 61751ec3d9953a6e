"""clm: a customer-lifecycle warehouse (ingest -> dbt -> quality gate -> publish)."""

__version__ = "0.1.0"
