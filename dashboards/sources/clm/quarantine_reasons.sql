-- Rejected rows and files by run, entity and reason (the reasons name fields and rules, never values).
select run_id, source, entity, reason, count(*) as rows_quarantined
from audit.quarantine
group by run_id, source, entity, reason
order by run_id, source, entity, reason
