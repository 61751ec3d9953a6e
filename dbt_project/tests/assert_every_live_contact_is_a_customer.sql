-- Every live (not deleted) CRM contact is exactly one customer, and no deleted contact is one.
-- Reported in Dagster as a check on dim_customers (a singular test with several parents needs one); a
-- percentage threshold (var clm_data_tests) counts the staged contacts.
{{ config(meta={'dagster': {'ref': {'name': 'dim_customers'}}, 'clm_rows_of': 'stg_crm__contacts'}) }}
with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

dim_customers as (

    select * from {{ ref('dim_customers') }}

),

checked as (

    select
        contacts.contact_id,
        contacts.is_deleted,
        count(dim_customers.customer_id) as n_customers
    from contacts
    left join dim_customers
        on dim_customers.customer_id = {{ clm_id_hash('crm', 'contacts.contact_id') }}
    group by contacts.contact_id, contacts.is_deleted

)

select * from checked
where (not is_deleted and n_customers != 1)
    or (is_deleted and n_customers != 0)
