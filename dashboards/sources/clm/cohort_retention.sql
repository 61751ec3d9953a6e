select * from marts.rpt_cohort_retention order by cohort_month, months_since_start
