-- Every staged billing customer resolves to exactly one customer, and that customer exists in dim_customers.
-- Reported in Dagster as a check on dim_customers (a singular test with several parents needs one); a
-- percentage threshold (var clm_data_tests) counts the staged billing customers.
{{ config(meta={'dagster': {'ref': {'name': 'dim_customers'}}, 'clm_rows_of': 'stg_billing__customers'}) }}
with

billing_customers as (

    select * from {{ ref('stg_billing__customers') }}

),

key_map as (

    select * from {{ ref('int_identity__key_map') }}
    where source = 'billing_customer'

),

dim_customers as (

    select * from {{ ref('dim_customers') }}

),

mapped as (

    select
        billing_customers.billing_customer_id,
        count(distinct key_map.customer_id) as n_customers,
        count(distinct dim_customers.customer_id) as n_customers_in_dim
    from billing_customers
    left join key_map
        on key_map.source_key = billing_customers.billing_customer_id
    left join dim_customers
        on dim_customers.customer_id = key_map.customer_id
    group by billing_customers.billing_customer_id

)

select * from mapped
where n_customers != 1 or n_customers_in_dim != 1
