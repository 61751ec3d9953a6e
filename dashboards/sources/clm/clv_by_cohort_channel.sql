select * from marts.rpt_clv_by_cohort_channel order by cohort_month, acquisition_channel
