{#-
    What an incremental build recomputes in the customer-level intermediate models (macros/clm_increments.sql):
    the billing customers, and the customers they belong to now and belonged to in the previous build, with
    * a raw billing record the previous build did not see (loaded since, or reached by the as-of date): the
      billing customer itself, or an invoice, subscription (with its items) or charge of it, every version of
      such a record counted (its customer, in the newest version and any older one);
    * a change of customer (int_increments__billing_customer_keys: identity moved it, or it is new);
    * an invoice line that starts or ends between the previous as-of date and this one: the first month-end
      snapshot it covers, or its renewal-pending flag, can change with the as-of date alone.
    Empty on a full refresh and on Spark, where nothing reads it. With CLM_INCREMENTAL_SINCE unset (a plain
    `dbt build` on an existing build), every billing customer counts as changed.
-#}
{%- set since = clm_incremental_since() -%}
{%- set unused = flags.FULL_REFRESH or target.type == 'spark' -%}

with

billing_keys as (

    select * from {{ ref('int_increments__billing_customer_keys') }}

),

{% if not unused -%}
invoice_lines as (

    select * from {{ ref('stg_billing__invoice_lines') }}

),

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

changed_records as (

    {{ clm_changed_keys(source('billing', 'customers'), 'trim(id)') }}
    {%- for entity in ['invoices', 'subscriptions', 'charges'] %}
    union
    select trim(customer) as changed_key
    from {{ source('billing', entity) }}
    where trim(id) in ({{ clm_changed_keys(source('billing', entity), 'trim(id)') }})
    {%- endfor %}

),

remapped as (

    select billing_customer_id
    from billing_keys
    where previous_customer_id is null
        or previous_customer_id <> customer_id

),

-- with CLM_INCREMENTAL_SINCE unset every billing customer has changed already (changed_records)
as_of_lines as (

    select distinct invoices.billing_customer_id
    from invoice_lines
    inner join invoices
        on invoices.invoice_id = invoice_lines.invoice_id
    {% if since is none -%}
    where false
    {%- else -%}
    where cast(invoice_lines.period_start_at as date)
            between cast('{{ since[0] }}' as date) and {{ clm_as_of() }}
        or cast(invoice_lines.period_end_at as date)
            between cast('{{ since[0] }}' as date) and {{ clm_as_of() }}
    {%- endif %}

),

changed_billing_customers as (

    select changed_key as billing_customer_id from changed_records
    union
    select billing_customer_id from remapped
    union
    select billing_customer_id from as_of_lines

),

{% endif -%}
final as (

    {% if unused -%}
    select
        billing_customer_id,
        customer_id
    from billing_keys
    where false
    {%- else -%}
    select
        changed_billing_customers.billing_customer_id,
        billing_keys.customer_id
    from changed_billing_customers
    left join billing_keys
        on billing_keys.billing_customer_id = changed_billing_customers.billing_customer_id
    union
    select
        billing_keys.billing_customer_id,
        billing_keys.previous_customer_id as customer_id
    from changed_billing_customers
    inner join billing_keys
        on billing_keys.billing_customer_id = changed_billing_customers.billing_customer_id
    where billing_keys.previous_customer_id is not null
    {%- endif %}

)

select
    cast(billing_customer_id as {{ clm_type_string() }}) as billing_customer_id,
    cast(customer_id as {{ clm_type_string() }}) as customer_id
from final
