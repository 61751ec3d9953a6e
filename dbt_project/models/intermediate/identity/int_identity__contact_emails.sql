{#-
    The CRM contact an email resolves to. Only live contacts (is_deleted false in their newest version) are
    match targets. When several live contacts share a normalized email, the earliest created wins, then the
    smallest contact_id: deterministic on every run and target.
-#}
with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

live_contacts_with_email as (

    select
        contact_id,
        email,
        created_at
    from contacts
    where not is_deleted
        and email is not null

),

ranked as (

    select
        email,
        contact_id,
        row_number() over (partition by email order by created_at, contact_id) as email_rank,
        count(*) over (partition by email) as contacts_with_email
    from live_contacts_with_email

)

select
    email,
    contact_id,
    contacts_with_email
from ranked
where email_rank = 1
