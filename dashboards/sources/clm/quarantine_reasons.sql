-- Rejected rows and files by run, entity and reason (the reasons name fields and rules, never values).
-- One row with no reason and 0 rows for a run that quarantined nothing: every run has a row, so the source is
-- never empty (Evidence cannot write an empty source).
select
    runs.run_id,
    quarantine.source,
    quarantine.entity,
    quarantine.reason,
    count(quarantine.run_id) as rows_quarantined
from audit.runs as runs
left join audit.quarantine as quarantine on quarantine.run_id = runs.run_id
group by runs.run_id, quarantine.source, quarantine.entity, quarantine.reason
order by runs.run_id, quarantine.source, quarantine.entity, quarantine.reason
