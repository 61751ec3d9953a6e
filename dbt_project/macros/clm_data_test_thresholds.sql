{#
    Thresholds of dbt data tests (docs/bad-input.md#thresholds: one faulty row never blocks a whole publish;
    cross-row checks have thresholds in configuration).

    Every data test, singular or generic, takes dbt's own keys severity, warn_if and error_if from var
    clm_data_tests: its entry `default`, overridden key by key by the entry named after the test (dbt's test
    name, as in `dbt test --select <name>`). dbt_project.yml holds the defaults; `clm run` merges the
    `dbt_tests:` section of the gate config (expectations/gate.yml or CLM_GATE_CONFIG) over them. A check of a
    folded test of column checks (generic test clm_column_checks, one node per model) goes by the name of its
    former single test, after the entry of the folded test's own name (macro clm_column_check_thresholds).

    A threshold is a comparison with a count, as dbt takes it (">0", ">=10", "!= 0"), or with a percentage,
    which dbt itself does not support (dbt-core issue 4723): ">1%" compares the failing rows with 1% of the
    rows of the tested model. The tested model is the model a generic test is attached to; a singular test
    names it in `config(meta={'clm_rows_of': '<model>'})`, or reads a single model.

    Some invariants are never relaxed (clm_data_test_never_relaxed): they always error on the first failing
    row, and an entry for them in clm_data_tests is refused before dbt runs anything
    (clm_assert_data_test_thresholds, on-run-start).
#}

{%- macro _clm_threshold_pattern() -%}
^\s*(>=|<=|!=|<>|==|=|>|<)\s*([0-9]+(\.[0-9]+)?)\s*(%?)\s*$
{%- endmacro -%}

{%- macro _clm_data_tests_var() -%}
    {%- set configured = var('clm_data_tests', {}) -%}
    {{ return(configured if configured is mapping else {}) }}
{%- endmacro -%}

{#- Published marts' grain (unique, unique_combination_of_columns) and their contract's not-null constraints
    are part of the marts' interface (docs/marts.md#the-marts), like the model contracts themselves (enforced
    at build time, not a data test). -#}
{%- macro clm_data_test_never_relaxed(node) -%}
    {%- if (node.config.meta or {}).get('clm_never_relax', false) -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set kind = (node.test_metadata or {}).get('name') -%}
    {%- set attached = graph.nodes.get(node.attached_node) if node.attached_node else none -%}
    {%- if kind is none or attached is none or 'published' not in attached.tags -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if kind in ('unique', 'unique_combination_of_columns') -%}
        {{ return(true) }}
    {%- endif -%}
    {%- if kind == 'not_null' -%}
        {%- set column = attached.columns.get(node.test_metadata.kwargs.get('column_name'), {}) -%}
        {%- for constraint in column.get('constraints', []) -%}
            {%- if constraint.get('type') == 'not_null' -%}
                {{ return(true) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(false) }}
{%- endmacro -%}

{#- The node whose rows a percentage counts, or none. -#}
{%- macro clm_data_test_rows_of(node) -%}
    {%- if node.attached_node -%}
        {{ return(graph.nodes.get(node.attached_node)) }}
    {%- endif -%}
    {%- set named = (node.config.meta or {}).get('clm_rows_of') -%}
    {%- set parents = [] -%}
    {%- for unique_id in node.depends_on.nodes -%}
        {%- set parent = graph.nodes.get(unique_id) or graph.sources.get(unique_id) -%}
        {%- if parent and (named is none or parent.name == named) -%}
            {%- do parents.append(parent) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(parents[0] if parents | length == 1 else none) }}
{%- endmacro -%}

{#- {severity, warn_if, error_if, never_relaxed, rows_of} in effect for a test node. -#}
{%- macro clm_data_test_thresholds(node) -%}
    {%- set never_relaxed = clm_data_test_never_relaxed(node) -%}
    {%- if never_relaxed -%}
        {%- set effective = {'severity': 'error', 'warn_if': '>0', 'error_if': '>0'} -%}
    {%- else -%}
        {%- set configured = _clm_data_tests_var() -%}
        {%- set effective = {'severity': 'error', 'warn_if': '!= 0', 'error_if': '!= 0'} -%}
        {%- do effective.update(configured.get('default') or {}) -%}
        {%- do effective.update(configured.get(node.name) or {}) -%}
    {%- endif -%}
    {%- do effective.update({
        'severity': effective.severity | lower,
        'never_relaxed': never_relaxed,
        'rows_of': clm_data_test_rows_of(node),
    }) -%}
    {{ return(effective) }}
{%- endmacro -%}

{#- {severity, warn_if, error_if} of one check of a clm_column_checks test (`check` of macro
    clm_column_check_specs): the entry `default`, then the entry of the folded test's own name
    (column_checks_<model>), then the entry of the check's former single test (e.g.
    not_null_<model>_<column>), key by key; a never-relaxed check errors on its first failing row whatever
    they say. -#}
{%- macro clm_column_check_thresholds(node, check) -%}
    {%- if check.never_relaxed -%}
        {{ return({'severity': 'error', 'warn_if': '>0', 'error_if': '>0'}) }}
    {%- endif -%}
    {%- set configured = _clm_data_tests_var() -%}
    {%- set effective = {'severity': 'error', 'warn_if': '!= 0', 'error_if': '!= 0'} -%}
    {%- do effective.update(configured.get('default') or {}) -%}
    {%- do effective.update(configured.get(node.name) or {}) -%}
    {%- do effective.update(configured.get(check.test_name) or {}) -%}
    {%- do effective.update({'severity': effective.severity | lower}) -%}
    {{ return(effective) }}
{%- endmacro -%}

{#- The checks of a clm_column_checks test node, on this target (all of them with all_targets). -#}
{%- macro clm_folded_checks(node, all_targets=false) -%}
    {%- set attached = graph.nodes.get(node.attached_node) if node.attached_node else none -%}
    {%- set kwargs = node.test_metadata.kwargs -%}
    {{ return(clm_column_check_specs(attached, kwargs.get('not_null'), kwargs.get('unique'),
        kwargs.get('accepted_values'), kwargs.get('unique_combinations'), all_targets)) }}
{%- endmacro -%}

{#- SQL for "<fail_calc> <threshold>": a count as dbt has it, a percentage of the tested model's rows. -#}
{%- macro clm_threshold_sql(fail_calc, threshold, rows_of) -%}
    {%- set match = modules.re.match(_clm_threshold_pattern(), threshold | string) -%}
    {%- if match is none -%}
        {{ exceptions.raise_compiler_error("clm_data_tests: threshold " ~ threshold ~ " is not a comparison "
            ~ "with a count or a percentage, e.g. '>0', '>=10' or '>1%'") }}
    {%- endif -%}
    {%- set operator = '=' if match.group(1) == '==' else match.group(1) -%}
    {%- if match.group(4) -%}
        {%- if rows_of is none -%}
            {{ exceptions.raise_compiler_error("clm_data_tests: threshold " ~ threshold ~ " is a percentage, "
                ~ "but the test reads no single model to count rows of") }}
        {%- endif -%}
        {{ fail_calc }} {{ operator }} {{ match.group(2) }} / 100.0 * (select count(*) from {{ rows_of.relation_name }})
    {%- else -%}
        {{ fail_calc }} {{ operator }} {{ match.group(2) }}
    {%- endif -%}
{%- endmacro -%}

{#- dbt's test query (materialization test), with should_warn and should_error from clm_data_tests.
    A test with severity warn never errors: dbt then reports it as a warning when should_warn holds. -#}
{%- macro default__get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) -%}
    {%- if (model.test_metadata or {}).get('name') == 'clm_column_checks' -%}
        {{ return(clm_column_checks_test_sql(main_sql, fail_calc, limit)) }}
    {%- endif -%}
    {%- set thresholds = clm_data_test_thresholds(model) -%}
    select
      {{ fail_calc }} as failures,
      {{ clm_threshold_sql(fail_calc, thresholds.warn_if, thresholds.rows_of) }} as should_warn,
      {% if thresholds.severity == 'warn' -%}
      false
      {%- else -%}
      {{ clm_threshold_sql(fail_calc, thresholds.error_if, thresholds.rows_of) }}
      {%- endif %} as should_error
    from (
      {{ main_sql }}
      {{ "limit " ~ limit if limit != none }}
    ) dbt_internal_test
{%- endmacro -%}

{#- The same for a clm_column_checks test: should_warn when any check's failing rows reach its warn_if,
    should_error when any check of severity error reaches its error_if (each check's own threshold, of the
    rows of the tested model for a percentage). -#}
{%- macro clm_column_checks_test_sql(main_sql, fail_calc, limit) -%}
    {%- set rows_of = clm_data_test_rows_of(model) -%}
    {%- set warns = [] -%}
    {%- set errors = [] -%}
    {%- for check in clm_folded_checks(model) -%}
        {%- set thresholds = clm_column_check_thresholds(model, check) -%}
        {%- set nulls = "coalesce(sum(case when check_name = '" ~ check.test_name ~ "' then failing_rows end), 0)" -%}
        {%- do warns.append('(' ~ clm_threshold_sql(nulls, thresholds.warn_if, rows_of) ~ ')') -%}
        {%- if thresholds.severity != 'warn' -%}
            {%- do errors.append('(' ~ clm_threshold_sql(nulls, thresholds.error_if, rows_of) ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    select
      {{ fail_calc }} as failures,
      {{ warns | join(' or ') if warns else 'false' }} as should_warn,
      {{ errors | join(' or ') if errors else 'false' }} as should_error
    from (
      {{ main_sql }}
      {{ "limit " ~ limit if limit != none }}
    ) dbt_internal_test
{%- endmacro -%}

{#
    on-run-start hook (dbt_project.yml): refuse a clm_data_tests that names no test, has a key other than
    severity / warn_if / error_if, a severity other than warn / error, a threshold dbt cannot compare, a
    percentage for a test without a single tested model, or an entry for a never-relaxed test.
#}
{%- macro clm_assert_data_test_thresholds() -%}
    {%- if execute -%}
        {%- set configured = var('clm_data_tests', {}) -%}
        {%- set problems = [] -%}
        {%- if configured is not mapping -%}
            {%- do problems.append('clm_data_tests must be a mapping of test names to settings') -%}
            {%- set configured = {} -%}
        {%- endif -%}
        {%- set tests = {} -%}
        {#- the checks of a clm_column_checks test keep the names of their former single tests -#}
        {%- set folded_columns = {} -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'test' -%}
            {%- do tests.update({node.name: node}) -%}
            {%- if (node.test_metadata or {}).get('name') == 'clm_column_checks' -%}
                {%- for check in clm_folded_checks(node, all_targets=true) -%}
                    {%- do folded_columns.update({check.test_name: check}) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for name, settings in configured.items() | sort -%}
            {%- if name != 'default' and name not in tests and name not in folded_columns -%}
                {%- do problems.append(name ~ ': no data test has this name') -%}
            {%- elif settings is not mapping -%}
                {%- do problems.append(name ~ ': expected a mapping of severity, warn_if and error_if') -%}
            {%- else -%}
                {%- for key, value in settings.items() | sort -%}
                    {%- if key not in ('severity', 'warn_if', 'error_if') -%}
                        {%- do problems.append(name ~ ': unknown key ' ~ key
                            ~ ' (expected severity, warn_if, error_if)') -%}
                    {%- elif key == 'severity' and (value | string | lower) not in ('warn', 'error') -%}
                        {%- do problems.append(name ~ ': severity must be warn or error, got ' ~ value) -%}
                    {%- elif key != 'severity'
                        and modules.re.match(_clm_threshold_pattern(), value | string) is none -%}
                        {%- do problems.append(name ~ ': ' ~ key ~ ' ' ~ value ~ ' is not a comparison with a '
                            ~ "count or a percentage, e.g. '>0', '>=10' or '>1%'") -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- if (name in tests and clm_data_test_never_relaxed(tests[name]))
                    or (name in folded_columns and folded_columns[name].never_relaxed) -%}
                    {%- do problems.append(name ~ ': never relaxed, it errors on the first failing row '
                        ~ 'whatever the configuration says (remove its entry)') -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not problems -%}
            {%- for name, node in tests.items() | sort -%}
                {%- set thresholds = clm_data_test_thresholds(node) -%}
                {%- set uses_percent = '%' in (thresholds.warn_if | string)
                    or '%' in (thresholds.error_if | string) -%}
                {%- if uses_percent and thresholds.rows_of is none -%}
                    {%- do problems.append(name ~ ': a percentage threshold needs the tested model; the test '
                        ~ "reads several: name one in config(meta={'clm_rows_of': ...}) or give a count") -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
        {%- if problems -%}
            {{ exceptions.raise_compiler_error(
                "Data test thresholds (var clm_data_tests; clm run: dbt_tests in the gate config) are "
                ~ "refused: " ~ problems | join('; ')) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro -%}
