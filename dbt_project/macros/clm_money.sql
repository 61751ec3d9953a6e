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
        cast(nullif(trim(cast({{ amount_expr }} as varchar)), '') as decimal(38, 0))
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
    clm_fx_rates(): a select (use it as an import CTE) of (month DATE, currency, rate DECIMAL(38,10)) where rate
    is reporting-currency units for one unit of currency, from seed fx_rates.
    The seed holds USD per unit. var reporting_currency (default USD): USD uses the seed's rates as they are;
    any other reporting currency R uses the cross rate rate(currency, month) / rate(R, month).
#}
{% macro clm_fx_rates() -%}
    {%- set reporting = var('reporting_currency', 'USD') | string | trim | upper -%}
    {%- if reporting == 'USD' -%}
    select
        cast(month as date) as month,
        upper(trim(currency)) as currency,
        cast(rate as decimal(38, 10)) as rate
    from {{ ref('fx_rates') }}
    {%- else -%}
    select
        cast(fx.month as date) as month,
        upper(trim(fx.currency)) as currency,
        cast(cast(fx.rate as double precision) / cast(reporting.rate as double precision) as decimal(38, 10)) as rate
    from {{ ref('fx_rates') }} as fx
    inner join {{ ref('fx_rates') }} as reporting
        on reporting.month = fx.month
        and upper(trim(reporting.currency)) = '{{ reporting }}'
    {%- endif -%}
{%- endmacro %}

{#
    clm_to_reporting_currency(amount_expr, rate_expr): amount in its own currency x the event month's rate
    (from clm_fx_rates joined on month and currency) -> DECIMAL(38,10) in the reporting currency.
    A month without a rate gives null (tested with not_null where the amount is present).
#}
{% macro clm_to_reporting_currency(amount_expr, rate_expr) -%}
    cast({{ amount_expr }} * {{ rate_expr }} as decimal(38, 10))
{%- endmacro %}
