-- Every warning of every run; a run without warnings has one row with no warning (origin null), so the source
-- is never empty (Evidence cannot write an empty source).
select
    runs.run_id,
    runs.started_at,
    warnings.origin,
    warnings.subject,
    warnings.message,
    warnings.recorded_at
from audit.runs as runs
left join audit.run_warnings as warnings on warnings.run_id = runs.run_id
order by runs.started_at, warnings.recorded_at, warnings.origin, warnings.subject
