select run_id, origin, subject, message, recorded_at from audit.run_warnings order by recorded_at, origin, subject
