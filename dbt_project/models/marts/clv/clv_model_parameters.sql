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
    cast(model as {{ clm_type_string() }}) as model,
    cast(segment as {{ clm_type_string() }}) as segment,
    cast(parameter as {{ clm_type_string() }}) as parameter,
    cast(value as {{ clm_type_double() }}) as value,
    cast(standard_error as {{ clm_type_double() }}) as standard_error,
    cast(log_likelihood as {{ clm_type_double() }}) as log_likelihood,
    cast(n_customers as integer) as n_customers,
    cast(time_unit as {{ clm_type_string() }}) as time_unit,
    cast(converged as boolean) as converged,
    cast(fitted_at as timestamp) as fitted_at
from parameters
