{#-
    One row per support ticket and the customer its requester is (docs/identity.md#matching-rules: by
    normalized requester email): first the live CRM contact with that email (ambiguity: earliest created
    contact), otherwise the billing customer with that email (ambiguity: earliest created billing customer,
    then smallest id) and the customer it belongs to; otherwise unmatched, customer_id null: tickets never
    create customers.
-#}
with

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

contact_emails as (

    select * from {{ ref('int_identity__contact_emails') }}

),

billing_matches as (

    select * from {{ ref('int_identity__billing_customer_matches') }}

),

billing_emails as (

    select
        email,
        customer_id
    from (
        select
            email,
            customer_id,
            row_number() over (partition by email order by created_at, billing_customer_id) as email_rank
        from billing_matches
        where email is not null
    ) as ranked
    where email_rank = 1

),

resolved as (

    select
        tickets.ticket_id,
        tickets.requester_email,
        tickets.created_at,
        case
            when contact_emails.contact_id is not null then {{ clm_id_hash('crm', 'contact_emails.contact_id') }}
            else billing_emails.customer_id
        end as customer_id,
        contact_emails.contact_id,
        case
            when contact_emails.contact_id is not null or billing_emails.customer_id is not null then 'email'
            else 'unmatched'
        end as match_method
    from tickets
    left join contact_emails
        on contact_emails.email = tickets.requester_email
    left join billing_emails
        on billing_emails.email = tickets.requester_email

)

select * from resolved
