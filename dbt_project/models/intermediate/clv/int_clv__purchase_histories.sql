{#-
    Input of BG/NBD and Gamma-Gamma (Fader, Hardie and Lee 2005): the one-off purchase history of every
    customer with at least one, in the recency-frequency-monetary summary those models take, in days.

    * A one-off purchase is a paid invoice without a subscription (amount_paid > 0, paid on or before the
      as-of date), valued at amount_paid in the reporting currency (FX of the invoice's month).
    * Purchases on the same UTC day are one transaction (the models count purchase occasions; the CDNOW
      convention of the lifetimes library).
    * frequency: repeat transactions = purchase days - 1; recency_days: days from the first to the last
      purchase day; age_days (the models' T): days from the first purchase day to the as-of date.
    * monetary_value: mean value of the repeat transactions (the first is left out, as Gamma-Gamma assumes);
      null without repeats.
-#}
with

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

billing_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

customers as (

    select * from {{ ref('int_identity__customers') }}

),

purchases as (

    select
        billing_matches.customer_id,
        cast(coalesce(invoices.paid_at, invoices.created_at) as date) as purchase_date,
        invoices.amount_paid_reporting as amount
    from invoices
    inner join billing_matches
        on billing_matches.billing_customer_id = invoices.billing_customer_id
    where invoices.subscription_id is null
        and invoices.amount_paid > 0
        and (invoices.paid_at is not null or invoices.status = 'paid')
        and coalesce(invoices.paid_at, invoices.created_at) < {{ clm_as_of_end() }}

),

transactions as (

    select
        customer_id,
        purchase_date,
        sum(amount) as amount,
        row_number() over (partition by customer_id order by purchase_date) as transaction_number
    from purchases
    group by customer_id, purchase_date

),

summaries as (

    select
        customer_id,
        count(*) - 1 as frequency,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        sum(case when transaction_number > 1 then amount end) as repeat_amount
    from transactions
    group by customer_id

)

select
    cast(summaries.customer_id as {{ clm_type_string() }}) as customer_id,
    cast(coalesce(customers.segment, 'unknown') as {{ clm_type_string() }}) as segment,
    cast(summaries.frequency as integer) as frequency,
    cast({{ dbt.datediff('summaries.first_purchase_date', 'summaries.last_purchase_date', 'day') }} as integer)
        as recency_days,
    cast({{ dbt.datediff('summaries.first_purchase_date', clm_as_of(), 'day') }} as integer) as age_days,
    cast(summaries.first_purchase_date as date) as first_purchase_date,
    cast(summaries.last_purchase_date as date) as last_purchase_date,
    case
        when summaries.frequency > 0
            then cast({{ clm_exact_ratio('summaries.repeat_amount', 'summaries.frequency', 4) }} as decimal(18, 4))
    end as monetary_value
from summaries
inner join customers
    on customers.customer_id = summaries.customer_id
