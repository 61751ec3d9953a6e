{#-
    Every parameter of every fitted CLV model and segment (docs/marts.md#predictive-clv), from
    clm.clv.pipeline: sbg (alpha, beta per billing period), bg_nbd (r, alpha, a, b per day), gamma_gamma (p,
    q, gamma in the reporting currency). Segment 'all' is the whole base; 'segment:<crm segment>' and
    'billing_period:<period>' are fitted separately. A segment with too little data has no rows (the run's
    warnings say why).
-#}
with

parameters as (

    select * from {{ source('clv', 'model_parameters') }}

)

select
    cast(model as varchar) as model,
    cast(segment as varchar) as segment,
    cast(parameter as varchar) as parameter,
    cast(value as double precision) as value,
    cast(standard_error as double precision) as standard_error,
    cast(log_likelihood as double precision) as log_likelihood,
    cast(n_customers as integer) as n_customers,
    cast(time_unit as varchar) as time_unit,
    cast(converged as boolean) as converged,
    cast(fitted_at as timestamp) as fitted_at
from parameters
