-- Every customer acquired (first paid) on or before the as-of date is counted in some month of
-- rpt_kpis_monthly: returns acquisition months missing from the report.
select distinct
    acquisitions.acquired_month
from {{ ref('int_marketing__customer_acquisitions') }} as acquisitions
left join {{ ref('rpt_kpis_monthly') }} as kpis
    on kpis.month = acquisitions.acquired_month
where acquisitions.acquired_month is not null
    and kpis.month is null
