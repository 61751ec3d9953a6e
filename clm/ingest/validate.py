"""Row validation as SQL: every check yields a reason text or NULL.

A record with any bad value, its child array elements included, is quarantined whole; the rest of the file
loads. Two kinds of checks:

* per value, against its ``schemas.Field``: kind (type, enum, currency, country), missing values, time
  bounds, negative or absurd amounts, an integer's minimum and maximum;
* per record, the faults one record shows by itself that dbt tests or the quality gate would otherwise find
  after the build and block the whole run with (docs/bad-input.md#one-faulty-row-never-blocks-a-publish):
  times out of order (``NotBefore``), a refund above its charge (``NotAbove``), a time before the parent
  entity was created, looked up in the parent's raw table when it is already loaded (``NotBeforeParent``), and
  a currency or month that the FX rates dbt converts with (``seeds/fx_rates.csv``, or the user's relation of
  dbt var fx_rates_relation: clm.ingest.fx decides) have no rate for where dbt converts an amount
  (``FxCovered``).

Reasons name the field and the rule, never the value, for every field: ``audit.quarantine`` is published to
BI, and any field may hold personal data whatever its kind (an e-mail address pasted into ``country``, a
name in an amount column). A reason may quote configuration (the drop's load date, a limit, a seed's name)
but nothing read from the record. The record's full text stays in the quarantine files under
``CLM_DATA_DIR`` (``quarantine.export_rejected_text``).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

from clm.config import REPO_ROOT
from clm.ingest import schemas as s
from clm.ingest.readers import SRC, ident, sql_literal

BAD = "_clm_bad"
_PARENT = "_clm_parent"  # per NotBeforeParent rule: parent key -> parent time (newest version)
CURRENCIES_CSV = REPO_ROOT / "seeds" / "currencies.csv"
FX_RATES_CSV = REPO_ROOT / "seeds" / "fx_rates.csv"
EARLIEST = date(2000, 1, 1)
LATEST_FORWARD = date(2100, 1, 1)  # forward-looking times (trial_end, period end) must lie before this
_BOOLEANS = ("true", "false", "t", "f", "1", "0", "yes", "no")

_ISO = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?"
_HAS_OFFSET = r":.*(Z|z|[+-]\d{2}(:?\d{2})?)$"
_UNIX = r"[+-]?\d{1,11}"
_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME_KINDS = (s.ISO_TIMESTAMP, s.UNIX_TIMESTAMP, s.DATE)


def load_currencies(path: Path = CURRENCIES_CSV) -> dict[str, int]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["currency"].strip().upper(): int(row["minor_unit_digits"]) for row in csv.DictReader(fh)}


SEED_SOURCE = "seeds/fx_rates.csv"


@dataclass(frozen=True)
class FxCoverage:
    """The months an FX table has a rate for, per currency (upper case)."""

    first_month: dict[str, date]
    # Months missing between a currency's first and last month (dbt's coverage test wants none).
    gaps: frozenset[tuple[str, date]] = frozenset()
    # Where the rates come from, quoted by the quarantine reasons (configuration, never data)
    source: str = SEED_SOURCE


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def fx_coverage_of(rates: Iterable[tuple[date, str]], source: str) -> FxCoverage:
    """The coverage of (month, currency) pairs that have a rate."""
    months: dict[str, set[date]] = {}
    for month, currency in rates:
        months.setdefault(currency.strip().upper(), set()).add(month.replace(day=1))
    gaps = set()
    for currency, covered in months.items():
        month = min(covered)
        while month < max(covered):
            if month not in covered:
                gaps.add((currency, month))
            month = _next_month(month)
    return FxCoverage({c: min(m) for c, m in months.items()}, frozenset(gaps), source)


@functools.cache
def _read_fx(path: Path, _mtime_ns: int, _size: int) -> FxCoverage:
    with path.open(encoding="utf-8", newline="") as fh:
        rates = [
            (date.fromisoformat(row["month"].strip()), row["currency"])
            for row in csv.DictReader(fh)
            if (row.get("rate") or "").strip()
        ]
    return fx_coverage_of(rates, SEED_SOURCE)


def load_fx_coverage(path: Path | None = None) -> FxCoverage:
    """seeds/fx_rates.csv by default; read once, then cached until the file changes (mtime or size)."""
    path = path or FX_RATES_CSV
    stat = path.stat()
    return _read_fx(path, stat.st_mtime_ns, stat.st_size)


@dataclass(frozen=True)
class Rules:
    load_date: date
    currencies: dict[str, int]
    absurd_amount: float = s.DEFAULT_ABSURD_AMOUNT
    fx: FxCoverage = field(default_factory=load_fx_coverage)

    @property
    def event_limit(self) -> date:  # exclusive: the end of the drop's load date
        return self.load_date + timedelta(days=1)


_IN_CHUNK = 4  # DuckDB plans an IN list of five or more constants as a mark join


def _in_list(value: str, allowed: Iterable[str]) -> str:
    """SQL ``value in (allowed)`` as an OR of IN lists of at most four constants each: the same three-valued
    result, but no mark join (a hash-join pipeline per list, whose set-up costs more than checking a small
    file's rows). DuckDB rewrites list_contains over constants into an IN list too."""
    literals = [sql_literal(a) for a in allowed]
    chunks = [", ".join(literals[i : i + _IN_CHUNK]) for i in range(0, len(literals), _IN_CHUNK)]
    return "(" + " or ".join(f"{value} in ({chunk})" for chunk in chunks or ["null"]) + ")"


def _upper_trim(sql: str) -> str:
    """A currency code as compared: the text is the same wherever a check needs it, so that
    ``_reasons_select`` can compute it once per row."""
    return f"upper(trim({sql}))"


def _reason(label: str, text: str) -> str:
    """SQL text '<label>: <text>'; label is an SQL text expression naming the field, text a constant."""
    return f"{label} || {sql_literal(': ' + text)}"


def _timestamp_sql(kind: str, t: str) -> str:
    """A TIMESTAMP (UTC) from trimmed text t, or NULL when it does not parse."""
    if kind == s.UNIX_TIMESTAMP:
        return f"case when regexp_full_match({t}, '{_UNIX}') then make_timestamp({t}::bigint * 1000000) end"
    if kind == s.DATE:
        return f"case when regexp_full_match({t}, '{_DATE}') then try_cast({t} as date)::timestamp end"
    # No offset means UTC; with one, convert through TIMESTAMPTZ (independent of the session time zone).
    with_offset = f"timezone('UTC', try_cast({t} as timestamptz))"
    return f"""case when regexp_full_match({t}, '{_ISO}') then
                 case when regexp_matches({t}, '{_HAS_OFFSET}') then {with_offset}
                      else try_cast({t} as timestamp) end end"""


_KIND_NAMES = {
    s.UNIX_TIMESTAMP: "a Unix timestamp",
    s.DATE: "a YYYY-MM-DD date",
    s.ISO_TIMESTAMP: "an ISO-8601 timestamp",
}


def _time_checks(f: s.Field, label: str, t: str, rules: Rules) -> list[tuple[str, str]]:
    ts = _timestamp_sql(f.kind, t)
    checks = [
        (f"{ts} is null", _reason(label, f"not {_KIND_NAMES[f.kind]}")),
        (f"{ts} < timestamp '{EARLIEST}'", _reason(label, f"before {EARLIEST}")),
    ]
    if f.event_time:
        limit = (f"{ts} >= timestamp '{rules.event_limit}'", f"after the drop's load date {rules.load_date}")
    else:
        limit = (f"{ts} >= timestamp '{LATEST_FORWARD}'", f"after {LATEST_FORWARD}")
    checks.append((limit[0], _reason(label, limit[1])))
    return checks


def _major_sql(f: s.Field, t: str, rules: Rules, currency: str | None) -> str:
    """An amount field's value in major units (DOUBLE) from its trimmed text t; NULL when not a number."""
    if f.kind == s.DECIMAL:
        return f"try_cast({t} as double)"
    digits = "2"
    # Only the currencies whose minor unit is not the default 2 need a branch (fewer to bind per file).
    others = sorted((c, d) for c, d in rules.currencies.items() if d != 2)
    if currency and others:
        whens = " ".join(f"when '{c}' then {d}" for c, d in others)
        digits = f"(case {_upper_trim(currency)} {whens} else 2 end)"
    return f"(try_cast({t} as double) / power(10, {digits}))"


def _amount_checks(
    f: s.Field, label: str, t: str, rules: Rules, currency: str | None
) -> list[tuple[str, str]]:
    major = _major_sql(f, t, rules, currency)
    if f.kind == s.DECIMAL:
        pattern, unit = r"[+-]?(\d+(\.\d*)?|\.\d+)", "a number"
    else:
        pattern, unit = r"[+-]?\d{1,18}", "an integer"
    checks = [(f"not regexp_full_match({t}, '{pattern}')", _reason(label, f"not {unit}"))]
    if not f.allow_negative:
        checks.append((f"{major} < 0", _reason(label, "negative")))
    limit = f"{rules.absurd_amount:,.0f}"
    checks.append(
        (
            f"abs({major}) > {rules.absurd_amount}",
            _reason(label, f"absurd (more than {limit} in major units)"),
        )
    )
    return checks


def _range_text(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f"not in {lo}..{hi}"
    if lo == 0:
        return "negative"
    return f"less than {lo}" if lo is not None else f"more than {hi}"


def _integer_checks(f: s.Field, label: str, t: str) -> list[tuple[str, str]]:
    checks = [(f"not regexp_full_match({t}, '[+-]?\\d{{1,18}}')", _reason(label, "not an integer"))]
    if f.minimum is not None or f.maximum is not None:
        value = f"try_cast({t} as hugeint)"
        out = [f"{value} < {f.minimum}"] if f.minimum is not None else []
        out += [f"{value} > {f.maximum}"] if f.maximum is not None else []
        checks.append((" or ".join(out), _reason(label, _range_text(f.minimum, f.maximum))))
    return checks


def field_reason(f: s.Field, v: str, label: str, rules: Rules, currency: str | None = None) -> str:
    """SQL giving the first problem of column v (NULL when fine); label is an SQL text expression."""
    t = f"trim({v})"
    missing = _reason(label, "missing value") if f.not_null else "null"
    checks: list[tuple[str, str]] = [
        (f"{v} is null or {t} = ''", missing),
        # Postgres text cannot hold 0x00: a row with one would load on DuckDB and fail the Postgres mirror.
        (f"contains({v}, chr(0))", _reason(label, "contains a NUL byte (0x00)")),
    ]
    if f.kind in _TIME_KINDS:
        checks += _time_checks(f, label, t, rules)
    elif f.kind in (s.DECIMAL, s.MINOR_AMOUNT):
        checks += _amount_checks(f, label, t, rules, currency)
    elif f.kind == s.INTEGER:
        checks += _integer_checks(f, label, t)
    elif f.kind == s.BOOLEAN:
        checks.append((f"not {_in_list(f'lower({t})', _BOOLEANS)}", _reason(label, "not a boolean")))
    elif f.kind == s.ENUM:
        not_allowed = f"not {_in_list(f'lower({t})', f.values)}"
        checks.append((not_allowed, _reason(label, f"not one of {', '.join(f.values)}")))
    elif f.kind == s.CURRENCY:
        unknown = f"not {_in_list(_upper_trim(v), sorted(rules.currencies))}"
        checks.append((unknown, _reason(label, "not a known currency")))
    elif f.kind == s.COUNTRY:
        checks.append(
            (f"not regexp_full_match({t}, '[A-Za-z]{{2}}')", _reason(label, "not a 2-letter country code"))
        )
    whens = " ".join(f"when {cond} then {msg}" for cond, msg in checks)
    return f"case {whens} end"


# --- record-level checks ------------------------------------------------------------------------------


def _field(fields: tuple[s.Field, ...], path: str) -> s.Field:
    return next(f for f in fields if f.path == path)


def _time_of(fields: tuple[s.Field, ...], path: str, column: str | None = None) -> str:
    """SQL TIMESTAMP of a time field (NULL when missing or invalid: its own check reports that)."""
    f = _field(fields, path)
    return _timestamp_sql(f.kind, f"trim({ident(column or f.column)})")


def _order_reason(fields: tuple[s.Field, ...], rule: s.NotBefore, label: str) -> str:
    earlier = [_time_of(fields, p) for p in rule.earlier]
    first = earlier[0] if len(earlier) == 1 else f"least({', '.join(earlier)})"
    return (
        f"case when {_time_of(fields, rule.later)} < {first} then {_reason(label, f'before {rule.what}')} end"
    )


def _not_above_reason(fields: tuple[s.Field, ...], rule: s.NotAbove) -> str:
    amount, limit = (
        f"try_cast(trim({ident(_field(fields, p).column)}) as decimal(38, 4))"
        for p in (rule.amount, rule.limit)
    )
    reason = _reason(sql_literal(rule.amount), f"more than {rule.limit}")
    # A negative limit is its own field's fault (reported there), not this rule's.
    return f"case when {amount} > {limit} and {limit} >= 0 then {reason} end"


@dataclass(frozen=True)
class _FxSql:
    """One FxCovered rule as SQL over a staged row."""

    currency: str  # upper-case currency code
    currency_label: str  # SQL text naming the currency field
    time: str  # TIMESTAMP whose month picks the rate
    month_reason: str  # SQL text: the reason when that month has no rate
    present: str  # true when an amount to convert is set


def _no_rate_in_month(rules: Rules) -> str:
    return f"no FX rate for the currency in that month ({rules.fx.source})"


def _fx_reason(x: _FxSql, rules: Rules) -> str:
    """SQL reason when dbt would find no FX rate for the record's amounts (see schemas.FxCovered).

    An unknown currency is left to the currency field's own check.
    """
    unknown = f"not {_in_list(x.currency, sorted(rules.currencies))}"
    covered = sorted(rules.fx.first_month)
    firsts = " ".join(f"when {sql_literal(c)} then date '{rules.fx.first_month[c]}'" for c in covered)
    month = f"cast(date_trunc('month', {x.time}) as date)"
    uncovered = f"{month} < (case {x.currency} {firsts} end)" if covered else "false"
    if rules.fx.gaps:
        gaps = [f"{c} {m:%Y-%m}" for c, m in sorted(rules.fx.gaps)]
        currency_month = f"{x.currency} || ' ' || strftime({month}, '%Y-%m')"
        uncovered = f"({uncovered} or {_in_list(currency_month, gaps)})"
    no_currency = _reason(x.currency_label, f"no FX rate for this currency ({rules.fx.source})")
    return f"""case when not ({x.present}) or {unknown} then null
                    when not {_in_list(x.currency, covered)} then {no_currency}
                    when {uncovered} then {x.month_reason} end"""


def _present(columns: list[str]) -> str:
    return " or ".join(f"nullif(trim({c}), '') is not null" for c in columns)


def _entity_fx_reason(entity: s.Entity, fx: s.FxCovered, rules: Rules) -> str:
    time = _time_of(entity.fields, fx.time)
    label = sql_literal(fx.time)
    if fx.fallback:
        time = f"coalesce({time}, {_time_of(entity.fields, fx.fallback)})"
        own = ident(_field(entity.fields, fx.time).column)
        label = f"case when nullif(trim({own}), '') is null then {sql_literal(fx.fallback)} else {label} end"
    currency = ident(_field(entity.fields, fx.currency).column)
    present = _present([ident(_field(entity.fields, a).column) for a in fx.amounts])
    sql = _FxSql(
        _upper_trim(currency),
        sql_literal(fx.currency),
        time,
        _reason(label, _no_rate_in_month(rules)),
        present,
    )
    return _fx_reason(sql, rules)


def _parent_column(path: str) -> str:
    return "__parent__" + path.replace(".", "__")


def _child_fx_reason(entity: s.Entity, child: s.ChildTable, fx: s.FxCovered, rules: Rules) -> str:
    """A child amount is in its own currency, else in its parent's."""
    own = ident(_field(child.fields, fx.currency).column)
    present = _present([ident(_field(child.fields, a).column) for a in fx.amounts])
    if fx.from_parent:
        # In the parent's currency, the parent's own rule checks the same month: only a different one here.
        differs = f"upper(nullif(trim({own}), '')) <> upper(trim(__parent_currency))"
        present = f"({present}) and coalesce({differs}, false)"
        time = _time_of(entity.fields, fx.time, _parent_column(fx.time))
        parent = entity.name.removesuffix("s")
        month_reason = _reason(
            _child_label(child, f".{fx.currency}"),
            f"no FX rate in the month the {parent} was {fx.time} ({rules.fx.source})",
        )
    else:
        time = _time_of(child.fields, fx.time)
        month_reason = _reason(_child_label(child, f".{fx.time}"), _no_rate_in_month(rules))
    currency = _upper_trim(_child_fx_currency(own))
    # Without a currency of its own, the line is in its parent's: name that field.
    own_label = _child_label(child, f".{fx.currency}")
    label = f"case when nullif(trim({own}), '') is null then {sql_literal(fx.currency)} else {own_label} end"
    return _fx_reason(_FxSql(currency, label, time, month_reason, present), rules)


def _child_fx_currency(own: str) -> str:
    return f"coalesce(nullif(trim({own}), ''), __parent_currency)"


def _child_label(child: s.ChildTable, rest: str) -> str:
    """'<array>[<idx>]<rest>' as SQL over a child table row."""
    return f"{sql_literal(child.array_path + '[')} || idx || {sql_literal(']' + rest)}"


def _stage_parents(con: duckdb.DuckDBPyConnection, entity: s.Entity) -> list[str]:
    """One temp table per NotBeforeParent rule: (key, time) of the newest loaded version of each parent
    that this file's records name; returns the reasons as SQL over SRC. A parent not in its raw table yet
    gives no reason (the comparison with NULL is not true)."""
    reasons = []
    for i, rule in enumerate(entity.parents):
        parent = s.entity(*rule.parent)
        key = ident(parent.primary_key[0])
        versions = [f"{_time_of(parent.fields, p)} desc nulls last" for p in parent.version_by]
        order = ", ".join([*versions, "_load_date desc", "_source_file desc", "_row_number desc"])
        fk = ident(_field(entity.fields, rule.foreign_key).column)
        con.execute(
            f"""create or replace temp table {_PARENT}_{i} as
                select __k, __t from (
                    select trim({key}) as __k, {_time_of(parent.fields, rule.parent_time)} as __t,
                           row_number() over (partition by trim({key}) order by {order}) as __rank
                    from raw.{parent.table}
                    where trim({key}) in (select trim({fk}) from {SRC})
                ) where __rank = 1"""
        )
        own = _time_of(entity.fields, rule.time)
        reason = _reason(sql_literal(rule.time), f"before {rule.what}")
        reasons.append(
            f"case when {own} < (select __t from {_PARENT}_{i} where __k = trim({fk})) then {reason} end"
        )
    return reasons


def _record_reasons(con: duckdb.DuckDBPyConnection, entity: s.Entity, rules: Rules) -> list[str]:
    out = [_order_reason(entity.fields, r, sql_literal(r.later)) for r in entity.order]
    out += [_not_above_reason(entity.fields, r) for r in entity.not_above]
    out += _stage_parents(con, entity)
    out += [_entity_fx_reason(entity, fx, rules) for fx in entity.fx]
    return out


# --- staging --------------------------------------------------------------------------------------------


def _currency_column(fields: tuple[s.Field, ...]) -> str | None:
    return next((ident(f.column) for f in fields if f.kind == s.CURRENCY), None)


def child_table(child: s.ChildTable) -> str:
    return f"_clm_child_{child.array_path}"


def stage_children(con: duckdb.DuckDBPyConnection, entity: s.Entity, child: s.ChildTable) -> None:
    """One row per array element: parent _ord, 0-based idx and one VARCHAR per child field, plus the
    parent's currency and the parent fields its FX checks read (``__parent__<column>``).

    Accepts a bare array or a Stripe list object ({"object": "list", "data": [...]}).
    """
    arr = ident(f"__arr_{child.array_path}")
    paths = ", ".join(sql_literal("$." + ".".join(f'"{p}"' for p in f.path.split("."))) for f in child.fields)
    cols = ", ".join(f"__v[{i}] as {ident(f.column)}" for i, f in enumerate(child.fields, start=1))
    parent_currency = _currency_column(entity.fields) or "null::varchar"
    parent_paths = sorted({fx.time for fx in child.fx if fx.from_parent})
    carried = "".join(
        f", {ident(_field(entity.fields, p).column)} as {ident(_parent_column(p))}" for p in parent_paths
    )
    carried_names = "".join(f", {ident(_parent_column(p))}" for p in parent_paths)
    # The array's text is most of a record's bytes: it is parsed twice (its type, its elements) and each
    # element once. A CASE evaluates its operand once for the rows its first WHEN takes (bare arrays); a
    # Stripe list object's data that is not an array has no elements; a NULL list unnests to no rows.
    elements = """case try(json_type(x)) when 'ARRAY' then json_extract(x, '$[*]')
                                           when 'OBJECT' then json_extract(x, '$.data[*]') end"""
    con.execute(
        f"""create or replace temp table {child_table(child)} as
            with elements as (
                select _ord, __parent_currency{carried_names}, {elements} as els
                from (select _ord, {parent_currency} as __parent_currency{carried}, {arr} as x from {SRC})
                where x is not null
            ), unnested as (
                select _ord, __parent_currency{carried_names}, unnest(els) as el,
                       generate_subscripts(els, 1) - 1 as idx
                from elements
            )
            -- an element is written by json_extract: an object's text starts with its brace
            select _ord, idx, __parent_currency{carried_names}, starts_with(el::varchar, '{{') as __is_object,
                   {cols}
            from (select *, json_extract_string(el, [{paths}]) as __v from unnested)"""
    )


def _array_reason(child: s.ChildTable) -> str:
    x = ident(f"__arr_{child.array_path}")
    name = child.array_path
    # The text's JSON type once (NULL when it is not JSON): a simple CASE is a searched one on its operand,
    # evaluated again only for the rows an earlier WHEN did not take, and bare arrays are the first WHEN.
    # Only the texts that are not JSON are trimmed (trim() of a whole array's text costs more than parsing).
    kind = f"coalesce(try(json_type({x})), case when {x} is null or trim({x}) = '' then '' else '-' end)"
    not_array = f"'{name}: not a JSON array'"
    data_not_array = f"json_type({x}, '$.data') <> 'ARRAY'"  # no data: no reason, as before
    return f"""case {kind} when 'ARRAY' then null
                    when 'OBJECT' then case when {data_not_array} then {not_array} end
                    when '' then null
                    when '-' then '{name}: not valid JSON'
                    else {not_array} end"""


def _child_amount_currency(child: s.ChildTable) -> str:
    """The currency of a child's amounts: its own, else its parent's."""
    own = _currency_column(child.fields)
    return f"coalesce({own}, __parent_currency)" if own else "__parent_currency"


def _child_currencies(child: s.ChildTable) -> list[str]:
    """The currency codes the child checks compare (see _upper_trim)."""
    shared = [_upper_trim(_child_amount_currency(child))]
    own = _currency_column(child.fields)
    return shared + ([_upper_trim(own), _upper_trim(_child_fx_currency(own))] if own else [])


def _child_reasons(entity: s.Entity, child: s.ChildTable, rules: Rules) -> list[str]:
    currency = _child_amount_currency(child)
    checks = [f"case when not __is_object then {_reason(_child_label(child, ''), 'not a JSON object')} end"]
    checks += [
        field_reason(f, ident(f.column), _child_label(child, f".{f.path}"), rules, currency)
        for f in child.fields
    ]
    checks += [_order_reason(child.fields, r, _child_label(child, f".{r.later}")) for r in child.order]
    checks += [_child_fx_reason(entity, child, fx, rules) for fx in child.fx]
    return checks


def _time_columns(fields: tuple[s.Field, ...]) -> list[tuple[s.Field, str]]:
    return [(f, f.column) for f in fields if f.kind in _TIME_KINDS]


def _reasons_select(
    reasons: list[str], table: str, times: list[tuple[s.Field, str]], k: str, shared: list[str]
) -> str:
    """select _ord, k, reason from table: every time column is parsed once, in an inner projection,
    instead of once per check that reads it (a Unix time field is read by four or five checks); so is
    every ``shared`` expression (total ones only: it is computed for every row, whatever the checks)."""
    sql = f"nullif(concat_ws('; ', {', '.join(reasons)}), '')"
    parsed = []
    for i, (f, column) in enumerate(dict.fromkeys(times)):
        expr = _timestamp_sql(f.kind, f"trim({ident(column)})")
        if expr in sql:
            sql = sql.replace(expr, f"__ts{i}")
            parsed.append(f"{expr} as __ts{i}")
    for i, expr in enumerate(dict.fromkeys(shared)):
        if expr in sql:
            sql = sql.replace(expr, f"__sh{i}")
            parsed.append(f"{expr} as __sh{i}")
    source = f"(select *, {', '.join(parsed)} from {table})" if parsed else table
    return f"select _ord, {k} as k, {sql} as reason from {source}"


def _per_row(
    fields: tuple[s.Field, ...], rules: Rules, currency: str | None, currencies: list[str]
) -> list[str]:
    """Values that several checks of a field read, to compute once per row (see _reasons_select): an
    amount in major units (its negative and absurd checks), then every field's trimmed text. Longest
    first: a shorter one is part of the longer ones' text."""
    majors = [
        _major_sql(f, f"trim({ident(f.column)})", rules, currency)
        for f in fields
        if f.kind in (s.DECIMAL, s.MINOR_AMOUNT)
    ]
    return majors + currencies + [f"trim({ident(f.column)})" for f in fields]


def stage_bad_rows(con: duckdb.DuckDBPyConnection, entity: s.Entity, rules: Rules) -> None:
    """_clm_bad(_ord, reason): the records to quarantine, with every problem found."""
    currency = _currency_column(entity.fields)
    parent = ["__pre"]
    parent += [field_reason(f, ident(f.column), sql_literal(f.path), rules, currency) for f in entity.fields]
    parent += [_array_reason(c) for c in entity.children]
    parent += _record_reasons(con, entity, rules)
    shared = _per_row(entity.fields, rules, currency, [_upper_trim(currency)] if currency else [])
    parts = [_reasons_select(parent, SRC, _time_columns(entity.fields), "-1", shared)]
    for child in entity.children:
        stage_children(con, entity, child)
        checks = _child_reasons(entity, child, rules)
        times = _time_columns(child.fields)
        times += [
            (_field(entity.fields, fx.time), _parent_column(fx.time)) for fx in child.fx if fx.from_parent
        ]
        shared = _per_row(child.fields, rules, _child_amount_currency(child), _child_currencies(child))
        parts.append(_reasons_select(checks, child_table(child), times, "idx", shared))
    union = " union all ".join(parts)
    con.execute(
        f"""create or replace temp table {BAD} as
            select _ord, left(string_agg(reason, '; ' order by k), 2000) as reason
            from ({union}) where reason is not null group by _ord"""
    )
    for i in range(len(entity.parents)):
        con.execute(f"drop table if exists {_PARENT}_{i}")
