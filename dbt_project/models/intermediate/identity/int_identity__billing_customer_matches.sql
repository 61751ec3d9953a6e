{#-
    One row per billing customer (newest version on or before the as-of date) and the customer it belongs to
    (docs/identity.md#matching-rules):
    1. metadata.crm_contact_id names a live CRM contact -> that contact (match_method crm_contact_id);
    2. otherwise its normalized email belongs to a live contact -> that contact (email; ambiguous emails go to
       the earliest created contact, see int_identity__contact_emails);
    3. otherwise it is a customer of its own (unmatched), customer_id = md5('billing:' || billing id).
    A link to a deleted or unknown contact falls through to the email rule.
-#}
with

billing_customers as (

    select * from {{ ref('stg_billing__customers') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

contact_emails as (

    select * from {{ ref('int_identity__contact_emails') }}

),

live_contacts as (

    select contact_id
    from contacts
    where not is_deleted

),

candidates as (

    select
        billing_customers.billing_customer_id,
        billing_customers.crm_contact_id,
        billing_customers.email,
        billing_customers.created_at,
        live_contacts.contact_id as contact_id_by_link,
        contact_emails.contact_id as contact_id_by_email
    from billing_customers
    left join live_contacts
        on live_contacts.contact_id = billing_customers.crm_contact_id
    left join contact_emails
        on contact_emails.email = billing_customers.email

),

resolved as (

    select
        billing_customer_id,
        crm_contact_id,
        email,
        created_at,
        coalesce(contact_id_by_link, contact_id_by_email) as contact_id,
        case
            when contact_id_by_link is not null then 'crm_contact_id'
            when contact_id_by_email is not null then 'email'
            else 'unmatched'
        end as match_method
    from candidates

)

select
    billing_customer_id,
    case
        when contact_id is not null then {{ clm_id_hash('crm', 'contact_id') }}
        else {{ clm_id_hash('billing', 'billing_customer_id') }}
    end as customer_id,
    contact_id,
    match_method,
    crm_contact_id,
    email,
    created_at
from resolved
