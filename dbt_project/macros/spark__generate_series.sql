{#
    spark__generate_series(upper_bound): Spark's form of dbt.generate_series (the integers 1 through
    upper_bound, column generated_number), which clm_month_spine and dbt.date_spine build on. dbt's default
    cross-joins log2(upper_bound) two-row unions: Spark plans each as a nested-loop join, and inlines a CTE
    again for every reference, so the models that read a month spine spent most of their time in it (34.5 s of
    int_customer_months__mrr on the CI fixture). sequence() + explode() is one generator node. Found first
    through dbt_project.yml's dispatch search order (clm before dbt).
#}
{% macro spark__generate_series(upper_bound) -%}
    select explode(sequence(1, {{ upper_bound }})) as generated_number
{%- endmacro %}
