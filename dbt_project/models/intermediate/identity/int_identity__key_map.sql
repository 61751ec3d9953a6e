{#-
    Audit table (not a mart): every source key and the customer it resolved to.
    source: crm_contact, billing_customer, support_ticket. match_method:
    crm_contact_id (a live contact itself, or a billing customer linked by metadata.crm_contact_id),
    email (matched by normalized email), unmatched (billing: a customer of its own; ticket: no customer),
    deleted (a soft-deleted contact: no customer).
-#}
with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

billing_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

ticket_matches as (

    select * from {{ ref('int_identity__ticket_matches') }}

),

contact_keys as (

    select
        'crm_contact' as source,
        contact_id as source_key,
        case when not is_deleted then {{ clm_id_hash('crm', 'contact_id') }} end as customer_id,
        case when is_deleted then 'deleted' else 'crm_contact_id' end as match_method
    from contacts

),

billing_keys as (

    select
        'billing_customer' as source,
        billing_customer_id as source_key,
        customer_id,
        match_method
    from billing_matches

),

ticket_keys as (

    select
        'support_ticket' as source,
        ticket_id as source_key,
        customer_id,
        match_method
    from ticket_matches

),

key_map as (

    select * from contact_keys
    union all
    select * from billing_keys
    union all
    select * from ticket_keys

)

select * from key_map
