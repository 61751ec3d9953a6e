select * from marts.rpt_mrr_bridge order by month
