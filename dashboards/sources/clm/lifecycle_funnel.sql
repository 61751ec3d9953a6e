select * from marts.rpt_lifecycle_funnel order by stage_order
