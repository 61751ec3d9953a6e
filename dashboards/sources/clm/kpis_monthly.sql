select * from marts.rpt_kpis_monthly order by month
