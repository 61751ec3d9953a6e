-- Every month in fx_rates has a rate for every currency in currencies, and USD (the seed's base) is 1.
-- Reported in Dagster as a check on fx_rates (a singular test with several parents needs one).
{{ config(meta={'dagster': {'ref': {'name': 'fx_rates'}}}) }}
with

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

months as (

    select distinct month from fx_rates

),

expected as (

    select
        months.month,
        currencies.currency
    from months
    cross join currencies

)

select
    expected.month,
    expected.currency,
    fx_rates.rate
from expected
left join fx_rates
    on fx_rates.month = expected.month
    and fx_rates.currency = expected.currency
where fx_rates.rate is null
    or (expected.currency = 'USD' and fx_rates.rate != 1)
