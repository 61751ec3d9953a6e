-- Every run recorded in the serving file's audit schema (published, blocked, failed, ...), with its files.
select
    runs.run_id,
    runs.status,
    runs.as_of,
    runs.target,
    runs.started_at,
    runs.finished_at,
    date_diff('second', runs.started_at, runs.finished_at) as duration_s,
    runs.message,
    coalesce(files.files, 0) as files,
    coalesce(files.rows_read, 0) as rows_read,
    coalesce(files.rows_loaded, 0) as rows_loaded,
    coalesce(files.rows_quarantined, 0) as rows_quarantined,
    coalesce(warnings.warnings, 0) as warnings
from audit.runs as runs
left join (
    select run_id, count(*) as files, sum(rows_read) as rows_read, sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined
    from audit.load_manifest
    group by run_id
) as files on files.run_id = runs.run_id
left join (
    select run_id, count(*) as warnings from audit.run_warnings group by run_id
) as warnings on warnings.run_id = runs.run_id
order by runs.started_at
