-- What the pages need besides the marts: the reporting currency of the money columns (dbt var
-- reporting_currency, passed by make dashboard as EVIDENCE_VAR__reporting_currency) and the version of the
-- DuckDB client that read the serving file.
select
    '${reporting_currency}' as reporting_currency,
    version() as reader_duckdb_version
