{#
    MRR in the reporting currency, rounded to the cent once, from the exact value (docs/marts.md#mrr).

    A line's monthly amount is amount x interval_multiplier / interval_divisor (int_invoice_lines__normalized),
    often a repeating decimal (a yearly plan: / 12). Converting the monthly amount rounded to 10 decimals gives
    a value a few 1e-11 below the exact one, and a customer-month whose exact MRR is a half cent then rounds
    down: EUR 280 a year at 1.0635 USD is exactly 280 x 1.0635 / 12 = 297.78 / 12 = 24.815 -> 24.82, but
    23.3333333333 x 1.0635 = 24.81499999996... -> 24.81. An independent exact computation found 248 such
    customer-months in a 100,000-customer zone (benchmarks/results.md). So MRR multiplies by the rate before
    it divides:

    clm_mrr_part(amount, multiplier, divisor, rate): one group of lines of a customer-month with the same
    currency and interval (amount = the group's summed amounts): amount x multiplier x rate / divisor rounded
    half away from zero to 18 decimals, DECIMAL(38, 18); null when the divisor is 0 or null or the rate null.
    The divisor must be a positive integer: interval_divisor is interval_count or 12 x interval_count, and a
    line with interval_count < 1 never counts towards MRR (int_invoice_lines__normalized).
    This is clm_exact_ratio_by_integer(amount x multiplier x rate, divisor, 18) (clm_exact_divide.sql: the
    digits of clm_exact_ratio, which it used before, in fewer HUGEINT divisions; exact for amount x rate with
    at most 10 decimals, as a 2-decimal amount times the seed's 8-decimal rates is; |amount x multiplier x
    rate| < 10^14). Measured on the 100,000-customer zone (seed 7; 464,091 groups a rate), old and new
    alternating in one DuckDB session on a shared 2-core machine: the part expression alone 2.2 s -> 1.2 s;
    int_customer_months__mrr 8.2 s -> 6.6 s, int_customer_cohorts__starting_mrr_revalued 6.8 s -> 5.0 s
    (medians of 3). Every row of both models and of the marts that read them is the same (EXCEPT both ways).
    Not taken: an all-BIGINT form (the rate split into two 5-decimal integers) was 4x faster on the
    expression, but it needs |amount x multiplier x rate| < 9.2 x 10^8 and rates below 9,200, which a
    reporting currency such as IDR exceeds; a CASE falling back to HUGEINT outside those bounds lost the
    gain (DuckDB does not share common subexpressions into CASE branches).

    clm_mrr_total(parts_sum_expr): the customer-month's MRR = the sum of its parts rounded to 17 decimals, then
    to the cent (half away from zero), DECIMAL(18, 2). Why this is the exact value rounded once: each part is
    within 5e-19 of its exact value, so with fewer than 10 parts (currency x interval groups, not lines) the
    sum is within 5e-18 of the exact MRR T. If T is a half cent (3 decimals) the first rounding gives T itself
    and the second rounds it up; otherwise T lies at least 1e-10 / L from any half cent (L: a common multiple
    of the divisors, e.g. 12 for yearly and monthly plans, 4,380 for a daily one), far more than the 5e-18 the
    first rounding can move it, so both roundings go the way T's would.
#}
{% macro clm_mrr_part(amount_expr, multiplier_expr, divisor_expr, rate_expr) -%}
    {{ clm_exact_ratio_by_integer(clm_mrr_numerator(amount_expr, multiplier_expr, rate_expr), divisor_expr, 18) }}
{%- endmacro %}

{#- clm_mrr_numerator(amount, multiplier, rate): amount x multiplier x rate, exact. -#}
{% macro clm_mrr_numerator(amount_expr, multiplier_expr, rate_expr) -%}
    {{ return(adapter.dispatch('clm_mrr_numerator', 'clm')(amount_expr, multiplier_expr, rate_expr)) }}
{%- endmacro %}

{% macro default__clm_mrr_numerator(amount_expr, multiplier_expr, rate_expr) -%}
    ({{ amount_expr }}) * ({{ multiplier_expr }}) * ({{ rate_expr }})
{%- endmacro %}

{#-
    Spark cuts a product of more than 38 digits to 6 decimals (spark__clm_to_reporting_currency says why that
    moves cents): DECIMAL(38,4) x integer x DECIMAL(38,10) lost a half cent at 1,000,000 customers (a GBP
    749.70 line at 1.334167 is 1000.2249999 USD, 1000.22; Spark's 6 decimals gave 1000.225000, 1000.23).
    Typed so that the product fits 38 digits, it is exact: amounts below 10^13, multipliers below 1,000,
    rates below 10^6.
-#}
{% macro spark__clm_mrr_numerator(amount_expr, multiplier_expr, rate_expr) -%}
    cast({{ amount_expr }} as decimal(17, 4)) * cast({{ multiplier_expr }} as decimal(3, 0))
    * cast({{ rate_expr }} as decimal(16, 10))
{%- endmacro %}

{% macro clm_mrr_total(parts_sum_expr) -%}
    cast(round(round({{ parts_sum_expr }}, 17), 2) as decimal(18, 2))
{%- endmacro %}
