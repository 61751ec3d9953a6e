"""Row validation per Field.kind, as SQL: every check yields a reason text or NULL.

A record with any bad value, its child array elements included, is quarantined whole. Reasons name the
field and the problem and quote the value, except for free-text fields (emails, names), which are never
quoted: the quarantine table must not hold personal data.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from clm.config import REPO_ROOT
from clm.ingest import schemas as s
from clm.ingest.readers import SRC, ident, sql_literal

BAD = "_clm_bad"
CURRENCIES_CSV = REPO_ROOT / "seeds" / "currencies.csv"
EARLIEST = date(2000, 1, 1)
LATEST_FORWARD = date(2100, 1, 1)  # forward-looking times (trial_end, period end) must lie before this
_BOOLEANS = ("true", "false", "t", "f", "1", "0", "yes", "no")
# Value ranges the kinds cannot express.
RANGES: dict[tuple[str, str, str], tuple[int, int]] = {("crm", "nps_responses", "score"): (0, 10)}

_ISO = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?"
_HAS_OFFSET = r":.*(Z|z|[+-]\d{2}(:?\d{2})?)$"
_UNIX = r"[+-]?\d{1,11}"
_DATE = r"\d{4}-\d{2}-\d{2}"


def load_currencies(path: Path = CURRENCIES_CSV) -> dict[str, int]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["currency"].strip().upper(): int(row["minor_unit_digits"]) for row in csv.DictReader(fh)}


@dataclass(frozen=True)
class Rules:
    load_date: date
    currencies: dict[str, int]
    absurd_amount: float = s.DEFAULT_ABSURD_AMOUNT

    @property
    def event_limit(self) -> date:  # exclusive: the end of the drop's load date
        return self.load_date + timedelta(days=1)


def _shown(v: str) -> str:
    return f"'''' || left({v}, 60) || ''''"


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


def _time_checks(f: s.Field, label: str, v: str, t: str, rules: Rules) -> list[tuple[str, str]]:
    ts = _timestamp_sql(f.kind, t)
    shown = f"{label} || ': ' || {v}"
    if f.kind == s.UNIX_TIMESTAMP:
        shown += f" || ' (' || strftime({ts}, '%Y-%m-%dT%H:%M:%SZ') || ')'"
    checks = [
        (f"{ts} is null", f"{label} || ': ' || {_shown(v)} || ' is not {_KIND_NAMES[f.kind]}'"),
        (f"{ts} < timestamp '{EARLIEST}'", f"{shown} || ' is before {EARLIEST}'"),
    ]
    if f.event_time:
        checks.append(
            (
                f"{ts} >= timestamp '{rules.event_limit}'",
                f"{shown} || ' is after the drop''s load date {rules.load_date}'",
            )
        )
    else:
        checks.append((f"{ts} >= timestamp '{LATEST_FORWARD}'", f"{shown} || ' is after {LATEST_FORWARD}'"))
    return checks


def _amount_checks(f: s.Field, label: str, v: str, t: str, rules: Rules, currency: str | None):
    if f.kind == s.DECIMAL:
        pattern, major, unit = r"[+-]?(\d+(\.\d*)?|\.\d+)", f"try_cast({t} as double)", "a number"
    else:
        digits = "2"
        if currency:
            whens = " ".join(f"when '{c}' then {d}" for c, d in sorted(rules.currencies.items()))
            digits = f"(case upper(trim({currency})) {whens} else 2 end)"
        pattern, major, unit = (
            r"[+-]?\d{1,18}",
            f"(try_cast({t} as double) / power(10, {digits}))",
            "an integer",
        )
    checks = [
        (f"not regexp_full_match({t}, '{pattern}')", f"{label} || ': ' || {_shown(v)} || ' is not {unit}'")
    ]
    if not f.allow_negative:
        checks.append((f"{major} < 0", f"{label} || ': ' || {_shown(v)} || ' is negative'"))
    limit = f"{rules.absurd_amount:,.0f}"
    checks.append(
        (
            f"abs({major}) > {rules.absurd_amount}",
            f"{label} || ': ' || {_shown(v)} || ' is absurd (more than {limit} in major units)'",
        )
    )
    return checks


def field_reason(
    f: s.Field,
    v: str,
    label: str,
    rules: Rules,
    currency: str | None = None,
    value_range: tuple[int, int] | None = None,
) -> str:
    """SQL giving the first problem of column v (NULL when fine); label is an SQL text expression."""
    t = f"trim({v})"
    missing = f"{label} || ': missing value'" if f.not_null else "null"
    checks: list[tuple[str, str]] = [(f"{v} is null or {t} = ''", missing)]
    if f.kind in (s.ISO_TIMESTAMP, s.UNIX_TIMESTAMP, s.DATE):
        checks += _time_checks(f, label, v, t, rules)
    elif f.kind in (s.DECIMAL, s.MINOR_AMOUNT):
        checks += _amount_checks(f, label, v, t, rules, currency)
    elif f.kind == s.INTEGER:
        checks.append(
            (
                f"not regexp_full_match({t}, '[+-]?\\d{{1,18}}')",
                f"{label} || ': ' || {_shown(v)} || ' is not an integer'",
            )
        )
        if value_range:
            lo, hi = value_range
            checks.append(
                (
                    f"{t}::bigint not between {lo} and {hi}",
                    f"{label} || ': ' || {_shown(v)} || ' is not in {lo}..{hi}'",
                )
            )
    elif f.kind == s.BOOLEAN:
        allowed = ", ".join(sql_literal(b) for b in _BOOLEANS)
        checks.append(
            (f"lower({t}) not in ({allowed})", f"{label} || ': ' || {_shown(v)} || ' is not a boolean'")
        )
    elif f.kind == s.ENUM:
        allowed = ", ".join(sql_literal(x) for x in f.values)
        text = f"is not one of {', '.join(f.values)}".replace("'", "''")
        checks.append((f"lower({t}) not in ({allowed})", f"{label} || ': ' || {_shown(v)} || ' {text}'"))
    elif f.kind == s.CURRENCY:
        allowed = ", ".join(sql_literal(c) for c in sorted(rules.currencies))
        checks.append(
            (
                f"upper({t}) not in ({allowed})",
                f"{label} || ': ' || {_shown(v)} || ' is not a known currency'",
            )
        )
    elif f.kind == s.COUNTRY:
        checks.append(
            (
                f"not regexp_full_match({t}, '[A-Za-z]{{2}}')",
                f"{label} || ': ' || {_shown(v)} || ' is not a 2-letter country code'",
            )
        )
    # STRING: free text (emails, names) is never quoted in a reason.
    whens = " ".join(f"when {cond} then {msg}" for cond, msg in checks)
    return f"case {whens} end"


def _currency_column(fields: tuple[s.Field, ...]) -> str | None:
    return next((ident(f.column) for f in fields if f.kind == s.CURRENCY), None)


def child_table(child: s.ChildTable) -> str:
    return f"_clm_child_{child.array_path}"


def stage_children(con: duckdb.DuckDBPyConnection, entity: s.Entity, child: s.ChildTable) -> None:
    """One row per array element: parent _ord, 0-based idx and one VARCHAR per child field.

    Accepts a bare array or a Stripe list object ({"object": "list", "data": [...]}).
    """
    arr = ident(f"__arr_{child.array_path}")
    paths = ", ".join(sql_literal("$." + ".".join(f'"{p}"' for p in f.path.split("."))) for f in child.fields)
    cols = ", ".join(f"__v[{i}] as {ident(f.column)}" for i, f in enumerate(child.fields, start=1))
    parent_currency = _currency_column(entity.fields) or "null::varchar"
    con.execute(
        f"""create or replace temp table {child_table(child)} as
            with arrays as (
                select _ord, {parent_currency} as __parent_currency,
                       case json_type(x) when 'ARRAY' then x::json
                                         when 'OBJECT' then json_extract(x, '$.data') end as a
                from (select *, {arr} as x from {SRC}) where x is not null and json_valid(x)
            ), elements as (
                select _ord, __parent_currency, json_extract(a, '$[*]') as els
                from arrays where json_type(a) = 'ARRAY'
            ), unnested as (
                select _ord, __parent_currency, unnest(els) as el, generate_subscripts(els, 1) - 1 as idx
                from elements
            )
            select _ord, idx, __parent_currency, json_type(el) = 'OBJECT' as __is_object,
                   {cols}
            from (select *, json_extract_string(el, [{paths}]) as __v from unnested)"""
    )


def _array_reason(child: s.ChildTable) -> str:
    x = ident(f"__arr_{child.array_path}")
    is_list = f"""(json_type({x}) = 'ARRAY'
                  or (json_type({x}) = 'OBJECT' and json_type({x}, '$.data') = 'ARRAY'))"""
    name = child.array_path
    return f"""case when {x} is null or trim({x}) = '' then null
                    when not json_valid({x}) then '{name}: not valid JSON'
                    when not {is_list} then '{name}: not a JSON array' end"""


def stage_bad_rows(con: duckdb.DuckDBPyConnection, entity: s.Entity, rules: Rules) -> None:
    """_clm_bad(_ord, reason): the records to quarantine, with every problem found."""
    currency = _currency_column(entity.fields)
    parent = ["__pre"]
    for f in entity.fields:
        value_range = RANGES.get((entity.source, entity.name, f.path))
        parent.append(field_reason(f, ident(f.column), sql_literal(f.path), rules, currency, value_range))
    parent += [_array_reason(c) for c in entity.children]
    parts = [f"select _ord, -1 as k, nullif(concat_ws('; ', {', '.join(parent)}), '') as reason from {SRC}"]
    for child in entity.children:
        stage_children(con, entity, child)
        own_currency = _currency_column(child.fields)
        currency = f"coalesce({own_currency}, __parent_currency)" if own_currency else "__parent_currency"
        prefix = f"'{child.array_path}[' || idx || ']"
        checks = [f"case when not __is_object then {prefix}: not a JSON object' end"]
        checks += [
            field_reason(f, ident(f.column), f"{prefix}.{f.path}'", rules, currency) for f in child.fields
        ]
        parts.append(
            f"select _ord, idx as k, nullif(concat_ws('; ', {', '.join(checks)}), '') as reason "
            f"from {child_table(child)}"
        )
    union = " union all ".join(parts)
    con.execute(
        f"""create or replace temp table {BAD} as
            select _ord, left(string_agg(reason, '; ' order by k), 2000) as reason
            from ({union}) where reason is not null group by _ord"""
    )
