{#-
    One row per customer (docs/identity.md#matching-rules): every live CRM contact, plus every billing
    customer that matched no live contact. Deleted contacts (is_deleted true in their newest version) are not
    customers and not match targets. customer_id is md5('crm:' || contact_id) or md5('billing:' || billing
    customer id): the same on every run and target. email: the contact's, else (contact without email, or
    billing-only) the earliest created matched billing customer's. Attributes (country, segment, acquisition
    channel) come from CRM only.
-#}
with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

billing_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

billing_emails as (

    select
        customer_id,
        email
    from (
        select
            customer_id,
            email,
            row_number() over (partition by customer_id order by created_at, billing_customer_id) as email_rank
        from billing_matches
        where email is not null
    ) as ranked
    where email_rank = 1

),

crm_customers as (

    select
        {{ clm_id_hash('crm', 'contact_id') }} as customer_id,
        'crm' as anchor_source,
        contact_id as anchor_key,
        contact_id,
        email,
        country,
        segment,
        acquisition_channel,
        created_at
    from contacts
    where not is_deleted

),

billing_only_customers as (

    select
        customer_id,
        'billing' as anchor_source,
        billing_customer_id as anchor_key,
        cast(null as {{ clm_type_string() }}) as contact_id,
        email,
        cast(null as {{ clm_type_string() }}) as country,
        cast(null as {{ clm_type_string() }}) as segment,
        cast(null as {{ clm_type_string() }}) as acquisition_channel,
        created_at
    from billing_matches
    where match_method = 'unmatched'

),

customers as (

    select * from crm_customers
    union all
    select * from billing_only_customers

)

select
    customers.customer_id,
    customers.anchor_source,
    customers.anchor_key,
    customers.contact_id,
    coalesce(customers.email, billing_emails.email) as email,
    customers.country,
    customers.segment,
    customers.acquisition_channel,
    customers.created_at as anchor_created_at
from customers
left join billing_emails
    on billing_emails.customer_id = customers.customer_id
