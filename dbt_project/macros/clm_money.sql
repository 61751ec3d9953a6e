{#
    Money helpers. Original-currency amounts are DECIMAL(38,4) (no ISO 4217 currency has more than 4 minor
    digits); amounts in the reporting currency are DECIMAL(38,10), full precision kept in staging: round only
    where a mart presents a figure.
#}

{#
    clm_minor_to_major(amount_expr, digits_expr): integer minor units -> DECIMAL(38,4) major units, using
    currencies.minor_unit_digits: 1999 with 2 digits (USD cents) -> 19.99; 4980 with 0 digits (JPY) -> 4980.
    Multiplies by an exact decimal factor (DuckDB divides decimals as DOUBLE). Unknown digits -> null.
#}
{% macro clm_minor_to_major(amount_expr, digits_expr) -%}
    cast(
        cast(nullif(trim(cast({{ amount_expr }} as {{ clm_type_string() }})), '') as decimal(38, 0))
        * case {{ digits_expr }}
            when 0 then cast(1 as decimal(5, 4))
            when 1 then cast(0.1 as decimal(5, 4))
            when 2 then cast(0.01 as decimal(5, 4))
            when 3 then cast(0.001 as decimal(5, 4))
            when 4 then cast(0.0001 as decimal(5, 4))
        end
        as decimal(38, 4)
    )
{%- endmacro %}

{#- clm_to_amount(expr): decimal text in major units (CRM amounts) -> DECIMAL(38,4). -#}
{% macro clm_to_amount(expr) -%}
    cast(nullif(trim({{ expr }}), '') as decimal(38, 4))
{%- endmacro %}

{#
    clm_fx_rates_usd(): a select of the FX table as it is: (month DATE, currency upper case, rate DECIMAL(38,10)
    = US dollars for one unit of currency). By default the seed fx_rates; var fx_rates_relation (default null)
    names a table or view of the user's own with the same three columns instead (e.g. 'finance.fx_monthly'),
    read as it is: a user's rates file replaces the seed without touching seeds/ (README, "FX rates").
    The coverage test assert_fx_rates_cover_every_currency_and_month reads it through this macro too.
#}
{% macro clm_fx_rates_usd() -%}
    {#- always ref'd, so that the seed stays a parent in the DAG (lineage, unit tests' given fx_rates) -#}
    {%- set seed_relation = ref('fx_rates') -%}
    {%- set relation = var('fx_rates_relation', none) -%}
    {%- set user_relation = relation is not none and (relation | string | trim | lower) not in ('', 'none', 'null') -%}
    {#- a dbt unit test reads its given fx_rates rows, whatever the var says -#}
    {%- set in_unit_test = model is defined and model is mapping and model.get('resource_type') == 'unit_test' -%}
    select
        cast(month as date) as month,
        upper(trim(currency)) as currency,
        cast(rate as decimal(38, 10)) as rate
    {% if user_relation and not in_unit_test -%}
    from {{ relation | string | trim }}
    {%- else -%}
    from {{ seed_relation }}
    {%- endif %}
{%- endmacro %}

{#
    clm_fx_rates(): a select (use it as an import CTE) of (month DATE, currency, rate DECIMAL(38,10)) where rate
    is reporting-currency units for one unit of currency, from clm_fx_rates_usd() (seed fx_rates or var
    fx_rates_relation, US dollars per unit).
    var reporting_currency (default USD): USD uses those rates as they are; any other reporting currency R uses
    the cross rate rate(currency, month) / rate(R, month), rounded half away from zero at the 10th decimal with
    exact arithmetic (clm_exact_divide), so that every target gets the same digits (a DOUBLE division could
    differ in the last place between engines). A month without a rate for R has no rates at all.
#}
{% macro clm_fx_rates() -%}
    {%- set reporting = var('reporting_currency', 'USD') | string | trim | upper -%}
    {%- if reporting == 'USD' -%}
    {{ clm_fx_rates_usd() }}
    {%- else -%}
    select
        fx.month,
        fx.currency,
        case
            when fx.currency = '{{ reporting }}' then cast(1 as decimal(38, 10))
            else {{ clm_exact_divide('fx.rate', 'reporting.rate') }}
        end as rate
    from ({{ clm_fx_rates_usd() }}) as fx
    inner join ({{ clm_fx_rates_usd() }}) as reporting
        on reporting.month = fx.month
        and reporting.currency = '{{ reporting }}'
    {%- endif -%}
{%- endmacro %}

{#
    clm_to_reporting_currency(amount_expr, rate_expr): amount in its own currency x the event month's rate
    (from clm_fx_rates joined on month and currency) -> DECIMAL(38,10) in the reporting currency, the exact
    product rounded half away from zero at the 10th decimal.
    A month without a rate gives null (tested with not_null where the amount is present).
#}
{% macro clm_to_reporting_currency(amount_expr, rate_expr) -%}
    {{ return(adapter.dispatch('clm_to_reporting_currency', 'clm')(amount_expr, rate_expr)) }}
{%- endmacro %}

{% macro default__clm_to_reporting_currency(amount_expr, rate_expr) -%}
    cast({{ amount_expr }} * {{ rate_expr }} as decimal(38, 10))
{%- endmacro %}

{#
    Spark: DECIMAL(38,4) x DECIMAL(38,10) has more than 38 digits, so Spark cuts the product to 6 decimals
    before the cast (spark.sql.decimalOperations.allowPrecisionLoss), and a sum of such products can round to
    another cent than DuckDB's and Postgres's exact one (seen at 1,000,000 customers: a cent in the invoiced
    and collected columns of 2 rows of rpt_revenue_reconciliation). The operands are cast to types whose product fits 38 digits, so it is exact:
    amounts below 10^17, rates below 10^6.
#}
{% macro spark__clm_to_reporting_currency(amount_expr, rate_expr) -%}
    cast(
        cast({{ amount_expr }} as decimal(21, 4)) * cast({{ rate_expr }} as decimal(16, 10))
        as decimal(38, 10)
    )
{%- endmacro %}

{#
    clm_money_times_ratio(money_expr, ratio_expr): a money amount x a ratio (var gross_margin), exact: money
    with at most 10 decimals and |money| < 10^17, a ratio with at most 6 decimals and |ratio| < 10^4 (the
    margin is DECIMAL(10, 6)). Both are single terms (a column, a cast, an aggregate): the default form is the
    plain product, so DuckDB and Postgres compile to `money * ratio` as written before this macro, and their
    decimal products are exact (DuckDB: scale s1 + s2 within DECIMAL(38); Postgres: numeric).
    Example: 45.95 x 0.654321 = 30.06604995.
#}
{% macro clm_money_times_ratio(money_expr, ratio_expr) -%}
    {{ return(adapter.dispatch('clm_money_times_ratio', 'clm')(money_expr, ratio_expr)) }}
{%- endmacro %}

{% macro default__clm_money_times_ratio(money_expr, ratio_expr) -%}
    {{ money_expr }} * {{ ratio_expr }}
{%- endmacro %}

{#
    Spark: a product whose operands' precisions add up to more than 38 digits is cut to fewer decimals
    (spark.sql.decimalOperations.allowPrecisionLoss): sum(lifetime_revenue), DECIMAL(28, 2) on Spark, x
    DECIMAL(10, 6) is DECIMAL(38, 7), so 45.95 x 0.654321 = 30.06604995 comes back as 30.0660500, and a
    clv_cac_ratio at 4 decimals over a cac of 1.00 then rounds to 30.0661 instead of 30.0660. DECIMAL(27, 10)
    x DECIMAL(10, 6) is DECIMAL(38, 16): every digit kept.
    Not spark.sql.decimalOperations.allowPrecisionLoss=false instead: it keeps a product's decimals (the old
    forms were exact with it), but a division of DECIMAL(38, 0) values is then DECIMAL(38, 18), and a
    quotient of 10^20 or more overflows to null (ANSI off), which the exact ratios at scale 18 reach from a
    value of 100: clm_mrr_part's MRR of 1000.22 and clm_exact_ratio_by_integer(1000.25, 3, 18) came back
    null on the server (2026-12-08).
#}
{% macro spark__clm_money_times_ratio(money_expr, ratio_expr) -%}
    cast({{ money_expr }} as decimal(27, 10)) * cast({{ ratio_expr }} as decimal(10, 6))
{%- endmacro %}
