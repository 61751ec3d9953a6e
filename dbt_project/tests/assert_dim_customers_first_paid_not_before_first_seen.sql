-- A customer cannot pay before it is first seen, nor after the as-of date.
select
    customer_id,
    first_seen_at,
    first_paid_at
from {{ ref('dim_customers') }}
where first_paid_at < first_seen_at
    or first_paid_at >= {{ clm_as_of_end() }}
