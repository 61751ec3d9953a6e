-- Every month of the FX table has exactly one positive rate for every currency in currencies, and USD (the table's
-- base) is 1. The FX table is the seed fx_rates or the user's own table named by var fx_rates_relation
-- (macro clm_fx_rates_usd): the same test applies to either.
-- Reported in Dagster as a check on fx_rates (a singular test with several parents needs one).
{{ config(meta={'dagster': {'ref': {'name': 'fx_rates'}}}) }}
with

fx_rates as (

    {{ clm_fx_rates_usd() }}

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

),

rates_per_month_currency as (

    select
        month,
        currency,
        count(*) as rates,
        min(rate) as rate
    from fx_rates
    group by month, currency

)

select
    expected.month,
    expected.currency,
    rates_per_month_currency.rate,
    rates_per_month_currency.rates
from expected
left join rates_per_month_currency
    on rates_per_month_currency.month = expected.month
    and rates_per_month_currency.currency = expected.currency
where rates_per_month_currency.rate is null
    or rates_per_month_currency.rate <= 0
    or rates_per_month_currency.rates > 1
    or (expected.currency = 'USD' and rates_per_month_currency.rate != 1)
